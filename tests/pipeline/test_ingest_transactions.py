"""Crash safety and the transaction window: a SIGKILL half-way, whole-batch commits, the write
lock let go while workers run, rollback on failure, a bounded window of rows in flight."""

from __future__ import annotations

import gzip
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ingest_support import ROOT, STORIES, articles, assert_consistent, n_rows, runs

from tension.pipeline.ingest import Watcher, ingest
from tension.store import schema
from tension.store.engine import Store

# ----------------------------------------------------------------- crash safety

N_STORIES = 4000
BATCH = 250

_KILL_SCRIPT = """
import sys
from tension.pipeline.ingest import ingest
from tension.store.engine import Store
ingest(Store(sys.argv[1]), [sys.argv[2]], batch_size=int(sys.argv[3]))
"""


def _count_articles(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
@pytest.mark.corpus
def test_sigkill_half_way_leaves_a_consistent_store_and_a_rerun_finishes(tmp_path: Path,
                                                                         shared_data) -> None:
    # the first 4,000 real stories in batches of 250: the kill comes within half a second of
    # the fourth batch, when a fast run has stored at most ~1,000 more (the whole corpus,
    # ingested three times over, made this the suite's longest test)
    corpus = tmp_path / "stories_4000.jsonl"
    with gzip.open(shared_data(STORIES), "rt", encoding="utf-8") as src:
        corpus.write_text("".join(line for _, line in zip(range(N_STORIES), src, strict=False)), encoding="utf-8")
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, url, str(corpus), str(BATCH)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while _count_articles(db) < 4 * BATCH:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the ingest stored nothing in time"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 0.5))  # land anywhere: reading, scoring or mid-transaction
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    store = Store(url)
    try:
        (run,) = runs(store)
        assert run["status"] == "running" and run["finished_at"] is None
        rows = articles(store)
        n = len(rows)
        assert 4 * BATCH <= n < N_STORIES, "killed too late to test anything"
        # Whole batches only: a prefix of the file in multiples of the batch size, and the run's
        # counters (updated in each batch's transaction) agree with what is stored.
        assert n % BATCH == 0
        assert sorted(r["row"] for r in rows) == list(range(1, n + 1))
        assert run["n_added"] == n and run["n_read"] == n
        assert run["n_copies"] == sum(r["copy_of"] is not None for r in rows)
        assert n_rows(store, schema.ingest_files) == 0  # the file is not marked done
        assert_consistent(store, run["scorer_version"])

        summary = ingest(store, [str(corpus)], jobs=2)
        assert (summary.read, summary.already, summary.added) == (N_STORIES, n, N_STORIES - n)
        rows = articles(store)
        assert len(rows) == N_STORIES
        assert len({r["key"] for r in rows}) == len({(r["origin"], r["row"]) for r in rows}) == N_STORIES
        assert_consistent(store)
        resumed = [(r["row"], r["copy_kind"]) for r in rows]
    finally:
        store.dispose()

    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    try:
        ingest(clean, [str(corpus)], jobs=2)
        assert sorted(resumed) == sorted((r["row"], r["copy_kind"]) for r in articles(clean))
    finally:
        clean.dispose()


def _headlines_csv(path: Path, n: int) -> Path:
    lines = ["date,title"] + [f"2018-01-{1 + i % 28:02d},Headline number {i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _committed(path: Path) -> int:
    """Articles another connection sees: only what is committed."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def test_a_transaction_spans_whole_batches_up_to_commit_rows(tmp_path: Path, monkeypatch) -> None:
    """Fewer, larger commits (each writes every index page its rows touched): batches of 100
    are committed three at a time, and the batches written meanwhile see each other."""
    import tension.pipeline.ingest.window as window_mod

    monkeypatch.setattr(window_mod, "COMMIT_ROWS", 300)
    monkeypatch.setattr(window_mod, "COMMIT_SECONDS", 3600.0)
    db = tmp_path / "group.db"
    store = Store(f"sqlite:///{db}")
    seen: list[int] = []

    class Seen(Watcher):
        def writing(self, rows: int, held: int):
            seen.append(_committed(db))
            return super().writing(rows, held)

    path = _headlines_csv(tmp_path / "h.csv", 1000)
    summary = ingest(store, [str(path)], batch_size=100, watcher=Seen())
    assert seen == [0, 0, 0, 300, 300, 300, 600, 600, 600, 900]
    assert (summary.read, summary.added) == (1000, 1000)
    assert _committed(db) == 1000
    assert runs(store)[0]["n_added"] == 1000
    again = ingest(store, [str(_headlines_csv(tmp_path / "h2.csv", 1000))], batch_size=100)
    assert (again.already, again.added) == (1000, 0)  # seen through the open transaction too
    assert_consistent(store)


def test_the_write_lock_is_let_go_while_the_driver_waits_for_workers(tmp_path: Path,
                                                                     monkeypatch) -> None:
    """Other writers (an annotation being saved) wait at most COMMIT_SECONDS: a transaction is
    committed before the driver waits for scores that are not ready."""
    from concurrent.futures import Executor, Future

    import tension.pipeline.ingest.window as window_mod

    monkeypatch.setattr(window_mod, "COMMIT_SECONDS", 0.2)
    db = tmp_path / "lock.db"
    lock_free: list[bool] = []

    def can_write() -> bool:
        conn = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:  # database is locked
            return False
        finally:
            conn.close()

    class Later(Future):
        """Not ready until asked for: the worker is still busy when the driver gets to it."""

        def __init__(self, fn, args) -> None:
            super().__init__()
            self._call = (fn, args)

        def result(self, timeout=None):
            if not self.done():
                lock_free.append(can_write())
                fn, args = self._call
                self.set_result(fn(*args))
            return super().result(timeout)

    class SlowWorkers(Executor):
        def submit(self, fn, /, *args, **kwargs):
            return Later(fn, args)

    store = Store(f"sqlite:///{db}")
    path = _headlines_csv(tmp_path / "h.csv", 600)
    summary = ingest(store, [str(path)], batch_size=100, executor=SlowWorkers())
    assert summary.added == 600
    assert len(lock_free) == 6 and all(lock_free)
    assert_consistent(store)


def test_a_failure_rolls_back_the_open_transaction_and_keeps_what_was_committed(
        tmp_path: Path, monkeypatch) -> None:
    import tension.pipeline.ingest.window as window_mod

    monkeypatch.setattr(window_mod, "COMMIT_ROWS", 300)
    monkeypatch.setattr(window_mod, "COMMIT_SECONDS", 3600.0)
    calls = []

    class DiskFull(Watcher):
        def writing(self, rows: int, held: int):
            calls.append(1)
            if len(calls) == 5:
                raise OSError("disk full")
            return super().writing(rows, held)

    db = tmp_path / "fail.db"
    store = Store(f"sqlite:///{db}")
    with pytest.raises(OSError, match="disk full"):
        ingest(store, [str(_headlines_csv(tmp_path / "h.csv", 1000))], batch_size=100,
               watcher=DiskFull())
    (run,) = runs(store)
    assert run["status"] == "failed" and "disk full" in run["message"]
    assert _committed(db) == 300  # the first three batches; the fourth was rolled back
    assert (run["n_read"], run["n_added"]) == (300, 300)
    assert_consistent(store)
    rerun = ingest(store, [str(tmp_path / "h.csv")], batch_size=100)
    assert (rerun.already, rerun.added) == (300, 700)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ingest_streams_through_a_bounded_window(tmp_path: Path, sqlite_store: Store, window_probe,
                                                 jobs: int) -> None:
    """Out of core: the rows read ahead of the store never exceed the batches in flight
    (2 in one process, workers + 1 with a pool), however long the file; bad rows included."""
    path = tmp_path / "long.csv"
    lines = ["date,title"] + [f"2018-01-{1 + i % 28:02d},Headline number {i}" if i % 97 else
                              f"not a date,Headline number {i}" for i in range(3000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = ingest(sqlite_store, [str(path)], jobs=jobs, batch_size=250, watcher=window_probe)
    assert summary.read == window_probe.written == 3000
    assert summary.quarantined == 31 and summary.added == 2969
    assert len(window_probe.writes) == 12
    assert window_probe.ahead() == (2 if jobs == 1 else 3) * 250
    assert all(produced - written == held for produced, written, held in window_probe.writes)
