"""Background jobs of the dashboard (an upload being ingested, a model being trained): their
status and result, shared by every server process."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from tension.core.dates import now_iso
from tension.store import schema
from tension.store.engine import Store


def add_job(store: Store, job_id: str, name: str) -> None:
    stamp = now_iso()
    with store.write() as conn:
        conn.execute(schema.jobs.insert().values(
            id=job_id, name=name, status="queued", rows=0, created_at=stamp, updated_at=stamp))


def update_job(store: Store, job_id: str, **values: object) -> None:
    """Set a job's status, rows, summary (a dict) or error."""
    if "summary" in values:
        values["summary"] = json.dumps(values["summary"])
    with store.write() as conn:
        conn.execute(update(schema.jobs).where(schema.jobs.c.id == job_id).values(
            **values, updated_at=now_iso()))


def get_job(store: Store, job_id: str) -> dict | None:
    j = schema.jobs.c
    with store.read() as conn:
        row = conn.execute(select(j.id, j.name, j.status, j.rows, j.summary, j.error).where(
            j.id == job_id)).mappings().first()
    if row is None:
        return None
    return {**row, "summary": json.loads(row["summary"]) if row["summary"] else {},
            "error": row["error"] or ""}
