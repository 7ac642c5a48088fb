"""Backup and restore (issue 8, item 6), on a real SQLite file and a real PostgreSQL database.

A store with real rows (300 KCNA stories with their scores and terms, the weapons-tests events,
annotations including an edited and a soft-deleted one, quarantine rows from bad files, the
ingest runs) is backed up and restored into a fresh store of the same AND of the other backend
(SQLite -> PostgreSQL and back), and every table is compared row by row. Restoring into a
non-empty store fails without `replace` and changes nothing; `replace=True` works; after a
restore new rows get fresh ids (PostgreSQL sequences reset); the CLI `python -m tension backup`
/ `restore` works as a subprocess; and the annotations CSV export -> import round-trips every
field exactly, with re-import adding nothing.
"""

from __future__ import annotations

import gzip
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tension.pipeline.events import import_events
from tension.pipeline.ingest import ingest
from tension.store import annotations as ann
from tension.store import schema
from tension.store.backup import TABLES, backup, restore
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "bad"
STORIES = "kcna_stories_2011_2012.jsonl.gz"
WEAPONS = "nk_weapons_tests_1984_2025.csv"
N_STORIES = 300

TRICKY = [
    {"date": "2011-12-19", "title": "Kim Jong Il's death announced — 김정일 사망",
     "note": 'KCNA: "great loss", mourning;\nsecond line, with commas', "tags": ["death", "한국"],
     "author": "Zoë O'Brien"},
    {"start": "2012-04-11", "end": "2012-04-15", "title": "=HYPERLINK(\"http://evil\",\"x\")",
     "note": "+cmd|' /C calc'!A0", "tags": ["=x", "launch"], "author": "@analyst"},
    {"date": "2012-02-29", "title": "-2+3 leap day", "note": "@SUM(A1:A9)\n\n\"quoted\"",
     "tags": [], "author": ""},
    {"date": "2012-12-12", "title": "Unhae-3 \u2028 line separator 🚀", "note": "tab\tinside",
     "tags": ["rocket"], "author": "ana"},
]


# --------------------------------------------------------------------------- databases


class Databases:
    """Fresh databases of either backend; PostgreSQL ones are dropped at the end."""

    def __init__(self, folder: Path, request: pytest.FixtureRequest) -> None:
        self.folder = folder
        self.request = request
        self.created: list[tuple[str, str]] = []

    def new(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.folder / f'{uuid.uuid4().hex[:8]}.db'}"
        import psycopg

        server = self.request.getfixturevalue("pg_server")
        admin = server.replace("postgresql+psycopg://", "postgresql://")
        name = f"b_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append((admin, name))
        return server.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        import psycopg

        for admin, name in self.created:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def dbs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    d = Databases(tmp_path, request)
    yield d
    d.drop_all()


@pytest.fixture(scope="module")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          shared_data: Callable[[str], Path]) -> Iterator[Callable[[str], str]]:
    """kind -> URL of a store filled with real rows (built once per module and backend).

    The corpus files are looked up before any database is made, so without ../shared/data
    every test skips (or fails, under CI) with the reason; and a store is cached only once
    filled, so a failed build is not handed to the next test as an empty source."""
    folder = tmp_path_factory.mktemp("backup-source")
    d = Databases(folder, request)
    cache: dict[str, str] = {}

    def get(kind: str) -> str:
        sources = {name: shared_data(name) for name in (STORIES, WEAPONS)}
        if kind not in cache:
            url = d.new(kind)
            fill(url, folder, sources)
            cache[kind] = url
        return cache[kind]

    yield get
    d.drop_all()


def fill(url: str, folder: Path, sources: dict[str, Path]) -> None:
    stories = folder / "stories300.jsonl"
    if not stories.exists():
        with gzip.open(sources[STORIES], "rt", encoding="utf-8") as src:
            stories.write_text("".join(itertools.islice(src, N_STORIES)), encoding="utf-8")
    store = Store(url)
    try:
        assert ingest(store, [str(stories)]).added == N_STORIES
        bad = ingest(store, [str(BAD / "impossible_dates.csv"), str(BAD / "ragged.csv")])
        assert bad.quarantined > 0
        assert import_events(store, sources[WEAPONS]).added > 100
        saved = [ann.create(store, p) for p in TRICKY]
        ann.update_annotation(store, saved[0]["id"], {"note": "edited: " + TRICKY[0]["note"]},
                              saved[0]["updated_at"])
        gone = ann.create(store, {"date": "2012-01-01", "title": "mistake", "tags": ["x"]})
        ann.delete(store, gone["id"], gone["updated_at"])
    finally:
        store.dispose()


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every backed-up table, in primary-key order, driver types normalised."""
    store = Store(url)
    try:
        with store.read() as conn:
            out = {}
            for table in TABLES:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                out[table.name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                                   for r in rows]
        return out
    finally:
        store.dispose()


def assert_same(got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> None:
    assert list(got) == list(want)
    for name in want:
        assert len(got[name]) == len(want[name]), name
        for a, b in zip(got[name], want[name], strict=True):
            assert a == b, f"{name}: {a!r} != {b!r}"


def assert_fresh_ids_work(url: str, folder: Path) -> None:
    """After a restore, new rows get new ids in every table that has them."""
    store = Store(url)
    try:
        before = {t.name: _max_id(store, t) for t in (schema.annotations, schema.articles,
                                                       schema.ingest_runs, schema.quarantine,
                                                       schema.events)}
        new = ann.create(store, {"date": "2013-01-01", "title": "after restore"})
        assert new["id"] > before["annotations"]
        extra = folder / f"extra-{uuid.uuid4().hex[:6]}.csv"
        extra.write_text("date,title\n2013-01-02,A new article after the restore\n2013-01-03,x,y\n")
        summary = ingest(store, [str(extra)])
        assert (summary.added, summary.quarantined) == (1, 1)
        assert summary.run_id > before["ingest_runs"]
        assert _max_id(store, schema.articles) > before["articles"]
        assert _max_id(store, schema.quarantine) > before["quarantine"]
        events = folder / f"events-{uuid.uuid4().hex[:6]}.csv"
        events.write_text("date,label,category\n2013-02-12,Third nuclear test,nuclear_test_x\n")
        assert import_events(store, events).added == 1
        assert _max_id(store, schema.events) > before["events"]
        assert store.integrity_check() == []
    finally:
        store.dispose()


def _max_id(store: Store, table) -> int:
    with store.read() as conn:
        return conn.execute(select(func.max(table.c.id))).scalar_one() or 0


# --------------------------------------------------------------------------- the tests

PAIRS = [("sqlite", "sqlite"), ("sqlite", "postgresql"), ("postgresql", "postgresql"),
         ("postgresql", "sqlite")]


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("source,target", [
    pytest.param(s, t, marks=[pytest.mark.pg] if "postgresql" in (s, t) else [], id=f"{s}-to-{t}")
    for s, t in PAIRS])
def test_backup_restores_every_row_on_either_backend(built, dbs: Databases, tmp_path: Path,
                                                     source: str, target: str) -> None:
    src = built(source)
    want = snapshot(src)
    for name in ("articles", "article_scores", "score_terms", "quarantine", "annotations",
                 "events", "ingest_runs", "ingest_files"):
        assert want[name], f"the source has no {name}: the comparison would prove nothing"
    deleted = [r for r in want["annotations"] if r[-1] is not None]
    assert len(deleted) == 1, "one soft-deleted annotation, kept by the backup"

    path = tmp_path / "store.backup"
    store = Store(src)
    try:
        counts = backup(store, path)
        with pytest.raises(FileExistsError):
            backup(store, path)  # never overwrites a backup
    finally:
        store.dispose()
    assert counts == {name: len(rows) for name, rows in want.items()}

    dst = dbs.new(target)
    store = Store(dst)
    try:
        assert restore(store, path) == counts
        assert store.integrity_check() == []
    finally:
        store.dispose()
    assert_same(snapshot(dst), want)
    assert_fresh_ids_work(dst, tmp_path)


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_restore_into_a_non_empty_store_needs_replace(built, dbs: Databases, tmp_path: Path,
                                                      kind: str) -> None:
    src = built(kind)
    want = snapshot(src)
    path = tmp_path / "store.backup"
    store = Store(src)
    try:
        backup(store, path)
    finally:
        store.dispose()

    dst = dbs.new(kind)
    store = Store(dst)
    try:
        other = tmp_path / "other.csv"
        other.write_text("date,title\n2015-05-05,Something else entirely\n")
        ingest(store, [str(other)])
        ann.create(store, {"date": "2015-05-05", "title": "their note"})
    finally:
        store.dispose()
    before = snapshot(dst)
    store = Store(dst)
    try:
        with pytest.raises(ValueError, match="the store is not empty .*--replace"):
            restore(store, path)
    finally:
        store.dispose()
    assert_same(snapshot(dst), before)  # changed nothing

    store = Store(dst)
    try:
        restore(store, path, replace=True)
    finally:
        store.dispose()
    assert_same(snapshot(dst), want)
    assert_fresh_ids_work(dst, tmp_path)

    # and into the source itself (not empty): refused, nothing changed there either
    store = Store(src)
    try:
        with pytest.raises(ValueError, match="not empty"):
            restore(store, path)
    finally:
        store.dispose()
    assert_same(snapshot(src), want)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TENSION_DB"}
    return subprocess.run([sys.executable, "-m", "tension", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_backup_and_restore_commands(built, dbs: Databases, tmp_path: Path, kind: str) -> None:
    src = built(kind)
    want = snapshot(src)
    path = tmp_path / "cli.backup"
    done = run_cli("backup", str(path), "--db", src)
    assert done.returncode == 0, done.stderr
    assert f"backup written to {path}" in done.stdout
    assert f"annotations {len(want['annotations'])}" in done.stdout
    again = run_cli("backup", str(path), "--db", src)
    assert again.returncode != 0 and "exists" in again.stderr

    targets = [dbs.new(kind)]
    if kind == "postgresql":
        targets.append(dbs.new("sqlite"))  # and across backends (the other way: test above)
    for dst in targets:
        done = run_cli("restore", str(path), "--db", dst)
        assert done.returncode == 0, done.stderr
        assert f"restored from {path}" in done.stdout
        assert_same(snapshot(dst), want)
        refused = run_cli("restore", str(path), "--db", dst)
        assert refused.returncode != 0 and "not empty" in refused.stderr and "--replace" in refused.stderr
        replaced = run_cli("restore", str(path), "--db", dst, "--replace")
        assert replaced.returncode == 0, replaced.stderr
        assert_same(snapshot(dst), want)
    missing = run_cli("restore", str(tmp_path / "nope.backup"), "--db", targets[0])
    assert missing.returncode != 0


EXACT = ["kind", "start", "end", "title", "note", "tags", "author", "created_at", "updated_at"]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_annotations_csv_round_trip_is_exact(dbs: Databases, kind: str) -> None:
    src = Store(dbs.new(kind))
    dst = Store(dbs.new(kind))
    try:
        saved = [ann.create(src, p) for p in TRICKY]
        edited = ann.update_annotation(src, saved[1]["id"], {"title": "=edited formula"},
                                       saved[1]["updated_at"])
        assert edited["updated_at"] > edited["created_at"]
        gone = ann.create(src, {"date": "2012-01-01", "title": "deleted one"})
        ann.delete(src, gone["id"], gone["updated_at"])
        before = ann.list_annotations(src)
        assert len(before) == len(TRICKY)
        text = ann.to_csv(before)

        assert ann.import_csv(dst, text) == {"added": len(TRICKY), "skipped": 0, "errors": []}
        after = ann.list_annotations(dst)
        assert [{k: a[k] for k in EXACT} for a in after] == [{k: a[k] for k in EXACT} for a in before]
        assert ann.import_csv(dst, text) == {"added": 0, "skipped": len(TRICKY), "errors": []}
        assert ann.import_csv(src, text) == {"added": 0, "skipped": len(TRICKY), "errors": []}
        assert len(ann.list_annotations(dst)) == len(TRICKY)
    finally:
        src.dispose()
        dst.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_backup_is_one_consistent_snapshot(dbs: Databases, tmp_path: Path, kind: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows another user commits while the backup runs are in none of its tables (PostgreSQL:
    Store.read() is REPEATABLE READ; at READ COMMITTED the tables copied later would have them)."""
    import tension.store.backup as backup_module

    src = dbs.new(kind)
    first = tmp_path / "first.csv"
    first.write_text("date,title\n2018-01-03,Talks resume\n2018-01-04,Missile test condemned\n")
    store = Store(src)
    ingest(store, [str(first)])
    ann.create(store, {"date": "2018-01-03", "title": "before the backup"})
    store.dispose()
    want = snapshot(src)

    later = tmp_path / "later.csv"
    later.write_text("date,title\n2018-02-01,Written while the backup runs\n")
    real_copy = backup_module._copy
    wrote = []

    def copy_then_someone_writes(src_conn, dst_conn, table):
        n = real_copy(src_conn, dst_conn, table)
        if table.name == "articles" and not wrote:  # another user saves in the middle
            other = Store(src)
            try:
                wrote.append(ingest(other, [str(later)]).added)
                ann.create(other, {"date": "2018-02-01", "title": "during the backup"})
            finally:
                other.dispose()
        return n

    monkeypatch.setattr(backup_module, "_copy", copy_then_someone_writes)
    path = tmp_path / "snap.backup"
    store = Store(src)
    try:
        backup(store, path)
    finally:
        store.dispose()
    assert wrote == [1]
    dst = dbs.new("sqlite")
    store = Store(dst)
    try:
        restore(store, path)
    finally:
        store.dispose()
    assert_same(snapshot(dst), want)  # the state when the backup began, whole
