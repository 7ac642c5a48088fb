"""The Dask engine for ingest and rescore: the same code path as the pandas engine, only the
executor differs, so the scores are the same.

This process streams each file in partitions through the readers (validation and
quarantine stay exact, with row numbers), and Dask workers score the partitions in
parallel; results come back as rows and are written to the store in batches, a bounded
number in flight. The index on Dask is `tension.reports.dask_index`.

Without a scheduler address, a LocalCluster with one single-threaded worker process per
core is started (and stopped afterwards).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager

import cloudpickle  # a dependency of Dask; like Dask, serialises functions defined anywhere

from tension.pipeline.scoring import yield_to_driver, young_gc_only

# For the LocalCluster started here, which shares this machine's cores with the driver, fewer
# wake-ups of every server's event loop (scheduler and nannies run in the driver's process,
# under its GIL; each worker's loop shares the GIL with the task it runs):
# no statistical profiler (it serves the Dask dashboard's profile page, unused here), and the
# system monitor, the event-loop health check and the memory monitor at second intervals
# (a loop blocked past its limit is still reported). docs/scaling.md has the measurements.
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


def _settle(dask_worker) -> int | None:  # the distributed.Worker it runs on
    """On a worker of the local cluster: the lowest CPU priority, and a core of its own.

    Why the core: the workers share the cores with the driver; kept each on one core
    (worker k on the k-th core this process may use) they used less CPU for the same
    scoring (docs/scaling.md). The driver is not pinned: it runs wherever it is free to.
    Returns the core, or None where processes cannot be pinned."""
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
    substitute, which for an ingest batch costs the driver far more than serialising the
    batch once; a result (a batch's scores) is likewise sized and serialised element by
    element."""

    def __init__(self, client) -> None:  # a distributed.Client
        self._inner = client.get_executor(pure=False)

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        packed = self._inner.submit(_call_packed, cloudpickle.dumps((fn, args, kwargs), protocol=5))
        result: Future = Future()

        def unpack(done: Future) -> None:
            try:
                result.set_result(pickle.loads(done.result()))
            except BaseException as exc:  # handed to the caller through the future
                result.set_exception(exc)

        packed.add_done_callback(unpack)
        return result

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait and not cancel_futures)  # Dask's: no wait = cancel


def _call_packed(blob: bytes) -> bytes:
    """On a worker: unpack, run, pack, with the automatic cycle collector paused (see
    `young_gc_only`). Unpacking an ingest batch allocates tens of thousands of tuples, and
    each 700 set off a collection, some of them of the worker's whole heap (its scorer's
    caches, Dask's state)."""
    with young_gc_only():
        fn, args, kwargs = pickle.loads(blob)
        return pickle.dumps(fn(*args, **kwargs), protocol=5)


@contextmanager
def dask_executor(scheduler: str | None = None, workers: int | None = None) -> Iterator[tuple]:
    """(concurrent.futures-style executor on the cluster, number of workers)."""
    with dask_client(scheduler, workers) as client:
        n = len(client.scheduler_info().get("workers", {})) or 1
        yield PackedExecutor(client), n
