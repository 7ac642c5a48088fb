"""The index with the article-level work on a Dask cluster (`--engine dask`).

Articles and scores are read from the store with `dask.dataframe.read_sql_query` in
partitions (the query is the store's own, `articles_query`), re-partitioned so that every
period sits in one partition, and each partition is aggregated by the same pandas function
as the pandas engine (`tension.analysis.index.aggregate`). Only the per-period table (one row
per day) comes back to this process.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from tension.analysis.index import INDEX_COLUMNS, aggregate, finish, period_start, window
from tension.analysis.options import IndexOptions
from tension.core.selection import Selection
from tension.store.engine import Store, engine_url


def _aggregate_partition(part: pd.DataFrame, freq: str, n_boot: int, ci: float, seed: int) -> pd.DataFrame:
    part = part.reset_index(drop=True)
    if not len(part):
        return _empty_aggregate()
    return aggregate(part, freq, n_boot, ci, seed).reset_index()


def _empty_aggregate() -> pd.DataFrame:
    cols = {"date": "datetime64[ns]", "tension": "float64", "hostility": "float64",
            "conciliation": "float64", "share_hostile": "float64", "share_conciliatory": "float64",
            "n_articles": "int64", "ci_low": "float64", "ci_high": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})


def read_articles(store: Store, sel: Selection, npartitions: int = 8):
    """A dask DataFrame of original articles with their scores (text only when filtering)."""
    import dask.dataframe as dd

    from tension.store import schema
    from tension.store.queries import articles_query, resolve

    sel = resolve(store, sel)
    a, s = schema.articles.c, schema.article_scores.c
    cols = [a.id, a.date, a.source, s.hostility, s.conciliation, s.tension, s.label]
    q = articles_query(sel, cols + ([a.title, a.text] if sel.filter else []))
    # by the column itself, which PostgreSQL (unlike SQLite) needs in the partitions' WHERE
    ddf = dd.read_sql_query(q, engine_url(store.url), index_col=a.id, npartitions=npartitions)
    ddf["date"] = dd.to_datetime(ddf["date"].astype(str), format="ISO8601")
    if sel.filter:
        from tension.core.filters import filter_mask

        def keep(part: pd.DataFrame) -> pd.DataFrame:
            mask = filter_mask(part["title"].fillna("") + "\n" + part["text"].fillna(""), sel.filter)
            return part[mask].drop(columns=["title", "text"])

        ddf = ddf.map_partitions(keep)
    return ddf


def _measure_partition(rows: pd.DataFrame, measure: str, conflict: tuple, by_source: dict,
                       filter_expr: str = "") -> pd.DataFrame:
    """One partition's article frame of a measure or dyad (every row of an article lies in one
    partition: they are read by ranges of the article id); with `filter_expr`, of the
    articles whose title or text match it."""
    from tension.analysis.dyads import measure_frame, resolve_speakers

    rows = rows.reset_index()
    if filter_expr:
        from tension.core.filters import filter_mask

        texts = rows.drop_duplicates("id")
        hit = filter_mask(texts["title"].fillna("") + "\n" + texts["text"].fillna(""), filter_expr)
        rows = rows[rows["id"].isin(texts.loc[hit, "id"])].drop(columns=["title", "text"])
    if not len(rows):
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "date": pd.Series(dtype="datetime64[ns]"),
                             "hostility": pd.Series(dtype="float64"), "conciliation": pd.Series(dtype="float64"),
                             "tension": pd.Series(dtype="float64"), "label": pd.Series(dtype=object)})
    rows["date"] = pd.to_datetime(rows["date"].astype(str), format="ISO8601")
    articles = rows.drop_duplicates("id")[["id", "date"]]
    resolved = resolve_speakers(rows, lambda source: by_source.get(source, ""))
    return measure_frame(resolved, measure, conflict, articles)


def read_measure(store: Store, sel: Selection, measure: str, npartitions: int = 8):
    """A dask DataFrame of the article frame of a measure or dyad (`tension.analysis.dyads`),
    from the store's dyad rows read in partitions by article id."""
    import dask.dataframe as dd

    from tension.store import schema
    from tension.store.actors import actor_of_source
    from tension.store.queries import articles_query, resolve, sources
    from tension.store.scoring import store_scorer

    sel = resolve(store, sel)
    actors = store_scorer(store).actors
    of = actor_of_source(store, actors)
    by_source = {s: of(s) for s in sources(store)}
    a, d = schema.articles.c, schema.score_dyads.c
    q = articles_query(sel, [a.id, a.date, a.source, d.speaker, d.target, d.weight, d.hostility,
                             d.conciliation, *([a.title, a.text] if sel.filter else [])])
    q = q.outerjoin(schema.score_dyads, (d.content_hash == a.content_hash) & (d.scorer_version == sel.version))
    # by the column itself, which PostgreSQL (unlike SQLite) needs in the partitions' WHERE
    ddf = dd.read_sql_query(q, engine_url(store.url), index_col=a.id, npartitions=npartitions)
    meta = _measure_partition(ddf._meta, measure, actors.conflict, by_source, sel.filter)
    return ddf.map_partitions(_measure_partition, measure, actors.conflict, by_source, sel.filter, meta=meta)


def aggregate_dask(store: Store, sel: Selection, freq: str = "D", n_boot: int = 200,
                   ci: float = 0.95, seed: int = 0, npartitions: int = 8) -> pd.DataFrame:
    """Per-period aggregates (as `tension.index.aggregate`) computed on the cluster."""
    from tension.store.queries import measure_of

    if sel.categories:
        raise ValueError("--category is not supported by the dask engine yet; use --engine pandas")
    measure = measure_of(sel)
    if measure != "all":
        ddf = read_measure(store, sel, measure, npartitions)
    else:
        ddf = read_articles(store, sel, npartitions)
    ddf = ddf.assign(_p=ddf["date"].map_partitions(period_start, freq, meta=("date", "datetime64[ns]")))
    ddf = ddf.set_index("_p", drop=False)  # every period now lies in a single partition
    meta = _empty_aggregate()
    parts = ddf.map_partitions(_aggregate_partition, freq, n_boot, ci, seed, meta=meta)
    table = parts.compute()
    if not len(table):
        return meta.set_index("date")
    table["date"] = pd.to_datetime(table["date"])
    return table.set_index("date").sort_index()


def compute_index_dask(store: Store, sel: Selection, opts: IndexOptions) -> pd.DataFrame:
    """The index table, with the article-level work on the cluster (`compute_index` twin)."""
    opts = opts.check()
    table = aggregate_dask(store, replace(sel, start=opts.start, end=opts.end), opts.freq,
                           opts.n_boot, opts.ci, opts.seed)
    if not len(table) and not (opts.start and opts.end):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in INDEX_COLUMNS})
    start = pd.Timestamp(opts.start) if opts.start else table.index.min()
    end = pd.Timestamp(opts.end) if opts.end else table.index.max()
    history = aggregate_dask(store, replace(sel, start=None, end=None), opts.freq, n_boot=0) \
        if opts.start or opts.end else table  # the context for smoothing (see `finish`)
    return finish(window(table, start, end, opts.freq), opts, history if len(history) else None)
