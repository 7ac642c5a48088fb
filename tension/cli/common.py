"""What the commands share: the store option, dates, the selection and view options (parsed
by `tension.analysis.options`, the one parser the API and the page use too), lexicon options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from indicators.learned.scorer import LearnedScorer
from tension.analysis.options import (
    FREQS,
    N_BOOT,
    NORMALIZATIONS,
    NORMALIZE_DEFAULT,
    SEED,
    SMOOTH,
    SMOOTHERS,
    IndexOptions,
    OptionError,
    parse_view,
)
from tension.core.selection import Selection

if TYPE_CHECKING:
    from tension.store.engine import Store

def scorer_from(lexicon: Path | None, db: str | None = None) -> LearnedScorer:
    """The scorer of a store (its lexicon and model; --lexicon overrides its lexicon), or
    without --db the shipped model with the shipped lexicon or the one given."""
    from indicators.scorers import scorer_for

    if db is None:
        return scorer_for(lexicon.read_bytes() if lexicon else None)
    from tension.store.scoring import store_lexicon, store_model

    store = open_store(db)
    return scorer_for(lexicon.read_bytes() if lexicon else store_lexicon(store), store_model(store))


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


db_option = click.option("--db", "db", envvar="TENSION_DB", metavar="URL",
                         help="Database URL or SQLite file (default: $TENSION_DB, else data/tension.db).")


def open_store(db: str | None, create: bool = False):
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
    except Exception as exc:  # any connection failure becomes one clear line
        raise click.ClickException(hide_passwords(f"cannot open the store {db or '(default)'}: {exc}")) from None


def check_zone(name: str) -> str:
    """A time zone name the machine knows (IANA, e.g. Asia/Seoul), else a usage error."""
    from tension.core.dates import DateError, zone

    try:
        zone(name)
    except DateError:
        raise click.BadParameter(f"unknown time zone {name!r}; use an IANA name like UTC or Asia/Seoul",
                                 param_hint="--tz") from None
    return name


def actor_code(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """An `--actor` value in capitals, as actor codes are (and as --dyad accepts any case)."""
    return value.upper() if value else value


def lexicon_bytes(lexicon: Path | None) -> bytes | None:
    return lexicon.read_bytes() if lexicon else None


def day(value: str | None, name: str):
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2018-01-03", param_hint=name) from None


def with_options(*groups: list):
    """Apply groups of shared click options to a command."""
    def deco(fn):
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
    click.option("--dyad", default="", metavar="MEASURE|A-B",
                 help="What the index measures: all (overall tone), conflict (the conflict index), "
                      "intensity (conflict intensity) or one dyad such as PRK-USA (default: the "
                      "headline, see docs/methodology.md)."),
    db_option,
]
RANGE_OPTIONS = [
    click.option("--from", "start", metavar="DATE", help="First day (default: first article day)."),
    click.option("--to", "end", metavar="DATE", help="Last day (default: last article day)."),
]
INDEX_OPTIONS = [
    click.option("--freq", type=click.Choice(list(FREQS)), default="D", show_default=True,
                 help="Days, weeks (from Monday) or months."),
    click.option("--smooth", default=7, show_default=True, type=click.IntRange(SMOOTH.low, SMOOTH.high),
                 help="Smoothing window in periods (1 = none)."),
    click.option("--smoother", type=click.Choice(SMOOTHERS), default="rolling", show_default=True),
    click.option("--center", is_flag=True, help="Centred instead of trailing window (rolling only)."),
    click.option("--normalize", type=click.Choice(NORMALIZATIONS), default=NORMALIZE_DEFAULT,
                 show_default=True, help="seasonal: the source's calendar taken out (how far the same time of year "
                 "lies from the mean in its other years; unadjusted with fewer than 4 other years); raw: as "
                 "scored; zscore / base100 against the base period."),
    click.option("--base-from", "base_start", metavar="DATE", help="Base period start."),
    click.option("--base-to", "base_end", metavar="DATE", help="Base period end."),
    click.option("--n-boot", default=200, show_default=True, type=click.IntRange(N_BOOT.low, N_BOOT.high),
                 help="Bootstrap resamples for the confidence band (0 = none)."),
    click.option("--seed", default=0, show_default=True, type=click.IntRange(SEED.low, SEED.high),
                 help="Bootstrap seed."),
]
# The command's keyword for each view option (tension.analysis.options names them).
_KEYWORDS = {"from": "start", "to": "end", "source": "sources", "category": "categories",
             "filter": "filter_expr", "base_from": "base_start", "base_to": "base_end"}


def view_from(kw: dict, store: Store) -> tuple[Selection, IndexOptions]:
    """The selection (resolved against the store's scorer and lexicon) and index options of a
    command, parsed by the one parser of view options."""
    from tension.store.queries import SelectionError, resolve

    args = {name: kw[_KEYWORDS.get(name, name)] for name in
            ("from", "to", "source", "category", "filter", "freq", "smooth", "smoother", "center",
             "normalize", "base_from", "base_to", "n_boot", "seed", "dyad")
            if _KEYWORDS.get(name, name) in kw}
    try:
        sel, opts = parse_view(args)
    except OptionError as exc:
        flag = "--" + exc.option.replace("_", "-")
        raise click.BadParameter(str(exc), param_hint=flag) from None
    try:
        return resolve(store, sel), opts  # the store's scorer; categories of its lexicon
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--dyad" if sel.dyad else "--category") from None


def warn_unscored(store) -> None:
    from tension.store.queries import coverage

    cov = coverage(store)
    if cov["unscored"]:
        click.echo(f"warning: {cov['unscored']:,} of {cov['originals']:,} articles are not scored by "
                   "the store's current scorer (its lexicon, model and actors file); run: python -m tension "
                   "rescore", err=True)


