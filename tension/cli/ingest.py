"""Getting articles in: ingest, rescore, runs, quarantine and reference events."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import sys
from pathlib import Path

import click

from tension.cli.common import (
    actor_code,
    check_zone,
    day,
    db_option,
    hide_passwords,
    lexicon_bytes,
    open_store,
    store_lexicon_option,
    warn_unscored,
)
from tension.io.readers import FORMATS

QUARANTINE_LIMIT = 200  # rows `quarantine list` shows unless --limit says more (summary.LIST_LIMIT)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", *FORMATS]),
              help="Input format; auto detects it from the name, then the content.")
@click.option("--map", "mapping", metavar="FIELD=COL,…",
              help="Columns to use, e.g. date=published,text=body,title=headline.")
@click.option("--source", help="Source name for every article (overrides the file's column).")
@click.option("--actor", metavar="CODE", callback=actor_code,
              help="The actor these files' sources speak for (a code of the actors file, e.g. PRK); "
                   "kept by the store for every later read.")
@click.option("--tz", default="UTC", show_default=True, callback=lambda _c, _p, v: check_zone(v),
              help="Analysis time zone: times are converted to it before taking the calendar day.")
@click.option("--date-order", type=click.Choice(["auto", "mdy", "dmy"]), default="auto", show_default=True,
              help="Numeric dates like 01/02/2018: month-first (mdy), day-first (dmy), or auto: "
                   "learnt from each file's first unambiguous date (25/12/2017 is dmy).")
@click.option("--date", "default_date", metavar="YYYY-MM-DD", callback=lambda _c, _p, v: day(v, "--date"),
              help="Day of the articles that have no date of their own (a .txt without front matter, "
                   "sidecar or date in its name; an empty date cell); an article's own date wins. "
                   "Without it such articles are quarantined.")
@click.option("--dedupe-window", "window", default=0, show_default=True, type=click.IntRange(0, 30),
              help="Days apart within which identical or near-identical texts count as copies.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Scoring processes (pandas engine).")
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True,
              help="pandas: this machine; dask: partitions scored on a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler address (default: a LocalCluster, one worker per core).")
@click.option("--quiet", is_flag=True, help="No progress bar; only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@store_lexicon_option
def ingest(paths: tuple[str, ...], db: str | None, fmt: str, mapping: str | None,
           source: str | None, actor: str | None, tz: str, date_order: str, default_date: dt.date | None, window: int,
           jobs: int, engine: str, scheduler: str | None, quiet: bool, as_json: bool,
           lexicon: Path | None) -> None:
    """Import article files (CSV, TSV, JSON, JSONL, Parquet, .txt/.md folders, RSS/Atom
    files or URLs; optionally gzipped) into the store and score them.

    Re-importing a file adds nothing; the same file with another --tz, --date-order,
    --source, --map or --date is refused (its rows would be stored twice). Bad rows go to the
    quarantine: the first ones are printed (file, row, field, reason), all of them with
    `python -m tension quarantine list`; the exit code is 1 when any row was
    quarantined or a path could not be read.
    """
    from tension.io.readers import parse_mapping
    from tension.pipeline.ingest import ingest as run_ingest

    try:
        columns = parse_mapping(mapping) if mapping else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--map") from None
    store = open_store(db, create=True)
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(unit=" rows", unit_scale=True, desc="ingest", file=sys.stderr, leave=False,
                   disable=None)  # None: only on a terminal
    if actor is not None:
        from tension.store.actors import check_actor
        from tension.store.scoring import store_scorer

        try:
            check_actor(actor, store_scorer(store).actors)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--actor") from None
    kwargs = dict(fmt=fmt, mapping=columns, source=source, actor=actor, tz=tz, date_order=date_order,
                  date=default_date, window_days=window,
                  lexicon=lexicon_bytes(lexicon), progress=(lambda _p, n: bar.update(n)) if bar is not None else None)
    try:
        if engine == "dask":
            from tension.pipeline.dask import dask_executor

            with dask_executor(scheduler) as (executor, workers):
                summary = run_ingest(store, paths, executor=executor, jobs=workers, **kwargs)
        else:
            summary = run_ingest(store, paths, jobs=jobs, **kwargs)
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        for path in summary.files:
            note = " (unchanged since an earlier import: not re-read)" if path in summary.unchanged else ""
            click.echo(f"{path}: read as {summary.formats.get(path)}{note}")
        for err in summary.errors:
            click.echo(f"error: {err}", err=True)
        for note in summary.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(summary.line())
        if lexicon:
            warn_unscored(store)
        if summary.quarantined:
            for line in quarantine_report(summary.as_dict(), db):
                click.echo(line)
    sys.exit(0 if summary.ok else 1)


def quarantine_report(summary: dict, db: str | None) -> list[str]:
    """The first quarantined rows of an ingest (file, row, field: reason), and the command
    that lists all of them; why: "quarantined 3" alone sends the analyst looking."""
    from tension.pipeline.ingest.summary import earlier_note, lookup_command, problem_text

    n, shown = summary["quarantined"], summary.get("problems") or []
    head = "quarantined rows" if len(shown) == n else f"the first {len(shown):,} of {n:,} quarantined rows"
    lines = [f"{head} (file, row, field: reason):"] if shown else []
    lines += [f"  {problem_text(p)}" for p in shown]
    if len(shown) < n:
        where = f" --db {shlex.quote(hide_passwords(db))}" if db else ""
        lookups = summary.get("quarantine_in") or [{"run": summary.get("run_id"), "file": None, "n": n}]
        for entry in lookups:
            listed = entry.get("listed", entry["n"])
            if listed:
                what = f"all {n:,}" if listed == n else f"the {listed:,} of run {entry['run']}"
                lines.append(f"see {what} with: {lookup_command(entry)}{where}")
            note = earlier_note(entry)
            if note:
                lines.append(note + where)
    return lines


@click.command()
@db_option
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 256))
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True)
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address.")
@click.option("--prune", is_flag=True, help="Afterwards delete scores of other scorer versions.")
@click.option("--quiet", is_flag=True)
@store_lexicon_option
def rescore(db: str | None, jobs: int, engine: str, scheduler: str | None, prune: bool,
            quiet: bool, lexicon: Path | None) -> None:
    """Score what the store's scorer (code + lexicon) has not scored yet, and nothing else.
    With --lexicon, that lexicon becomes the store's first (see --lexicon)."""
    from tension.pipeline.rescore import rescore as run_rescore

    store = open_store(db)
    kwargs = dict(lexicon=lexicon_bytes(lexicon), prune=prune)
    if engine == "dask":
        from tension.pipeline.dask import dask_executor

        with dask_executor(scheduler) as (executor, workers):
            result = run_rescore(store, executor=executor, jobs=workers, **kwargs)
    else:
        result = run_rescore(store, jobs=jobs, **kwargs)
    if not quiet:
        click.echo(f"scorer {result['version']}: {result['stale']:,} texts were stale, "
                   f"{result['scored']:,} scored, {result['pruned']:,} old scores pruned")


@click.group()
def runs() -> None:
    """Ingest runs: list them, remove one (to import a file again with other options)."""


@runs.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True)
def runs_list(db: str | None, as_json: bool) -> None:
    """Every run, oldest first: when, status, files, rows read, stored, quarantined."""
    from tension.store.runs import list_runs

    rows = list_runs(open_store(db))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no runs yet")
    for r in rows:
        click.echo(f"run {r['id']}  {r['started_at'][:19]}  {r['status']:<18} read {r['n_read']:,}, "
                   f"stored {r['stored']:,}, quarantined {r['n_quarantined']:,}  {', '.join(r['paths'])}")


@runs.command("remove")
@click.argument("run_id", type=int)
@db_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def runs_remove(run_id: int, db: str | None, yes: bool) -> None:
    """Delete the articles and quarantine rows a run added (annotations and other runs stay)."""
    from tension.store.runs import RunError, remove_run

    store = open_store(db)
    if not yes:
        click.confirm(f"Delete the articles and quarantine rows of run {run_id}?", abort=True)
    try:
        done = remove_run(store, run_id)
    except RunError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"run {run_id} removed: {done['articles']:,} articles, {done['quarantined']:,} quarantine "
               f"rows; {done['promoted']:,} copies elsewhere became originals")
    warn_unscored(store)


@click.group()
def quarantine() -> None:
    """Rows that could not be imported, and why."""


@quarantine.command("list")
@db_option
@click.option("--run", "run_id", type=int, help="Only this ingest run.")
@click.option("--file", "origin", help="Only rows from this file.")
@click.option("--limit", default=QUARANTINE_LIMIT, show_default=True, type=click.IntRange(1))
@click.option("--raw", is_flag=True, help="Also show the raw row text.")
@click.option("--json", "as_json", is_flag=True)
def quarantine_list(db: str | None, run_id: int | None, origin: str | None, limit: int,
                    raw: bool, as_json: bool) -> None:
    """List quarantined rows: file, row, field and reason."""
    from tension.core.records import storable
    from tension.store.runs import quarantined

    # a file as typed, or as stored (absolute)
    origins = {origin, storable(os.path.abspath(origin))} if origin else None
    rows, total = quarantined(open_store(db), run_id=run_id, origins=origins, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no quarantined rows match" if run_id is not None or origins else "quarantine is empty")
    for r in rows:
        where = r["origin"] + (f", row {r['row']}" if r["row"] is not None else "")
        field = f", field '{r['field']}'" if r["field"] else ""
        click.echo(f"[{r['id']}] {where}{field}: {r['reason']}")
        if raw and r["raw"]:
            click.echo(f"      {r['raw'][:300]!r}")
    if total > len(rows):
        click.echo(f"… and {total - len(rows):,} more (of {total:,}); raise --limit to see them")


@click.group()
def events() -> None:
    """Reference events (e.g. weapons tests) shown over the index."""


@events.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def events_import(path: Path, db: str | None) -> None:
    """Import a CSV with `date` (or `start`, `end`), `label` and optional `category`."""
    from tension.pipeline.events import import_events

    result = import_events(open_store(db, create=True), path)
    for p in result.problems:
        click.echo(f"problem: {p}", err=True)
    click.echo(f"read {result.read:,} events: added {result.added:,}, "
               f"{result.read - result.added - len(result.problems):,} already known, "
               f"{len(result.problems):,} with problems")
    sys.exit(1 if result.problems else 0)


@events.command("list")
@db_option
@click.option("--category", "categories", multiple=True)
def events_list(db: str | None, categories: tuple[str, ...]) -> None:
    """List reference events."""
    from tension.store.events import list_events

    df = list_events(open_store(db), categories=list(categories) or None)
    if not len(df):
        click.echo("no events match" if categories else "no events yet; add some with: events import FILE.csv")
    for r in df.itertuples():
        span = r.start.date().isoformat() + ("" if r.end == r.start else f"..{r.end.date().isoformat()}")
        click.echo(f"{span}  [{r.category}] {r.label}")


