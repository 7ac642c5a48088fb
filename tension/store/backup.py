"""Backup and restore of a whole store, between any two backends.

A backup is a SQLite file with the store's own schema, written from one consistent
snapshot of the source (a single read transaction). It opens with any SQLite tool
and restores into SQLite or PostgreSQL. Restore refuses a non-empty target unless
told to replace it, and runs in one transaction: it lands whole or not at all.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Table, false, func, select

from tension.store import schema
from tension.store.engine import Store
from tension.store.sql import bulk_insert

# Parents before children (foreign keys).
TABLES: list[Table] = [schema.ingest_runs, schema.ingest_files, schema.articles, schema.article_scores,
                       schema.score_terms, schema.score_dyads, schema.quarantine, schema.annotations, schema.events,
                       schema.labels, schema.models, schema.settings, schema.sources, schema.alerts]
CHUNK = 5000


def _copy(src: Connection, dst: Connection, table: Table) -> int:
    """Stream every row of `table` from src to dst in primary-key order; returns the count."""
    order = list(table.primary_key.columns)
    n = 0
    result = src.execution_options(stream_results=True).execute(select(table).order_by(*order))
    while rows := result.mappings().fetchmany(CHUNK):
        bulk_insert(dst, table, [{k: _storable(v) for k, v in r.items()} for r in rows])
        n += len(rows)
    return n


_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _storable(value: object) -> object:
    """Text every backend keeps alike: NUL dropped (PostgreSQL refuses it), a lone surrogate
    replaced (no UTF-8 encoder takes it). Stores written since refuse both at the door; a
    backup of an older SQLite store still restores into PostgreSQL."""
    if isinstance(value, str) and _UNSTORABLE.search(value):
        return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)
    return value


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move id sequences past the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in TABLES:
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"),
                                            func.coalesce(func.max(table.c.id), 0) + 1, false())))


def backup(store: Store, path: Path) -> dict[str, int]:
    """Write the store to a new SQLite file at `path` (which must not exist)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; choose a new file name for the backup")
    target = Store(f"sqlite:///{path.resolve()}")
    counts = {}
    try:
        with store.read() as src, target.write() as dst:
            for table in TABLES:
                counts[table.name] = _copy(src, dst, table)
    except BaseException:
        target.dispose()
        path.unlink(missing_ok=True)
        raise
    target.dispose()
    return counts


def restore(store: Store, path: Path, replace: bool = False) -> dict[str, int]:
    """Load a backup into `store`; the store must be empty unless `replace`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no backup file at {path}")
    _check_backup(path)
    source = Store(f"sqlite:///{path.resolve()}")
    counts = {}
    try:
        existing = _rows(store)
        if existing and not replace:
            raise ValueError(f"the store is not empty ({', '.join(f'{k}: {v:,}' for k, v in existing.items())}); "
                             "restore into an empty store or pass --replace")
        with source.read() as src, store.write() as dst:
            if replace:
                for table in reversed(TABLES):
                    dst.execute(table.delete())
            for table in TABLES:
                counts[table.name] = _copy(src, dst, table)
            _reset_sequences(dst)
    finally:
        source.dispose()
    return counts


def _rows(store: Store) -> dict[str, int]:
    """The tables a restore writes that already hold rows (labels, models and settings too,
    which `Store.counts` leaves out: a store holding only those is not empty)."""
    with store.read() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}
    return {name: n for name, n in counts.items() if n}


def _check_backup(path: Path) -> None:
    """Refuse a file that is not a store backup, before anything opens it for writing
    (opening a store would add our tables to someone else's database)."""
    try:
        con = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not a backup (not a SQLite database: {exc})") from None
    missing = [t.name for t in (schema.schema_migrations, schema.articles) if t.name not in names]
    if missing:
        raise ValueError(f"{path} is not a backup made by `tension backup` (no table {missing[0]!r})")
