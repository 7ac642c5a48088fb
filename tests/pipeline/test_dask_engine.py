"""The Dask engine on a real LocalCluster gives the pandas engine's results."""

from __future__ import annotations

import gc
import gzip
import itertools
import sqlite3
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from tension.analysis.index import compute_index
from tension.analysis.options import IndexOptions
from tension.core.selection import Selection
from tension.pipeline.dask import PackedExecutor, _call_packed, dask_client, dask_executor
from tension.pipeline.ingest import ingest
from tension.pipeline.rescore import rescore
from tension.reports.dask_index import compute_index_dask
from tension.reports.export import build_export
from tension.store.engine import Store
from tension.store.queries import load_articles

pytestmark = [pytest.mark.slow, pytest.mark.corpus]
N_STORIES = 800


@pytest.fixture(scope="module")
def stories_slice(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """800 real KCNA stories (a slice of the 20,305: enough for several batches in flight)."""
    src = request.getfixturevalue("shared_data")("kcna_stories_2011_2012.jsonl.gz")
    out = tmp_path_factory.mktemp("dask") / "stories.jsonl"
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        out.write_text("".join(itertools.islice(fh, N_STORIES)), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def _rows(db: Path) -> tuple[list, list]:
    con = sqlite3.connect(db)
    arts = con.execute("select a.key, a.date, a.copy_of is not null, a.copy_kind, s.tension, s.label, "
                       "s.evidence from articles a left join article_scores s "
                       "on s.content_hash = a.content_hash order by a.key").fetchall()
    terms = con.execute("select content_hash, term, pole, contribution from score_terms "
                        "order by 1, 2, 3").fetchall()
    con.close()
    return arts, terms


def test_ingest_and_index_equal_pandas(tmp_path: Path, stories_slice: Path, client) -> None:
    pandas_db, dask_db = tmp_path / "pandas.db", tmp_path / "dask.db"
    s_pandas = ingest(Store(str(pandas_db)), [str(stories_slice)], batch_size=300)
    executor = PackedExecutor(client)
    s_dask = ingest(Store(str(dask_db)), [str(stories_slice)], batch_size=300, executor=executor,
                    jobs=2)
    assert (s_dask.read, s_dask.added, s_dask.copies, s_dask.scored) == \
        (s_pandas.read, s_pandas.added, s_pandas.copies, s_pandas.scored)
    assert s_dask.added == N_STORIES
    assert _rows(dask_db) == _rows(pandas_db)  # same rows, same scores, same evidence, same terms

    store = Store(str(dask_db))
    for opts in (IndexOptions(), IndexOptions(freq="W", smooth=3), IndexOptions(freq="M", normalize="zscore"),
                 IndexOptions(normalize="seasonal", smooth=7)):
        expected = compute_index(load_articles(store, Selection()), opts)
        got = compute_index_dask(store, Selection(), opts)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False, atol=1e-9)
    sel = Selection(filter="south Korea|puppet")
    pd.testing.assert_frame_equal(
        compute_index_dask(store, sel, IndexOptions()).reset_index(drop=True),
        compute_index(load_articles(store, sel), IndexOptions()).reset_index(drop=True),
        check_dtype=False, atol=1e-9)


def test_ingest_streams_through_a_bounded_window(tmp_path: Path, stories_slice: Path, client,
                                                 window_probe) -> None:
    """Out of core: the driver reads at most the batches in flight (workers + 1) ahead of the
    store, so its memory does not grow with the corpus."""
    summary = ingest(Store(str(tmp_path / "s.db")), [str(stories_slice)], batch_size=100,
                     executor=PackedExecutor(client), jobs=2, watcher=window_probe)
    assert summary.added == N_STORIES
    assert len(window_probe.writes) == N_STORIES // 100 and window_probe.written == N_STORIES
    assert window_probe.ahead() == 3 * 100  # never more than three batches of the 800 rows
    assert all(produced - written == held for produced, written, held in window_probe.writes)


def test_export_and_rescore_equal_pandas(tmp_path: Path, stories_slice: Path, client) -> None:
    db = tmp_path / "store.db"
    store = Store(str(db))
    ingest(store, [str(stories_slice)], batch_size=400)
    pd.testing.assert_frame_equal(build_export(store, engine="dask"), build_export(store),
                                  check_dtype=False, atol=1e-9)
    lexicon = (Path(__file__).resolve().parents[2] / "indicators" / "lexicon.toml").read_bytes()
    changed = lexicon.replace(b'weight = 0.45\ndescription = "Condemnation',
                              b'weight = 0.5\ndescription = "Condemnation')
    assert changed != lexicon
    executor = PackedExecutor(client)
    originals = store.counts()["article_scores"]
    done = rescore(store, lexicon=changed, executor=executor, jobs=2, batch_size=250)
    assert done["scored"] == done["stale"] == originals
    assert rescore(store, lexicon=changed, executor=executor, jobs=2)["scored"] == 0


def test_dask_executor_reports_workers() -> None:
    with dask_executor(workers=2) as (executor, n):
        assert n == 2
        assert executor.submit(sum, [1, 2, 3]).result() == 6
        assert executor.submit(lambda x, *, y: x * y, 6, y=7).result() == 42
        with pytest.raises(ZeroDivisionError):  # a task's error reaches the caller
            executor.submit(lambda: 1 / 0).result()


def _worker_settings(dask_worker) -> tuple:  # the distributed.Worker it runs on
    import dask

    return (dask.config.get("distributed.worker.profile.enabled"),
            dask.config.get("distributed.admin.system-monitor.interval"),
            dask_worker._tick_interval, dask_worker.memory_manager.memory_monitor_interval)


def _placement() -> tuple[int, list[int]]:
    import os

    return os.nice(0), sorted(os.sched_getaffinity(0))


def test_the_local_cluster_workers_run_niced_each_on_a_core_of_its_own(client) -> None:
    import os

    cpus = sorted(os.sched_getaffinity(0))
    placed = client.run(_placement)
    assert {nice for nice, _ in placed.values()} == {19}
    cores = [tuple(c) for _, c in placed.values()]
    assert all(len(c) == 1 and c[0] in cpus for c in cores)
    assert len(set(cores)) == min(len(cpus), len(placed))  # one worker per core
    assert sorted(os.sched_getaffinity(0)) == cpus  # the driver is not pinned


def test_the_local_cluster_servers_wake_up_seldom(client) -> None:
    """The workers share the cores with the driver: no 10 ms stack sampling for Dask's
    dashboard, and the periodic checks of every server's event loop run each second."""
    assert set(client.run(_worker_settings).values()) == {(False, "2s", 1.0, 1.0)}
    assert client.cluster.scheduler._tick_interval == 1.0
    assert {n._tick_interval for n in client.cluster.workers.values()} == {1.0}  # the nannies
    assert {n.memory_manager.memory_monitor_interval for n in client.cluster.workers.values()} == {1.0}


def _many_tuples(rows: list[tuple[str, int]]) -> list[tuple[str, int, str]]:
    return [(t, n, f"{t}{n}") for t, n in rows]


def test_a_packed_task_runs_without_automatic_collections() -> None:
    """Unpacking a batch and building its results allocate many tuples: the cycle collector
    waits for the end of the task, which collects the young generations once."""
    rows = [(f"title {i}", i) for i in range(50_000)]
    blob = cloudpickle.dumps((_many_tuples, (rows,), {}), protocol=5)
    started: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        packed = _call_packed(blob)
    finally:
        gc.callbacks.remove(seen)
    out = cloudpickle.loads(packed)
    assert out[-1] == ("title 49999", 49999, "title 4999949999")
    assert gc.isenabled()
    assert started == [1]
