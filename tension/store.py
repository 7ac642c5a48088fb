"""The store: one SQLAlchemy engine over SQLite (default) or PostgreSQL.

SQLite is tuned for a local analyst tool that several processes may write to:
WAL (readers never block the writer), `BEGIN IMMEDIATE` for write transactions
(two writers queue on the busy timeout instead of failing half-way), foreign
keys on. Every write goes through `Store.write()`, one transaction, so a crash
leaves either all of a batch or none of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.sql import Subquery

from tension import schema
from tension.config import resolve_db_url

SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 256 * 1024  # per connection, allocated only as pages are used
# Page size of a new SQLite store (an existing file keeps its own). Bulk ingest inserts random
# keys into several indexes; with 16 KiB pages instead of 4 KiB, the same inserts and commits
# (replayed with plain sqlite3) took 1.1 s against 1.45 s for the 99,841 KCNA headlines, and
# 18 s against 20 s for a million. Presumably fewer B-tree levels and page splits, and fewer
# pages per commit; that part was not measured.
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
        return create_engine(url, pool_pre_ping=True)
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # applies only to a new, empty file
        _set_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        # Bulk ingest inserts random keys (hashes) into several indexes, so every batch
        # dirties pages all over them: a page cache that holds them, and checkpoints rare
        # enough (400 MB of WAL) that a page rewritten by several batches is copied to the
        # file once. At 0.5 M articles the write time outside the inserts (mostly commits and
        # their checkpoints) fell from ~11 s (40 MB) to ~5 s (400 MB); at 1 M, 1.6 GB was no
        # faster than 400 MB. After a checkpoint the WAL file is cut back to 64 MB.
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        page_size = cur.execute("PRAGMA page_size").fetchone()[0]  # the file's own
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_BYTES // page_size}")
        cur.execute("PRAGMA journal_size_limit=67108864")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tension_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """A migrated database. Cheap to create; holds only its engine."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_db_url(url)
        self.engine = make_engine(self.url)
        with self.write() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))  # one migrator at a time
            schema.migrate(conn)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed at the end, rolled back on any error."""
        with self.engine.connect().execution_options(tension_write=True) as conn, conn.begin():
            yield conn

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
            return schema.schema_version(conn)

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


def in_values(conn: Connection, column: ColumnElement, values: Iterable[str | int]) -> ColumnElement[bool]:
    """`column IN values` with all the values in one parameter (a JSON array read by SQLite's
    json_each, a PostgreSQL array): one statement however many there are, where chunks of
    IN (?, ?, …) lists cost a statement, and a rescan of any range it also filters on, each."""
    values = list(values)
    if conn.dialect.name == "sqlite":
        listed = func.json_each(json.dumps(values)).table_valued("value")
        return column.in_(select(listed.c.value))
    return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))


def pairs_table(conn: Connection, pairs: Iterable[tuple[object, object]], types: tuple) -> Subquery:
    """The pairs as a two-column table (`a`, `b`), all of them in one parameter as with
    `in_values`, in sorted order. Joined on the first two columns of an index, it costs one
    index seek per pair, in index order, however many rows the store holds (a row-value `IN`
    would let SQLite use only the first column). Values are dates or text, what the driver
    takes. SQLite gets each pair as one string, the first value's text (ISO for a date; all
    of one length) followed by the second, sorted as strings. For an ingest batch (10,000
    pairs, dedupe window 0), building and sending them took 8.6 ms, against 14.8 ms as a
    JSON array of pairs (encoded with a hook for dates) sorted by the caller (best of 20)."""
    pairs = list(pairs)
    if conn.dialect.name == "sqlite":
        first = {x: x.isoformat() if isinstance(x, dt.date) else str(x) for x in {x for x, _ in pairs}}
        widths = {len(t) for t in first.values()}
        if len(widths) > 1:
            raise ValueError(f"pairs_table: first values of different lengths {sorted(widths)}")
        n = widths.pop() if widths else 0
        listed = func.json_each(json.dumps(sorted(first[x] + str(y) for x, y in pairs))).table_valued("value")
        return select(func.substr(listed.c.value, 1, n).label("a"),
                      func.substr(listed.c.value, n + 1).label("b")).subquery()
    pairs.sort()
    return select(  # two unnests of equal length are read side by side
        func.unnest(bindparam(None, [p[0] for p in pairs], type_=postgresql.ARRAY(types[0]))).label("a"),
        func.unnest(bindparam(None, [p[1] for p in pairs], type_=postgresql.ARRAY(types[1]))).label("b"),
    ).subquery()


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict] | Sequence[tuple],
                  index_elements: Iterable[str] | None = None,
                  columns: Sequence[str] | None = None) -> int:
    """Insert rows, skipping any that would violate a unique constraint; the number inserted.
    Rows are dicts, or tuples whose values are in the order of `columns`."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(index_elements) if index_elements else None)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(dialect)
    return bulk_execute(conn, stmt, rows, columns)


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict] | Sequence[tuple],
                columns: Sequence[str] | None = None) -> None:
    """Insert many rows at DB-API speed: dicts with the same keys, or tuples whose values
    are in the order of `columns`."""
    if rows:
        bulk_execute(conn, table.insert(), rows, columns)


def bulk_execute(conn: Connection, stmt, rows: Sequence, columns: Sequence[str] | None = None) -> int:  # noqa: ANN001
    """executemany of a SQLAlchemy insert construct, compiled once, bypassing per-row
    parameter processing (which costs more than SQLite's own work on large batches).
    Rows are dicts with the same keys, or tuples in the order of `columns`. Values must
    already be what the driver takes (dates: see the adapter above). Returns the rows changed."""
    keys = list(columns) if columns is not None else list(rows[0])
    compiled = stmt.values({k: bindparam(k) for k in keys}).compile(dialect=conn.dialect)
    params: Sequence
    if compiled.positiontup is not None:
        order = list(compiled.positiontup)
        if columns is not None and order == keys:
            params = rows  # already the statement's tuples
        else:
            index = order if columns is None else [keys.index(k) for k in order]
            get = itemgetter(*index) if len(index) > 1 else (lambda r: (r[index[0]],))
            params = [get(r) for r in rows]  # tuples, built in C: the bulk of the cost otherwise
    else:
        params = rows if columns is None else [dict(zip(keys, r, strict=True)) for r in rows]
    return conn.exec_driver_sql(str(compiled), params).rowcount


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


def digest(*parts: str) -> str:
    """A short, stable hex digest of text parts (40 hex chars of BLAKE2b)."""
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=20).hexdigest()
