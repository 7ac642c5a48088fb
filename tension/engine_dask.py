"""The Dask engine: the same ingest, rescoring and index, with the heavy work on a cluster.

- Ingest and rescore: this process streams each file in partitions through the
  readers (validation and quarantine stay exact, with row numbers), and Dask
  workers score the partitions in parallel; results come back as rows and are
  written to the store in batches, a bounded number in flight. Same code path as
  the pandas engine (`tension.ingest`), only the executor differs, so the scores
  are the same.
- Index: articles and scores are read from the store with
  `dask.dataframe.read_sql_query` in partitions, re-partitioned so that every
  period sits in one partition, and each partition is aggregated by the same
  pandas function as the pandas engine (`tension.index.aggregate`). Only the
  per-period table (one row per day) comes back to this process.

Without a scheduler address, a LocalCluster with one single-threaded worker
process per core is started (and stopped afterwards).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import replace

import cloudpickle  # a dependency of Dask; like Dask, serialises functions defined anywhere
import pandas as pd

from tension.index import INDEX_COLUMNS, IndexOptions, aggregate, finish, period_start, window
from tension.query import Selection
from tension.scoring import yield_to_driver, young_gc_only
from tension.store import Store, engine_url

# For the LocalCluster started here, which shares this machine's cores with the driver, fewer
# wake-ups of every server's event loop (scheduler and nannies run in the driver's process,
# under its GIL; each worker's loop shares the GIL with the task it runs):
# - no statistical profiler sampling every worker's stack each 10 ms (it serves the Dask
#   dashboard's profile page), and the system monitor every 2 s instead of 0.5 s (on 300,000
#   headlines with 2 workers, the workers' CPU fell by about 1.5 s of 18 s);
# - the event-loop health check every 1 s instead of 20 ms (a loop blocked for longer than
#   its 3 s limit is still reported), and the memory monitor (spill, pause, restart) every 1 s
#   instead of 0.1 s: on 500,000 headlines, 22.9-24.2 s against 26.4-27.2 s, both the
#   driver's and the workers' CPU about 2 s lower (alternated runs).
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                        "distributed.admin.system-monitor.interval": "2s",
                        "distributed.admin.tick.interval": "1s",
                        "distributed.worker.memory.monitor-interval": "1s"}


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A distributed Client: to `scheduler`, or to a LocalCluster started here."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)  # routine shuffle chatter
    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    with dask.config.set(LOCAL_CLUSTER_CONFIG), \
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                         host="127.0.0.1") as cluster, Client(cluster) as client:
        client.run(_settle)  # same cores as this process: the driver goes first
        yield client


def _settle(dask_worker) -> int | None:  # noqa: ANN001 - the distributed.Worker it runs on
    """On a worker of the local cluster: the lowest CPU priority, and a core of its own.

    Why the core: the workers share the cores with the driver. Kept each on one core
    (worker k on the k-th core this process may use), they used 5-15 % less CPU for the
    same scoring, presumably because their caches stay warm (not measured directly): on
    500,000 headlines with 2 workers, 19.9-22.1 s against 22.1-24.8 s (4 alternated pairs).
    The driver is not pinned: it runs wherever it is free to. Returns the core, or None
    where processes cannot be pinned."""
    yield_to_driver()
    try:
        cpus = sorted(os.sched_getaffinity(0))
        core = cpus[int(dask_worker.name) % len(cpus)]
        os.sched_setaffinity(0, {core})
    except (AttributeError, OSError, TypeError, ValueError):  # no affinity here, or an unnamed worker
        return None
    return core


class PackedExecutor(Executor):
    """A Dask client's executor whose tasks take their arguments, and give their result,
    as one serialised blob each.

    Why: Dask walks every element of a task's arguments looking for futures to
    substitute; for an ingest batch (10,000 rows) that walk took ~30 ms of the driver,
    ten times what serialising the batch once costs. A result (an ingest batch's scores)
    is likewise sized and serialised element by element; as one blob, an ingest of
    300,000 headlines on 2 workers took 0.7-1.6 s less (5 of 6 paired runs)."""

    def __init__(self, client) -> None:  # noqa: ANN001 - a distributed.Client
        self._inner = client.get_executor(pure=False)

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        packed = self._inner.submit(_call_packed, cloudpickle.dumps((fn, args, kwargs), protocol=5))
        result: Future = Future()

        def unpack(done: Future) -> None:
            try:
                result.set_result(pickle.loads(done.result()))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                result.set_exception(exc)

        packed.add_done_callback(unpack)
        return result

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait and not cancel_futures)  # Dask's: no wait = cancel


def _call_packed(blob: bytes) -> bytes:
    """On a worker: unpack, run, pack, with the automatic cycle collector paused (see
    `young_gc_only`). Unpacking an ingest batch allocates tens of thousands of tuples, and
    each 700 set off a collection, some of them of the worker's whole heap (its scorer's
    caches, Dask's state): on 500,000 headlines with 2 workers, 1.7-1.8 s of the workers'
    CPU went to collections, 0.2 s with them paused, and the workers' CPU fell by 3.6-4.4 s
    (2 alternated pairs)."""
    with young_gc_only():
        fn, args, kwargs = pickle.loads(blob)
        return pickle.dumps(fn(*args, **kwargs), protocol=5)


@contextmanager
def dask_executor(scheduler: str | None = None, workers: int | None = None) -> Iterator[tuple]:
    """(concurrent.futures-style executor on the cluster, number of workers)."""
    with dask_client(scheduler, workers) as client:
        n = len(client.scheduler_info().get("workers", {})) or 1
        yield PackedExecutor(client), n


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


def read_articles(store: Store, sel: Selection, npartitions: int = 8):  # noqa: ANN201
    """A dask DataFrame of original articles with their scores (text only when filtering)."""
    import dask.dataframe as dd

    from tension import schema
    from tension.query import articles_query, resolve

    sel = resolve(store, sel)
    a, s = schema.articles.c, schema.article_scores.c
    cols = [a.id.label("row_id"), a.date, a.source, s.hostility, s.conciliation, s.tension, s.label]
    q = articles_query(sel, cols + ([a.title, a.text] if sel.filter else []))
    ddf = dd.read_sql_query(q, engine_url(store.url), index_col="row_id", npartitions=npartitions)
    ddf["date"] = dd.to_datetime(ddf["date"].astype(str), format="ISO8601")
    if sel.filter:
        from tension.filters import filter_mask

        def keep(part: pd.DataFrame) -> pd.DataFrame:
            mask = filter_mask(part["title"].fillna("") + "\n" + part["text"].fillna(""), sel.filter)
            return part[mask].drop(columns=["title", "text"])

        ddf = ddf.map_partitions(keep)
    return ddf


def aggregate_dask(store: Store, sel: Selection, freq: str = "D", n_boot: int = 200,
                   ci: float = 0.95, seed: int = 0, npartitions: int = 8) -> pd.DataFrame:
    """Per-period aggregates (as `tension.index.aggregate`) computed on the cluster."""
    if sel.categories:
        raise ValueError("--category is not supported by the dask engine yet; use --engine pandas")
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
