"""Ingest runs: the run log every ingest and rescore writes, the files each run imported
(with their options), listing runs, and removing one (undo an import).

Why removal exists: the rows of a file imported with a wrong --tz or --date-order have
wrong dates, and a second import with the right options is refused (it would store the
rows twice). Removing the run first makes the corrected import possible.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, delete, func, select, update

from tension.core.dates import now_iso as now
from tension.store import schema
from tension.store.engine import Store
from tension.store.sql import in_values, insert_ignore

COUNT_COLUMNS = ("n_read", "n_added", "n_already", "n_copies", "n_quarantined", "n_scored")


class RunError(ValueError):
    """A run that cannot be removed (unknown, still running, or already removed)."""


STALE_AFTER = dt.timedelta(minutes=15)  # a run on another machine silent this long is interrupted


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(store: Store, paths: list[str], scorer_version: str) -> int:
    """A new run, "running", owned by this process; its id."""
    stamp = now()
    with store.write() as conn:
        return conn.execute(schema.ingest_runs.insert().values(
            started_at=stamp, status="running", paths=json.dumps(paths),
            scorer_version=scorer_version, owner=_owner(), heartbeat_at=stamp)).inserted_primary_key[0]


def set_counts(conn: Connection, run_id: int, counts: dict[str, int]) -> None:
    """A run's counts so far (in the transaction that wrote them), and its heartbeat."""
    conn.execute(update(schema.ingest_runs).where(schema.ingest_runs.c.id == run_id)
                 .values(heartbeat_at=now(), **counts))


def interrupted(owner: str | None, heartbeat_at: str | None, at: dt.datetime | None = None) -> bool:
    """Whether a "running" run's process is gone: on this machine, its pid is not alive; on
    another, it has not written for STALE_AFTER. A run from before owners were recorded
    (no owner) counts as interrupted once stale too."""
    at = at or dt.datetime.now(dt.UTC)
    host, _, pid = (owner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # alive, another user's
        return False
    if not heartbeat_at:
        return True
    beat = dt.datetime.fromisoformat(heartbeat_at)
    return at - (beat if beat.tzinfo else beat.replace(tzinfo=dt.UTC)) > STALE_AFTER


def finish_run(store: Store, run_id: int, status: str, message: str | None = None,
               counts: dict[str, int] | None = None) -> None:
    with store.write() as conn:
        conn.execute(update(schema.ingest_runs).where(schema.ingest_runs.c.id == run_id).values(
            finished_at=now(), status=status, message=message, **(counts or {})))


def imported_file(store: Store, fingerprint: str) -> dict | None:
    """The record of a file imported whole with the same bytes and options, if any."""
    f = schema.ingest_files.c
    with store.read() as conn:
        row = conn.execute(select(f.format, f.n_read, f.n_quarantined, f.run_id, f.origin).where(
            f.fingerprint == fingerprint)).mappings().first()
    return dict(row) if row is not None else None


def quarantined(store: Store, *, run_id: int | None = None, origins: Collection[str] | None = None,
                limit: int = 200) -> tuple[list[dict], int]:
    """Quarantined rows, oldest first (id, run_id, origin, row, field, reason, raw), at most
    `limit` of them (0: only the count), and how many match: of one run, of some files
    (origins as stored), or all. A row belongs to the first run that met its problem."""
    q = schema.quarantine.c
    where = []
    if run_id is not None:
        where.append(q.run_id == run_id)
    if origins:
        where.append(q.origin.in_(sorted(set(origins))))
    stmt = select(q.id, q.run_id, q.origin, q.row, q.field, q.reason, q.raw).where(*where)
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(stmt.order_by(q.id).limit(limit)).mappings()] if limit > 0 else []
        total = conn.execute(select(func.count()).select_from(schema.quarantine).where(*where)).scalar_one()
    return rows, total


def imports_of_content(store: Store, content_digest: str) -> list[tuple[int, str, int]]:
    """(run id, options as JSON, rows not quarantined) of every import of these bytes, oldest first."""
    f = schema.ingest_files.c
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(f.run_id, f.options, f.n_read - f.n_quarantined).where(
            f.content_digest == content_digest, f.options.is_not(None)).order_by(f.run_id))]


def record_file(store: Store, row: dict) -> None:
    """Remember a file imported whole (see `schema.ingest_files`)."""
    with store.write() as conn:
        insert_ignore(conn, schema.ingest_files, [row], ["fingerprint"])


def list_runs(store: Store) -> list[dict]:
    """Every run, oldest first, with what it read and stored (rescores and removals too)."""
    r, a = schema.ingest_runs.c, schema.articles.c
    stored = select(a.run_id, func.count().label("n")).group_by(a.run_id).subquery()
    with store.read() as conn:
        rows = conn.execute(select(r.id, r.started_at, r.status, r.paths, r.n_read, r.n_added,
                                   r.n_quarantined, func.coalesce(stored.c.n, 0).label("stored"),
                                   r.owner, r.heartbeat_at)
                            .outerjoin(stored, stored.c.run_id == r.id).order_by(r.id)).mappings()
        out = []
        for row in rows:
            row = {**row, "paths": json.loads(row["paths"])}
            if row["status"] == "running" and interrupted(row.pop("owner"), row.pop("heartbeat_at")):
                row["status"] = "interrupted"  # its process is gone: `runs remove` undoes it
            else:
                row.pop("owner", None)
                row.pop("heartbeat_at", None)
            out.append(row)
        return out


def remove_run(store: Store, run_id: int) -> dict[str, int]:
    """Delete the articles a run added, its quarantine rows and its file records, in one
    transaction. An article of another run that was marked a copy of a removed one becomes
    an original (the first of them; the others point to it). Scores stay: they are keyed by
    text, and `rescore` scores any text left without one. The run is kept, marked removed."""
    r, a, q, f = schema.ingest_runs.c, schema.articles.c, schema.quarantine.c, schema.ingest_files.c
    with store.write() as conn:
        found = conn.execute(select(r.status, r.owner, r.heartbeat_at).where(r.id == run_id)).first()
        if found is None:
            raise RunError(f"no ingest run {run_id}; see: python -m tension runs list")
        status = found.status
        if status == "running" and interrupted(found.owner, found.heartbeat_at):
            status = "interrupted"  # its process is gone: marked failed below, then removed
            conn.execute(update(schema.ingest_runs).where(r.id == run_id).values(
                status="failed", finished_at=now(), message="interrupted (its process was gone)"))
        if status in ("running", "removed"):
            raise RunError(f"run {run_id} is {status}; it cannot be removed")
        ids = list(conn.execute(select(a.id).where(a.run_id == run_id)).scalars())
        promoted = _promote_copies(conn, run_id, ids)
        # copies inside the run first, then its originals (copy_of points inside the table)
        conn.execute(delete(schema.articles).where(a.run_id == run_id, a.copy_of.is_not(None)))
        conn.execute(delete(schema.articles).where(a.run_id == run_id))
        n_quarantined = conn.execute(delete(schema.quarantine).where(q.run_id == run_id)).rowcount
        conn.execute(delete(schema.ingest_files).where(f.run_id == run_id))
        conn.execute(update(schema.ingest_runs).where(r.id == run_id).values(status="removed"))
    return {"articles": len(ids), "quarantined": n_quarantined, "promoted": promoted}


def _promote_copies(conn, run_id: int, ids: list[int]) -> int:
    """Copies (in other runs) of the run's articles: the first of each becomes the original."""
    a = schema.articles.c
    if not ids:
        return 0
    copies = conn.execute(select(a.id, a.copy_of).where(in_values(conn, a.copy_of, ids),
                                                        a.run_id != run_id).order_by(a.id)).all()
    groups: dict[int, list[int]] = defaultdict(list)
    for cid, original in copies:
        groups[original].append(cid)
    for original, members in groups.items():
        first, rest = members[0], members[1:]
        signature = conn.execute(select(a.minhash).where(a.id == original)).scalar()
        conn.execute(update(schema.articles).where(a.id == first).values(
            copy_of=None, copy_kind=None, minhash=signature))
        if rest:
            conn.execute(update(schema.articles).where(in_values(conn, a.id, rest)).values(copy_of=first))
    return len(groups)
