"""Watching live sources: pull each followed source when it is due, ingest what is new, and
alert once when a pull makes the latest days a spike candidate.

A pull of an http(s) feed is a conditional request (ETag / Last-Modified); the body is
written to the data folder (`watch/<source id>/`) and ingested like any file, so items are
deduplicated by their fields (GUID and link included) and by content as ingest does, and a
re-served feed adds nothing. A folder or file source is ingested as it is (ingest skips
files it has seen). A failure is recorded with its error and backs off; the other sources go
on. Each ingest commits in batches and records a file only once it is complete, so a kill
mid-pull leaves the store consistent and the next pull finishes the job without duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tension.core.paths import data_dir
from tension.io.fetch import FetchError, fetch, post_json
from tension.pipeline.ingest import ingest
from tension.store.engine import Store
from tension.store.sources import (
    due,
    get_source,
    list_sources,
    mark_delivered,
    record_pull,
    store_webhooks,
)
from tension.watch.alerts import new_spike_alerts

Log = Callable[[str], None]


@dataclass
class PullResult:
    source: str
    added: int = 0
    read: int = 0
    unchanged: bool = False
    error: str | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.source}: error: {self.error}"
        if self.unchanged:
            return f"{self.source}: unchanged (not modified)"
        return f"{self.source}: read {self.read:,}, added {self.added:,}"


def pull(store: Store, src: dict, *, timeout: float = 20.0, batch_size: int | None = None) -> PullResult:
    """Pull one source now and record the outcome in the sources table (`batch_size`: rows per
    ingest transaction, ingest's own by default)."""
    batch = {"batch_size": batch_size} if batch_size else {}
    res = PullResult(src["name"])
    etag = last_modified = None
    try:
        location = src["location"]
        if location.startswith(("http://", "https://")):
            got = fetch(location, etag=src["etag"], last_modified=src["last_modified"], timeout=timeout)
            etag, last_modified = got.etag, got.last_modified
            if got.status == 304:
                res.unchanged = True
                record_pull(store, src["id"], added=0, error=None, etag=etag, last_modified=last_modified)
                return res
            path = _keep(src["id"], got.body)
            summary = ingest(store, [path], fmt="rss", source=src["name"], actor=src["actor"],
                             names={path: _feed_name(location)}, **batch)
        else:
            if not os.path.exists(location):
                raise FetchError(f"no such file or folder: {location}")
            summary = ingest(store, [location], source=src["name"], actor=src["actor"], **batch)
        res.added, res.read = summary.added, summary.read
        if summary.errors:
            res.error = "; ".join(summary.errors)[:500]
        elif summary.quarantined and not (summary.added or summary.already):
            # nothing good in it (a malformed body): a failure of the source, not of an item
            first = summary.problems[0] if summary.problems else {}
            res.error = (f"quarantined {summary.quarantined}, nothing read: "
                         f"{first.get('reason', 'see quarantine list')}")[:500]
    except FetchError as exc:
        res.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one source's fault must not stop the others
        res.error = f"{type(exc).__name__}: {exc}"[:500]
    record_pull(store, src["id"], added=res.added, error=res.error, etag=etag, last_modified=last_modified)
    return res


def _feed_name(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1] or "feed"
    return tail if tail.lower().endswith((".xml", ".rss", ".atom")) else tail + ".xml"


def _keep(source_id: int, body: bytes) -> str:
    """The pulled body as a file under the data folder, named by its digest (the same body
    twice is one file, which ingest then recognises)."""
    folder = data_dir() / "watch" / str(source_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha1(body).hexdigest()[:16]}.xml"  # noqa: S324 - a name, not security
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(body)
        os.replace(tmp, path)  # whole or absent: a kill cannot leave half a file under this name
    return str(path)


def pull_due(store: Store, names: Iterable[str] = (), *, force: bool = False, timeout: float = 20.0,
             webhooks: Iterable[str] = (), log: Log = print, measures: Iterable[str] = ("",)) -> list[PullResult]:
    """Pull the sources given (or every enabled one) that are due (all of them with `force`);
    then check for new spikes once and send their alerts."""
    now = dt.datetime.now(dt.UTC)
    wanted = [get_source(store, n) for n in names] if names else list_sources(store)
    results = []
    for src in wanted:
        if not (force or due(src, now)) or (not names and not src["enabled"]):
            continue
        res = pull(store, src, timeout=timeout)
        results.append(res)
        log(res.line())
    if any(r.added for r in results):
        hooks = sorted({*webhooks, *store_webhooks(store)})
        for alert in new_spike_alerts(store, measures=measures):
            delivered = {url: post_json(url, alert["payload"]) for url in hooks}
            mark_delivered(store, alert["id"], delivered)
            p = alert["payload"]
            log(f"ALERT {p['kind']} spike of {p['measure_label']} on {p['date']} (z {p['z']:+.1f}, "
                f"index {p['value']:+.3f} against {p['baseline']:+.3f})"
                + "".join(f"; {u}: {r}" for u, r in delivered.items()))
    return results


def run_watch(store: Store, names: Iterable[str] = (), *, once: bool = False, interval: int | None = None,
              webhooks: Iterable[str] = (), log: Log = print, tick: float = 5.0,
              stop: Callable[[], bool] = lambda: False, measures: Iterable[str] = ("",)) -> None:
    """Pull due sources until stopped (`once`: every source once, then return). `interval`
    overrides the sources' own for this run."""
    names = list(names)
    if once:
        pull_due(store, names, force=True, webhooks=webhooks, log=log, measures=measures)
        return
    last: dict[int, float] = {}
    while not stop():
        if interval:  # this run's own schedule
            now = time.monotonic()
            srcs = [get_source(store, n) for n in names] if names else [s for s in list_sources(store) if s["enabled"]]
            todo = [s["name"] for s in srcs if now - last.get(s["id"], -1e18) >= interval]
            if todo:
                pull_due(store, todo, force=True, webhooks=webhooks, log=log, measures=measures)
                for s in srcs:
                    if s["name"] in todo:
                        last[s["id"]] = now
        else:
            pull_due(store, names, webhooks=webhooks, log=log, measures=measures)
        for _ in range(int(tick * 10)):
            if stop():
                return
            time.sleep(0.1)

