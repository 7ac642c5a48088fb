"""Tests for tension.store and tension.schema on a real SQLite file and a real PostgreSQL 15."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from tension.core.hashing import digest
from tension.store import migrations, schema
from tension.store.engine import SQLITE_PAGE_SIZE, Store, engine_url
from tension.store.sql import bulk_insert, in_values, insert_ignore, pairs_table

TABLES = {"articles", "article_scores", "score_terms", "quarantine", "ingest_runs", "ingest_files",
          "annotations", "events", "schema_migrations"}


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store(db_url)
    yield s
    s.dispose()


def _event(day: str, label: str, category: str = "missile_test") -> dict:
    d = dt.date.fromisoformat(day)
    return {"start_date": d, "end_date": d, "label": label, "category": category, "origin": "test"}


def _n(conn, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _migration_rows(store: Store) -> dict[str, str]:
    m = schema.schema_migrations.c
    with store.read() as conn:
        return dict(conn.execute(select(m.name, m.applied_at)).all())


# ------------------------------------------------------------------------ migrations


def test_fresh_store_is_migrated(store: Store) -> None:
    names = [name for name, _ in migrations.MIGRATIONS]
    assert names and names[0] == "0001_initial"
    assert store.schema_version() == names[-1]
    assert set(_migration_rows(store)) == set(names)
    with store.read() as conn:
        assert TABLES <= set(inspect(conn).get_table_names())
        cols = {c["name"] for c in inspect(conn).get_columns("articles")}
    assert {"id", "key", "date", "source", "title", "text", "url", "content_hash", "copy_of",
            "copy_kind"} <= cols
    assert store.counts() == {"articles": 0, "article_scores": 0, "score_terms": 0, "quarantine": 0,
                              "annotations": 0, "events": 0, "ingest_runs": 0}


def test_empty_database_has_no_schema_version(db_url: str) -> None:
    engine = create_engine(engine_url(db_url))
    try:
        with engine.connect() as conn:
            assert migrations.schema_version(conn) is None
    finally:
        engine.dispose()


def test_reopening_does_not_reapply_migrations(db_url: str) -> None:
    first = Store(db_url)
    before = _migration_rows(first)
    with first.write() as conn:
        insert_ignore(conn, schema.events, [_event("2017-09-03", "Nuclear test", "nuclear_test")],
                      ["start_date", "end_date", "label", "category"])
    first.dispose()
    again = Store(db_url)
    try:
        assert _migration_rows(again) == before  # same rows, same applied_at
        with again.write() as conn:
            assert migrations.migrate(conn) == []
        assert again.counts()["events"] == 1
    finally:
        again.dispose()


def test_database_from_older_code_gets_the_new_migration_once(db_url: str, monkeypatch) -> None:
    """A store made by "today's" code opens after a later change adds migration 0002."""
    old = Store(db_url)
    with old.write() as conn:
        insert_ignore(conn, schema.events, [_event("2006-10-09", "First nuclear test")],
                      ["start_date", "end_date", "label", "category"])
    old.dispose()

    calls: list[str] = []

    def add_column(conn) -> None:
        calls.append("0002")
        conn.execute(text("ALTER TABLE events ADD COLUMN note TEXT"))

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("0002_events_note", add_column)])
    new = Store(db_url)
    try:
        assert calls == ["0002"]
        assert new.schema_version() == "0002_events_note"
        with new.read() as conn:
            assert "note" in {c["name"] for c in inspect(conn).get_columns("events")}
            assert conn.execute(select(schema.events.c.label)).scalars().all() == ["First nuclear test"]
    finally:
        new.dispose()
    Store(db_url).dispose()
    assert calls == ["0002"], "a migration ran twice"


def test_a_store_from_before_0003_and_0004_gains_the_settings_table_and_file_columns(tmp_path: Path) -> None:
    """Made as migration 0002 left it: no settings table, ingest_files without content/options."""
    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE settings")
        raw.execute("ALTER TABLE ingest_files DROP COLUMN content_digest")
        raw.execute("ALTER TABLE ingest_files DROP COLUMN options")
        raw.execute("DELETE FROM schema_migrations WHERE name IN ('0003_settings', '0004_ingest_files_content')")
    s = Store(f"sqlite:///{path}")
    try:
        assert s.schema_version() == migrations.MIGRATIONS[-1][0]
        with sqlite3.connect(path) as raw:
            cols = {r[1] for r in raw.execute("PRAGMA table_info(ingest_files)")}
        assert {"content_digest", "options"} <= cols
        s.set_setting("lexicon", "x")
        assert s.setting("lexicon") == "x"
    finally:
        s.dispose()


def test_database_without_migration_records_still_opens(db_url: str) -> None:
    """A database whose tables exist but whose migration rows are gone (an early build)."""
    s = Store(db_url)
    with s.write() as conn:
        insert_ignore(conn, schema.events, [_event("2017-07-04", "Hwasong-14")],
                      ["start_date", "end_date", "label", "category"])
        conn.execute(schema.schema_migrations.delete())
    with s.read() as conn:
        assert migrations.schema_version(conn) is None
    s.dispose()
    s = Store(db_url)
    try:
        assert s.schema_version() == migrations.MIGRATIONS[-1][0]
        assert s.counts()["events"] == 1
    finally:
        s.dispose()


def test_migrate_is_idempotent_in_one_transaction(store: Store) -> None:
    with store.write() as conn:
        assert migrations.migrate(conn) == []
        assert migrations.migrate(conn) == []
        assert _n(conn, schema.schema_migrations) == len(migrations.MIGRATIONS)


def test_concurrent_first_opens_migrate_once(db_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[Store] = []
    lock = threading.Lock()

    def open_store() -> None:
        try:
            s = Store(db_url)
            with lock:
                stores.append(s)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert len(stores) == 4
        assert set(_migration_rows(stores[0])) == {n for n, _ in migrations.MIGRATIONS}
        with stores[0].read() as conn:
            assert _n(conn, schema.schema_migrations) == len(migrations.MIGRATIONS)
    finally:
        for s in stores:
            s.dispose()


# ----------------------------------------------------------------------- SQLite setup


def test_sqlite_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "t.db"  # parent folders are created
    s = Store(f"sqlite:///{path}")
    try:
        with s.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000
        with s.write() as conn:
            insert_ignore(conn, schema.events, [_event("2017-09-03", "x")])
        assert path.exists() and Path(f"{path}-wal").exists()
    finally:
        s.dispose()
    # WAL is persistent: another process (plain sqlite3) sees it too.
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_new_sqlite_stores_use_16k_pages_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    """A new file gets SQLITE_PAGE_SIZE (faster bulk writes); an existing file is not rebuilt."""
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    with sqlite3.connect(old) as raw:
        raw.execute("CREATE TABLE t (x)")  # a file made with SQLite's default 4 KiB pages
    for path in (new, old):
        s = Store(str(path))
        with s.write() as conn:
            insert_ignore(conn, schema.events, [_event("2017-09-03", "x")])
        s.dispose()
    with sqlite3.connect(new) as raw:
        assert raw.execute("PRAGMA page_size").fetchone()[0] == SQLITE_PAGE_SIZE == 16384
    with sqlite3.connect(old) as raw:
        assert raw.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    for path, pages in ((new, 25_600), (old, 102_400)):  # a checkpoint every 400 MB of WAL, either way
        s = Store(str(path))
        with s.read() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == pages
        s.dispose()


def test_plain_path_and_env_variable(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "plain.db"
    s = Store(str(path))
    assert s.url == f"sqlite:///{path}" and s.engine.dialect.name == "sqlite"
    s.dispose()
    monkeypatch.setenv("TENSION_DB", str(tmp_path / "env.db"))
    s = Store()
    assert s.url == f"sqlite:///{tmp_path / 'env.db'}"
    s.dispose()
    assert (tmp_path / "env.db").exists()


def test_sqlite_write_waits_for_another_writer(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer queues on the busy timeout instead of failing."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    a, b = Store(url), Store(url)
    done = threading.Event()
    try:
        with a.write() as conn:
            insert_ignore(conn, schema.events, [_event("2017-01-01", "first")])

            def second() -> None:
                with b.write() as c2:
                    insert_ignore(c2, schema.events, [_event("2017-01-02", "second")])
                done.set()

            t = threading.Thread(target=second)
            t.start()
            assert not done.wait(0.5)  # blocked while `a` holds the write lock
        t.join(30)
        assert done.is_set()
        assert a.counts()["events"] == 2
    finally:
        a.dispose()
        b.dispose()


def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    s = Store(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        with pytest.raises(IntegrityError), s.write() as conn:
            conn.execute(schema.ingest_files.insert().values(
                fingerprint="f" * 40, origin="x", run_id=999, format="csv", n_read=0,
                n_quarantined=0, completed_at="now"))
        with s.read() as conn:
            assert _n(conn, schema.ingest_files) == 0
    finally:
        s.dispose()


# ----------------------------------------------------------------- PostgreSQL driver


def test_engine_url_adds_psycopg() -> None:
    assert engine_url("postgresql://u:p@h:5433/db") == "postgresql+psycopg://u:p@h:5433/db"
    assert engine_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.pg
def test_postgresql_url_without_driver_uses_psycopg3(pg_url: str) -> None:
    bare = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert bare.startswith("postgresql://")
    s = Store(bare)
    try:
        assert s.is_postgres
        assert s.engine.dialect.driver == "psycopg"
        assert s.schema_version() == migrations.MIGRATIONS[-1][0]
        with s.read() as conn:
            assert conn.exec_driver_sql("SHOW server_version").scalar().startswith("15")
    finally:
        s.dispose()


# ------------------------------------------------------------------- transactions


def test_write_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as conn:
        insert_ignore(conn, schema.events, [_event("2017-09-03", "x")])
        raise RuntimeError("boom")
    assert store.counts()["events"] == 0


def test_read_is_a_snapshot(store: Store, request: pytest.FixtureRequest) -> None:
    """Store.read() promises "a read-only snapshot (one transaction)": statements in it must
    not see rows another connection commits meanwhile (ingest reads keys, copies and scores
    in one read(); the index reads articles and scores)."""
    with store.read() as conn:
        assert _n(conn, schema.events) == 0
        with store.write() as w:
            insert_ignore(w, schema.events, [_event("2017-09-03", "x")])
        assert _n(conn, schema.events) == 0
    assert store.counts()["events"] == 1


# ------------------------------------------------------------------- insert_ignore


def test_insert_ignore_skips_conflicts_and_keeps_the_rest(store: Store) -> None:
    keys = ["start_date", "end_date", "label", "category"]
    with store.write() as conn:
        insert_ignore(conn, schema.events, [_event("2017-09-03", "a"), _event("2017-09-04", "b")], keys)
    with store.write() as conn:
        insert_ignore(conn, schema.events, [], keys)  # nothing to do is fine
        insert_ignore(conn, schema.events,
                      [_event("2017-09-03", "a"), _event("2017-09-05", "c"), _event("2017-09-05", "c"),
                       _event("2017-09-03", "a", "nuclear_test")], keys)
    e = schema.events.c
    with store.read() as conn:
        rows = conn.execute(select(e.start_date, e.label, e.category).order_by(e.id)).all()
    assert [(r[0].isoformat() if isinstance(r[0], dt.date) else r[0], r[1], r[2]) for r in rows] == [
        ("2017-09-03", "a", "missile_test"), ("2017-09-04", "b", "missile_test"),
        ("2017-09-05", "c", "missile_test"), ("2017-09-03", "a", "nuclear_test")]


def test_insert_ignore_on_composite_primary_key(store: Store) -> None:
    row = {"content_hash": "h" * 40, "scorer_version": "v1", "hostility": 0.5, "conciliation": 0.0,
           "tension": 0.5, "label": "hostile", "n_sentences": 1, "evidence": "[]"}
    pk = ["content_hash", "scorer_version"]
    with store.write() as conn:
        insert_ignore(conn, schema.article_scores, [row], pk)
        insert_ignore(conn, schema.article_scores, [{**row, "hostility": 0.9}, {**row, "scorer_version": "v2"}], pk)
    sc = schema.article_scores.c
    with store.read() as conn:
        got = dict(conn.execute(select(sc.scorer_version, sc.hostility)).all())
    assert got == {"v1": 0.5, "v2": 0.5}  # the first row was kept, not overwritten


def test_bulk_insert_dates_round_trip(store: Store) -> None:
    rows = [_event("2017-09-03", "a"), _event("1984-04-09", "b")]
    with store.write() as conn:
        bulk_insert(conn, schema.events, rows)
        bulk_insert(conn, schema.events, [])
    e = schema.events.c
    with store.read() as conn:
        got = conn.execute(select(e.start_date).where(e.start_date < dt.date(2000, 1, 1))).scalars().all()
    assert got == [dt.date(1984, 4, 9)]


@pytest.mark.parametrize("n_wanted", [0, 1, 5000])
def test_in_values_finds_exactly_the_listed_rows(store: Store, n_wanted: int) -> None:
    """One parameter holds any number of values (5,000 is past SQLite's old limit of 999
    parameters a statement), and values with quotes, brackets or JSON escapes stay values."""
    odd = ['x\' OR 1=1 --', '"]', "\\u0041", "Pyongyang’s", ""]
    labels = [f"event {i}" for i in range(6000)] + odd
    with store.write() as conn:
        bulk_insert(conn, schema.events, [_event("2017-09-03", x) for x in labels])
    wanted = labels[:n_wanted] + ["not stored"] + odd[:2]
    e = schema.events.c
    with store.read() as conn:
        got = conn.execute(select(e.label).where(in_values(conn, e.label, wanted))).scalars().all()
        first = conn.execute(select(e.id).order_by(e.id).limit(2)).scalars().all()
        ids = conn.execute(select(e.id).where(in_values(conn, e.id, [*first, -1]))).scalars().all()
    assert sorted(got) == sorted(labels[:n_wanted] + odd[:2])
    assert sorted(ids) == first


def test_pairs_table_joins_exactly_the_listed_pairs(store: Store) -> None:
    """Dates and labels (quotes, JSON escapes, other lengths) come back as they were sent,
    sorted, and a join on both columns finds only rows matching both."""
    labels = ['x\' OR 1=1 --', '"]', "\\u0041", "Pyongyang’s", "", "a"]
    days = [dt.date(2017, 9, 3), dt.date(1984, 4, 9), dt.date(999, 1, 2)]
    with store.write() as conn:
        bulk_insert(conn, schema.events, [_event(d.isoformat(), x) for d in days[:2] for x in labels])
    pairs = {(d, x) for d in days for x in labels[::2]} | {(days[0], "not stored")}
    e = schema.events.c
    with store.read() as conn:
        same = pairs_table(conn, pairs, (e.start_date.type, e.label.type))
        listed = [(a if isinstance(a, str) else a.isoformat(), b)
                  for a, b in conn.execute(select(same.c.a, same.c.b)).all()]
        got = conn.execute(select(e.start_date, e.label).select_from(same.join(
            schema.events, (e.start_date == same.c.a) & (e.label == same.c.b)))).all()
    assert listed == sorted((d.isoformat(), x) for d, x in pairs)
    assert sorted(got) == sorted((d, x) for d in days[:2] for x in labels[::2])
    if store.engine.dialect.name == "sqlite":  # where the first values' width matters
        with store.read() as conn, pytest.raises(ValueError, match="different lengths"):
            pairs_table(conn, [("ab", "x"), ("abc", "y")], (e.label.type, e.label.type))


# ----------------------------------------------------------------- integrity_check


def test_integrity_check_clean_and_catches_orphans(store: Store) -> None:
    assert store.integrity_check() == []
    with store.write() as conn:
        conn.execute(schema.score_terms.insert().values(
            content_hash="h" * 40, scorer_version="v", term="war", pole="hostility",
            category="war", contribution=0.1))
    assert store.integrity_check() == ["1 score_terms rows without their article score"]


def test_integrity_check_reports_broken_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "fk.db"
    Store(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as raw:  # foreign keys are off by default in a plain connection
        raw.execute("INSERT INTO ingest_files (fingerprint, origin, run_id, format, n_read, n_quarantined, "
                    "completed_at) VALUES ('f', 'x', 42, 'csv', 0, 0, 'now')")
    s = Store(f"sqlite:///{path}")
    try:
        problems = s.integrity_check()
        assert len(problems) == 1 and problems[0].startswith("foreign key: ('ingest_files'")
    finally:
        s.dispose()


def test_digest_is_stable_and_separates_parts() -> None:
    assert digest("a", "b") == digest("a", "b")
    assert len(digest("a")) == 40
    assert digest("ab", "c") != digest("a", "bc")
