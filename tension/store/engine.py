"""The store: one SQLAlchemy engine over SQLite (default) or PostgreSQL.

SQLite is tuned for a local analyst tool that several processes may write to:
WAL (readers never block the writer), `BEGIN IMMEDIATE` for write transactions
(two writers queue on the busy timeout instead of failing half-way), foreign
keys on. Every write goes through `Store.write()`, one transaction, so a crash
leaves either all of a batch or none of it.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from tension.core.paths import resolve_db_url
from tension.store import migrations, schema
from tension.store.sql import insert_ignore

SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 256 * 1024  # per connection, allocated only as pages are used
# Page size of a new SQLite store (an existing file keeps its own). Bulk ingest inserts random
# keys into several indexes; larger pages made those inserts and commits faster
# (docs/benchmarks.md).
SQLITE_PAGE_SIZE = 16384
SQLITE_CHECKPOINT_BYTES = 400 * 2**20  # WAL size that triggers a checkpoint (see `make_engine`)

# Dates go to SQLite as ISO text ('2018-01-03'), as SQLAlchemy's Date type stores them, also
# when bulk inserts hand values straight to the driver. (Python 3.11's default adapter does
# the same, but it is deprecated from 3.12.) Registered for the exact type `date` only.
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def engine_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine with the pragmas and transaction behaviour the store relies on."""
    url = engine_url(url)
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "before_cursor_execute", _note_writes)
        return engine
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # applies only to a new, empty file
        _set_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        # Bulk ingest inserts random keys (hashes) into several indexes, so every batch
        # dirties pages all over them: a page cache that holds them, and checkpoints rare
        # enough (400 MB of WAL) that a page rewritten by several batches is copied to the
        # file once (docs/benchmarks.md). After a checkpoint the WAL file is cut back to 64 MB.
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        page_size = cur.execute("PRAGMA page_size").fetchone()[0]  # the file's own
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_BYTES // page_size}")
        cur.execute("PRAGMA journal_size_limit=67108864")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    event.listen(engine, "before_cursor_execute", _note_writes)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tension_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


# The tables a write transaction wrote, noted from its statements as they run (so that no
# writer can forget to say so); read back by `Store.write()` before it commits.
_WRITTEN = "tension_written"
_WRITE_STATEMENT = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)',
                              re.IGNORECASE)


def _note_writes(conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
    written = conn.info.get(_WRITTEN)
    if written is not None:
        match = _WRITE_STATEMENT.match(statement)
        if match:
            written.add(match.group(1).lower())


def _bump(conn: Connection, topics: list[str]) -> None:
    r = schema.revisions.c
    insert_ignore(conn, schema.revisions, [{"topic": t, "n": 0} for t in topics], ["topic"])
    conn.execute(update(schema.revisions).where(r.topic.in_(topics)).values(n=r.n + 1))


class Store:
    """A migrated database. Cheap to create; holds only its engine."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_db_url(url)
        self.engine = make_engine(self.url)
        with self.write() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))  # one migrator at a time
            migrations.migrate(conn)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed at the end, rolled back on any error. Before the
        commit, the revision of every topic whose tables it wrote is bumped (see `revision`)."""
        with self.engine.connect().execution_options(tension_write=True) as conn, conn.begin():
            conn.info[_WRITTEN] = written = set()
            try:
                yield conn
                topics = sorted({schema.TOPICS[t] for t in written if t in schema.TOPICS})
                if topics:
                    _bump(conn, topics)
            finally:
                conn.info.pop(_WRITTEN, None)

    def revision(self, *topics: str) -> tuple[int, ...]:
        """How many committed transactions have written each topic's tables (schema.TOPICS):
        what caches key on, whichever process wrote."""
        r = schema.revisions.c
        with self.read() as conn:
            known = dict(conn.execute(select(r.topic, r.n)).all())
        return tuple(known.get(t, 0) for t in topics)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot (one transaction; REPEATABLE READ on PostgreSQL)."""
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def schema_version(self) -> str | None:
        with self.read() as conn:
            return migrations.schema_version(conn)

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for summaries, health and tests)."""
        tables = [schema.articles, schema.article_scores, schema.score_terms, schema.quarantine,
                  schema.annotations, schema.events, schema.ingest_runs]
        with self.read() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}

    def integrity_check(self) -> list[str]:
        """Problems the database itself reports (SQLite: integrity and foreign keys); [] is healthy."""
        problems: list[str] = []
        with self.read() as conn:
            if self.engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
                problems += [r for r in rows if r != "ok"]
                fk = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                problems += [f"foreign key: {tuple(r)}" for r in fk]
            orphans = conn.execute(
                select(func.count()).select_from(schema.score_terms).where(
                    ~select(schema.article_scores.c.content_hash).where(
                        schema.article_scores.c.content_hash == schema.score_terms.c.content_hash,
                        schema.article_scores.c.scorer_version == schema.score_terms.c.scorer_version,
                    ).exists())
            ).scalar_one()
            if orphans:
                problems.append(f"{orphans} score_terms rows without their article score")
        return problems

    def setting(self, key: str) -> str | None:
        """A store-wide setting (see schema.settings), None when unset."""
        with self.read() as conn:
            return conn.execute(select(schema.settings.c.value).where(schema.settings.c.key == key)).scalar()

    def set_setting(self, key: str, value: str | None) -> None:
        """Set (or with None, remove) a store-wide setting, in one transaction."""
        with self.write() as conn:
            conn.execute(schema.settings.delete().where(schema.settings.c.key == key))
            if value is not None:
                conn.execute(schema.settings.insert().values(key=key, value=value))

    def dispose(self) -> None:
        self.engine.dispose()


def _set_wal(cur: sqlite3.Cursor) -> None:
    """Switch the file to WAL (a lasting setting of the file). The switch takes an exclusive
    lock and SQLite answers "database is locked" at once, without its busy handler, when
    several first connections race for a new file: retry until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
