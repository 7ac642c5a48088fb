"""The Sources panel and the alert banner as plain functions on a real SQLite store, and the
chart's live edge."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from dash import html

from tension.dashboard.figures import index_figure, live_edge
from tension.dashboard.panels.watch import act, add_from_page, alert_banner, sources_table
from tension.dashboard.service import Service
from tension.store.engine import Store
from tension.store.sources import claim_alert, list_alerts, list_sources, record_pull


def texts(component) -> str:
    out = []

    def walk(c) -> None:
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)

    walk(component)
    return " ".join(out)


def test_sources_panel_adds_lists_toggles_and_removes(tmp_path: Path) -> None:
    service = Service(Store(f"sqlite:///{tmp_path / 't.db'}"))
    assert "Not added" in add_from_page(service, "", None, "15m")
    assert "Not added" in add_from_page(service, "http://127.0.0.1:9/feed.xml", "<b>wire</b>", "10s")
    assert "Following" in add_from_page(service, "http://127.0.0.1:9/feed.xml", "<b>wire</b>", "30m")
    src = list_sources(service.store)[0]
    assert src["interval_s"] == 1800
    record_pull(service.store, src["id"], added=0, error="HTTP 500 Internal Server Error")
    table = sources_table(service)
    shown = texts(table)
    assert "<b>wire</b>" in shown and "HTTP 500" in shown  # as text, never markup
    assert "disabled" in act(service, "disable", src["id"])
    assert list_sources(service.store)[0]["enabled"] == 0
    assert "enabled" in act(service, "enable", src["id"])
    assert "Stopped following" in act(service, "remove", src["id"])
    assert isinstance(sources_table(service), html.P)


def test_alert_banner_names_the_spike_and_links_to_its_evidence(tmp_path: Path) -> None:
    service = Service(Store(f"sqlite:///{tmp_path / 't.db'}"))
    assert alert_banner(service) == []
    payload = {"date": "2026-10-31", "kind": "hostility", "z": 5.2, "value": 0.61, "baseline": 0.02,
               "n_articles": 6, "measure_label": "the headline index",
               "link": "/?from=2026-10-31&to=2026-10-31#evidence-panel"}
    alert_id = claim_alert(service.store, measure="", kind="hostility", start=dt.date(2026, 10, 31),
                           peak=dt.date(2026, 10, 31), payload=payload)
    banner = alert_banner(service)
    assert "hostility spike" in texts(banner) and "2026-10-31" in texts(banner)
    link = banner[0].children[-3]
    assert link.href == payload["link"]
    from tension.store.sources import dismiss_alert

    dismiss_alert(service.store, alert_id)
    assert alert_banner(service) == [] and len(list_alerts(service.store)) == 1


def test_the_live_edge_is_marked_only_when_the_view_reaches_today() -> None:
    days = pd.date_range("2026-12-01", "2026-12-05")
    table = pd.DataFrame({"date": days, "tension": 0.1, "tension_smoothed": 0.1, "ci_low": 0.0, "ci_high": 0.2,
                          "hostility": 0.2, "conciliation": 0.1, "n_articles": 3})
    assert live_edge(table, dt.date(2026, 12, 9)) is None
    shape, note = live_edge(table, dt.date(2026, 12, 5))
    assert shape["x0"].startswith("2026-12-05") and note["text"] == "today (partial)"
    fig = index_figure(table, today=dt.date(2026, 12, 5))
    assert any(s.get("name") == "live-edge" for s in fig["layout"]["shapes"])
    assert not any(s.get("name") == "live-edge" for s in index_figure(table)["layout"]["shapes"])


def test_an_alert_link_chooses_its_day() -> None:
    from tension.dashboard.panels.watch import day_from_search
    from tension.watch.alerts import _link

    link = _link(pd.Timestamp("2026-10-31"), "PRK-USA")
    assert link == "/?from=2026-08-02&to=2026-10-31&day=2026-10-31&dyad=PRK-USA#evidence-panel"
    assert day_from_search(link.split("#")[0].split("?", 1)[1]) == {"start": "2026-10-31", "end": "2026-10-31"}
    assert day_from_search("?day=9999-01-01") is None and day_from_search("") is None
