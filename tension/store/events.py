"""Reference events (e.g. weapons tests) to overlay on the index: store and list them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select

from tension.store import schema
from tension.store.engine import Store
from tension.store.sql import insert_ignore


def add_events(store: Store, rows: list[dict]) -> int:
    """Store event rows (as `tension.io.events` reads them); returns how many were new."""
    with store.write() as conn:
        before = _count(conn)
        insert_ignore(conn, schema.events, rows, ["start_date", "end_date", "label", "category"])
        return _count(conn) - before


def _count(conn) -> int:
    return conn.execute(select(func.count()).select_from(schema.events)).scalar_one()



def list_events(store: Store, start: dt.date | None = None, end: dt.date | None = None,
                categories: list[str] | None = None) -> pd.DataFrame:
    """Events overlapping [start, end], as a frame (start, end, label, category)."""
    e = schema.events.c
    q = select(e.id, e.start_date.label("start"), e.end_date.label("end"), e.label, e.category)
    if start:
        q = q.where(e.end_date >= start)
    if end:
        q = q.where(e.start_date <= end)
    if categories:
        q = q.where(e.category.in_(categories))
    with store.read() as conn:
        df = pd.DataFrame(conn.execute(q.order_by(e.start_date)).mappings().all(),
                          columns=["id", "start", "end", "label", "category"])
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c])
    return df
