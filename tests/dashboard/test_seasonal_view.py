"""The seasonally adjusted view (the default) on a store of six years, as plain functions on
a small real SQLite store: the chart shows each day minus its seasonal component and says
so, and a day's evidence shows the component beside the mean, so the numbers add up.

Every third day of 2001-2006 has two KCNA headlines: one neutral, and one hostile at the
United States in March (the source's spring campaign, every year) or conciliatory with
South Korea every ninth day otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from _dash import text_of
from _stores import copy_db, headline_store

from tension.dashboard.panels import chart, evidence
from tension.dashboard.service import Service
from tension.dashboard.view import parse_query
from tension.store.engine import Store

DAYS = pd.date_range("2001-01-01", "2006-12-31", freq="3D")
HOSTILE = "DPRK slams U.S. warmongers' provocation {n}"
FRIENDLY = "DPRK and south Korea agree to resume talks and reconciliation {n}"
NEUTRAL = "Farmers harvest rice in province {n}"


def corpus_rows() -> list[tuple[str, str]]:
    rows = []
    for i, d in enumerate(DAYS):
        rows.append((d.date().isoformat(), NEUTRAL.format(n=i)))
        if d.month == 3:
            rows.append((d.date().isoformat(), HOSTILE.format(n=i)))
        elif i % 3 == 0:
            rows.append((d.date().isoformat(), FRIENDLY.format(n=i)))
    return rows


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return headline_store(tmp_path_factory.mktemp("seasonal-store"), corpus_rows())


@pytest.fixture
def service(template_db: Path, tmp_path: Path) -> Service:
    store = Store(f"sqlite:///{copy_db(template_db, tmp_path / 'tension.db')}")
    yield Service(store)
    store.dispose()


def daily(fig: dict) -> dict[str, float]:
    t = next(t for t in fig["data"] if t["name"] == "daily index")
    days = pd.date_range(t["x0"], periods=len(t["y"])) if "x0" in t else pd.DatetimeIndex(t["x"])
    return {d.strftime("%Y-%m-%d"): y for d, y in zip(days, t["y"], strict=True) if y is not None}


def test_the_default_view_takes_the_calendar_out_and_says_so(service: Service) -> None:
    fig, status, _ = chart.render_view(service, parse_query("?from=2006-01-01&to=2006-12-31"))
    raw, raw_status, _ = chart.render_view(service, parse_query("?from=2006-01-01&to=2006-12-31&norm=raw"))
    said = text_of(status)
    assert ("Seasonally adjusted: each day minus how far the days within 7 of the same date lie from "
            "their year's mean in the other years of all days (the source's calendar; the level stays).") in said
    assert "seasonally" not in text_of(raw_status).lower()
    assert fig["layout"]["yaxis"]["title"]["text"] == "tension, seasonally adjusted against all days"
    adjusted, scored = daily(fig), daily(raw)
    assert adjusted.keys() == scored.keys()
    # every March is hostile: the other years' March lies above their mean, so March 2006 reads
    # lower adjusted than as scored, and the rest of the year a little higher
    march = [d for d in adjusted if d.startswith("2006-03-1")]
    assert march and all(adjusted[d] < scored[d] - 0.05 for d in march)
    assert sum(adjusted.values()) / len(adjusted) == pytest.approx(sum(scored.values()) / len(scored), abs=0.02)


def test_a_days_evidence_adds_up_to_the_adjusted_value(service: Service) -> None:
    fig, _, _ = chart.render_view(service, parse_query("?from=2006-01-01&to=2006-12-31"))
    adjusted = daily(fig)
    first = next(d for d in adjusted if d.startswith("2006-03"))  # the campaign's first day
    out = text_of(evidence.evidence_panel(service, parse_query("?from=2006-01-01&to=2006-12-31"),
                                          {"start": first, "end": first}))
    head = re.search(r"mean tension ([+-][\d.]+); seasonally adjusted: ([+-][\d.]+) "
                     r"\(the usual part of this time of year, ([+-][\d.]+), taken out\)", out)
    assert head, out[:400]
    mean, shown, part = (float(g) for g in head.groups())
    assert shown == pytest.approx(adjusted[first], abs=6e-4) and shown == pytest.approx(mean - part, abs=1.5e-3)
    # against the 28 days before: the words' change and the time of year's part add up
    change = re.search(r"\): ([+-][\d.]+); seasonally adjusted ([+-][\d.]+)\.", out)
    term = re.search(r"([+-][\d.]+) the time of year", out)
    assert change and term, out[:600]
    raw_delta, adj_delta = float(change.group(1)), float(change.group(2))
    assert adj_delta == pytest.approx(raw_delta + float(term.group(1)), abs=1.5e-3)
    # the raw view shows the day as scored, with no time-of-year term
    raw = text_of(evidence.evidence_panel(service, parse_query("?norm=raw"), {"start": first, "end": first}))
    assert "the time of year" not in raw and "seasonally" not in raw


def test_the_time_of_year_does_not_hide_why_no_word_is_listed(service: Service,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A range too large to rescore lists no word; the time of year's term is listed, and the
    reason for the missing words still shows."""
    real = service.day

    def without_terms(*args: object, **kwargs: object) -> dict:
        data = real(*args, **kwargs)
        data["explain"] = {**data["explain"], "terms": [], "terms_unavailable": "choose a shorter range"}
        return data

    monkeypatch.setattr(service, "day", without_terms)
    out = text_of(evidence.evidence_panel(service, parse_query(""), {"start": "2006-03-01", "end": "2006-03-10"}))
    assert "the time of year" in out and "Not listed: choose a shorter range." in out
