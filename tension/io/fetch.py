"""Fetching a feed over HTTP for `tension watch`: conditional requests (ETag, Last-Modified),
a time limit for the whole answer and a size limit, so that a slow or endless body cannot
hold the watcher; and posting an alert as JSON to a webhook."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

USER_AGENT = "tension-index-watch/1"
TIMEOUT = 20.0  # seconds for the whole answer, not per read
MAX_BYTES = 32 * 1024 * 1024
CHUNK = 64 * 1024


class FetchError(Exception):
    """A pull that failed; the message is what the sources table records."""


@dataclass
class Fetched:
    status: int  # 200, or 304 when the feed has not changed
    body: bytes
    etag: str | None
    last_modified: str | None


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None,
          timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET a feed; FetchError for an error status, a network error, a timeout or a body over
    `max_bytes`."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"not an http(s) URL: {url!r}")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {timeout:g} s (the body kept coming)")
                chunk = r.read1(CHUNK)  # what has arrived: a drip cannot outlast the deadline
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"the body is over {max_bytes:,} bytes: not read further")
                chunks.append(chunk)
            return Fetched(r.status, b"".join(chunks), r.headers.get("ETag"), r.headers.get("Last-Modified"))
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(304, b"", etag, last_modified)
        raise FetchError(f"HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except urllib.error.URLError as exc:
        raise FetchError(f"cannot reach {url}: {exc.reason}") from None
    except OSError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None


def post_json(url: str, payload: dict, timeout: float = 10.0) -> str:
    """POST `payload` as JSON; "ok" or what went wrong (an alert is never lost to an exception:
    the alerts table keeps it either way)."""
    data = json.dumps(payload, default=str).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return "ok" if 200 <= r.status < 300 else f"HTTP {r.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
