"""Sources the store follows (`tension sources`, `tension watch`) and the alerts it has sent."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tension.core.dates import now_iso
from tension.store import schema
from tension.store.engine import Store

MIN_INTERVAL = 60  # seconds: a feed pulled more often than this is not watched, it is hammered
MAX_BACKOFF = 6 * 3600  # a failing source is retried at least this often
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


class SourceError(ValueError):
    """A source that cannot be added or found (the message says why)."""


def parse_interval(text: str | int) -> int:
    """'15m', '1h', '90s', '2d' or a number of seconds → seconds (at least MIN_INTERVAL)."""
    m = _DURATION.match(str(text))
    if not m:
        raise SourceError(f"an interval is a number with s, m, h or d (15m, 1h), not {text!r}")
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if seconds < MIN_INTERVAL:
        raise SourceError(f"an interval must be at least {MIN_INTERVAL} s, not {text!r}")
    return seconds


def add_source(store: Store, location: str, *, name: str | None = None, actor: str | None = None,
               interval_s: int = 900) -> dict:
    """Follow a feed URL, folder or file; its name defaults to the location."""
    location = location.strip()
    if not location:
        raise SourceError("a source needs a feed URL, a folder or a file")
    name = (name or location).strip()
    try:
        with store.write() as conn:
            conn.execute(schema.sources.insert().values(
                name=name, location=location, actor=actor, interval_s=interval_s, enabled=1,
                last_added=0, total_added=0, failures=0, created_at=now_iso()))
    except IntegrityError:
        raise SourceError(f"there is already a source named {name!r}") from None
    return get_source(store, name)


def list_sources(store: Store) -> list[dict]:
    s = schema.sources.c
    with store.read() as conn:
        return [dict(r) for r in conn.execute(select(schema.sources).order_by(s.id)).mappings()]


def get_source(store: Store, ref: str | int) -> dict:
    """A source by id or name; SourceError if there is none."""
    s = schema.sources.c
    cond = s.id == int(ref) if str(ref).isdigit() else s.name == str(ref)
    with store.read() as conn:
        row = conn.execute(select(schema.sources).where(cond)).mappings().first()
    if row is None:
        raise SourceError(f"no source {ref!r}; `tension sources list` shows them")
    return dict(row)


def remove_source(store: Store, ref: str | int) -> dict:
    src = get_source(store, ref)
    with store.write() as conn:
        conn.execute(schema.sources.delete().where(schema.sources.c.id == src["id"]))
    return src


def set_enabled(store: Store, ref: str | int, enabled: bool) -> dict:
    src = get_source(store, ref)
    with store.write() as conn:
        conn.execute(schema.sources.update().where(schema.sources.c.id == src["id"])
                     .values(enabled=int(enabled), next_pull_at=None, failures=0 if enabled else src["failures"]))
    return get_source(store, src["id"])


def record_pull(store: Store, source_id: int, *, added: int, error: str | None,
                etag: str | None = None, last_modified: str | None = None,
                now: dt.datetime | None = None) -> dict:
    """Note a pull's outcome; a failure backs off (interval × 2^failures, at most MAX_BACKOFF)."""
    now = now or dt.datetime.now(dt.UTC)
    src = get_source(store, source_id)
    failures = src["failures"] + 1 if error else 0
    wait = src["interval_s"] if not error else min(MAX_BACKOFF, max(60, src["interval_s"]) * 2 ** (failures - 1))
    values = {"last_pull_at": now.isoformat(timespec="seconds"), "last_error": error, "failures": failures,
              "next_pull_at": (now + dt.timedelta(seconds=wait)).isoformat(timespec="seconds")}
    if not error:
        values.update(last_ok_at=values["last_pull_at"], last_added=added,
                      total_added=src["total_added"] + added)
        if etag is not None or last_modified is not None:
            values.update(etag=etag, last_modified=last_modified)
    with store.write() as conn:
        conn.execute(schema.sources.update().where(schema.sources.c.id == source_id).values(**values))
    return get_source(store, source_id)


def due(src: dict, now: dt.datetime) -> bool:
    """Whether an enabled source should be pulled now."""
    if not src["enabled"]:
        return False
    nxt = src["next_pull_at"]
    return nxt is None or dt.datetime.fromisoformat(nxt) <= now


# ---------------------------------------------------------------------------- alerts
def claim_alert(store: Store, *, measure: str, kind: str, start: dt.date, peak: dt.date,
                payload: dict) -> int | None:
    """Record an alert for this spike unless one exists: its id, or None when it was sent
    before (by this process, an earlier one, or another watcher)."""
    try:
        with store.write() as conn:
            return conn.execute(schema.alerts.insert().values(
                measure=measure, kind=kind, start_date=start, peak_date=peak,
                payload=json.dumps(payload, sort_keys=True, default=str), created_at=now_iso())
            ).inserted_primary_key[0]
    except IntegrityError:
        return None


def mark_delivered(store: Store, alert_id: int, delivered: dict[str, str]) -> None:
    with store.write() as conn:
        conn.execute(schema.alerts.update().where(schema.alerts.c.id == alert_id)
                     .values(delivered=json.dumps(delivered, sort_keys=True)))


def list_alerts(store: Store, *, include_dismissed: bool = True, limit: int = 50) -> list[dict]:
    a = schema.alerts.c
    q = select(schema.alerts).order_by(a.id.desc()).limit(limit)
    if not include_dismissed:
        q = q.where(a.dismissed_at.is_(None))
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        r["payload"] = json.loads(r["payload"])
        r["delivered"] = json.loads(r["delivered"]) if r["delivered"] else {}
    return rows


def dismiss_alert(store: Store, alert_id: int) -> None:
    with store.write() as conn:
        conn.execute(schema.alerts.update().where(schema.alerts.c.id == alert_id).values(dismissed_at=now_iso()))


WEBHOOKS = "webhooks"  # setting: JSON list of URLs every alert is also posted to


def store_webhooks(store: Store) -> list[str]:
    text = store.setting(WEBHOOKS)
    return json.loads(text) if text else []


def set_webhooks(store: Store, urls: list[str]) -> None:
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"a webhook is an http(s) URL, not {url!r}")
    store.set_setting(WEBHOOKS, json.dumps(sorted(set(urls))) if urls else None)
