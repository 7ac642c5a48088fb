"""The learned scorer's training and the analysts' labels: train, labels import/list/export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tension.cli.common import db_option, open_store


@click.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The shared data folder with the base training set (default: ../shared/data).")
@db_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Without --db: write model.json.gz and base.npz there (default: the package's "
                   "indicators/learned, replacing the shipped model).")
@click.option("--dry-run", is_flag=True, help="Train and show the figures; keep the current model.")
@click.option("--no-base", is_flag=True, help="With --db: train on the store's labels alone.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--search", is_flag=True, help="Cross-validate every setting of training.toml's "
                                             "[search] grid on the shared data and print the figures "
                                             "(writes nothing).")
def train(data: Path | None, db: str | None, out: Path | None, dry_run: bool, no_base: bool,
          as_json: bool, search: bool) -> None:
    """Train the learned scorer. Without --db: from the shared labelled sentences (the shipped
    model; the same files give the same model). With --db: from the base set and that store's
    labels, shown beside the store's current model and then made its model (rescore afterwards
    to rescore stored articles with it)."""
    from tension.pipeline.train import TrainingError, train_for_store, train_from_data

    log = (lambda m: click.echo(m, err=True)) if not as_json else None
    if search:
        from tension.pipeline.train import search as run_search

        rows = run_search(data or Path("..") / "shared" / "data", log=log)
        click.echo(json.dumps(rows, indent=2) if as_json else "\n".join(
            f"ngrams {r['ngrams']} vader {r['vader']:<8} C {r['C']:<4} CV macro-F1 {r['cv_macro_f1']:.3f}  "
            f"dev {r['dev_macro_f1']:.3f}" for r in rows))
        return
    try:
        if db is None:
            folder = data or Path("..") / "shared" / "data"
            if out is None and not dry_run:
                from importlib import resources

                out = Path(str(resources.files("indicators.learned")))
            trained = train_from_data(folder, None if dry_run else out, log=log)
            lines, report = trained.lines(), {"cv": trained.cv.as_dict(), "version": trained.model.version}
            if trained.cv_lexicon is not None:
                report |= {"lexicon": trained.cv_lexicon.as_dict(), "vader": trained.cv_vader.as_dict()}
            if trained.dev is not None:
                report["dev"] = trained.dev.as_dict()
            if not dry_run:
                lines.append(f"wrote {out / 'model.json.gz'} and {out / 'base.npz'}")
        else:
            from indicators.lexicon import load_lexicon
            from indicators.scorers import load_model
            from tension.store.labels import list_labels
            from tension.store.scoring import add_model, store_lexicon, store_model, use_model

            store = open_store(db)
            result = train_for_store(list_labels(store), load_lexicon(store_lexicon(store)),
                                     load_model(store_model(store)), data=data, base=not no_base, log=log)
            lines, report = result.lines(), result.report()
            if not dry_run:
                version = add_model(store, result.trained.model.to_bytes(), report, result.n_labels)
                use_model(store, version)
                lines.append(f"model {version} is now the store's model; stored articles keep their "
                             "scores until: python -m tension rescore")
    except TrainingError as exc:
        raise click.ClickException(f"{exc}; the current model stays") from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo("\n".join(lines))


@click.group()
def labels() -> None:
    """Analysts' sentence labels (hostile, neutral, conciliatory) that train a store's model."""


@labels.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def labels_import(path: Path, db: str | None) -> None:
    """Add labels from a JSONL or CSV file (text, label, optional author); a bad row is
    reported and skipped, the good ones are stored together."""
    from tension.io.labelled import read_label_file
    from tension.store.labels import set_labels

    rows, problems = read_label_file(path)
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    added = set_labels(open_store(db, create=True), rows) if rows else 0
    click.echo(f"read {len(rows) + len(problems):,} rows: {added:,} labels stored, "
               f"{len(problems):,} with problems")
    sys.exit(1 if problems else 0)


@labels.command("list")
@db_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True)
def labels_list(db: str | None, limit: int, as_json: bool) -> None:
    """The labels, most recent first, and how many of each."""
    from tension.store.labels import count_labels, list_labels

    store = open_store(db)
    rows = list_labels(store, limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    counts = count_labels(store)
    click.echo(f"{sum(counts.values()):,} labels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
               if counts else "no labels yet")
    for r in rows:
        click.echo(f"#{r['id']} {r['label']:<13} {r['author'] or 'anonymous':<12} {r['text'][:90]}")


@labels.command("export")
@click.option("--out", required=True, metavar="FILE|-",
              help="A JSONL file (CSV if it ends in .csv), or - for JSONL on stdout.")
@db_option
def labels_export(out: str, db: str | None) -> None:
    """Write every label as JSONL or CSV (text, label, author, updated_at; formulas neutralised
    in CSV): what `labels import` reads."""
    from tension.io.labelled import write_label_file
    from tension.store.labels import list_labels

    rows = list_labels(open_store(db))
    if out == "-":
        sys.stdout.write(write_label_file(rows, None))
    else:
        write_label_file(rows, Path(out))
        click.echo(f"wrote {len(rows):,} labels to {out}", err=True)
