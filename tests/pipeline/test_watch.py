"""Watching sources against real local servers: an HTTP server on 127.0.0.1 serving feeds that
change between pulls (new items, repeated items, an error status, a malformed body, a slow or
endless answer) and a webhook receiver that records what it gets."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tension.cli import main
from tension.store.engine import Store
from tension.store.sources import add_source, get_source, list_alerts, list_sources, set_webhooks
from tension.watch import pull_due, run_watch


def rss(items: list[tuple[str, str, dt.date]]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>http://example.org/{guid}</link>"
        f"<pubDate>{format_datetime(dt.datetime.combine(day, dt.time(9), dt.UTC))}</pubDate></item>"
        for guid, title, day in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title>{body}'
            "</channel></rss>").encode()


class Feeds:
    """What each path answers: (status, body, headers) or a callable(handler) that answers."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, dict]] = []
        self.posts: list[dict] = []


@pytest.fixture
def server() -> Iterator[tuple[Feeds, str]]:
    feeds = Feeds()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_a) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            feeds.requests.append((self.path, dict(self.headers)))
            route = feeds.routes.get(self.path)
            if callable(route):
                route(self)
                return
            if route is None:
                self.send_error(404)
                return
            status, body, headers = route
            etag = headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            n = int(self.headers.get("Content-Length", 0))
            feeds.posts.append(json.loads(self.rfile.read(n)))
            self.send_response(204)
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield feeds, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def store(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TENSION_DATA", str(tmp_path / "data"))
    s = Store(db_url)
    yield s
    s.dispose()


D = dt.date(2026, 11, 2)
QUIET = [(f"q{i}", f"Textile mill number {i} exceeds its plan", D) for i in range(3)]


def test_a_second_pull_adds_only_the_new_item(server, store: Store) -> None:
    feeds, base = server
    feeds.routes["/feed.xml"] = (200, rss(QUIET), {})
    add_source(store, f"{base}/feed.xml", name="wire", actor="PRK")
    first = pull_due(store, force=True, log=lambda _m: None)
    assert first[0].added == 3 and first[0].error is None
    # the feed gains two items, one a duplicate of a stored one (same guid, title, link, date)
    feeds.routes["/feed.xml"] = (200, rss([*QUIET, ("n1", "Farmers harvest early rice", D), QUIET[0]]), {})
    second = pull_due(store, force=True, log=lambda _m: None)
    assert second[0].added == 1, second[0].line()
    assert store.counts()["articles"] == 4
    src = get_source(store, "wire")
    assert src["total_added"] == 4 and src["last_added"] == 1 and src["last_error"] is None


def test_the_feed_is_asked_conditionally_and_a_304_adds_nothing(server, store: Store) -> None:
    feeds, base = server
    feeds.routes["/feed.xml"] = (200, rss(QUIET), {"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 09:00:00 GMT"})
    add_source(store, f"{base}/feed.xml", name="wire")
    pull_due(store, force=True, log=lambda _m: None)
    again = pull_due(store, force=True, log=lambda _m: None)
    assert again[0].unchanged and again[0].added == 0
    assert feeds.requests[-1][1].get("If-None-Match") == '"v1"'
    assert feeds.requests[-1][1].get("If-Modified-Since") == "Mon, 02 Nov 2026 09:00:00 GMT"
    assert store.counts()["articles"] == 3


def slow(handler: http.server.BaseHTTPRequestHandler) -> None:
    time.sleep(3)
    handler.send_response(200)
    handler.end_headers()


def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    try:
        handler.wfile.write(b'<?xml version="1.0"?><rss><channel>')
        for _ in range(200):
            handler.wfile.write(b"<item><title>x</title></item>" * 20)
            handler.wfile.flush()
            time.sleep(0.02)
    except OSError:
        pass  # the watcher hung up, as it should


@pytest.mark.parametrize(("route", "message"), [
    ((404, b"no", {}), "HTTP 404"),
    ((500, b"oops", {}), "HTTP 500"),
    ((200, b"<rss><channel><item><title>broken", {}), "nothing read"),
    (slow, "timed out"),
    (endless, "timed out"),
])
def test_a_faulty_feed_is_logged_retried_later_and_the_others_go_on(server, store: Store, route, message) -> None:
    feeds, base = server
    feeds.routes["/bad.xml"] = route
    feeds.routes["/good.xml"] = (200, rss(QUIET), {})
    add_source(store, f"{base}/bad.xml", name="bad", interval_s=600)
    add_source(store, f"{base}/good.xml", name="good")
    lines: list[str] = []
    t0 = time.monotonic()
    results = pull_due(store, force=True, log=lines.append, timeout=1.0) if route in (slow, endless) else \
        pull_due(store, force=True, log=lines.append)
    assert time.monotonic() - t0 < 15
    bad = next(r for r in results if r.source == "bad")
    assert bad.error and message.lower() in bad.error.lower(), bad.error
    assert next(r for r in results if r.source == "good").added == 3  # the others go on
    src = get_source(store, "bad")
    assert src["last_error"] == bad.error and src["failures"] == 1
    nxt = dt.datetime.fromisoformat(src["next_pull_at"])
    assert nxt > dt.datetime.now(dt.UTC)  # backed off: not due again at once
    assert any("bad: error" in line for line in lines)
    # a second failure doubles the wait
    pull_due(store, ["bad"], force=True, log=lines.append, timeout=1.0)
    again = get_source(store, "bad")
    assert again["failures"] == 2
    waited = dt.datetime.fromisoformat(again["next_pull_at"]) - dt.datetime.fromisoformat(again["last_pull_at"])
    assert waited.total_seconds() == 1200


def test_a_kill_mid_pull_loses_nothing_and_the_next_pull_finishes_without_duplicates(server, store: Store,
                                                                                       monkeypatch) -> None:
    feeds, base = server
    items = [(f"k{i}", f"Item {i} about the harvest", D) for i in range(30)]
    feeds.routes["/feed.xml"] = (200, rss(items), {})
    add_source(store, f"{base}/feed.xml", name="wire")
    from tension.pipeline.ingest import run as ingest_run

    real = ingest_run.write_batch
    calls = {"n": 0}

    def dying(*a, **kw):  # the process dies after the first batch of 10 was committed
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(ingest_run, "write_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        from tension.watch import pull

        pull(store, get_source(store, "wire"), batch_size=10)
    kept = store.counts()["articles"]
    assert kept < 30 and kept % 10 == 0  # whole batches or nothing (ingest commits in windows)
    assert store.integrity_check() == []
    monkeypatch.setattr(ingest_run, "write_batch", real)
    res = pull_due(store, force=True, log=lambda _m: None)
    assert res[0].error is None
    assert store.counts()["articles"] == 30  # finished, no duplicates


def test_watch_once_cli_twice(server, store: Store) -> None:
    feeds, base = server
    feeds.routes["/feed.xml"] = (200, rss(QUIET), {})
    runner = CliRunner()
    res = runner.invoke(main, ["sources", "add", f"{base}/feed.xml", "--name", "wire", "--interval", "15m",
                               "--actor", "prk", "--db", store.url])
    assert res.exit_code == 0, res.output
    # an unknown actor in --alert-on is refused before anything is pulled (it was after a pull)
    res = runner.invoke(main, ["watch", "--once", "--alert-on", "XXX-USA", "--db", store.url])
    assert res.exit_code == 2 and "unknown actor 'XXX'" in res.output and store.counts()["articles"] == 0
    res = runner.invoke(main, ["watch", "--once", "--db", store.url])
    assert res.exit_code == 0 and "wire: read 3, added 3" in res.output, res.output
    feeds.routes["/feed.xml"] = (200, rss([*QUIET, ("n1", "Farmers harvest early rice", D), QUIET[1]]), {})
    res = runner.invoke(main, ["watch", "--once", "--db", store.url])
    assert "added 1" in res.output, res.output
    res = runner.invoke(main, ["sources", "list", "--db", store.url])
    assert "wire  speaks for PRK" in res.output and "total 4" in res.output
    assert runner.invoke(main, ["sources", "disable", "wire", "--db", store.url]).exit_code == 0
    assert list_sources(store)[0]["enabled"] == 0
    assert runner.invoke(main, ["sources", "enable", "1", "--db", store.url]).exit_code == 0
    res = runner.invoke(main, ["sources", "add", "x", "--interval", "5s", "--db", store.url])
    assert res.exit_code == 2 and "at least 60" in res.output
    assert runner.invoke(main, ["sources", "remove", "wire", "--db", store.url]).exit_code == 0
    assert list_sources(store) == []


HOSTILE = ["DPRK warns U.S. warmongers of merciless nuclear strike", "U.S. imperialists' war drills denounced",
           "South Korean puppets' provocation will be smashed", "Japan's hostile sanctions condemned",
           "U.S. threat of war condemned", "Seoul's puppets warned against reckless provocation"]


@pytest.mark.slow
def test_thirty_quiet_days_then_a_hostile_burst_alert_exactly_once(server, store: Store) -> None:
    feeds, base = server
    start = dt.date(2026, 10, 1)
    quiet = [(f"d{d}-{i}", f"Farmers of county {i} harvest rice on day {d}", start + dt.timedelta(days=d))
             for d in range(30) for i in range(4)]
    feeds.routes["/feed.xml"] = (200, rss(quiet), {})
    set_webhooks(store, [f"{base}/stored-hook"])
    add_source(store, f"{base}/feed.xml", name="wire", actor="PRK")
    pull_due(store, force=True, webhooks=[f"{base}/hook"], log=lambda _m: None)
    assert feeds.posts == []  # quiet: nothing to say
    burst_day = start + dt.timedelta(days=30)
    burst = [(f"b{i}", t, burst_day) for i, t in enumerate(HOSTILE)]
    feeds.routes["/feed.xml"] = (200, rss(quiet + burst), {})
    lines: list[str] = []
    pull_due(store, force=True, webhooks=[f"{base}/hook"], log=lines.append)
    assert len(feeds.posts) == 2  # the --alert-webhook and the store's webhook, once each
    alert = feeds.posts[0]
    assert alert == feeds.posts[1]
    assert alert["date"] == burst_day.isoformat() and alert["kind"] == "hostility"
    assert alert["z"] >= 3.5 and alert["value"] > alert["baseline"]
    assert {e["title"] for e in alert["evidence"]} <= set(HOSTILE) and alert["evidence"]
    assert all(e["sentences"] for e in alert["evidence"])
    assert any(line.startswith("ALERT hostility spike") for line in lines)
    # the same spike does not alert twice: another pull with one more item, a new process
    feeds.routes["/feed.xml"] = (200, rss(quiet + burst + [("b9", "U.S. warmongers warned again", burst_day)]), {})
    pull_due(store, force=True, webhooks=[f"{base}/hook"], log=lambda _m: None)
    restarted = Store(store.url)
    run_watch(restarted, once=True, webhooks=[f"{base}/hook"], log=lambda _m: None)
    restarted.dispose()
    assert len(feeds.posts) == 2
    assert len(list_alerts(store)) == 1
    # the headline and `--alert-on intensity` are one series: no second alert for the spike
    from tension.watch.alerts import new_spike_alerts

    assert new_spike_alerts(store, ("", "intensity")) == []
