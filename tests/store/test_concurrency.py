"""Concurrency (issue 8, item 2): real `python app.py` server processes, real client processes.

- 8 client processes (multiprocessing, spawn) each POST 200 annotations at once through the
  HTTP API, against a SQLite file and against PostgreSQL: exactly 1,600 stored (through the
  API and counted in the database directly), no duplicates, none lost, every id a 201
  answered is there.
- 8 processes read ONE annotation and PATCH it with the `updated_at` they read, released
  at the same moment: exactly one 200, the others 409 with the `current` version, and the
  stored annotation is the winner's (no silent overwrite).
- The 409 must carry the version that won, also when the loser read before the winner
  committed (a deterministic interleaving at the library level, both backends).
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from _servers import start_server, stop
from sqlalchemy import func, select, text

from tension.store import annotations as ann
from tension.store import schema
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
PER_CLIENT = 200
EDITORS = 8


# --------------------------------------------------------------------------- server helpers


def api(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    """One request with urllib; (status, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


# --------------------------------------------------------------------------- client processes
# Module-level functions: the spawn start method imports this module in each child.


def post_many(port: int, who: int, n: int, barrier, results) -> None:
    """Wait for the others, then POST n annotations; report (title, status, id) for each."""
    import requests

    session = requests.Session()
    out = []
    barrier.wait(timeout=300)
    for i in range(n):
        title = f"client {who} note {i:03d}"
        payload = {"date": f"2018-01-{i % 28 + 1:02d}", "title": title, "note": f"by {who}",
                   "tags": [f"client-{who}"], "author": f"client{who}"}
        try:
            r = session.post(f"http://127.0.0.1:{port}/api/annotations", json=payload, timeout=120)
            body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
            out.append((title, r.status_code, body.get("id")))
        except Exception as exc:  # reported as a failed write, not a crash
            out.append((title, f"{type(exc).__name__}: {exc}", None))
    results.put((who, out))


def edit_one(port: int, who: int, ann_id: int, barrier, results) -> None:
    """GET the annotation, wait for the others, PATCH it with the version read."""
    import requests

    session = requests.Session()
    url = f"http://127.0.0.1:{port}/api/annotations/{ann_id}"
    seen = session.get(url, timeout=60).json()
    barrier.wait(timeout=300)
    r = session.patch(url, json={"title": f"edited by {who}", "updated_at": seen["updated_at"]},
                      timeout=120)
    results.put((who, seen["updated_at"], r.status_code, r.json()))


def run_clients(target, args_for: list[tuple]) -> list:
    """Start one spawned process per args tuple, released together by a barrier; gather results."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args_for))
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results), daemon=True)
             for args in args_for]
    try:
        for p in procs:
            p.start()
        got = [results.get(timeout=600) for _ in procs]
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0, f"client process exited with {p.exitcode}"
        return got
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(timeout=10)


# --------------------------------------------------------------------------- the tests


def _db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'served.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def served(request: pytest.FixtureRequest, tmp_path: Path):
    """(database URL, port) of a running `python app.py` on that database."""
    url = _db_url(request, tmp_path)
    proc, port = start_server(url, tmp_path / "server.log")
    try:
        yield url, port
    finally:
        stop(proc)


@pytest.mark.slow
def test_eight_processes_post_1600_annotations_at_once(served, record_property) -> None:
    url, port = served
    started = time.monotonic()
    got = run_clients(post_many, [(port, who, PER_CLIENT) for who in range(CLIENTS)])
    seconds = time.monotonic() - started
    answers = [a for _, out in got for a in out]
    assert len(answers) == CLIENTS * PER_CLIENT
    failed = [a for a in answers if a[1] != 201]
    assert failed == [], f"{len(failed)} writes not acknowledged, e.g. {failed[:5]}"
    acked_ids = [a[2] for a in answers]
    assert len(set(acked_ids)) == CLIENTS * PER_CLIENT, "two writes got the same id"

    status, listed = api(port, "GET", "/api/annotations")
    assert status == 200
    titles = [a["title"] for a in listed]
    expected = {f"client {w} note {i:03d}" for w in range(CLIENTS) for i in range(PER_CLIENT)}
    assert len(listed) == CLIENTS * PER_CLIENT
    assert len(set(titles)) == len(titles), "duplicates in the list"
    assert set(titles) == expected, "lost or unknown annotations"
    assert {a["id"] for a in listed} == set(acked_ids)
    by_title = {a["title"]: a for a in listed}
    for title, _, ann_id in answers:  # each id answered is the row with that title
        assert by_title[title]["id"] == ann_id

    store = Store(url)  # and in the database itself, not through the server
    try:
        a = schema.annotations.c
        with store.read() as conn:
            total = conn.execute(select(func.count()).select_from(schema.annotations)).scalar_one()
            distinct = conn.execute(select(func.count(a.title.distinct()))).scalar_one()
            live = conn.execute(select(func.count()).where(a.deleted_at.is_(None))).scalar_one()
        assert (total, distinct, live) == (1600, 1600, 1600)
        assert store.integrity_check() == []
    finally:
        store.dispose()
    backend = url.split(":", 1)[0].split("+")[0]
    record_property(f"{backend}_writes_held", f"{total} of {CLIENTS * PER_CLIENT}")
    record_property(f"{backend}_seconds", round(seconds, 1))
    print(f"\n{backend}: {total} of {CLIENTS * PER_CLIENT} annotations held; "
          f"{seconds:.1f} s for the burst ({CLIENTS * PER_CLIENT / seconds:.0f} writes/s)")


@pytest.mark.slow
def test_concurrent_edits_of_one_annotation_never_overwrite_silently(served, record_property) -> None:
    url, port = served
    status, created = api(port, "POST", "/api/annotations",
                          {"date": "2018-01-03", "title": "original", "note": "n", "tags": ["x"]})
    assert status == 201
    rounds, conflicts, fresh_bodies = 3, 0, 0
    for _ in range(rounds):
        status, before = api(port, "GET", f"/api/annotations/{created['id']}")
        got = run_clients(edit_one, [(port, who, created["id"]) for who in range(EDITORS)])
        assert all(seen == before["updated_at"] for _, seen, _, _ in got), "read the same version"
        winners = [(who, body) for who, _, code, body in got if code == 200]
        losers = [(who, code, body) for who, _, code, body in got if code != 200]
        assert len(winners) == 1, f"{len(winners)} edits of the same version succeeded"
        (winner, won), = winners
        assert won["title"] == f"edited by {winner}"
        assert won["updated_at"] > before["updated_at"]
        for who, code, body in losers:
            assert code == 409, (who, code, body)
            assert "error" in body and body["current"]["id"] == created["id"], body
            conflicts += 1
            fresh_bodies += body["current"]["title"] == won["title"]
        status, stored = api(port, "GET", f"/api/annotations/{created['id']}")
        assert stored["title"] == f"edited by {winner}" and stored["updated_at"] == won["updated_at"]
        assert stored["note"] == "n" and stored["tags"] == ["x"]  # a PATCH changes only its fields
    backend = url.split(":", 1)[0].split("+")[0]
    total = rounds * (EDITORS - 1)
    record_property(f"{backend}_conflicts_reported", f"{conflicts} of {total}")
    record_property(f"{backend}_conflicts_with_winner_version", f"{fresh_bodies} of {conflicts}")
    print(f"\n{backend}: conflicts reported {conflicts} of {total}; "
          f"409 bodies carrying the winner's version: {fresh_bodies} of {conflicts}")
    assert conflicts == total


@pytest.mark.parametrize("backend", [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.pg)])
def test_conflict_carries_the_version_that_won(backend: str, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    """A loser that read the row before the winner committed still gets the winner's version."""
    url = f"sqlite:///{tmp_path / 'c.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(url)
    try:
        first = ann.create(store, {"date": "2018-01-03", "title": "original"})
        stamp = "2030-01-01T00:00:00.000000Z"
        outcome: dict = {}
        with store.write() as winner:  # the winner's transaction, not yet committed
            winner.execute(text("UPDATE annotations SET title = 'winner', updated_at = :u "
                                "WHERE id = :i"), {"u": stamp, "i": first["id"]})

            def loser() -> None:
                try:
                    ann.update_annotation(store, first["id"], {"title": "loser"}, first["updated_at"])
                    outcome["result"] = "saved"
                except ann.Conflict as exc:
                    outcome["result"] = exc.current

            thread = threading.Thread(target=loser)
            thread.start()
            time.sleep(1.0)  # the loser is now blocked (SQLite: on BEGIN; PostgreSQL: on the row)
            assert thread.is_alive()
        thread.join(timeout=60)  # the winner committed when the block closed
        assert not thread.is_alive()
        assert ann.get(store, first["id"])["title"] == "winner"
        assert outcome["result"] != "saved", "the loser overwrote the winner"
        assert outcome["result"]["title"] == "winner"
        assert outcome["result"]["updated_at"] == stamp
    finally:
        store.dispose()
