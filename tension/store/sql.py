"""SQL helpers the store's modules share: one-parameter IN lists and pair tables, bulk
inserts at DB-API speed, insert-or-ignore on both backends."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from operator import itemgetter

from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Subquery


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
    of one length) followed by the second, sorted as strings: cheaper to build and send than
    a JSON array of pairs."""
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


def bulk_execute(conn: Connection, stmt, rows: Sequence, columns: Sequence[str] | None = None) -> int:
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
