"""The index as a table for people and programs: one function for the CLI, the API and the
dashboard's download button (the file formats are `tension.io.export`).

One row per calendar period in range, empty periods included (blank cells, not zeros).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from tension.analysis.dyads import DYAD_INDEX_COLUMNS, dyad_counts, dyad_index, resolve_speakers
from tension.analysis.index import between, compute_index, finish, window
from tension.analysis.options import IndexOptions, bounded
from tension.analysis.spikes import SpikeOptions, find_spikes, spike_flags, spikes_in_range
from tension.core.selection import Selection
from tension.store.actors import actor_of_source
from tension.store.annotations import list_annotations
from tension.store.engine import Store
from tension.store.queries import (
    SelectionError,
    date_bounds,
    load_articles,
    load_dyad_rows,
    load_measures,
    measure_of,
    resolve,
)
from tension.store.scoring import store_scorer

# Every measure's period mean by name, whatever `tension` measures (docs/methodology.md §2b).
MEASURE_COLUMNS = {"tension_intensity": "intensity", "tension_conflict": "conflict", "tension_all": "all"}
EXPORT_COLUMNS = ["date", "tension", "tension_smoothed", "ci_low", "ci_high", "hostility",
                  "conciliation", "share_hostile", "share_conciliatory", "n_articles", "n_days",
                  "spike", "annotations", *MEASURE_COLUMNS]


def build_export(store: Store, sel: Selection | None = None, opts: IndexOptions | None = None,
                 spike_opts: SpikeOptions | None = None, articles: pd.DataFrame | None = None,
                 engine: str = "pandas", table: pd.DataFrame | None = None,
                 spikes: pd.DataFrame | None = None,
                 measure_tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The export table. Default range: first to last article day in the store.

    Spikes are judged on the selection's whole daily history; a week or month is
    flagged when it holds a spike day. With engine="dask" the article-level work
    runs on the current Dask client (see `tension.engine_dask`); the result is the same.
    `table` (the index for these options) and `spikes` may be passed in by a caller that
    has them cached, and `measure_tables` (each MEASURE_COLUMNS measure's index under these
    options, unsmoothed and without a band, keyed by measure); everything after them is the
    same code.
    """
    sel = sel or Selection()
    opts = opts or IndexOptions()
    measures = None  # the measures' article frames, when read here with the index's
    lo, hi = date_bounds(store)
    if opts.start is None or opts.end is None:
        opts = replace(opts, start=opts.start or lo, end=opts.end or hi)
    opts = bounded(opts, lo, hi)  # the work follows the data, not the caller's dates
    if table is not None:  # the caller computed the index and spikes (the dashboard's cache)
        pass
    elif engine == "dask":
        from tension.reports.dask_index import aggregate_dask, compute_index_dask

        table = compute_index_dask(store, sel, opts)
        full = aggregate_dask(store, replace(sel, start=None, end=None), "D", n_boot=0)
        daily = finish(window(full, full.index.min(), full.index.max(), "D"),
                       IndexOptions(n_boot=0, smooth=1, normalize="raw")) if len(full) else full
        spikes = spikes_in_range(daily, spike_opts, opts.start, opts.end) if len(daily) else None
    else:
        if articles is None:
            full = replace(sel, start=None, end=None)
            if not sel.categories:  # one read for the index and the columns
                main = measure_of(full)
                measures = load_measures(store, full, tuple(dict.fromkeys([main, *MEASURE_COLUMNS.values()])))
                articles = measures[main]
            else:
                articles = load_articles(store, full)
        table = compute_index(articles, opts)
        spikes = find_spikes(articles, spike_opts, opts.start, opts.end)
    if not len(table):
        return pd.DataFrame(columns=EXPORT_COLUMNS)
    table["n_days"] = period_days(table["date"], opts)
    table["spike"] = spike_flags(table, spikes, opts.freq) if spikes is not None else ""
    table["annotations"] = _period_annotations(table, store, opts)
    means = measure_means(store, sel, opts, measures, engine, measure_tables)
    return table.merge(means, on="date", how="left")[EXPORT_COLUMNS]


def plain_options(opts: IndexOptions) -> IndexOptions:
    """The options of the MEASURE_COLUMNS: the periods and normalisation of the export's,
    without smoothing or band (only each period's mean is kept)."""
    return replace(opts, n_boot=0, smooth=1)


def measure_means(store: Store, sel: Selection, opts: IndexOptions,
                  frames: dict[str, pd.DataFrame] | None = None, engine: str = "pandas",
                  tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Per period, each measure's mean (normalised as `opts` says) by its MEASURE_COLUMNS
    name, over the selection without its dyad and categories (which choose `tension`);
    `frames` or `tables`: the measures' article frames or index tables (`plain_options`),
    by measure, when the caller has them."""
    base = replace(sel, dyad="", categories=(), start=None, end=None)
    plain = plain_options(opts)
    if tables is None and engine == "dask":
        from tension.reports.dask_index import compute_index_dask

        tables = {m: compute_index_dask(store, replace(base, dyad=m), plain) for m in MEASURE_COLUMNS.values()}
    elif tables is None:
        frames = frames or load_measures(store, base, tuple(MEASURE_COLUMNS.values()))
        tables = {m: compute_index(frames[m], plain) for m in MEASURE_COLUMNS.values()}
    columns = [tables[m].set_index("date")["tension"].rename(name) for name, m in MEASURE_COLUMNS.items()]
    return pd.concat(columns, axis=1).rename_axis("date").reset_index()


def period_days(starts: pd.Series, opts: IndexOptions) -> pd.Series:
    """Calendar days of each period inside the range: 7 for a whole week, fewer for a week
    or month cut by --from/--to (its numbers then cover only those days)."""
    step = {"D": pd.DateOffset(days=1), "W": pd.DateOffset(weeks=1), "M": pd.DateOffset(months=1)}[opts.freq]
    ends = starts + step - pd.Timedelta(days=1)
    lo = starts.clip(lower=pd.Timestamp(opts.start)) if opts.start else starts
    hi = ends.clip(upper=pd.Timestamp(opts.end)) if opts.end else ends
    return ((hi - lo).dt.days + 1).astype("int64")


def _period_annotations(table: pd.DataFrame, store: Store, opts: IndexOptions) -> pd.Series:
    out = pd.Series("", index=table.index, dtype=object)
    anns = list_annotations(store, opts.start, opts.end)
    if not anns:
        return out
    starts = table["date"]
    ends = pd.concat([starts.iloc[1:] - pd.Timedelta(days=1),
                      pd.Series([pd.Timestamp(opts.end)])], ignore_index=True)
    ends.index = table.index
    for a in anns:
        a_start, a_end = pd.Timestamp(a["start"]), pd.Timestamp(a["end"])
        hit = (starts <= a_end) & (ends >= a_start)
        out[hit] = [f"{x}; {a['title']}" if x else a["title"] for x in out[hit]]
    return out


DYADS_EXPORT_COLUMNS = ["date", "source_actor", "target_actor", "tension", "hostility", "conciliation",
                        "n_articles", "ci_low", "ci_high", "tension_smoothed", "share_hostile",
                        "share_conciliatory"]


def dyad_rows(store: Store, sel: Selection, articles: pd.DataFrame | None = None) -> pd.DataFrame:
    """The selection's dyad rows with speakers resolved (keyword filter applied): what the
    dyadic index, the dyad list and the heatmap are computed from. `articles`: the selection's
    `load_articles` frame under "all", if already read."""
    sel = resolve(store, sel)
    if articles is None and sel.filter:
        articles = load_articles(store, replace(sel, dyad="all", categories=()))
    rows = load_dyad_rows(store, sel, articles)
    return resolve_speakers(rows, actor_of_source(store, store_scorer(store).actors))


def build_dyads_export(store: Store, sel: Selection | None = None, opts: IndexOptions | None = None,
                       min_articles: int = 1, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every dyad's index in long format (DYADS_EXPORT_COLUMNS), on the periods where the dyad
    has articles; smoothing runs over each dyad's whole history, as the headline's does."""
    sel = sel or Selection()
    opts = opts or IndexOptions()
    if sel.dyad or sel.categories:  # said, not silently ignored: every dyad, of the overall tone
        raise SelectionError("the dyads export lists every dyad with its own tone: it takes no "
                             f"{'dyad' if sel.dyad else 'lexicon category'} (one dyad in the wide format: "
                             "the index export with dyad A-B)")
    if min_articles < 1:
        raise SelectionError(f"min_articles must be at least 1, not {min_articles}")
    if rows is None:
        rows = dyad_rows(store, replace(sel, start=None, end=None))
    table = dyad_index(rows, replace(opts, start=None, end=None), min_articles=min_articles)
    table = between(table, opts.start, opts.end)
    assert set(DYADS_EXPORT_COLUMNS) <= set(DYAD_INDEX_COLUMNS)
    return table[DYADS_EXPORT_COLUMNS].sort_values(["date", "source_actor", "target_actor"], ignore_index=True)


def dyad_matrix(store: Store, sel: Selection, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (source_actor, target_actor) over the selection's dates: articles and mean tension."""
    if rows is None:
        rows = dyad_rows(store, sel)
    return dyad_counts(rows)
