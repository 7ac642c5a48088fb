"""Shared pytest fixtures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from _servers import free_port

from tension.pipeline.ingest import Watcher

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Callable[[str], Path]:
    """Return a function that gives the path of a file in ../shared/data.

    The real corpora live beside the project, not in it. When a file is missing the
    test fails under CI (CI=true: a missing corpus is a broken environment, not a
    pass) and is skipped, with the reason, everywhere else.
    """

    def get(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.is_file():
            message = f"real corpus {path} is missing (expected in ../shared/data beside the repo)"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        return path

    return get


@pytest.fixture(scope="session")
def kcna_headlines_db(shared_data, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 99,841 real KCNA headlines ingested once for the whole run: a SQLite file the
    test workers share (built by the first that asks, under a lock). Copy it, never write to it.
    Why: the browser and export tests each ingested the corpus on their own worker."""
    import fcntl
    import sqlite3

    from tension.store.engine import Store

    headlines = shared_data("kcna_headlines_1997_2014.csv.gz")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one run
    root = tmp_path_factory.getbasetemp().parent / f"kcna-{run}" if run else tmp_path_factory.mktemp("kcna")
    root.mkdir(exist_ok=True)
    db, done = root / "kcna_headlines.db", root / "done"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            from tension.pipeline.ingest import ingest

            building = root / "building.db"
            store = Store(f"sqlite:///{building}")
            summary = ingest(store, [str(headlines)])
            assert summary.ok and summary.read == summary.added == 99_841 and summary.quarantined == 0, \
                summary.line()
            assert summary.copies == 106, summary.line()  # the corpus's repeated headlines
            store.dispose()
            with sqlite3.connect(building) as src, sqlite3.connect(db) as dst:
                src.backup(dst)  # one self-contained file (no WAL beside it)
            done.touch()
    return db


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads ../shared/data through `shared_data` (itself or by a fixture) is a
    corpus test whether or not it says so: `-m "not corpus"` leaves it out too.

    The heaviest test files run first. Why: scripts/test.sh hands whole files to the two
    workers in collection order (`--dist loadfile --no-loadscope-reorder`); a two-minute file
    collected last ran alone while the other worker sat idle."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.corpus)
    weight: dict[str, float] = {}
    for item in items:
        w = max(cost for mark, cost in TEST_COST.items() if mark is None or item.get_closest_marker(mark))
        weight[item.location[0]] = weight.get(item.location[0], 0) + w
    first = {}
    for k, item in enumerate(items):
        first.setdefault(item.location[0], k)
    order = {id(item): k for k, item in enumerate(items)}
    items.sort(key=lambda i: (-weight[i.location[0]], first[i.location[0]], order[id(i)]))


# Rough seconds per test by marker, for the order above (slow ones take 10–120 s, browser 5–20 s).
TEST_COST: dict[str | None, float] = {None: 0.3, "pg": 1, "corpus": 3, "browser": 12, "slow": 60}


# --------------------------------------------------------------------------- PostgreSQL
# A real PostgreSQL 15 server for the whole test session, started here: initdb in a
# temporary folder, a free localhost port, run as a non-root user (initdb refuses root).
# TENSION_TEST_PG_URL points the tests at an existing server instead.


PG_BIN = Path(os.environ.get("TENSION_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "nobody"


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", PG_USER, "--", *cmd]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the session's PostgreSQL server (its `postgres` database)."""
    url = os.environ.get("TENSION_TEST_PG_URL")
    if url:
        yield url
        return
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL binaries not found in {PG_BIN}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="tension-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, PG_USER)
        shutil.chown(sock, PG_USER)
    port = free_port()
    log = base / "server.log"
    subprocess.run(_as_pg_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "tension",
                                "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                                "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 "
                                      f"-c fsync=off -c max_connections=200", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://tension@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                    "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against a real SQLite file and a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tension.db'}"
    return request.getfixturevalue("pg_url")


class WindowProbe(Watcher):
    """Rows (articles and quarantined rows alike) an ingest's reader has produced, and rows
    written, at each batch write: passed to `ingest(..., watcher=probe)`."""

    def __init__(self) -> None:
        self.produced = 0
        self.written = 0
        self.writes: list[tuple[int, int, int]] = []  # (produced, written before, held in flight)

    def read(self, items: list) -> None:
        self.produced += len(items)

    def writing(self, rows: int, held: int) -> AbstractContextManager:
        self.writes.append((self.produced, self.written, held))
        self.written += rows
        return nullcontext()

    def ahead(self) -> int:
        """Most rows ever read but not yet written: what the driver holds at once."""
        return max(produced - written for produced, written, _ in self.writes)


@pytest.fixture
def window_probe() -> WindowProbe:
    """Watch `ingest` stream: out of core means the rows read ahead of the store stay bounded
    by the batches in flight, whatever the corpus size."""
    return WindowProbe()


# --------------------------------------------------------------------------- browser tests
# A failed test that drives a browser (`dash_duo`) leaves a screenshot of the page in
# tests/artifacts/<test name>.png (git-ignored) before the browser is closed.

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    duo = getattr(item, "funcargs", {}).get("dash_duo")
    if duo is None:
        return
    name = re.sub(r"[^\w.\[\]=-]+", "_", item.name)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        duo.driver.save_screenshot(str(path))
        report.sections.append(("screenshot", str(path)))
    except Exception as exc:  # a missing screenshot must not hide the failure
        report.sections.append(("screenshot", f"could not save one: {exc!r}"))
