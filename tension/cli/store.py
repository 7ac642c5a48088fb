"""The store as a whole, and the analysts' annotations: backup, restore, annotations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tension.cli.common import day, db_option, open_store


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def backup(path: Path, db: str | None) -> None:
    """Write the whole store (articles, scores, annotations, events, quarantine) to a new
    SQLite file, from one consistent snapshot."""
    from tension.store.backup import backup as run_backup

    try:
        counts = run_backup(open_store(db), path)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {path}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option("--replace", is_flag=True, help="Replace everything in a non-empty store.")
def restore(path: Path, db: str | None, replace: bool) -> None:
    """Load a backup made by `backup` into the store (empty unless --replace), in one transaction."""
    from tension.store.backup import restore as run_restore

    try:
        counts = run_restore(open_store(db, create=True), path, replace=replace)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored from {path}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@click.group()
def annotations() -> None:
    """Analyst annotations: list, add, export and import (CSV)."""


@annotations.command("list")
@db_option
@click.option("--from", "start", metavar="DATE")
@click.option("--to", "end", metavar="DATE")
@click.option("--tag")
@click.option("--json", "as_json", is_flag=True)
def annotations_list(db: str | None, start: str | None, end: str | None, tag: str | None,
                     as_json: bool) -> None:
    """List annotations (oldest first)."""
    from tension.store.annotations import list_annotations

    rows = list_annotations(open_store(db), day(start, "--from"), day(end, "--to"), tag)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no annotations match" if start or end or tag else "no annotations yet")
    for r in rows:
        span = r["start"] if r["start"] == r["end"] else f"{r['start']}..{r['end']}"
        tags = f" [{', '.join(r['tags'])}]" if r["tags"] else ""
        click.echo(f"#{r['id']} {span}  {r['title']}{tags}  ({r['author'] or 'anonymous'}, {r['updated_at']})")


@annotations.command("add")
@click.argument("when", metavar="DATE|START..END")
@click.argument("title")
@click.option("--note", default="")
@click.option("--tag", "tags", multiple=True)
@click.option("--author", default="")
@db_option
def annotations_add(when: str, title: str, note: str, tags: tuple[str, ...], author: str,
                    db: str | None) -> None:
    """Add an annotation for a day or a range."""
    from tension.store.annotations import AnnotationError, create

    start, _, end = when.partition("..")
    try:
        saved = create(open_store(db, create=True), {"start": start, "end": end or start, "title": title, "note": note,
                                    "tags": list(tags), "author": author})
    except AnnotationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"annotation {saved['id']} saved")


@annotations.command("export")
@click.option("--out", required=True, metavar="FILE|-")
@db_option
def annotations_export(out: str, db: str | None) -> None:
    """Write all annotations as CSV (formulas neutralised)."""
    from tension.store.annotations import list_annotations, to_csv

    rows = list_annotations(open_store(db))
    text = to_csv(rows)
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)  # as `export` does
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(rows)} annotations to {out}", err=True)


@annotations.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def annotations_import(path: Path, db: str | None) -> None:
    """Add the annotations of a CSV (as written by `annotations export`); re-importing adds nothing."""
    from tension.store.annotations import import_csv

    result = import_csv(open_store(db, create=True), path.read_text(encoding="utf-8-sig"))
    for e in result["errors"]:
        click.echo(f"problem: {e}", err=True)
    click.echo(f"added {result['added']}, already present {result['skipped']}, "
               f"problems {len(result['errors'])}")
    sys.exit(1 if result["errors"] else 0)
