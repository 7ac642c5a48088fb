"""Reference events (e.g. weapons tests) to overlay on the index: import and list."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from tension import schema
from tension.dates import iso_day
from tension.records import Problem
from tension.store import Store, insert_ignore


@dataclass
class EventImport:
    read: int
    added: int
    problems: list[Problem]


def parse_events(text: str, origin: str) -> tuple[list[dict], list[Problem]]:
    """Rows of a CSV with `date` or `start`/`end`, and `label`, optional `category`."""
    reader = csv.DictReader(io.StringIO(text))
    cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    if "label" not in cols or not ({"date"} <= cols.keys() or {"start"} <= cols.keys()):
        return [], [Problem(origin, None, None,
                            f"needs columns 'date' (or 'start' and 'end') and 'label'; found: "
                            f"{', '.join(reader.fieldnames or []) or 'none'}")]
    rows, problems = [], []
    for n, rec in enumerate(reader, 2):
        def get(k: str, rec: dict = rec) -> str:
            return (rec.get(cols.get(k, ""), "") or "").strip()

        field = "date" if "date" in cols else "start"
        try:
            start = iso_day(get(field))
            field = "end"
            end = iso_day(get("end")) if "end" in cols and get("end") else start
        except ValueError:
            problems.append(Problem(origin, n, field, f"not a date like 2018-01-03: {get(field)!r}"))
            continue
        if end < start:
            problems.append(Problem(origin, n, "end", f"end {end} is before start {start}"))
            continue
        if not get("label"):
            problems.append(Problem(origin, n, "label", "missing label"))
            continue
        rows.append({"start_date": start, "end_date": end, "label": get("label"),
                     "category": get("category") or "event", "origin": origin})
    return rows, problems


def import_events(store: Store, path: Path) -> EventImport:
    """Import a CSV of events; importing the same file twice adds nothing."""
    rows, problems = parse_events(path.read_text(encoding="utf-8-sig"), str(path))
    with store.write() as conn:
        before = _count(conn)
        insert_ignore(conn, schema.events, rows, ["start_date", "end_date", "label", "category"])
        added = _count(conn) - before
    return EventImport(len(rows) + len(problems), added, problems)


def _count(conn) -> int:  # noqa: ANN001
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
