"""What the dashboard and the HTTP API ask of the store, with the caching that keeps every
interaction fast. Calls the same functions as the CLI (`tension.*`); adds no logic of its own
beyond deciding what can be reused.

The cache is keyed by the store's data revision (`Store.revision`), so an ingest, a rescore or
a removed run — from the upload box, the CLI or another process — is seen on the next
interaction.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import pandas as pd

from tension.analysis.index import (
    aggregate,
    article_components,
    between,
    compute_index,
    finish,
    window,
)
from tension.analysis.options import IndexOptions, bounded
from tension.analysis.spikes import SpikeOptions, as_records, find_spikes, overlapping
from tension.core.selection import Selection
from tension.reports.explain import day_articles, explain
from tension.reports.export import (
    MEASURE_COLUMNS,
    build_dyads_export,
    build_export,
    dyad_matrix,
    dyad_rows,
    plain_options,
)
from tension.reports.review import least_sure
from tension.reports.spikes import spike_evidence
from tension.store.engine import Store
from tension.store.events import list_events
from tension.store.labels import labels_for
from tension.store.queries import (
    coverage,
    date_bounds,
    filter_articles,
    known_categories,
    load_articles,
    load_evidence,
    load_measures,
    measure_of,
    resolve,
    restrict_to_categories,
    sources,
)


class _LRU:
    """A small thread-safe LRU of computed frames."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._running: dict = {}  # key → Event: computed now by another thread (the landing
        # view warmed at start, and the first page asking for it, compute it once)

    def put(self, key: object, value: object) -> None:
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def get(self, key: object, make: Callable[[], object]) -> object:
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    return self._data[key]
                running = self._running.get(key)
                if running is None:  # this thread computes it; others asking meanwhile wait
                    running = self._running[key] = threading.Event()
                    break
            running.wait()  # then read what the other thread made (or make it, if it failed)
        try:
            value = make()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._running.pop(key, None)
            running.set()


class Service:
    """One per app: the store plus caches of what is expensive to recompute."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache = _LRU(64)

    # -- store fingerprint -----------------------------------------------------------
    def revision(self) -> tuple:
        """The store's data revision: changes with every write of articles, scores or the
        store's settings, from this process or another (the store bumps it itself)."""
        return self.store.revision("data")

    def _key(self, *parts: object) -> tuple:
        return (self.revision(), *parts)

    # -- data ------------------------------------------------------------------------
    def articles(self, sel: Selection) -> pd.DataFrame:
        """All articles of a selection (dates ignored: slicing happens later)."""
        sel = replace(sel, start=None, end=None, dyad=measure_of(sel))  # "" is the headline's name

        def make() -> pd.DataFrame:
            if not (sel.filter or sel.categories) and sel.dyad in MEASURE_COLUMNS.values():
                # the measures share one read of the store (the export's columns need all)
                frames = load_measures(self.store, sel, tuple(MEASURE_COLUMNS.values()))
                for m, frame in frames.items():
                    if m != sel.dyad:
                        self._cache.put(self._key("articles", replace(sel, dyad=m)), frame)
                return frames[sel.dyad]
            if not (sel.filter or sel.categories):
                return load_articles(self.store, sel)
            resolve(self.store, sel)  # a dyad with a category is refused there
            # a keyword filter or a sub-index of the articles already loaded (what
            # load_articles does, without reading them again: seconds on a large store)
            df = self.articles(replace(sel, filter="", categories=()))
            if sel.filter:  # the matching ids, once for every measure of these sources
                ids = self._cache.get(self._key("filtered", replace(sel, dyad="all", categories=())),
                                      lambda: filter_articles(self.store, self.articles(
                                          replace(sel, dyad="all", filter="", categories=())), sel.filter)["id"])
                df = df[df["id"].isin(ids)]
            if sel.categories:
                df = restrict_to_categories(self.store, df, sel)
            return df.reset_index(drop=True)

        return self._cache.get(self._key("articles", sel), make)

    def dyad_rows(self, sel: Selection) -> pd.DataFrame:
        """The selection's dyad rows, speakers resolved (dates ignored: sliced later)."""
        sel = replace(sel, start=None, end=None, dyad="", categories=())
        return self._cache.get(self._key("dyad_rows", sel), lambda: dyad_rows(
            self.store, sel, self.articles(replace(sel, dyad="all"))))  # the articles are cached

    def dyad_matrix(self, sel: Selection, start: dt.date | None = None,
                    end: dt.date | None = None) -> pd.DataFrame:
        """Per (source, target) over the dates: articles and mean tension (the heatmap)."""
        def make() -> pd.DataFrame:
            return dyad_matrix(self.store, sel, between(self.dyad_rows(sel), start, end))

        return self._cache.get(self._key("dyad_matrix", replace(sel, dyad="", categories=()), start, end), make)

    def dyads_export(self, sel: Selection, opts: IndexOptions, min_articles: int = 1) -> pd.DataFrame:
        return build_dyads_export(self.store, sel, opts, min_articles, rows=self.dyad_rows(sel))

    def index(self, sel: Selection, opts: IndexOptions) -> pd.DataFrame:
        """The index table for the view: cached daily aggregates, sliced, then smoothed. The
        dates are clamped to the store's days plus a margin (`bounded`)."""
        opts = bounded(opts, *self.bounds())
        arts = self.articles(sel)
        start, end = self._range(arts, opts)
        if start is None:
            return compute_index(arts.iloc[:0], opts)
        opts = replace(opts, start=start, end=end)
        if opts.freq != "D":
            return compute_index(arts, opts)
        daily = self._cache.get(self._key("daily", replace(sel, start=None, end=None), opts.n_boot,
                                          opts.ci, opts.seed),
                                lambda: aggregate(arts, "D", opts.n_boot, opts.ci, opts.seed))
        table = daily[(daily.index >= pd.Timestamp(start)) & (daily.index <= pd.Timestamp(end))]
        return finish(window(table, start, end, "D"), opts, daily)

    def _range(self, arts: pd.DataFrame, opts: IndexOptions) -> tuple:
        if not len(arts) and not (opts.start and opts.end):
            return None, None
        start = opts.start or arts["date"].min().date()
        end = opts.end or arts["date"].max().date()
        return start, end

    def spikes(self, sel: Selection, spike_opts: SpikeOptions | None = None) -> pd.DataFrame:
        """Spike episodes over the selection's whole daily series (not just the view)."""
        return self._cache.get(self._key("spikes", replace(sel, start=None, end=None), spike_opts),
                               lambda: find_spikes(self.articles(sel), spike_opts))

    def top_phrases(self, sel: Selection) -> pd.Series:
        """Per day: the matched phrase of the day's most charged article (for hover text)."""
        def make() -> pd.Series:
            arts = self.articles(sel)
            if not len(arts):
                return pd.Series(dtype=object)
            strongest = arts.loc[arts["tension"].abs().groupby(arts["date"]).idxmax()]
            strongest = strongest[strongest["tension"] != 0]
            if "top_term" in strongest:  # a category sub-index: its own strongest term
                return pd.Series(strongest["top_term"].to_numpy(), index=strongest["date"].to_numpy(),
                                 dtype=object).dropna()
            ev = load_evidence(self.store, strongest["content_hash"].tolist(), resolve(self.store, sel).version)
            phrases = {}
            for r in strongest.itertuples():
                for sent in ev.get(r.content_hash, []):
                    m = next((m for m in sent["matches"] if m["effective"] > 0), None)
                    if m:
                        phrases[r.date] = m["text"]
                        break
            return pd.Series(phrases, dtype=object)

        return self._cache.get(self._key("phrases", replace(sel, start=None, end=None)), make)

    def spike_records(self, sel: Selection, limit: int = 20,
                      within: tuple[dt.date | None, dt.date | None] = (None, None)) -> list[dict]:
        """The strongest spike candidates, those peaking within the view's dates first (marked
        `in_view`): in a zoomed view its own spikes are what the analyst reads, even when
        weaker than others."""
        table = self.spikes(sel)
        lo, hi = within
        inside = pd.to_datetime(table["peak"]).dt.date.map(
            lambda d: (lo is None or d >= lo) and (hi is None or d <= hi)).astype(bool)
        table = pd.concat([table[inside], table[~inside]]).assign(in_view=lambda t: inside[t.index])
        return as_records(table.head(limit))

    def spike_evidence(self, sel: Selection, spike: dict) -> dict:
        return spike_evidence(self.store, sel, spike, articles=self.articles(sel))

    def day(self, sel: Selection, start: dt.date, end: dt.date | None = None,
            opts: IndexOptions | None = None) -> dict:
        """The evidence panel for a day or range: ranked articles, the word shift, and the
        sentences the model is least sure of; under a seasonally adjusted view (`opts`) the
        time of year's part too."""
        out = {"articles": day_articles(self.store, sel, start, end),
               "explain": explain(self.store, sel, start, end, articles=self.articles(sel)),
               "review": least_sure(self.store, sel, start, end)}
        if opts is not None and opts.normalize == "seasonal":
            out["season"] = self.season(sel, opts, out["explain"])
        return out

    def season(self, sel: Selection, opts: IndexOptions, why: dict) -> dict:
        """The seasonal component's article-weighted mean over an explanation's span and its
        baseline (0 for a side without articles): mean − component is what the chart shows."""
        arts = self.articles(sel)
        comp = self._cache.get(self._key("season", replace(sel, start=None, end=None), opts.freq,
                                         opts.base_start, opts.base_end),
                               lambda: article_components(arts, opts))

        def mean(lo: str, hi: str) -> float:
            part = comp[(arts["date"] >= pd.Timestamp(lo)) & (arts["date"] <= pd.Timestamp(hi))]
            return float(part.mean()) if len(part) else 0.0

        return {"target": mean(why["start"], why["end"]),
                "baseline": mean(why["baseline_start"], why["baseline_end"])}

    def labels_for(self, texts: list[str]) -> dict[str, dict]:
        return labels_for(self.store, texts)

    def events(self, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
        return list_events(self.store, start, end)

    def export(self, sel: Selection, opts: IndexOptions) -> pd.DataFrame:
        """The CSV of the view: what `python -m tension export` writes, from the cached index."""
        if opts.start is None or opts.end is None:
            lo, hi = self.bounds()
            opts = replace(opts, start=opts.start or lo, end=opts.end or hi)
        opts = bounded(opts, *self.bounds())
        # the named measure columns from the cached daily aggregates, as the chart's
        tables = {m: self.index(replace(sel, dyad=m, categories=()), plain_options(opts))
                  for m in MEASURE_COLUMNS.values()}
        return build_export(self.store, sel, opts, table=self.index(sel, opts),
                            spikes=overlapping(self.spikes(sel), opts.start, opts.end), measure_tables=tables)

    def sources(self) -> list[str]:
        return self._cache.get(self._key("sources"), lambda: sources(self.store))

    def categories(self) -> list[str]:
        """The store lexicon's hostility and conciliation categories (the filter's choices)."""
        return self._cache.get(self._key("categories"), lambda: sorted(
            k for k, v in known_categories(self.store).items() if v != "neutral"))

    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        return self._cache.get(self._key("bounds"), lambda: date_bounds(self.store))

    def coverage(self) -> dict[str, int]:
        """How many originals the current scorer has scored (cached per revision)."""
        return self._cache.get(self._key("coverage"), lambda: coverage(self.store))

    def health(self) -> dict:
        counts = self.store.counts()
        return {"status": "ok", "schema": self.store.schema_version(),
                "database": self.store.engine.dialect.name, "counts": counts,
                "coverage": coverage(self.store)}
