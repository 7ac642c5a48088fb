"""Command line: parses options and calls the library. No logic of its own lives here."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

import click

from indicators.combine import Scorer, to_json
from indicators.lexicon import load_lexicon
from tension.io.readers import FORMATS


def _scorer(lexicon: Path | None) -> Scorer:
    return Scorer(load_lexicon(lexicon.read_bytes()) if lexicon else None)


lexicon_option = click.option(
    "--lexicon", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score with this lexicon file instead of the shipped indicators/lexicon.toml.")
store_lexicon_option = click.option(
    "--lexicon", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score with this lexicon file from now on: it becomes the store's lexicon, whose scores "
         "the index, exports, spikes and dashboard read. Default: the store's lexicon (the shipped "
         "indicators/lexicon.toml unless one was set).")


_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def hide_passwords(text: str) -> str:
    """postgresql://ana:s3cret@host → postgresql://ana:***@host, for anything printed."""
    return _PASSWORD.sub(r"\1***@", text)


class _Main(click.Group):
    """Expected failures (a bad value, a file that cannot be read or written, the store, the
    cluster) end in one line naming the problem, not a traceback. TENSION_DEBUG=1 re-raises."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.message = hide_passwords(exc.message)
            raise
        except Exception as exc:
            expected = isinstance(exc, ValueError | OSError) or type(exc).__module__.startswith("sqlalchemy")
            if not expected or os.environ.get("TENSION_DEBUG"):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.ClickException(hide_passwords(first)) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Tension Index: score news for hostility vs conciliation and read a daily index."""


@main.command("score-text")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True, help="JSON lines for programs, a table for people.")
@lexicon_option
def score_text(fmt: str, lexicon: Path | None) -> None:
    """Score each line of stdin as one text.

    Writes one JSON object a line: text, hostility, conciliation, tension,
    label, evidence. Empty lines score as neutral so output lines match input
    lines. Input must be UTF-8 and a line at most 2,000,000 characters; a line that is
    not stops with exit code 2 after everything before it has been written.
    """
    from tension.core.records import MAX_FIELD_CHARS

    scorer = _scorer(lexicon)
    sys.stdout.reconfigure(encoding="utf-8")  # JSON lines are UTF-8 whatever the locale says
    out = sys.stdout
    if fmt == "table":
        out.write(f"{'label':<13}{'tension':>8}{'host':>7}{'conc':>7}  evidence | text\n")
    for n, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")  # a BOM is not part of the text
        except UnicodeDecodeError as exc:
            out.flush()
            click.echo(f"error: stdin line {n} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                       f"position {exc.start}); lines before it were scored", err=True)
            sys.exit(2)
        text = line.rstrip("\r\n")
        if len(text) > MAX_FIELD_CHARS:
            out.flush()
            click.echo(f"error: stdin line {n} has {len(text):,} characters; the limit is "
                       f"{MAX_FIELD_CHARS:,} (as for a field on ingest); lines before it were scored",
                       err=True)
            sys.exit(2)
        score = scorer.score_text(text)
        if fmt == "json":
            out.write(to_json(score, text) + "\n")
        else:
            terms = ", ".join(m["text"] for e in score.evidence() for m in e["matches"])[:40]
            out.write(f"{score.label:<13}{score.tension:>+8.3f}{score.hostility:>7.3f}"
                      f"{score.conciliation:>7.3f}  {terms} | {text[:80]}\n")
        out.flush()


@main.command("evaluate-scorer")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--misses", is_flag=True, help="Also list the sentences the scorer got wrong.")
@lexicon_option
def evaluate_scorer(path: Path, as_json: bool, misses: bool, lexicon: Path | None) -> None:
    """Precision, recall, F1 per class and macro-F1 on labelled sentences (JSONL with
    `text` and `label`), for our scorer and, side by side, for plain VADER."""
    from indicators.evaluate import evaluate, format_reports
    from tension.io.labelled import read_labelled

    try:
        rows = read_labelled(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ours, vader, wrong = evaluate(rows, _scorer(lexicon))
    if as_json:
        click.echo(json.dumps({"scorer": ours.as_dict(), "vader": vader.as_dict(),
                               **({"misses": wrong} if misses else {})}, indent=2))
        return
    click.echo(format_reports([ours, vader]))
    if misses:
        click.echo("\nMisses (gold → predicted, tension):")
        for m in wrong:
            click.echo(f"  {m['label']} → {m['predicted']} ({m['tension']:+.2f}): {m['text'][:120]}")


db_option = click.option("--db", "db", envvar="TENSION_DB", metavar="URL",
                         help="Database URL or SQLite file (default: $TENSION_DB, else data/tension.db).")


def _store(db: str | None, create: bool = False):  # noqa: ANN202
    """The store; commands that only read it refuse a SQLite file that does not exist
    (a mistyped --db would otherwise create an empty store and report nothing)."""
    from sqlalchemy.engine import make_url

    from tension.core.paths import resolve_db_url
    from tension.store.engine import Store

    url = make_url(resolve_db_url(db))
    if not create and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        raise click.ClickException(f"no store at {url.database}: check --db (or TENSION_DB), "
                                   "or import something first with: python -m tension ingest")
    try:
        return Store(db)
    except Exception as exc:  # noqa: BLE001 - any connection failure becomes one clear line
        raise click.ClickException(hide_passwords(f"cannot open the store {db or '(default)'}: {exc}")) from None


def _zone(name: str) -> str:
    """A time zone name the machine knows (IANA, e.g. Asia/Seoul), else a usage error."""
    from tension.core.dates import DateError, zone

    try:
        zone(name)
    except DateError:
        raise click.BadParameter(f"unknown time zone {name!r}; use an IANA name like UTC or Asia/Seoul",
                                 param_hint="--tz") from None
    return name


def _lexicon_bytes(lexicon: Path | None) -> bytes | None:
    return lexicon.read_bytes() if lexicon else None


@main.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", *FORMATS]),
              help="Input format; auto detects it from the name, then the content.")
@click.option("--map", "mapping", metavar="FIELD=COL,…",
              help="Columns to use, e.g. date=published,text=body,title=headline.")
@click.option("--source", help="Source name for every article (overrides the file's column).")
@click.option("--tz", default="UTC", show_default=True, callback=lambda _c, _p, v: _zone(v),
              help="Analysis time zone: times are converted to it before taking the calendar day.")
@click.option("--date-order", type=click.Choice(["auto", "mdy", "dmy"]), default="auto", show_default=True,
              help="Numeric dates like 01/02/2018: month-first (mdy), day-first (dmy), or auto: "
                   "learnt from each file's first unambiguous date (25/12/2017 is dmy).")
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
           source: str | None, tz: str, date_order: str, window: int, jobs: int, engine: str,
           scheduler: str | None, quiet: bool, as_json: bool, lexicon: Path | None) -> None:
    """Import article files (CSV, TSV, JSON, JSONL, Parquet, .txt/.md folders, RSS/Atom
    files or URLs; optionally gzipped) into the store and score them.

    Re-importing a file adds nothing; the same file with another --tz, --date-order,
    --source or --map is refused (its rows would be stored twice). Bad rows go to the quarantine
    (`python -m tension quarantine list`); the exit code is 1 when any row was
    quarantined or a path could not be read.
    """
    from tension.io.readers import parse_mapping
    from tension.pipeline.ingest import ingest as run_ingest

    try:
        columns = parse_mapping(mapping) if mapping else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--map") from None
    store = _store(db, create=True)
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(unit=" rows", unit_scale=True, desc="ingest", file=sys.stderr, leave=False,
                   disable=None)  # None: only on a terminal
    kwargs = dict(fmt=fmt, mapping=columns, source=source, tz=tz, date_order=date_order, window_days=window,
                  lexicon=_lexicon_bytes(lexicon), progress=(lambda _p, n: bar.update(n)) if bar is not None else None)
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
        click.echo(summary.line())
        if lexicon:
            _warn_unscored(store)
        if summary.quarantined:
            where = f" --db {shlex.quote(hide_passwords(db))}" if db else ""
            click.echo(f"see the bad rows with: python -m tension quarantine list{where}")
    sys.exit(0 if summary.ok else 1)


@main.command()
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

    store = _store(db)
    kwargs = dict(lexicon=_lexicon_bytes(lexicon), prune=prune)
    if engine == "dask":
        from tension.pipeline.dask import dask_executor

        with dask_executor(scheduler) as (executor, workers):
            result = run_rescore(store, executor=executor, jobs=workers, **kwargs)
    else:
        result = run_rescore(store, jobs=jobs, **kwargs)
    if not quiet:
        click.echo(f"scorer {result['version']}: {result['stale']:,} texts were stale, "
                   f"{result['scored']:,} scored, {result['pruned']:,} old scores pruned")


@main.group()
def runs() -> None:
    """Ingest runs: list them, remove one (to import a file again with other options)."""


@runs.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True)
def runs_list(db: str | None, as_json: bool) -> None:
    """Every run, oldest first: when, status, files, rows read, stored, quarantined."""
    from tension.store.runs import list_runs

    rows = list_runs(_store(db))
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

    store = _store(db)
    if not yes:
        click.confirm(f"Delete the articles and quarantine rows of run {run_id}?", abort=True)
    try:
        done = remove_run(store, run_id)
    except RunError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"run {run_id} removed: {done['articles']:,} articles, {done['quarantined']:,} quarantine "
               f"rows; {done['promoted']:,} copies elsewhere became originals")
    _warn_unscored(store)


@main.group()
def quarantine() -> None:
    """Rows that could not be imported, and why."""


@quarantine.command("list")
@db_option
@click.option("--run", "run_id", type=int, help="Only this ingest run.")
@click.option("--file", "origin", help="Only rows from this file.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1))
@click.option("--raw", is_flag=True, help="Also show the raw row text.")
@click.option("--json", "as_json", is_flag=True)
def quarantine_list(db: str | None, run_id: int | None, origin: str | None, limit: int,
                    raw: bool, as_json: bool) -> None:
    """List quarantined rows: file, row, field and reason."""
    from sqlalchemy import func, select

    from tension.core.records import storable
    from tension.store import schema

    q = schema.quarantine.c
    where = []
    if run_id is not None:
        where.append(q.run_id == run_id)
    if origin:  # as typed, or as stored (absolute)
        where.append(q.origin.in_({origin, storable(os.path.abspath(origin))}))
    stmt = select(q.id, q.run_id, q.origin, q.row, q.field, q.reason, q.raw).where(*where)
    with _store(db).read() as conn:
        rows = [dict(r) for r in conn.execute(stmt.order_by(q.id).limit(limit)).mappings()]
        total = conn.execute(select(func.count()).select_from(schema.quarantine).where(*where)).scalar_one()
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no quarantined rows match" if where else "quarantine is empty")
    for r in rows:
        where = r["origin"] + (f", row {r['row']}" if r["row"] is not None else "")
        field = f", field '{r['field']}'" if r["field"] else ""
        click.echo(f"[{r['id']}] {where}{field}: {r['reason']}")
        if raw and r["raw"]:
            click.echo(f"      {r['raw'][:300]!r}")
    if total > len(rows):
        click.echo(f"… and {total - len(rows):,} more (of {total:,}); raise --limit to see them")


@main.group()
def events() -> None:
    """Reference events (e.g. weapons tests) shown over the index."""


@events.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def events_import(path: Path, db: str | None) -> None:
    """Import a CSV with `date` (or `start`, `end`), `label` and optional `category`."""
    from tension.pipeline.events import import_events

    result = import_events(_store(db, create=True), path)
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

    df = list_events(_store(db), categories=list(categories) or None)
    if not len(df):
        click.echo("no events match" if categories else "no events yet; add some with: events import FILE.csv")
    for r in df.itertuples():
        span = r.start.date().isoformat() + ("" if r.end == r.start else f"..{r.end.date().isoformat()}")
        click.echo(f"{span}  [{r.category}] {r.label}")


def _date(value: str | None, name: str):  # noqa: ANN202
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2018-01-03", param_hint=name) from None


def with_options(*groups: list):  # noqa: ANN201
    """Apply groups of shared click options to a command."""
    def deco(fn):  # noqa: ANN001, ANN202
        for o in reversed([o for g in groups for o in g]):
            fn = o(fn)
        return fn

    return deco


SELECTION_OPTIONS = [
    click.option("--source", "sources", multiple=True, help="Only these sources (repeatable)."),
    click.option("--category", "categories", multiple=True,
                 help="Only these lexicon categories' contributions (repeatable)."),
    click.option("--filter", "filter_expr", default="",
                 help="Keyword/actor filter, e.g. 'Seoul|South Korea' or 'missile & -test'."),
    db_option,
]
RANGE_OPTIONS = [
    click.option("--from", "start", metavar="DATE", help="First day (default: first article day)."),
    click.option("--to", "end", metavar="DATE", help="Last day (default: last article day)."),
]
INDEX_OPTIONS = [
    click.option("--freq", type=click.Choice(["D", "W", "M"]), default="D", show_default=True,
                 help="Days, weeks (from Monday) or months."),
    click.option("--smooth", default=7, show_default=True, type=click.IntRange(1, 3650),
                 help="Smoothing window in periods (1 = none)."),
    click.option("--smoother", type=click.Choice(["rolling", "ewm"]), default="rolling",
                 show_default=True),
    click.option("--center", is_flag=True, help="Centred instead of trailing window (rolling only)."),
    click.option("--normalize", type=click.Choice(["raw", "zscore", "base100"]), default="raw",
                 show_default=True, help="zscore / base100 against the base period."),
    click.option("--base-from", "base_start", metavar="DATE", help="Base period start."),
    click.option("--base-to", "base_end", metavar="DATE", help="Base period end."),
    click.option("--n-boot", default=200, show_default=True, type=click.IntRange(0, 10_000),
                 help="Bootstrap resamples for the confidence band (0 = none)."),
    click.option("--seed", default=0, show_default=True, help="Bootstrap seed."),
]


def _selection(kw: dict, store):  # noqa: ANN001, ANN202
    from tension.core.filters import FilterError, parse_filter
    from tension.core.selection import Selection
    from tension.store.queries import SelectionError, resolve

    try:
        parse_filter(kw["filter_expr"])
    except FilterError as exc:
        raise click.BadParameter(str(exc), param_hint="--filter") from None
    sel = Selection(sources=tuple(kw["sources"]), categories=tuple(kw["categories"]),
                    filter=kw["filter_expr"])
    try:
        return resolve(store, sel)  # the store's scorer; categories of its lexicon
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--category") from None


def _index_options(kw: dict):  # noqa: ANN202
    from tension.analysis.index import IndexOptions

    opts = IndexOptions(start=_date(kw["start"], "--from"), end=_date(kw["end"], "--to"),
                        freq=kw["freq"], smooth=kw["smooth"], smoother=kw["smoother"],
                        center=kw["center"], normalize=kw["normalize"],
                        base_start=_date(kw["base_start"], "--base-from"),
                        base_end=_date(kw["base_end"], "--base-to"), n_boot=kw["n_boot"],
                        seed=kw["seed"])
    try:
        return opts.check()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _warn_unscored(store) -> None:  # noqa: ANN001
    from tension.store.queries import coverage

    cov = coverage(store)
    if cov["unscored"]:
        click.echo(f"warning: {cov['unscored']:,} of {cov['originals']:,} articles are not scored by "
                   "the store's lexicon; run: python -m tension rescore", err=True)


@main.command()
@click.option("--out", required=True, metavar="FILE|-",
              help="Output file (.csv, .parquet, .json) or - for CSV on stdout.")
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True,
              help="dask: read and aggregate the articles on a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: LocalCluster).")
@with_options(SELECTION_OPTIONS, RANGE_OPTIONS, INDEX_OPTIONS)
def export(out: str, engine: str, scheduler: str | None, **kw) -> None:  # noqa: ANN003
    """Export the index: one row per period in range; a period without articles has blank
    values (the smoothed line, a moving mean, may bridge a few such periods)."""
    from tension.io.export import write_export
    from tension.reports.export import build_export

    store = _store(kw["db"])
    sel, opts = _selection(kw, store), _index_options(kw)
    _warn_unscored(store)
    if engine == "dask":
        from tension.pipeline.dask import dask_client

        with dask_client(scheduler):
            table = build_export(store, sel, opts, engine="dask")
    else:
        table = build_export(store, sel, opts)
    try:
        fmt = write_export(table, out)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    if out != "-":
        click.echo(f"wrote {len(table):,} rows to {out} ({fmt})", err=True)


@main.command()
@click.option("--top", default=10, show_default=True, type=click.IntRange(1), help="How many spikes.")
@click.option("--threshold", default=3.5, show_default=True, help="Robust z needed.")
@click.option("--window", default=90, show_default=True, type=click.IntRange(14),
              help="Days of history for the baseline (at least the 14 a baseline needs).")
@click.option("--min-articles", default=3, show_default=True, type=click.IntRange(1))
@click.option("--evidence/--no-evidence", default=True, show_default=True,
              help="Show each spike's top articles and terms.")
@click.option("--json", "as_json", is_flag=True)
@with_options(SELECTION_OPTIONS, RANGE_OPTIONS)
def spikes(top: int, threshold: float, window: int, min_articles: int, evidence: bool,
           as_json: bool, **kw) -> None:  # noqa: ANN003
    """Spike candidates: hostility spikes and conciliation dips, strongest first.

    Each day is judged against its own preceding days over the whole store;
    --from/--to only choose which spikes to list.
    """
    from tension.analysis.spikes import SpikeOptions, as_records, find_spikes
    from tension.reports.spikes import spike_evidence
    from tension.store.queries import load_articles

    store = _store(kw["db"])
    sel = _selection(kw, store)
    found = find_spikes(load_articles(store, sel),
                        SpikeOptions(window=window, threshold=threshold, min_articles=min_articles),
                        _date(kw["start"], "--from"), _date(kw["end"], "--to")).head(top)
    records = as_records(found)
    if evidence:
        for r in records:
            r["evidence"] = spike_evidence(store, sel, r)
    if as_json:
        click.echo(json.dumps(records, indent=2, ensure_ascii=False, default=str))
        return
    if not records:
        click.echo("no spike candidates")
    for r in records:
        span = r["start"] if r["start"] == r["end"] else f"{r['start']}..{r['end']}"
        click.echo(f"{r['kind']:<13} peak {r['peak']}  z={r['magnitude']:+.1f}  tension "
                   f"{r['peak_tension']:+.3f} vs baseline {r['baseline']:+.3f}  ({span}, "
                   f"{r['n_articles']} articles)")
        for a in r.get("evidence", {}).get("articles", [])[:3]:
            click.echo(f"    {a['tension']:+.2f}  {a['title'][:100]}")
        terms = ", ".join(t["term"] for t in r.get("evidence", {}).get("terms", [])[:6])
        if terms:
            click.echo(f"    terms: {terms}")


@main.command()
@click.argument("when", metavar="DATE|START..END")
@click.option("--baseline-days", default=28, show_default=True, type=click.IntRange(1))
@click.option("--top", default=15, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True)
@with_options(SELECTION_OPTIONS)
def explain(when: str, baseline_days: int, top: int, as_json: bool, **kw) -> None:  # noqa: ANN003
    """What moved a day or range compared with the weeks before it (a word shift)."""
    from tension.reports.explain import explain as run_explain

    start_s, dots, end_s = when.partition("..")
    if dots and not end_s:
        raise click.BadParameter(f"{when!r}: give the range's last day too, as in 2018-01-01..2018-01-09",
                                 param_hint="START..END")
    start, end = _date(start_s, "DATE"), _date(end_s or start_s, "DATE")
    if end < start:
        raise click.BadParameter(f"{end} is before {start}", param_hint="START..END")
    store = _store(kw["db"])
    result = run_explain(store, _selection(kw, store), start, end, baseline_days, top)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        return
    def mean(value: float | None, n: int) -> str:
        return f"mean tension {value:+.3f} over {n} articles" if value is not None else "no articles"

    change = f"; change {result['delta']:+.3f}" if result["delta"] is not None else ""
    click.echo(f"{result['start']}..{result['end']}: {mean(result['mean_target'], result['n_target'])}; "
               f"baseline {result['baseline_start']}..{result['baseline_end']}: "
               f"{mean(result['mean_baseline'], result['n_baseline'])}{change}")
    if not result["n_target"]:
        return
    click.echo("terms that moved it (share of mean tension, target vs baseline):")
    for t in result["terms"]:
        click.echo(f"  {t['shift']:+.4f}  {t['term']:<28} [{t['category']}, {t['pole']}]  "
                   f"{t['target']:+.4f} vs {t['baseline']:+.4f}  ({t['n_target']} vs "
                   f"{t['n_baseline']} articles)")
    click.echo("articles that moved it most:")
    for a in result["articles"][:10]:
        click.echo(f"  {a['contribution']:+.4f}  {a['date']}  {a['title'][:90]}")


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder with the real corpora (default: ../shared/data).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/validation"),
              show_default=True, help="Folder for figures and metrics.json; the report is <out>.md.")
@click.option("--no-figures", is_flag=True, help="Numbers only (what CI runs).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Scoring processes while building the store.")
def validate(data: Path | None, out: Path, no_figures: bool, jobs: int) -> None:
    """Validate the index against the real world on a fresh temporary store: event study
    around weapons tests, dev-set scores vs VADER, extreme days, headlines vs stories."""
    from tension.core.paths import PROJECT_ROOT
    from tension.validation.study import run_validation

    data = data or PROJECT_ROOT.parent / "shared" / "data"
    metrics = run_validation(data, out, figures=not no_figures, jobs=jobs,
                             log=lambda m: click.echo(m, err=True))
    es = metrics["event_study"]["all"]
    click.echo(f"dev macro-F1 {metrics['dev']['scorer']['macro_f1']:.3f} "
               f"(plain VADER {metrics['dev']['vader']['macro_f1']:.3f}); event effect "
               f"{es['effect']:+.4f} (95% CI {es['ci_low']:+.4f}..{es['ci_high']:+.4f}, placebo p "
               f"{es['p_value']:.3f}, {es['n_events']} tests); report: {out.with_suffix('.md')}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def backup(path: Path, db: str | None) -> None:
    """Write the whole store (articles, scores, annotations, events, quarantine) to a new
    SQLite file, from one consistent snapshot."""
    from tension.store.backup import backup as run_backup

    try:
        counts = run_backup(_store(db), path)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {path}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option("--replace", is_flag=True, help="Replace everything in a non-empty store.")
def restore(path: Path, db: str | None, replace: bool) -> None:
    """Load a backup made by `backup` into the store (empty unless --replace), in one transaction."""
    from tension.store.backup import restore as run_restore

    try:
        counts = run_restore(_store(db, create=True), path, replace=replace)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored from {path}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@main.group()
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

    rows = list_annotations(_store(db), _date(start, "--from"), _date(end, "--to"), tag)
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
        saved = create(_store(db, create=True), {"start": start, "end": end or start, "title": title, "note": note,
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

    rows = list_annotations(_store(db))
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

    result = import_csv(_store(db, create=True), path.read_text(encoding="utf-8-sig"))
    for e in result["errors"]:
        click.echo(f"problem: {e}", err=True)
    click.echo(f"added {result['added']}, already present {result['skipped']}, "
               f"problems {len(result['errors'])}")
    sys.exit(1 if result["errors"] else 0)
