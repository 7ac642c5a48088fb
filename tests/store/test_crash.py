"""Crashes (issue 8, item 3).

(a) A real `python app.py` server is killed with SIGKILL in the middle of a burst of
    annotation writes (client threads POSTing; the kill comes after ~300 acknowledged writes),
    twice in a row, on a SQLite file and on PostgreSQL. After each kill: the database passes
    its integrity check, no annotation is partial (every field, valid dates and timestamps),
    every write acknowledged with 201 before the kill is there with the id it was given,
    nothing is duplicated, and a restarted server on the same database takes writes again.
(b) An ingest of the 20,305 KCNA stories into PostgreSQL killed with SIGKILL once some batches
    are committed: whole batches only, every original scored, no orphan score terms; a re-run
    completes to exactly 20,305 articles with no duplicate keys. (tests/test_ingest.py has the
    same kill on SQLite.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from _servers import start_server, stop
from sqlalchemy import func, select

from indicators.scorers import scorer_for
from tension.pipeline.ingest import ingest
from tension.store import schema
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
KILL_AFTER = 300
ROUNDS = 2
STORIES = "kcna_stories_2011_2012.jsonl.gz"
N_KILLED = 4000  # stories the kill-mid-file test reads
KILLED_BATCH = 250  # its batches: the kill comes after four, twelve are left


# --------------------------------------------------------------------------- server helpers


def burst_then_kill(proc: subprocess.Popen, port: int, tag: str) -> tuple[dict[str, int | None], float]:
    """Writer threads POST until `proc` is SIGKILLed (after KILL_AFTER acknowledged writes).
    Returns {title: id} of every write acknowledged with 201 (id None when the kill cut the
    body after the status line), and the seconds it took."""
    import requests

    acked: dict[str, int | None] = {}
    lock = threading.Lock()
    enough = threading.Event()
    killed = threading.Event()
    errors: list[str] = []

    def writer(n: int) -> None:
        session = requests.Session()
        i = 0
        while True:
            title = f"{tag} writer {n} note {i}"
            payload = {"start": "2018-01-01", "end": f"2018-01-{i % 27 + 2:02d}", "title": title,
                       "note": "x" * (i % 300), "tags": ["crash", f"w{n}"], "author": f"w{n}"}
            try:
                r = session.post(f"http://127.0.0.1:{port}/api/annotations", json=payload, timeout=30)
            except requests.RequestException as exc:
                if not killed.is_set():
                    errors.append(f"{type(exc).__name__}: {exc}")
                return  # after the kill: this write was never acknowledged
            if r.status_code != 201:
                errors.append(f"{r.status_code}: {r.text[:200]}")
                return
            try:
                new_id = r.json()["id"]
            except ValueError:  # 201 sent, the body cut by the kill: acknowledged, id unknown
                if not killed.is_set():
                    errors.append(f"201 without a JSON body: {r.text[:200]!r}")
                new_id = None
            with lock:
                acked[title] = new_id
                if len(acked) >= KILL_AFTER:
                    enough.set()
            i += 1

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        assert enough.wait(timeout=300), f"only {len(acked)} writes in 300 s; errors: {errors[:3]}"
    finally:
        killed.set()
        os.kill(proc.pid, signal.SIGKILL)  # mid-burst: the writers are still sending
        proc.wait(timeout=30)
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive()
    assert errors == [], errors[:3]
    assert proc.returncode == -signal.SIGKILL
    with lock:
        return dict(acked), time.monotonic() - started


def _stamp(value: object) -> dt.datetime:
    assert isinstance(value, str) and value.endswith("Z"), value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_store(url: str, acked: dict[str, int | None]) -> int:
    """Integrity, no partial rows, every acknowledged write present; returns the row count."""
    store = Store(url)
    try:
        assert store.integrity_check() == []
        with store.read() as conn:
            rows = [dict(r) for r in conn.execute(select(schema.annotations)).mappings()]
        by_title: dict[str, dict] = {}
        for r in rows:
            assert r["title"] not in by_title, f"duplicate annotation {r['title']!r}"
            by_title[r["title"]] = r
            start = dt.date.fromisoformat(str(r["start_date"])[:10])
            end = dt.date.fromisoformat(str(r["end_date"])[:10])
            assert start <= end and r["kind"] == ("point" if start == end else "range"), r
            assert r["title"] and r["note"] is not None and r["author"] is not None, r
            tags = json.loads(r["tags"])
            assert isinstance(tags, list) and "crash" in tags, r
            assert r["deleted_at"] is None
            if r["title"] in acked:  # a write the server answered in full: all of it
                n = int(r["title"].rsplit(" ", 1)[1])
                assert len(r["note"]) == n % 300 and r["author"] == tags[1], r
            assert _stamp(r["created_at"]) <= _stamp(r["updated_at"])
        missing = [t for t in acked if t not in by_title]
        assert missing == [], f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
        wrong_id = [t for t, i in acked.items() if i is not None and by_title[t]["id"] != i]
        assert wrong_id == []
        return len(rows)
    finally:
        store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def crash_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.db'}"
    return request.getfixturevalue("pg_url")


@pytest.mark.slow
def test_server_killed_during_a_burst_of_writes(crash_db: str, tmp_path: Path,
                                                record_property) -> None:
    log = tmp_path / "server.log"
    all_acked: dict[str, int | None] = {}
    kills = 0
    for round_ in range(ROUNDS):
        proc, port = start_server(crash_db, log)
        try:
            acked, seconds = burst_then_kill(proc, port, f"round {round_}")
            kills += 1
        finally:
            stop(proc, kill=True)
        all_acked.update(acked)
        stored = check_store(crash_db, all_acked)
        unacked = stored - len(all_acked)
        assert 0 <= unacked <= WRITERS * (round_ + 1), "only writes in flight at a kill may be unanswered"
        print(f"\nround {round_}: {len(acked)} writes acknowledged in {seconds:.1f} s before "
              f"SIGKILL; {stored} stored ({unacked} more in flight)")

    proc, port = start_server(crash_db, log)  # and it works again
    try:
        body = json.dumps({"date": "2018-02-01", "title": "after the crashes"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/annotations", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 201
            new = json.loads(r.read())
        assert new["id"] > max(i for i in all_acked.values() if i is not None)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/annotations", timeout=60) as r:
            listed = json.loads(r.read())
        assert {a["title"] for a in listed} >= set(all_acked) | {"after the crashes"}
    finally:
        stop(proc, kill=True)
    backend = crash_db.split(":", 1)[0].split("+")[0]
    record_property(f"{backend}_kills_survived", kills)
    record_property(f"{backend}_acknowledged_writes_kept", f"{len(all_acked)} of {len(all_acked)}")


# --------------------------------------------------------------------------- ingest on PostgreSQL

_INGEST = """
import sys
from tension.pipeline.ingest import ingest
from tension.store.engine import Store
ingest(Store(sys.argv[1]), [sys.argv[2]], batch_size=int(sys.argv[3]))
"""


def _count(url: str) -> int:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except psycopg.errors.UndefinedTable:  # not migrated yet
        return 0


def check_ingest_consistency(store: Store, version: str) -> list[dict]:
    """Integrity, whole rows, every original scored, no orphan terms; returns the articles."""
    assert store.integrity_check() == []
    a, sc, t = schema.articles.c, schema.article_scores.c, schema.score_terms.c
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(
            select(a.id, a.key, a.date, a.title, a.text, a.url, a.source, a.content_hash,
                   a.copy_of, a.origin, a.row)).mappings()]
        scored = set(conn.execute(select(sc.content_hash).where(sc.scorer_version == version))
                     .scalars())
        orphan_terms = conn.execute(select(func.count()).select_from(schema.score_terms).where(
            ~t.content_hash.in_(select(a.content_hash)))).scalar_one()
    for r in rows:
        assert r["date"] is not None and r["text"] is not None and r["url"] is not None, r
        assert r["key"] and r["content_hash"] and r["source"], r
    originals = {r["content_hash"] for r in rows if r["copy_of"] is None}
    assert originals <= scored, f"{len(originals - scored)} originals without their score"
    assert scored <= {r["content_hash"] for r in rows}, "a score of no stored article"
    assert orphan_terms == 0
    assert len({r["key"] for r in rows}) == len(rows)
    assert len({(r["origin"], r["row"]) for r in rows}) == len(rows)
    return rows


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.pg
def test_ingest_killed_mid_file_on_postgresql(pg_url: str, shared_data, record_property, tmp_path: Path) -> None:
    # the first 4,000 real stories: a kill mid-file and the re-run's batches after it (the whole
    # corpus made this one of the suite's longest tests, with nothing more to show)
    import gzip

    first = tmp_path / "stories_4000.jsonl"
    with gzip.open(shared_data(STORIES), "rt", encoding="utf-8") as src:
        first.write_text("".join(line for _, line in zip(range(N_KILLED), src, strict=False)), encoding="utf-8")
    corpus = str(first)
    version = scorer_for().version
    proc = subprocess.Popen([sys.executable, "-c", _INGEST, pg_url, corpus, str(KILLED_BATCH)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while _count(pg_url) < 4 * KILLED_BATCH:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the ingest committed nothing in time"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    store = Store(pg_url)
    try:
        rows = check_ingest_consistency(store, version)
        n = len(rows)
        assert 4 * KILLED_BATCH <= n < N_KILLED, "killed too late to test anything"
        assert n % KILLED_BATCH == 0, f"{n} articles: not whole batches of {KILLED_BATCH}"
        assert sorted(r["row"] for r in rows) == list(range(1, n + 1)), "not a prefix of the file"
        with store.read() as conn:
            run = dict(conn.execute(select(schema.ingest_runs)).mappings().one())
            done_files = conn.execute(select(func.count()).select_from(schema.ingest_files)).scalar_one()
        assert run["status"] == "running" and run["n_added"] == n
        assert done_files == 0

        started = time.monotonic()
        summary = ingest(store, [corpus], jobs=2)
        seconds = time.monotonic() - started
        assert (summary.read, summary.already, summary.added) == (N_KILLED, n, N_KILLED - n)
        rows = check_ingest_consistency(store, version)
        assert len(rows) == N_KILLED
    finally:
        store.dispose()
    record_property("pg_ingest_killed_at", n)
    print(f"\nPostgreSQL ingest killed after {n:,} committed articles; the re-run added "
          f"{N_KILLED - n:,} in {seconds:.0f} s; final {N_KILLED:,}, no duplicate keys")
