"""The dashboard's callbacks as plain functions (no browser), on a small real SQLite store.

The store holds ~60 days of made-up headlines whose scores are obvious: neutral days,
a few hostile or conciliatory articles, one day of nothing but threats (a hostility
spike), one day of nothing but talks (a conciliation dip), three days without any
article (gaps, not zeros), and one headline carrying a <script> tag. It is built once
per module and copied (SQLite backup) for every test, so each test starts pristine.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html as html_lib
import itertools
import re
import string
import time
from pathlib import Path

import pandas as pd
import pytest
from _dash import text_of, walk
from _stores import copy_db
from dash import html, no_update
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.scorers import scorer_for
from tension.dashboard import figures
from tension.dashboard.figures import (
    BLUE,
    DEFAULT_LAYERS,
    LAYERS,
    MANY_PERIODS,
    RED,
    chosen_shape,
    index_figure,
)
from tension.dashboard.panels import annotations as ann_panel
from tension.dashboard.panels import chart, evidence, files
from tension.dashboard.panels import controls as ctl
from tension.dashboard.service import Service
from tension.dashboard.uploads import Uploads
from tension.dashboard.view import DEFAULTS, parse_query, to_params, to_query, url_notes
from tension.pipeline.events import import_events
from tension.pipeline.ingest import ingest
from tension.reports.export import build_export
from tension.store import annotations as ann
from tension.store.engine import Store
from tension.store.queries import known_categories

START = dt.date(2020, 1, 1)
N_DAYS = 60
EMPTY_OFFSETS = (10, 11, 25)  # 2020-01-11, 2020-01-12, 2020-01-26: no articles at all
SPIKE_OFFSET, DIP_OFFSET = 45, 52  # 2020-02-15: only threats; 2020-02-22: only talks
SCRIPT_OFFSET = 20  # 2020-01-21 carries the <script> headline
SPIKE_DAY = (START + dt.timedelta(days=SPIKE_OFFSET)).isoformat()
DIP_DAY = (START + dt.timedelta(days=DIP_OFFSET)).isoformat()
SCRIPT_DAY = (START + dt.timedelta(days=SCRIPT_OFFSET)).isoformat()
SCRIPT_TITLE = "<script>window.__pwned=1</script> DPRK army threatens war on U.S."

# Each hostile or conciliatory title names the other side of a conflict dyad: the headline is
# the conflict intensity (what KCNA and Rodong aim across PRK-USA, PRK-KOR).
NEUTRAL = ["Farmers harvest rice in province {n}", "Factory workers increase output at plant {n}",
           "Students tour museum number {n}", "New apartment houses built in district {n}"]
HOSTILE = ["DPRK threatens nuclear war and merciless retaliation against US aggression {n}",
           "Army warns of fire and fury against U.S. warmongers {n}",
           "KPA vows to crush south Korean puppet provocations in sector {n}",
           "Spokesman condemns U.S. hostile sanctions racket {n}"]
CONCILIATORY = ["Leaders agree to resume talks with south Korea and sign peace agreement {n}",
                "Foreign minister welcomes summit and cooperation with south Korea {n}",
                "Delegations hold friendly talks with south Korea on reconciliation {n}"]


def day(offset: int) -> str:
    return (START + dt.timedelta(days=offset)).isoformat()


def corpus_rows() -> list[tuple[str, str]]:
    """(date, title) rows: see the module docstring."""
    rows = []
    for i in range(N_DAYS):
        d = day(i)
        if i in EMPTY_OFFSETS:
            continue
        if i == SPIKE_OFFSET:
            rows += [(d, t.format(n=k)) for k, t in enumerate(HOSTILE)]
            continue
        if i == DIP_OFFSET:
            rows += [(d, t.format(n=k)) for k, t in enumerate(CONCILIATORY)]
            continue
        rows += [(d, NEUTRAL[(i + k) % 4].format(n=f"{i}-{k}")) for k in range(3)]
        if i % 9 == 0:
            rows.append((d, HOSTILE[i % 4].format(n=i)))
        if i % 13 == 0:
            rows.append((d, CONCILIATORY[i % 3].format(n=i)))
        if i == SCRIPT_OFFSET:
            rows.append((d, SCRIPT_TITLE))
    return rows


def write_corpus(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "source", "title", "text", "url"])
        for n, (d, title) in enumerate(corpus_rows()):
            w.writerow([d, "KCNA" if n % 2 else "Rodong", title, "", f"http://example.org/{n}"])
    return path


EVENTS_CSV = ("date,label,category\n"
              f"{day(5)},Missile launch: Scud,missile_test\n"
              f"{day(40)},<b>Nuclear</b> test <script>alert(1)</script>,nuclear_test\n")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus and two reference events, ingested once."""
    base = tmp_path_factory.mktemp("callbacks-store")
    db = base / "template.db"
    store = Store(f"sqlite:///{db}")
    summary = ingest(store, [str(write_corpus(base / "articles.csv"))])
    assert summary.quarantined == 0 and summary.added == len(corpus_rows())
    (base / "events.csv").write_text(EVENTS_CSV, encoding="utf-8")
    assert import_events(store, base / "events.csv").added == 2
    store.dispose()
    return db


@pytest.fixture
def service(template_db: Path, tmp_path: Path) -> Service:
    """A pristine copy of the template store for one test."""
    store = Store(f"sqlite:///{copy_db(template_db, tmp_path / 'tension.db')}")
    yield Service(store)
    store.dispose()


def view(search: str = "") -> dict:
    return parse_query(search)


def trace(fig: dict, name: str) -> dict:
    found = [t for t in fig["data"] if t["name"] == name]
    assert len(found) == 1, f"expected one trace named {name!r}, got {[t['name'] for t in fig['data']]}"
    return found[0]


def corpus_store(tmp_path: Path) -> str:
    """A store of the made-up corpus in `tmp_path` (browser tests start their own server on it)."""
    url = f"sqlite:///{tmp_path / 'tension.db'}"
    store = Store(url)
    assert ingest(store, [str(write_corpus(tmp_path / "articles.csv"))]).quarantined == 0
    store.dispose()
    return url


def names(fig: dict) -> list[str]:
    return [t["name"] for t in fig["data"]]


# =========================================================================== sync_view / URL
def test_sync_view_url_sets_controls_and_leaves_url_alone() -> None:
    search = ("?from=2020-01-05&to=2020-02-01&source=KCNA&category=threats&category=nosuch&freq=W&smooth=14"
              "&norm=zscore&q=Seoul%7CSouth+Korea&layers=points,counts&center=1&base_from=2019-01-01"
              "&base_to=2019-12-31&dyad=prk-usa&compare=conflict")
    lexicon = ["threats", "talks_dialogue"]  # the store lexicon's categories: "nosuch" is dropped
    n = len(ctl.CONTROL_IDS)
    controls, new_search = ctl.sync_view("url", search, [None] * n, lexicon)
    assert controls == ["2020-01-05", "2020-02-01", ["KCNA"], ["threats"], "W", 14, "zscore",
                        "Seoul|South Korea", ["points", "counts"], [ctl.CENTRED], "2019-01-01", "2019-12-31",
                        "PRK-USA", "conflict"]
    assert new_search is no_update
    # the initial call (nothing triggered yet) reads the URL the same way
    assert ctl.sync_view(None, search, [None] * n, lexicon)[0] == controls
    # and the controls write the same view back to the URL
    assert parse_query(ctl.sync_view("center", "", controls)[1], lexicon) == parse_query(search, lexicon)


def test_smoothing_is_a_duration_the_same_in_every_period() -> None:
    """Smoothing counted periods: a 7-day mean became a 7-month mean in the month view, whose
    peak lagged March 2013 by 3-4 months. It is days now, spanning whole periods."""
    from tension.dashboard.view import smooth_label, smooth_periods

    assert [smooth_periods(7, f) for f in ("D", "W", "M")] == [7, 1, 1]
    assert [smooth_periods(91, f) for f in ("D", "W", "M")] == [91, 13, 3]
    _, opts = to_params(parse_query("?freq=M&smooth=7"))
    assert opts.smooth == 1
    _, opts = to_params(parse_query("?freq=M&smooth=91&center=1"))
    assert (opts.smooth, opts.center) == (3, True)
    assert smooth_label(91, "M", True) == "3-month centred mean (≈91 days)"
    assert smooth_label(7, "D") == "7-day trailing mean"
    assert smooth_label(7, "M") == "no smoothing (7 days is under a month)"


def test_the_base_period_is_on_the_page_and_on_the_axis(service: Service) -> None:
    """The z-score's base was whatever dates were shown, with no control: the same month read
    differently in three views. The base is now every day unless chosen, and the axis says so."""
    fig, status, _ = chart.render_view(service, view(f"?norm=zscore&from={day(10)}&to={day(30)}"))
    assert fig["layout"]["yaxis"]["title"]["text"] == "tension, z-score vs all days"
    assert "Rescaled against all days." in text_of(status)
    # a day reads the same in the whole view and in a narrow one
    whole = trace(chart.render_view(service, view("?norm=zscore"))[0], "daily index")
    part = trace(fig, "daily index")
    by_day = dict(zip(pd.date_range(whole["x0"], periods=len(whole["y"])).strftime("%Y-%m-%d"),
                      whole["y"], strict=True))
    shown = dict(zip(pd.date_range(part["x0"], periods=len(part["y"])).strftime("%Y-%m-%d"), part["y"], strict=True))
    assert part["x0"] == day(10) and any(v is not None for v in shown.values())
    assert all(by_day[d] == v for d, v in shown.items())
    chosen, _, _ = chart.render_view(service, view(f"?norm=base100&base_from={day(0)}&base_to={day(9)}"))
    assert chosen["layout"]["yaxis"]["title"]["text"] == f"tension, 100 = mean of {day(0)} to {day(9)}"
    # seasonally adjusted (the default): this store's articles lie within one year, so no day
    # has other years to compare with: the values are as scored, and the status and axis say so
    fig, status, _ = chart.render_view(service, view("?norm=seasonal"))
    raw, _, _ = chart.render_view(service, view("?norm=raw"))
    assert fig["layout"]["yaxis"]["title"]["text"] == "tension (hostility − conciliation)"
    said = text_of(status)
    assert ("Not seasonally adjusted: no day shown has 4 other years of all days at its time of year "
            "to compare with (the values are as scored).") in said
    assert trace(fig, "daily index")["y"] == trace(raw, "daily index")["y"]
    assert text_of(chart.render_view(service, view(""))[1]) == said  # the default view
    _, status, _ = chart.render_view(service, view("?norm=zscore"))
    assert "seasonally" not in text_of(status)


def test_plain_gives_the_same_json_and_lets_orjson_encode_the_chart_response_at_once(service: Service) -> None:
    """Components in a response made plotly's encoder walk all of it, figure included, in
    Python: `plain` (which the chart's callback applies) gives the dicts Dash would send, the
    same JSON, and orjson encodes the response in one call."""
    import orjson
    from dash._utils import to_json

    from tension.dashboard.payload import plain

    fig, status, spikes = chart.render_view(service, view(""))
    assert any(hasattr(c, "to_plotly_json") for c in spikes)
    sent = [fig, plain(status), plain(spikes)]
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    with pytest.raises(TypeError):
        orjson.dumps([fig, status, spikes], option=options)  # what sent the encoder walking
    assert orjson.loads(orjson.dumps(sent, option=options)) == orjson.loads(to_json([fig, status, spikes]))


def test_sync_view_control_change_writes_the_url() -> None:
    values = ["2020-01-05T00:00:00", "2020-02-01", [], [], "D", 3, "seasonal", "", list(DEFAULT_LAYERS)]
    controls, search = ctl.sync_view("smooth", "?from=2019-01-01", values)
    assert controls == [no_update] * 9  # the controls are not touched
    assert search == "?from=2020-01-05&to=2020-02-01&smooth=3"
    # and that URL, read back, gives the same controls: no ping-pong between URL and controls
    assert ctl.sync_view("url", search, [None] * 9)[0] == ctl.controls_from_view(
        ctl.view_from_controls(values))


@pytest.mark.parametrize("typed", [0, "0", "1000", 366, "2.5", "", None, "abc", "-3"])
def test_a_smoothing_out_of_range_puts_the_one_in_use_back_and_says_so(typed: object) -> None:
    """The field kept 0 or 1000 while the chart used 7 and the URL dropped smooth: now the
    field gets the smoothing in use (the URL's) back, the URL stays, a message says why."""
    values = ["2020-01-05", None, [], [], "D", typed, "seasonal", "", list(DEFAULT_LAYERS)]
    controls, search = ctl.sync_view("smooth", "?from=2020-01-05&smooth=14", values)
    assert controls == [no_update] * 5 + [14] + [no_update] * 3 and search is no_update
    assert ctl.smooth_message("smooth", typed, 14) == (
        "Smoothing must be a whole number of days from 1 to 365; still smoothing over 14 days.")
    assert ctl.sync_view("smooth", "", values)[0][5] == 7  # none in the URL: the default


def test_a_smoothing_typed_in_range_is_taken_as_a_number() -> None:
    for typed, taken in (("3", 3), (" 14 ", 14), ("365", 365), (1, 1), ("30.0", 30)):
        assert ctl.smooth_value(typed) == taken
        values = [None, None, [], [], "D", typed, "seasonal", "", list(DEFAULT_LAYERS)]
        assert ctl.view_from_controls(values)["smooth"] == taken
        assert ctl.sync_view("smooth", "?smooth=14", values)[1] == ("" if taken == 7 else f"?smooth={taken}")
        assert ctl.smooth_message("smooth", typed, 14) == ""
    assert ctl.smooth_message("freq", None, 14) == ""  # another control: no message


def test_sync_view_defaults_give_an_empty_query() -> None:
    values = ctl.controls_from_view(dict(DEFAULTS))
    assert ctl.sync_view("freq", "?freq=W", values)[1] == ""


def test_bad_url_values_fall_back_to_defaults() -> None:
    bad = parse_query("?from=2020-13-45&to=yesterday&freq=X&smooth=abc&norm=zz&q=a%7C%7Cb"
                      "&source=&layers=bogus,points")
    assert bad["from"] is None and bad["to"] is None
    assert bad["freq"] == DEFAULTS["freq"]
    assert bad["smooth"] == DEFAULTS["smooth"]
    assert bad["normalize"] == DEFAULTS["normalize"]
    assert bad["filter"] == "a||b"  # kept, bad syntax and all: the status line says what is wrong
    assert bad["sources"] == []
    assert bad["layers"] == ["points"]  # unknown layer dropped, known one kept
    assert parse_query("?smooth=100000")["smooth"] == 365
    assert parse_query("?smooth=-4")["smooth"] == 1
    # a broken URL must still render (no exception, a chart with the whole store)
    assert parse_query(None) == DEFAULTS


def test_what_a_url_loses_is_said_with_the_reason() -> None:
    """Issue 24's open end: an out-of-range date in the page's URL was dropped without a word."""
    notes = url_notes("?from=1700-01-01&to=2013-04-30&freq=X&smooth=1000&dyad=PRK-&category=nope"
                      "&category=threats&norm=raw", categories=["threats"])
    assert [n.split(" was not used: ")[0] for n in notes] == [
        "from=1700-01-01", "freq=X", "smooth=1000 is outside 1–365 days: smoothing over 365", "dyad=PRK-",
        "category=nope"]
    assert url_notes("?compare=PRK-")[0].startswith("compare=PRK- was not used: 'compare' ")
    assert "1800-01-01" in notes[0] and "2100-12-31" in notes[0]  # the date policy, in words
    assert url_notes("?from=2013-02-01&to=2013-04-30&smooth=14&dyad=PRK-USA") == []
    assert url_notes(None) == []
    assert ctl.link_message("?to=2013-99-01") == (
        "This link's to=2013-99-01 was not used: 'to' must be a date like 2018-01-03, not '2013-99-01'.")


_word = st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=12).map(str.strip).filter(bool)
_date = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)


@st.composite
def views(draw: st.DrawFn) -> dict:
    layers = draw(st.lists(st.sampled_from(LAYERS), unique=True, min_size=1))  # [] below
    if sorted(layers) == sorted(DEFAULT_LAYERS):
        layers = list(DEFAULT_LAYERS)  # the canonical order of the defaults
    return {"from": draw(st.none() | _date), "to": draw(st.none() | _date),
            "sources": draw(st.lists(_word, max_size=3)),
            # a URL keeps only the lexicon's categories (parse_query drops unknown ones)
            "categories": draw(st.lists(st.sampled_from(sorted(known_categories())), unique=True,
                                        max_size=2)),
            "freq": draw(st.sampled_from(["D", "W", "M"])),
            "smooth": draw(st.integers(1, 365)),
            "normalize": draw(st.sampled_from(["raw", "zscore", "base100", "seasonal"])),
            "filter": draw(st.sampled_from(["", "Seoul", "Seoul|South Korea", "missile & -test",
                                            "NOT talks", '"fire and fury"'])),
            "layers": layers, "center": draw(st.booleans()),
            "base_from": draw(st.none() | _date), "base_to": draw(st.none() | _date),
            "dyad": draw(st.sampled_from(["", "conflict", "intensity", "PRK-USA", "KOR-PRK"])),
            "compare": draw(st.sampled_from(["", "all", "conflict", "PRK-CHN"]))}


@settings(max_examples=150, deadline=None)
@given(views())
def test_url_round_trip(v: dict) -> None:
    assert parse_query(to_query(v)) == v


def test_url_round_trip_with_every_layer_off() -> None:
    v = {**DEFAULTS, "layers": []}
    assert to_query(v) == "?layers="
    assert parse_query(to_query(v)) == v


# =========================================================================== render_view
def test_the_status_names_what_a_category_view_measures(service: Service) -> None:
    """A category sub-index restricts the overall tone: the line under the chart says so
    while the measure dropdown still shows the headline."""
    _, status, _ = chart.render_view(service, view("?category=threats"))
    assert "the overall tone of the chosen lexicon categories" in text_of(status)
    _, status, _ = chart.render_view(service, view("?dyad=conflict"))
    assert "Measure: Conflict index." in text_of(status)


def test_render_view_draws_every_layer(service: Service) -> None:
    fig, status, spikes = chart.render_view(service, view())
    got = names(fig)
    for expected in ("95% band", "articles", "daily index", "smoothed", "hostility",
                     "conciliation", "hostility spike", "conciliation spike", "reference events"):
        assert expected in got, f"{expected!r} missing from {got}"
    pts = trace(fig, "daily index")
    # one point per calendar day, from the first to the last article day
    assert pts["x0"] == day(0) and pts["dx"] == 86_400_000 and len(pts["y"]) == N_DAYS
    # the dip's titles name only the other side: from Rodong (which speaks for nobody) they aim
    # nothing across a conflict dyad, so about half of the day's articles count
    assert pts["y"][SPIKE_OFFSET] > 0.9 and pts["y"][DIP_OFFSET] < -0.25
    # the band: one filled polygon per run of days (upper edge forward, lower edge back)
    band = [t for t in fig["data"] if t["name"] == "95% band"]
    assert len(band) == 1 and band[0]["fill"] == "toself"
    ys = band[0]["y"]
    runs, run = [], []
    for v in ys:
        if v is None:
            runs.append(run)
            run = []
        else:
            run.append(v)
    for r in runs:
        upper, lower = r[: len(r) // 2], r[len(r) // 2:][::-1]
        assert all(lo <= hi for lo, hi in zip(lower, upper, strict=True))
    # counts as bars on a second y axis overlaying the first
    bars = trace(fig, "articles")
    assert bars["type"] == "bar" and bars["yaxis"] == "y2"
    # ... in a strip at the bottom: over the whole height they filled the plot behind the band
    assert fig["layout"]["yaxis2"]["domain"] == [0, figures.COUNTS_STRIP] and "overlaying" not in fig["layout"]["yaxis2"]
    assert figures.COUNTS_STRIP <= 0.25
    # and the index above it, not behind the bars: its lowest values were hidden there
    assert fig["layout"]["yaxis"]["domain"][0] > figures.COUNTS_STRIP
    assert sum(bars["y"]) == len(corpus_rows())
    assert bars["y"][SPIKE_OFFSET] == len(HOSTILE)
    # sub-series: off by default but one legend click away; hostility red, conciliation blue
    assert trace(fig, "hostility")["visible"] == "legendonly"
    assert trace(fig, "hostility")["line"]["color"] == RED
    assert trace(fig, "conciliation")["line"]["color"] == BLUE
    # spikes: markers at the spike day and the dip day
    assert SPIKE_DAY in trace(fig, "hostility spike")["x"]
    assert trace(fig, "hostility spike")["marker"]["color"] == RED
    assert DIP_DAY in trace(fig, "conciliation spike")["x"]
    assert trace(fig, "conciliation spike")["marker"]["color"] == BLUE
    # status line and the spike list with its one-click "Annotate" buttons
    assert f"{len(corpus_rows()):,} articles over {N_DAYS} periods" in text_of(status)
    buttons = [c for c in walk(spikes) if isinstance(c, html.Button)]
    assert buttons and all(b.children == "Annotate" for b in buttons)
    assert SPIKE_DAY in text_of(spikes) and DIP_DAY in text_of(spikes)


def test_empty_days_are_gaps_not_zeros(service: Service) -> None:
    fig, status, _ = chart.render_view(service, view())
    pts = trace(fig, "daily index")
    for i in EMPTY_OFFSETS:
        assert pts["y"][i] is None, f"{day(i)} has no articles but is drawn at {pts['y'][i]}"
        assert pts["customdata"][i][2] == 0
        assert trace(fig, "articles")["y"][i] == 0
    # a neutral day with articles is drawn near zero (the model's baseline), not a gap
    assert pts["y"][1] is not None and abs(pts["y"][1]) < 0.25
    assert f"{len(EMPTY_OFFSETS)} empty: shown as gaps" in text_of(status)


def _filled_spans(fig: dict) -> list[tuple[str, str]]:
    """(first, last) x of every filled area of the band, as plotly.js draws it; fails for a
    'tonexty' band with missing values inside, which plotly.js joins into wrong polygons."""
    spans = []
    for t in fig["data"]:
        if not t.get("fill"):
            continue
        n = len(t["y"])
        xs = t.get("x") or [(pd.Timestamp(t["x0"]) + pd.Timedelta(milliseconds=t["dx"] * i))
                            .strftime("%Y-%m-%d") for i in range(n)]
        if t["fill"] == "tonexty":
            present = [i for i, y in enumerate(t["y"]) if y is not None]
            inner_gaps = [i for i in range(present[0], present[-1]) if t["y"][i] is None]
            assert not inner_gaps, (f"{t['name']}: fill 'tonexty' over {len(inner_gaps)} missing "
                                    f"values, first at {xs[inner_gaps[0]]}")
            spans.append((xs[present[0]], xs[present[-1]]))
        else:  # 'toself': one closed shape per run between None separators
            run: list[str] = []
            for x, y in [*zip(xs, t["y"], strict=True), (None, None)]:
                if x is None or y is None:
                    if run:
                        spans.append((min(run), max(run)))
                    run = []
                else:
                    run.append(str(x)[:10])
    return spans


def test_band_leaves_empty_days_open(service: Service) -> None:
    fig, _, _ = chart.render_view(service, view())
    spans = _filled_spans(fig)
    assert spans
    for i in EMPTY_OFFSETS:
        assert not any(lo <= day(i) <= hi for lo, hi in spans), f"the band covers {day(i)}"


def test_chart_shows_the_numbers_the_export_writes(service: Service) -> None:
    v = view("?from=2020-01-20&to=2020-02-25&smooth=3")
    fig, _, _ = chart.render_view(service, v)
    table = build_export(service.store, *to_params(v))
    assert len(table) == len(trace(fig, "daily index")["y"]) == 37

    def rounded(values: object) -> list:
        return [None if x != x else round(float(x), 4) for x in values]  # NaN -> None

    assert trace(fig, "daily index")["y"] == rounded(table["tension"])
    assert trace(fig, "smoothed")["y"] == rounded(table["tension_smoothed"])
    assert trace(fig, "daily index")["x0"] == "2020-01-20"


def test_render_view_layers_switch_traces_off(service: Service) -> None:
    fig, _, _ = chart.render_view(service, view("?layers=points"))
    got = names(fig)
    assert "daily index" in got and "smoothed" in got
    for absent in ("95% band", "articles", "hostility spike", "reference events"):
        assert absent not in got
    fig, _, _ = chart.render_view(service, view("?layers=points,hostility,conciliation"))
    assert trace(fig, "hostility")["visible"] is True
    assert trace(fig, "conciliation")["visible"] is True


def test_reference_events_are_a_toggleable_layer_escaped(service: Service) -> None:
    fig, _, _ = chart.render_view(service, view())
    ev = trace(fig, "reference events")
    assert ev["yaxis"] == "y3" and fig["layout"]["yaxis3"]["visible"] is False
    assert list(dict.fromkeys(x for x in ev["x"] if x)) == [day(5), day(40)]
    # each line answers a hover along its whole height (with two points, only at its ends)
    ys = [y for y in ev["y"] if y is not None]
    assert min(ys) == 0 and max(ys) == 1 and len(ys) == 2 * (figures.EVENT_HOVER_STEPS + 1)
    assert max(b - a for a, b in zip(ys, ys[1:], strict=False) if b > a) <= 0.05
    # labelled on the chart (a zoomed view), escaped, above the counts' strip
    notes = [a for a in fig["layout"]["annotations"] if a["font"]["color"] == figures.EVENT_COLOR]
    assert [n["x"] for n in notes] == [day(5), day(40)]
    assert notes[1]["text"].startswith("&lt;b&gt;Nuclear&lt;/b&gt; test &lt;script&gt;") and notes[1]["text"].endswith("…")
    assert all(n["y"] > figures.COUNTS_STRIP for n in notes)
    labels = [t for t in ev["text"] if t]
    assert "Missile launch: Scud [missile_test]" in labels
    assert not any("<script>" in t or "<b>" in t for t in labels)
    assert "&lt;b&gt;Nuclear&lt;/b&gt; test &lt;script&gt;alert(1)&lt;/script&gt; [nuclear_test]" in labels
    # outside the view, events are not drawn
    fig, _, _ = chart.render_view(service, view(f"?from={day(20)}&to={day(30)}"))
    assert "reference events" not in names(fig)


def test_annotations_become_shapes(service: Service) -> None:
    ann.create(service.store, {"date": SPIKE_DAY, "title": "Fire and fury", "author": "ana"})
    ann.create(service.store, {"start": day(4), "end": day(8), "title": "Talks week"})
    fig, _, _ = chart.render_view(service, view())
    chosen, *shapes = fig["layout"]["shapes"]
    assert chosen["name"] == "chosen" and chosen["visible"] is False  # nothing chosen yet
    lines = [s for s in shapes if s["type"] == "line"]
    rects = [s for s in shapes if s["type"] == "rect"]
    assert len(lines) == 1 and lines[0]["x0"] == lines[0]["x1"] == SPIKE_DAY
    assert lines[0]["yref"] == "paper"
    # a range covers its last day completely: the rectangle ends at the next midnight
    assert len(rects) == 1 and rects[0]["x0"] == day(4) and rects[0]["x1"] == day(9)
    labels = {a["text"]: a for a in fig["layout"]["annotations"] if a["font"]["color"] != figures.EVENT_COLOR}
    assert set(labels) == {"Fire and fury", "Talks week"}
    assert labels["Fire and fury"]["x"] == SPIKE_DAY
    # a view that does not reach January shows only the February annotation
    fig, _, _ = chart.render_view(service, view(f"?from={day(40)}"))
    assert [s["type"] for s in fig["layout"]["shapes"][1:]] == ["line"]
    # and the layer can be switched off
    fig, _, _ = chart.render_view(service, view("?layers=points"))
    assert fig["layout"]["shapes"][1:] == [] and fig["layout"]["annotations"] == []


def test_hover_and_labels_escape_user_text(service: Service) -> None:
    title = '<script>window.__pwned=1</script><img src=x onerror="alert(2)">'
    ann.create(service.store, {"date": SPIKE_DAY, "title": title, "author": "<b>eve</b>"})
    fig, _, _ = chart.render_view(service, view())
    note = fig["layout"]["annotations"][0]
    for field in ("text", "hovertext"):
        assert "<script" not in note[field] and "<img" not in note[field] and "<b>" not in note[field]
    assert note["hovertext"] == (html_lib.escape(title, quote=False) + "<br>"
                                 + html_lib.escape("<b>eve</b>", quote=False))
    # the day of the <script> headline: its hover phrase is the matched word, escaped
    pts = trace(fig, "daily index")
    assert pts["customdata"][SCRIPT_OFFSET][3] in ("threatens", "war")
    # phrases are escaped whatever they contain (figure built from the same kind of table)
    table = pd.DataFrame({  # a two-day table, no store needed
        "date": pd.to_datetime([SPIKE_DAY, DIP_DAY]),
        "tension": [0.5, -0.5], "tension_smoothed": [0.5, 0.0], "ci_low": [0.4, -0.6],
        "ci_high": [0.6, -0.4], "hostility": [0.5, 0.0], "conciliation": [0.0, 0.5],
        "n_articles": [2, 2]})
    phrases = pd.Series(
        {table["date"][0]: "<script>x</script>"}, dtype=object)
    fig2 = index_figure(table, phrases=phrases)
    assert trace(fig2, "daily index")["customdata"][0][3] == "&lt;script&gt;x&lt;/script&gt;"


# What plotly.js does with text before drawing it (svg_text_utils.convertEntities): only
# these named entities and numeric ones become characters; anything else stays literal.
PLOTLY_ENTITIES = {"mu": "\u03bc", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0",
                   "times": "\xd7", "plusmn": "\xb1", "deg": "\xb0"}


def plotly_shows(text: str) -> str:
    def one(m: re.Match) -> str:
        code = m.group(1)
        if code.startswith("#"):
            return chr(int(code[2:], 16) if code[1] == "x" else int(code[1:]))
        return PLOTLY_ENTITIES.get(code, m.group(0))

    return re.sub(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);", one, text)


def test_plotly_shows_escaped_labels_literally(service: Service) -> None:
    title = "<b>Talks</b> & 5 > 4"  # escaped, still under the 40-character cut
    ann.create(service.store, {"date": SPIKE_DAY, "title": title})
    fig, _, _ = chart.render_view(service, view())
    note = fig["layout"]["annotations"][0]
    assert "<" not in note["text"] and plotly_shows(note["text"]) == title


def test_quoted_annotation_title_reads_right_on_the_chart(service: Service) -> None:
    title = 'Trump: "fire and fury"'
    ann.create(service.store, {"date": SPIKE_DAY, "title": title, "author": "ana"})
    fig, _, _ = chart.render_view(service, view())
    note = fig["layout"]["annotations"][0]
    assert plotly_shows(note["text"]) == title
    assert plotly_shows(note["hovertext"]) == f"{title}<br>ana"


def test_long_annotation_label_is_cut_before_escaping(service: Service) -> None:
    title = "a" * 38 + "<b> and more"
    ann.create(service.store, {"date": SPIKE_DAY, "title": title})
    fig, _, _ = chart.render_view(service, view())
    label = fig["layout"]["annotations"][0]["text"]
    assert title.startswith(plotly_shows(label)) and "&" not in plotly_shows(label), label


def test_render_view_weekly_filter_and_errors(service: Service) -> None:
    fig, status, _ = chart.render_view(service, view("?freq=W"))
    pts = trace(fig, "index")
    assert pts["dx"] == 7 * 86_400_000 and pts["x0"] == "2019-12-30"  # the Monday of the first week
    assert len(pts["y"]) == 9
    fig, status, _ = chart.render_view(service, view("?q=talks"))
    n_talks = sum("talks" in t for _, t in corpus_rows())
    assert text_of(status).startswith(f"{n_talks:,} articles")
    # an invalid filter typed in the box: a clear message, an empty chart, no exception
    v = view()
    v["filter"] = "Seoul | "
    fig, status, spikes = chart.render_view(service, v)
    assert not any(t.get("y") for t in fig["data"])
    # no axes of an empty year to read or click (a click there chose a day outside the data)
    assert not fig["layout"]["xaxis"]["visible"] and fig["layout"]["dragmode"] is False
    assert not fig["layout"].get("clickanywhere")
    err = [c for c in walk(status) if isinstance(c, html.Span) and c.className == "error"]
    assert err and "empty term" in err[0].children
    assert spikes == []


# =========================================================================== selection
@pytest.mark.parametrize("click,expected", [
    ({"points": [], "xvals": ["2020-02-15 00:00"], "yvals": [0.2]}, "2020-02-15"),
    ({"points": [{"x": "2020-02-16", "y": 0.1, "curveNumber": 3}]}, "2020-02-16"),
    ({"points": [{"x": "2020-02-17 12:00", "y": 0.1}], "xvals": ["2020-02-18"]}, "2020-02-18"),
    # a spike marker clicked on an 18-year view: the cursor's date is days off, the marker's is not
    ({"points": [{"x": "2013-03-03", "y": 0.4, "curveNumber": 6, "customdata": [4.1, "2013-03-03", 0.4, "spike"]}],
      "xvals": ["2013-02-28 07:00"]}, "2013-03-03"),
    # ... and an event line its event's day
    ({"points": [{"x": "2013-02-12", "y": 0.5, "curveNumber": 9, "customdata": ["2013-02-12", "event"]}],
      "xvals": ["2013-02-10 07:00"]}, "2013-02-12"),
    # on a long view (the index drawn as a line) the line's point under the cursor names its day
    ({"points": [{"x": "2013-03-03", "y": 0.4, "customdata": [0.1, 0.5, 20, "", "line"]}],
      "xvals": ["2013-02-28 07:00"]}, "2013-03-03"),
    # a day's dot nearest the cursor may be a neighbouring day's: the cursor's date decides
    ({"points": [{"x": "2013-04-09", "y": 0.1, "customdata": [0.0, 0.2, 3, ""]}],
      "xvals": ["2013-04-10 06:00"]}, "2013-04-10"),
])
def test_selection_from_click(click: dict, expected: str) -> None:
    got = chart.selection_from_graph("index-graph.clickData", click, None)
    assert got == {"start": expected, "end": expected}


def test_click_just_left_of_a_point_selects_that_day() -> None:
    click = {"points": [], "xvals": ["2020-02-14 23:10:00"]}
    assert chart.selection_from_graph("index-graph.clickData", click, None) == {
        "start": "2020-02-15", "end": "2020-02-15"}


def test_weeks_and_months_are_drawn_across_their_period() -> None:
    """A week's or month's value spans its period (Monday to Sunday; the 1st to the last day),
    not centred on its first day, where a month's bar covered half of the month before."""
    table = year_table("2013-01-01", 120)
    daily = index_figure(table, freq="D")
    assert all("xperiod" not in t for t in daily["data"])
    for freq, period, origin in (("W", 7 * 86_400_000, "2000-01-03"), ("M", "M1", "2000-01-01")):
        fig = index_figure(table, freq=freq)
        for name in ("index", "smoothed", "articles", "95% band", "hostility", "conciliation"):
            t = trace(fig, name)
            assert (t["xperiod"], t["xperiod0"], t["xperiodalignment"]) == (period, origin, "middle"), name
        assert pd.Timestamp(origin).day_name() == ("Monday" if freq == "W" else "Saturday")
    hover = trace(index_figure(table, freq="M"), "index")["hovertemplate"]
    assert hover.startswith("%{x|%B %Y}<br>")


@pytest.mark.parametrize("freq,x,expected", [
    ("M", "2013-01-31 18:00", ("2013-01-01", "2013-01-31")),  # the nearest day is in February
    ("M", "2013-02-01 00:30", ("2013-02-01", "2013-02-28")),
    ("W", "2020-02-09 20:00", ("2020-02-03", "2020-02-09")),  # Sunday evening: its own week
    ("W", "2020-02-10 02:00", ("2020-02-10", "2020-02-16")),
])
def test_a_click_in_a_week_or_month_view_selects_the_period_under_the_cursor(
        freq: str, x: str, expected: tuple[str, str]) -> None:
    click = {"points": [], "xvals": [x]}
    got = chart.selection_from_graph("index-graph.clickData", click, None, freq)
    assert (got["start"], got["end"]) == expected


def test_spikes_of_a_week_or_month_view_sit_on_the_periods_value(service: Service) -> None:
    """The triangle marks the period holding the spike day, at the period's value (the day's
    own height stretched the axis); the hover still names the day. A spike late in the last
    month of the view is drawn too (it was dropped as later than that month's 1st)."""
    for freq, start in (("W", "2020-02-10"), ("M", "2020-02-01")):
        fig, _, _ = chart.render_view(service, view(f"?from=2020-01-01&to=2020-02-20&freq={freq}"))
        pts, sp = trace(fig, "index"), trace(fig, "hostility spike")
        xs = (pd.date_range(pts["x0"], periods=len(pts["y"]), freq="7D").strftime("%Y-%m-%d").tolist()
              if "x0" in pts else pts["x"])
        assert sp["xperiod"] == pts["xperiod"]
        days = [c[1] for c in sp["customdata"]]
        assert SPIKE_DAY in days and "%{customdata[1]}" in sp["hovertemplate"]
        for x, y, (_, day, _, kind) in zip(sp["x"], sp["y"], sp["customdata"], strict=True):
            assert kind == "spike"
            assert x == figures.period_start(day, freq).strftime("%Y-%m-%d")
            assert y == pts["y"][xs.index(x)]
        i = days.index(SPIKE_DAY)
        assert sp["x"][i] == start and sp["y"][i] < sp["customdata"][i][2]  # below the day's height
    fig, _, _ = chart.render_view(service, view())
    pts, sp = trace(fig, "daily index"), trace(fig, "hostility spike")
    assert SPIKE_DAY in sp["x"] and "xperiod" not in sp
    for x, y in zip(sp["x"], sp["y"], strict=True):
        assert y == pts["y"][(pd.Timestamp(x) - pd.Timestamp(pts["x0"])).days]


def hover_lines(tr: dict, i: int) -> list[str]:
    """The lines plotly shows on hovering point i of a trace: its hovertemplate's %{y} and
    %{customdata[k]} filled in (with their number formats), <extra> dropped."""
    def fill(m: re.Match) -> str:
        key, fmt = m.group(1), m.group(2) or ""
        value = tr["y"][i] if key == "y" else tr["customdata"][i][int(key[len("customdata["):-1])]
        return format(value, fmt)
    return re.sub(r"%\{(y|customdata\[\d+\])(?::([^}]*))?\}", fill,
                  tr["hovertemplate"].split("<extra>")[0]).split("<br>")


@pytest.mark.parametrize("norm,scale", [("zscore", "(z-score)"), ("base100", "(base 100)")])
def test_a_spike_hover_gives_the_value_on_the_charts_scale(service: Service, norm: str, scale: str) -> None:
    """In a z-score or base-100 view a spike's hover gave the day's raw tension as its only
    value, next to an index line reading on another scale. It gives the value drawn (the
    index line's at that date, where the marker sits), then the raw tension, labelled so."""
    for freq in ("D", "W"):
        fig, _, _ = chart.render_view(service, view(f"?norm={norm}&freq={freq}"))
        pts = trace(fig, "daily index" if freq == "D" else "index")
        assert "index %{y:.3f}" in pts["hovertemplate"]
        xs = pd.date_range(pts["x0"], periods=len(pts["y"]), freq="D" if freq == "D" else "7D")
        xs = xs.strftime("%Y-%m-%d").tolist()
        for kind in ("hostility", "conciliation"):
            sp = trace(fig, f"{kind} spike")
            for i, (x, y, (_, peak, raw, _kind)) in enumerate(zip(sp["x"], sp["y"], sp["customdata"], strict=True)):
                drawn = pts["y"][xs.index(x)]
                assert y == drawn
                lines = hover_lines(sp, i)
                assert lines[0] == f"{kind} spike {peak}"
                index = "index" if freq == "D" else "week's index"
                assert lines[2] == f"{index} {drawn:.3f} {scale}"
                assert lines[3] == f"that day's raw tension {raw:+.3f}" and len(lines) == 4
    # a raw daily view: the index is that day's tension, said once
    fig, _, _ = chart.render_view(service, view())
    sp = trace(fig, "hostility spike")
    i = sp["x"].index(SPIKE_DAY)
    assert hover_lines(sp, i)[2:] == [f"index {sp['customdata'][i][2]:.3f}"]


def test_annotations_and_events_carry_no_value_to_rescale(service: Service) -> None:
    """Annotation labels and reference-event lines are placed on the plot's height (not the
    y axis) and name no value, so a z-score or base-100 view draws them as the raw one."""
    ann.create(service.store, {"date": SPIKE_DAY, "title": "Threats", "author": "ana"})
    raw, _, _ = chart.render_view(service, view())
    assert raw["layout"]["annotations"] and raw["layout"]["shapes"]
    for norm in ("zscore", "base100"):
        fig, _, _ = chart.render_view(service, view(f"?norm={norm}"))
        assert fig["layout"]["annotations"] == raw["layout"]["annotations"]
        assert fig["layout"]["shapes"] == raw["layout"]["shapes"]
        assert trace(fig, "reference events") == trace(raw, "reference events")
        assert "%{y" not in trace(fig, "reference events")["hovertemplate"]


def test_a_zoom_of_the_x_axis_sets_the_views_dates() -> None:
    """Range buttons, slider, toolbar zoom and pan set from/to (the days drawn in the range);
    a reset clears them; other relayout events leave the dates alone."""
    bounds = (dt.date(1997, 1, 1), dt.date(2014, 6, 30))
    zoom = {"xaxis.range[0]": "2013-03-30 12:00", "xaxis.range[1]": "2013-04-30 12:00"}  # "1M"
    assert ctl.dates_from_zoom(zoom, bounds) == ("2013-03-31", "2013-04-30")
    slider = {"xaxis.range": ["2013-04-14 20:15:00.5", "2013-04-20 06:00"]}
    assert ctl.dates_from_zoom(slider, bounds) == ("2013-04-15", "2013-04-20")
    assert ctl.dates_from_zoom({"xaxis.range": ["2013-04-03 06:00", "2013-04-03 09:00"]}) == (
        "2013-04-03", "2013-04-03")  # narrower than a day: that day
    assert ctl.dates_from_zoom({"xaxis.range": ["1990-01-01", "2013-04-03"]}, bounds) == (None, "2013-04-03")
    assert ctl.dates_from_zoom({"xaxis.range": ["2014-01-01", "2030-01-01"]}, bounds) == ("2014-01-01", None)
    month = {"xaxis.range": ["2013-04-01", "2013-05-01"]}  # "1M" in a month view: April, drawn across
    assert ctl.dates_from_zoom(month, bounds, "M") == ("2013-04-01", "2013-04-30")
    assert ctl.dates_from_zoom({"xaxis.range": ["2013-04-03 13:00", "2013-04-08 11:00"]}, bounds, "W") == (
        "2013-04-04", "2013-04-07")  # the days more than half in the range
    for reset in ({"xaxis.autorange": True}, {"xaxis.autorange": True, "yaxis.autorange": True}):
        assert ctl.dates_from_zoom(reset, bounds) == (None, None)
    for other in (None, {}, {"autosize": True}, {"yaxis.range[0]": 0, "yaxis.range[1]": 1},
                  {"selections": [{"x0": "2013-01-01"}]}, {"xaxis.range[0]": "2013-01-01"}):
        assert ctl.dates_from_zoom(other, bounds) is None


def test_the_x_axis_spans_the_views_periods_exactly() -> None:
    """No autorange padding: the range buttons count back from the view's own last day."""
    table = year_table("2013-01-01", 120)  # to 2013-04-30
    assert index_figure(table, freq="D")["layout"]["xaxis"]["range"] == ["2012-12-31 12:00", "2013-04-30 12:00"]
    months = table.assign(date=pd.date_range("2013-01-01", periods=120, freq="D").to_period("M")
                          .start_time).drop_duplicates("date")
    assert index_figure(months, freq="M")["layout"]["xaxis"]["range"] == ["2013-01-01 00:00", "2013-05-01 00:00"]
    assert "range" not in index_figure(table.iloc[:0])["layout"]["xaxis"]


def test_new_dates_give_the_chart_a_new_ui_revision(service: Service) -> None:
    """plotly keeps a zoom while the uirevision stays: new dates must not keep an old zoom."""
    layouts = [chart.render_view(service, view(q))[0]["layout"]
               for q in ("", "?from=2020-01-05", "?from=2020-01-05&to=2020-02-01")]
    assert len({lay["xaxis"]["uirevision"] for lay in layouts}) == 3
    assert len({lay["yaxis"]["uirevision"] for lay in layouts}) == 3
    # ... while the page's own state (the drag mode chosen in the toolbar) is kept
    assert {lay["uirevision"] for lay in layouts} == {"page"}


def test_selection_from_box_and_lasso() -> None:
    box = {"range": {"x": ["2020-02-10 12:00:00.0", "2020-02-03 06:00"]}, "points": []}
    assert chart.selection_from_graph("index-graph.selectedData", None, box) == {
        "start": "2020-02-03", "end": "2020-02-10"}
    lasso = {"points": [{"x": "2020-01-09", "y": 0}, {"x": "2020-01-05", "y": 1},
                        {"y": 2, "curveNumber": 9}]}
    assert chart.selection_from_graph("index-graph.selectedData", None, lasso) == {
        "start": "2020-01-05", "end": "2020-01-09"}
    assert chart.selection_from_graph("index-graph.selectedData", None, {"points": []}) is None
    assert chart.selection_from_graph("index-graph.clickData", {"points": []}, None) is None
    assert chart.selection_from_graph(None, None, None) is None


@pytest.mark.parametrize("freq,box,expected", [
    ("W", ["2020-02-05 06:00", "2020-02-12 18:00"], ("2020-02-03", "2020-02-16")),  # Wed to Wed: 2 weeks
    ("W", ["2020-02-12 18:00", "2020-02-05 06:00"], ("2020-02-03", "2020-02-16")),  # dragged leftwards
    ("W", ["2020-02-11 03:00", "2020-02-11 09:00"], ("2020-02-10", "2020-02-16")),  # inside one week
    ("W", ["2020-02-04", "2020-02-10 00:00"], ("2020-02-03", "2020-02-09")),  # ends on the next Monday
    ("M", ["2013-01-20", "2013-03-03 12:00"], ("2013-01-01", "2013-03-31")),
    ("M", ["2012-12-31 23:00", "2013-02-28 23:00"], ("2012-12-01", "2013-02-28")),
])
def test_a_box_selection_in_a_week_or_month_view_selects_whole_periods(
        freq: str, box: list[str], expected: tuple[str, str]) -> None:
    """The periods the box touches, first day of the first to last day of the last, by the
    rule a click uses at either end (it gave the days under the box, cutting weeks)."""
    got = chart.selection_from_graph("index-graph.selectedData", None, {"range": {"x": box}, "points": []}, freq)
    assert (got["start"], got["end"]) == expected
    lo, hi = sorted(box)
    if pd.Timestamp(hi) != figures.period_start(hi, freq):  # an edge inside a period: as a click there
        click = lambda x: chart.selection_from_graph("index-graph.clickData", {"xvals": [x]}, None, freq)  # noqa: E731
        assert (got["start"], got["end"]) == (click(lo)["start"], click(hi)["end"])


def test_a_lasso_in_a_week_or_month_view_selects_whole_periods() -> None:
    """Points of a week or month (at its first day, or drawn mid-period) stand for the period."""
    weeks = {"points": [{"x": "2020-02-10", "y": 0}, {"x": "2020-01-30 12:00", "y": 1}]}
    assert chart.selection_from_graph("index-graph.selectedData", None, weeks, "W") == {
        "start": "2020-01-27", "end": "2020-02-16"}
    months = {"points": [{"x": "2013-02-01", "y": 0}, {"x": "2013-03-16 12:00", "y": 1}]}
    assert chart.selection_from_graph("index-graph.selectedData", None, months, "M") == {
        "start": "2013-02-01", "end": "2013-03-31"}


# =========================================================================== evidence
def test_evidence_panel_ranks_articles_and_highlights_phrases(service: Service) -> None:
    out = evidence.evidence_panel(service, view(), {"start": SPIKE_DAY, "end": SPIKE_DAY})
    assert text_of(out[0]).startswith(f"{SPIKE_DAY}: {len(HOSTILE)} articles, mean tension +")
    h3 = [c.children for c in out if isinstance(c, html.H3)]
    assert h3 == ["What moved it", "Articles, by contribution", "Review these first"]
    details = [c for c in out if isinstance(c, html.Details)]
    assert len(details) == len(HOSTILE)
    scores = [float(d.children[0].children[0].children) for d in details]
    assert scores == sorted(scores, key=abs, reverse=True) and all(s > 0 for s in scores)
    titles = {HOSTILE[k].format(n=k) for k in range(len(HOSTILE))}
    scorer = scorer_for()  # the store's scorer
    for d in details:
        title = d.children[0].children[1]
        assert title in titles
        assert d.className == "article hostile"
        sentences = d.children[1].children
        cues = [m for e in scorer.score_text(title).evidence() for m in e["matches"]]
        expected = [(m["start"], m["end"]) for m in evidence.marked_spans(cues)]
        assert expected, title
        assert any(m["kind"] == "lexicon" for m in cues), title  # the lexicon entry is among them
        for li in sentences:
            parts = li.children[0].children  # the highlighted sentence
            # no text lost or added: the pieces spell the sentence
            assert "".join(text_of(p) for p in parts) == title
            pos, spans = 0, []
            for p in parts:
                n = len(text_of(p))
                if isinstance(p, html.Mark):
                    spans.append((pos, pos + n))
                    assert p.className.startswith("hit ") and "contribution" in p.title
                pos += n
            assert spans == sorted(expected), (title, spans, expected)
            # the contributions listed beside it add up to the sentence's tension
            why = text_of(li.children[1])
            total, _, items = why.partition(": ")
            values = [float(x.split()[0]) for x in items.split(" · ")]
            assert sum(values) == pytest.approx(float(total.strip(" =")), abs=0.03)
            # the actors it names, as the lexicon matches are shown: marked in the sentence and
            # listed with the speaker (the source's actor: KCNA and Rodong speak for PRK) and targets
            who = scorer.score_text(title).evidence()[0]
            assert who["actors"], title
            # every character of every name underlined, inside a cue or across its edge too
            underlined, pos = set(), 0
            for p in parts:
                inner = p.children if isinstance(p, html.Mark) and isinstance(p.children, list) else [p]
                for q in inner:
                    n = len(text_of(q))
                    if not isinstance(q, str) and "actor" in q.className.split():
                        underlined |= set(range(pos, pos + n))
                        assert q.title.rpartition("actor ")[2].split(" · ")[0] in {
                            m["code"] for m in who["actors"]}, (title, q.title)
                    pos += n
            assert underlined == {i for m in who["actors"] for i in range(m["start"], m["end"])}, title
            actors = [p for p in parts if not isinstance(p, str) and "actor" in p.className.split()
                      and isinstance(p.children, str) and p.children in {m["text"] for m in who["actors"]}]
            line = text_of(li.children[3])  # under the sentence, its contributions and its buttons
            assert all(re.search(rf"{re.escape(m['text'])}\.? {m['code']}", line) for m in who["actors"]), line
            assert "U.S." not in title or "U.S. USA" in line, line  # as written, its last dot too
            assert line.startswith("actors: ") and "said by PRK" in line, line
            aimed = line.rpartition("aimed at ")[2]
            assert aimed.split(", ") == [t for t in who["targets"] if t != "PRK"], line
            code = {m["text"]: m["code"] for m in who["actors"]}
            assert all(p.title.endswith(f"actor {code[p.children]} · "
                                        f"{'speaker' if code[p.children] == 'PRK' else 'target'}")
                       for p in actors), title
        link = d.children[2]
        assert link.href.startswith("http://example.org/") and "noopener" in link.rel
    # the word shift explains the jump with hostile terms
    shifts = next(c for c in out if isinstance(c, html.Ul) and c.className == "shift")
    assert shifts.children[0].children[0].className == "hostility"


def test_an_actor_named_as_a_place_is_shown_as_one_and_is_no_target() -> None:
    """"Rally held in S. Korea against U.S. forces": South Korea is where it happened (no
    target, docs/methodology.md §2b); the page says so under the sentence and on the name."""
    sent = scorer_for().score_text("Rally Held in S. Korea against U.S. Forces").evidence()[0]
    assert [(m["code"], m["place"]) for m in sent["actors"]] == [("KOR", True), ("USA", False)]
    assert sent["targets"] == ["USA"]
    line = text_of(evidence.actors_line(sent, "PRK"))
    assert line == "actors: S. Korea KOR (place) · U.S. Forces USA; said by PRK, aimed at USA", line
    titles = {t for p in evidence.highlight(sent, "PRK") if not isinstance(p, str)
              for t in [getattr(p, "title", "")] if "actor" in t}
    assert any(t.endswith("actor KOR · place") for t in titles), titles
    assert any("actor USA · target" in t for t in titles), titles


def test_evidence_for_a_range_and_for_an_empty_day(service: Service) -> None:
    out = evidence.evidence_panel(service, view(), {"start": day(44), "end": day(46)})
    assert text_of(out[0]).startswith(f"{day(44)} to {day(46)}: {len(HOSTILE) + 6} articles")
    assert text_of(evidence.evidence_panel(service, view(), None)).startswith("Click a day")
    empty = evidence.evidence_panel(service, view(), {"start": day(10), "end": day(10)})
    assert len(empty) == 1 and not [c for c in empty if isinstance(c, html.Details)]
    assert text_of(empty[0]).endswith(": no articles.")


def test_evidence_heading_of_an_empty_day(service: Service) -> None:
    empty = evidence.evidence_panel(service, view(), {"start": day(10), "end": day(10)})
    assert text_of(empty[0]) == f"{day(10)}: no articles."


def test_evidence_text_is_never_raw_html(service: Service) -> None:
    out = evidence.evidence_panel(service, view(), {"start": SCRIPT_DAY, "end": SCRIPT_DAY})
    summaries = [c for c in walk(out) if isinstance(c, html.Summary)]
    assert SCRIPT_TITLE in [s.children[1] for s in summaries]  # a plain string: React escapes it
    for c in walk(out):
        assert type(c).__name__ not in ("Markdown", "Iframe", "Script")
        assert not getattr(c, "dangerously_allow_html", False)


# =========================================================================== annotations
FORM = {"start": SPIKE_DAY, "end": "", "title": "Fire and fury", "note": "first take",
        "tags": "trump, threat", "author": "ana"}


def test_save_annotation_creates(service: Service) -> None:
    msg, editing, saved = ann_panel.save_annotation(service, None, FORM)
    assert saved and msg == f"Annotation {editing['id']} saved."
    stored = ann.get(service.store, editing["id"])
    assert stored["updated_at"] == editing["updated_at"]
    assert stored["start"] == stored["end"] == stored["date"] == SPIKE_DAY
    assert stored["tags"] == ["trump", "threat"] and stored["author"] == "ana"


def test_save_annotation_updates_with_the_new_version(service: Service) -> None:
    _, editing, _ = ann_panel.save_annotation(service, None, FORM)
    first = editing["updated_at"]
    msg, editing2, saved = ann_panel.save_annotation(service, editing, {**FORM, "title": "Fire and fury (2)",
                                                                  "end": day(47)})
    assert saved and msg == f"Saved changes to annotation {editing['id']}."
    stored = ann.get(service.store, editing["id"])
    assert stored["title"] == "Fire and fury (2)" and stored["end"] == day(47)
    assert editing2 == {"id": editing["id"], "updated_at": stored["updated_at"], "saved": True}
    assert stored["updated_at"] > first
    # a second edit with the version we just got back also works (no false conflict)
    _, _, saved = ann_panel.save_annotation(service, editing2, {**FORM, "title": "third"})
    assert saved and ann.get(service.store, editing["id"])["title"] == "third"


def test_a_chart_selection_never_retargets_a_saved_annotation(service: Service) -> None:
    found = {"start": "2013-09-09", "end": "2013-09-09"}
    _, editing, _ = ann_panel.save_annotation(service, None, FORM)
    # just saved: the selection starts a new annotation, the saved one is left alone
    assert ann_panel.form_for_selection(editing, found) == (
        None, f"New annotation for 2013-09-09 (annotation {editing['id']} is saved).",
        "2013-09-09", "", "", "", "")
    # opened from the list for editing: it keeps being edited, and the message says so
    opened = {"id": editing["id"], "updated_at": editing["updated_at"]}
    got = ann_panel.form_for_selection(opened, {"start": "2013-09-09", "end": "2013-09-12"})
    assert got[0] is no_update and got[2:4] == ("2013-09-09", "2013-09-12")
    assert got[1] == (f"Editing annotation {editing['id']}: dates set to 2013-09-09 – 2013-09-12 "
                      "from the chart; Save to move it, New to start another.")
    # a new annotation being drafted: only the dates change, the typed text stays
    assert ann_panel.form_for_selection(None, found) == (no_update, no_update, "2013-09-09", "",
                                                  no_update, no_update, no_update)


def test_save_annotation_conflict_overwrites_nothing(service: Service) -> None:
    _, mine, _ = ann_panel.save_annotation(service, None, FORM)
    theirs = ann.update_annotation(service.store, mine["id"], {"title": "Bo's title", "author": "bo"},
                                   mine["updated_at"])
    msg, editing, saved = ann_panel.save_annotation(service, mine, {**FORM, "title": "Ana's stale edit"})
    assert not saved
    assert "bo changed this annotation" in msg and theirs["updated_at"] in msg
    assert editing["reload"]["title"] == "Bo's title"  # the form shows their version
    assert editing["updated_at"] == theirs["updated_at"]  # so the next save can apply on top
    assert ann.get(service.store, mine["id"]) == theirs  # nothing overwritten
    # saving again from the reloaded form now works
    _, _, saved = ann_panel.save_annotation(service, editing, {**FORM, "title": "Ana, on top of Bo"})
    assert saved and ann.get(service.store, mine["id"])["title"] == "Ana, on top of Bo"


def test_save_annotation_validation_and_deleted(service: Service) -> None:
    msg, editing, saved = ann_panel.save_annotation(service, None, {**FORM, "title": "  "})
    assert not saved and editing is None and msg == "Not saved: 'title' is required"
    msg, _, saved = ann_panel.save_annotation(service, None, {**FORM, "start": "15/02/2020"})
    assert not saved and "'start' must be a date" in msg
    msg, _, saved = ann_panel.save_annotation(service, None, {**FORM, "end": day(1)})
    assert not saved and "is before 'start'" in msg
    msg, _, saved = ann_panel.save_annotation(service, None, {**FORM, "title": "x" * 201})
    assert not saved and "limit is 200" in msg
    assert ann.list_annotations(service.store) == []
    _, editing, _ = ann_panel.save_annotation(service, None, FORM)
    ann.delete(service.store, editing["id"])
    msg, editing2, saved = ann_panel.save_annotation(service, editing, FORM)
    assert not saved and "that annotation was deleted" in msg
    # the form stays marked deleted: saving it again does not add it back as a new one
    assert editing2 == {"id": editing["id"], "deleted": True}
    msg, _, saved = ann_panel.save_annotation(service, editing2, FORM)
    assert not saved and "that annotation was deleted" in msg
    assert ann.list_annotations(service.store) == []


def test_accept_spike_creates_a_prefilled_annotation(service: Service) -> None:
    v = view()
    sel, _ = to_params(v)
    records = service.spike_records(sel, 12)
    record = next(r for r in records if r["peak"] == SPIKE_DAY)
    msg = chart.accept_spike(service, v, record, author="ana")
    assert msg.endswith(f"from the {SPIKE_DAY} spike.")
    (saved,) = ann.list_annotations(service.store)
    assert saved["tags"] == ["spike", "hostility"]
    assert saved["start"] == record["start"] and saved["end"] == record["end"]
    assert saved["author"] == "ana"
    # the title names the strongest matched phrase of that day's articles
    assert saved["title"].startswith("Hostility spike: ")
    phrase = saved["title"].removeprefix("Hostility spike: ")
    first_article = HOSTILE[0].format(n=0)
    assert phrase and phrase.lower() in first_article.lower()
    spike_titles = [HOSTILE[k].format(n=k) for k in range(len(HOSTILE))]
    assert any(t in saved["note"] for t in spike_titles)
    assert saved["note"].startswith(f"Robust z {record['magnitude']:+.1f}")
    # a conciliation dip is labelled and tagged as such
    dip = next(r for r in records if r["peak"] == DIP_DAY)
    chart.accept_spike(service, v, dip)
    dip_ann = ann.list_annotations(service.store, tag="conciliation")
    assert len(dip_ann) == 1 and dip_ann[0]["title"].startswith("Conciliation dip: ")
    assert dip_ann[0]["tags"] == ["spike", "conciliation"]


def test_grid_rows_filter_by_tag(service: Service) -> None:
    ann.create(service.store, {"date": day(3), "title": "one", "tags": ["spike", "hostility"]})
    ann.create(service.store, {"date": day(2), "title": "two", "tags": "talks"})
    ann.create(service.store, {"start": day(30), "end": day(33), "title": "three", "tags": []})
    rows = ann_panel.grid_rows(service)
    assert [r["title"] for r in rows] == ["two", "one", "three"]  # oldest day first
    assert rows[1]["tags_text"] == "spike, hostility" and rows[2]["tags_text"] == ""
    assert [r["row_id"] for r in rows] == [str(r["id"]) for r in rows]  # the grid's string row ids
    assert [r["title"] for r in ann_panel.grid_rows(service, "spike")] == ["one"]
    assert [r["title"] for r in ann_panel.grid_rows(service, "  talks ")] == ["two"]
    assert ann_panel.grid_rows(service, "nothing") == []
    assert len(ann_panel.grid_rows(service, "   ")) == 3
    # the dashboard's box ignores case and finds part of a tag ("HOST", "Talk" found nothing)
    assert [r["title"] for r in ann_panel.grid_rows(service, "HOST")] == ["one"]
    assert [r["title"] for r in ann_panel.grid_rows(service, "Talk")] == ["two"]


# =========================================================================== upload
def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_an_upload_is_reported_by_every_server_process(service: Service, tmp_path: Path) -> None:
    """gunicorn runs several workers: the one polling may not be the one ingesting."""
    taker = Uploads(service.store, tmp_path / "uploads", 1024 * 1024)
    other = Uploads(Store(service.store.url), tmp_path / "uploads", 1024 * 1024)  # another process's view
    job = taker.start("from elsewhere.csv", data_url("date,title\n2020-03-05,Talks resume elsewhere\n"))
    assert other.get(job.id) is not None and other.get(job.id).name == "from elsewhere.csv"
    deadline = time.monotonic() + 60
    while other.get(job.id).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert other.get(job.id).status == "done" and other.get(job.id).summary["added"] == 1
    assert other.get("no-such-job") is None


def test_upload_message_running_done_failed(service: Service, tmp_path: Path) -> None:
    uploads = Uploads(service.store, tmp_path / "uploads", 1024 * 1024)
    body = ("date,source,title,url\n"
            "2020-03-01,KCNA,Army threatens war upload,http://example.org/u1\n"
            "2020-03-02,KCNA,Leaders agree to talks upload,http://example.org/u2\n"
            "not a date,KCNA,Bad row,http://example.org/u3\n")
    job = uploads.start("new articles.csv", data_url(body))
    deadline = time.monotonic() + 60
    while uploads.get(job.id).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
    done = uploads.get(job.id).as_dict()
    assert done["status"] == "done", done
    msg = text_of(files.upload_message(done))
    assert msg.startswith("new articles.csv: read 3 rows, added 2, duplicates 0, quarantined 1.")
    assert "quarantine list" in msg
    fig, status, _ = chart.render_view(service, view())  # the new days are on the chart at once
    assert len(trace(fig, "daily index")["y"]) == N_DAYS + 2

    running = files.upload_message({"status": "running", "name": "big.csv", "rows": 12000})
    assert isinstance(running[0], html.Progress) and "big.csv: 12,000 rows read" in text_of(running)
    failed = files.upload_message({"status": "failed", "name": "x.csv", "rows": 0,
                                "error": "OperationalError: disk full"})
    assert failed[0].className == "error"
    assert text_of(failed) == "x.csv: import failed: OperationalError: disk full"


def test_spike_list_puts_the_views_own_spikes_first(service: Service) -> None:
    """Zoomed to dates holding a weaker spike, the list leads with it; stronger ones elsewhere
    follow, faded. The one-click buttons index the same list (`SPIKES_LISTED`, same order)."""
    everywhere = [r["peak"] for r in service.spike_records(to_params(view())[0], chart.SPIKES_LISTED)]
    # zoom to the weaker of the two (which one depends on the scorer), around its offset
    weaker, stronger = sorted((SPIKE_DAY, DIP_DAY), key=everywhere.index, reverse=True)
    offset = SPIKE_OFFSET if weaker == SPIKE_DAY else DIP_OFFSET
    assert everywhere.index(weaker) > everywhere.index(stronger)
    v = view(f"from={day(offset - 3)}&to={day(offset + 3)}")
    sel, opts = to_params(v)
    records = service.spike_records(sel, chart.SPIKES_LISTED, (opts.start, opts.end))
    assert records[0]["peak"] == weaker
    assert sorted(r["peak"] for r in records) == sorted(everywhere)  # reordered, nothing lost
    _, _, spikes = chart.render_view(service, v)
    items = [c for c in walk(spikes) if isinstance(c, html.Li)]
    assert [text_of(i).split()[0] for i in items] == [r["peak"] for r in records]
    assert "outside" not in items[0].className
    assert "outside" in next(i for i in items if stronger in text_of(i)).className


# =========================================================================== annotation labels
def year_table(first: str = "2013-01-01", days: int = 365) -> pd.DataFrame:
    """A plain index table of `days` days (no store needed)."""
    dates = pd.date_range(first, periods=days, freq="D")
    zeros = [0.0] * days
    return pd.DataFrame({"date": dates, "tension": zeros, "tension_smoothed": zeros, "ci_low": zeros,
                         "ci_high": zeros, "hostility": zeros, "conciliation": zeros,
                         "n_articles": [1] * days})


def test_close_annotation_labels_are_staggered_far_ones_share_the_top_row() -> None:
    """QA: labels three weeks apart in a one-year view collided on one line at the top."""
    anns = [{"start": d, "end": d, "title": f"Annotation number {k}", "author": ""}
            for k, d in enumerate(["2013-03-01", "2013-03-22", "2013-04-12", "2013-05-03"])]
    anns.append({"start": "2013-11-01", "end": "2013-11-01", "title": "Far away", "author": ""})
    notes = index_figure(year_table(), annotations=anns)["layout"]["annotations"]
    assert [n["text"] for n in notes] == [a["title"] for a in anns]  # every label is drawn
    ys = [n["y"] for n in notes]
    assert all(ys[k] != ys[k + 1] for k in range(3)), ys  # close neighbours: different rows
    assert ys[4] == 1  # the far one: back on the top row
    assert all(0.5 < y <= 1 for y in ys)
    # within a row, the estimated extents of labels never overlap
    span = (pd.Timestamp("2013-01-01"), pd.Timestamp("2013-12-31"))
    starts = [pd.Timestamp(a["start"]) for a in anns]
    rows = figures.label_rows(starts, [len(a["title"]) for a in anns], span)
    days_per_char = 365 / figures.LABEL_PLOT_PX * figures.LABEL_CHAR_PX
    for i, j in itertools.combinations(range(len(anns)), 2):
        if rows[i] == rows[j]:
            a, b = sorted([i, j], key=lambda k: starts[k])
            assert starts[b] - starts[a] > pd.Timedelta(days=len(anns[a]["title"]) * days_per_char)


def test_a_label_starting_before_the_view_is_drawn_at_its_first_day() -> None:
    anns = [{"start": "2012-12-01", "end": "2013-02-01", "title": "Winter drills", "author": ""}]
    fig = index_figure(year_table(), annotations=anns)
    (note,) = fig["layout"]["annotations"]
    assert note["x"] == "2013-01-01" and note["y"] == 1
    assert fig["layout"]["shapes"][1]["x0"] == "2012-12-01"  # the shaded range is unchanged


# =========================================================================== article-count axis
def test_count_dtick_is_a_round_whole_step_with_few_intervals() -> None:
    nice = {m * 10**k for m in (1, 2, 5) for k in range(6)}
    for max_count in range(0, 5000):
        step = figures.count_dtick(max_count)
        assert step in nice and max_count <= 5 * step
        assert step == 1 or max_count > 5 * max(s for s in nice if s < step)  # the smallest such


@pytest.mark.parametrize("counts,dtick", [([0, 0, 0], 1), ([0, 1, 1, 2], 1), ([3, 7, 0], 2),
                                          ([40, 2, 61], 20)])
def test_count_axis_ticks_are_whole_numbers_without_repeats(counts: list[int], dtick: int) -> None:
    """QA: with small daily counts auto ticks stepped by fractions and ",d" showed 0, 1, 1, 1, 2, 2."""
    table = year_table(days=len(counts)).assign(n_articles=counts)
    axis = index_figure(table)["layout"]["yaxis2"]
    assert (axis["tickmode"], axis["tick0"], axis["dtick"], axis["tickformat"]) == ("linear", 0, dtick, ",d")


def test_count_axis_of_a_filtered_and_of_an_empty_view(service: Service) -> None:
    fig, _, _ = chart.render_view(service, view("?q=talks"))
    assert fig["layout"]["yaxis2"]["dtick"] == 1
    fig, _, _ = chart.render_view(service, view("?from=2030-01-01&to=2030-01-31"))
    assert fig["layout"]["yaxis2"]["dtick"] == 1


# =========================================================================== spikes already annotated
def spike_items(spikes: list) -> dict[str, html.Li]:
    return {text_of(i).split()[0]: i for i in walk(spikes) if isinstance(i, html.Li)}


def test_accepting_an_annotated_spike_twice_creates_no_duplicate(service: Service) -> None:
    """QA: "Annotate" clicked twice made two annotations, and the list never showed it was done."""
    v = view()
    record = next(r for r in service.spike_records(to_params(v)[0], chart.SPIKES_LISTED)
                  if r["peak"] == SPIKE_DAY)
    assert chart.accept_spike(service, v, record).endswith(f"from the {SPIKE_DAY} spike.")
    (saved,) = ann.list_annotations(service.store)
    msg = chart.accept_spike(service, v, record)
    assert msg == (f"Not created: the {SPIKE_DAY} spike is already annotated "
                   f"(annotation {saved['id']}: {saved['title']}).")
    assert len(ann.list_annotations(service.store)) == 1
    # the list shows it: "annotated" instead of the button; the other spikes keep theirs
    _, _, spikes = chart.render_view(service, v)
    items = spike_items(spikes)
    done = [c for c in walk(items[SPIKE_DAY]) if getattr(c, "className", None) == "annotated"]
    assert len(done) == 1 and done[0].title == f"Annotation {saved['id']}: {saved['title']}"
    assert not [c for c in walk(items[SPIKE_DAY]) if isinstance(c, html.Button)]
    assert [c for c in walk(items[DIP_DAY]) if isinstance(c, html.Button)]


def test_a_spike_counts_as_annotated_only_when_its_dates_are_covered() -> None:
    spike = {"start": "2020-02-14", "end": "2020-02-16"}
    assert chart.covering_annotation(spike, [{"id": 1, "start": "2020-02-10", "end": "2020-02-20"}])["id"] == 1
    assert chart.covering_annotation(spike, [{"id": 2, "start": "2020-02-14", "end": "2020-02-16"}])["id"] == 2
    assert chart.covering_annotation(spike, [{"id": 3, "start": "2020-02-15", "end": "2020-02-15"},
                                          {"id": 4, "start": "2020-02-01", "end": "2020-02-14"}]) is None


# =========================================================================== date picker
def test_the_calendar_opens_on_the_chosen_dates_else_on_the_datas_last_day(service: Service) -> None:
    """QA: with no dates chosen the calendar opened on today's month, years after the data."""
    last = service.bounds()[1]
    assert last == START + dt.timedelta(days=N_DAYS - 1)
    assert ctl.calendar_month(None, None, last) == last.isoformat()
    assert ctl.calendar_month("2020-01-05", "2020-02-01", last) == "2020-01-05"
    assert ctl.calendar_month(None, "2020-02-01T00:00:00", last) == "2020-02-01"
    assert ctl.calendar_month(None, None, None) is None  # an empty store: the component decides


# =========================================================================== empty views, evidence counts
def test_a_filter_matching_nothing_says_so_not_import_articles(service: Service) -> None:
    """QA: a keyword filter matching nothing said "No articles in this view. Import some…"."""
    _, status, _ = chart.render_view(service, view("?q=zeppelin"))
    text = text_of(status)
    assert "No articles match the keyword filter \u201czeppelin\u201d" in text and "clear the filter" in text
    assert "Import" not in text
    _, status, _ = chart.render_view(service, view("?from=2030-01-01&to=2030-01-31"))
    assert "widen the dates" in text_of(status) and "Import" not in text_of(status)
    assert chart.empty_view_message(view(), store_has_articles=False).startswith(
        "No articles in this view. Import some")
    # a dyad nobody aims at: say so, not "clear the filters" (there are none)
    _, status, _ = chart.render_view(service, view("?dyad=USA-CHN"))
    assert "No article in this view is aimed at CHN by USA" in text_of(status)


def test_evidence_says_it_lists_the_top_articles_of_how_many(service: Service) -> None:
    """QA: a range's evidence showed 50 articles of 8,245 without saying so."""
    heads = lambda sel: [text_of(c) for c in walk(evidence.evidence_panel(service, view(), sel))  # noqa: E731
                         if isinstance(c, html.H3) and text_of(c).startswith("Articles")]
    n_all = len(corpus_rows())
    assert heads({"start": day(0), "end": day(N_DAYS - 1)}) == [
        f"Articles, by contribution: the top 50 of {n_all:,}"]
    assert heads({"start": SPIKE_DAY, "end": SPIKE_DAY}) == ["Articles, by contribution"]  # all shown


def test_long_views_draw_one_path_per_series_and_gaps_stay_gaps() -> None:
    """QA: the 18-year landing view took 8-12 s to draw (a dot and a bar per day, twice with
    the range slider). Past MANY_PERIODS the index and the counts are single paths; shorter
    views keep their dots and bars. The smoothed line no longer bridges long empty spans."""
    short, long = index_figure(year_table()), index_figure(year_table(days=MANY_PERIODS + 1))
    assert (trace(short, "daily index")["mode"], trace(short, "articles")["type"]) == ("markers", "bar")
    assert (trace(long, "daily index")["mode"], trace(long, "articles")["type"]) == ("lines", "scatter")
    assert trace(long, "articles")["fill"] == "tozeroy" and trace(long, "articles")["line"]["shape"] == "hvh"
    assert len(trace(long, "daily index")["customdata"]) == MANY_PERIODS + 1  # the hover stays
    assert trace(short, "smoothed")["connectgaps"] is False
    # no range slider on a long view: it drew every trace a second time
    assert short["layout"]["xaxis"]["rangeslider"]["visible"] is True
    assert long["layout"]["xaxis"]["rangeslider"]["visible"] is False


def test_the_chosen_day_or_range_is_shaded_and_named_under_the_chart(service: Service) -> None:
    """A click used to seem to do nothing: the evidence opened below the fold and the chart
    marked nothing. The chosen day (or range) is shaded across the days it covers, and the
    line under the chart names it with a link to its evidence."""
    fig, _, _ = chart.render_view(service, view(), {"start": SPIKE_DAY, "end": SPIKE_DAY})
    shade = fig["layout"]["shapes"][0]
    assert shade["visible"] is True and shade["yref"] == "paper"
    day_ = pd.Timestamp(SPIKE_DAY)
    assert (pd.Timestamp(shade["x0"]), pd.Timestamp(shade["x1"])) == (
        day_ - pd.Timedelta(hours=12), day_ + pd.Timedelta(hours=12))
    # a month in the month view: across the whole month
    month = chosen_shape({"start": "2013-02-01", "end": "2013-02-28"}, "M")
    assert (month["x0"], month["x1"]) == ("2013-02-01 00:00", "2013-03-01 00:00")
    note = text_of(chart.chosen_note({"start": "2013-02-01", "end": "2013-02-28"}))
    assert note.startswith("2013-02-01 to 2013-02-28 chosen") and "its evidence" in note
    (link,) = [c for c in walk(chart.chosen_note({"start": SPIKE_DAY, "end": SPIKE_DAY})) if isinstance(c, html.A)]
    assert link.href == "#evidence-panel"
    assert chosen_shape(None)["visible"] is False


def test_events_are_not_labelled_on_a_long_view_crowded_with_them() -> None:
    table = year_table("1997-01-01", 6000)
    events = pd.DataFrame({"start": pd.date_range("1997-02-01", periods=200, freq="25D"),
                           "label": [f"Test {k}" for k in range(200)], "category": "missile_test"})
    fig = index_figure(table, events=events)
    assert not [a for a in fig["layout"]["annotations"] if a["font"]["color"] == figures.EVENT_COLOR]
    few = index_figure(table.iloc[:200], events=events.iloc[:3])
    assert len([a for a in few["layout"]["annotations"] if a["font"]["color"] == figures.EVENT_COLOR]) == 3


def test_a_first_run_explains_itself_and_draws_a_day_on_a_daily_axis(tmp_path: Path) -> None:
    """A fresh start showed one dot on an axis in hours (12:00, 15:00…) and "1 articles"."""
    from tension.dashboard.app import seed_if_empty

    store = Store(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert seed_if_empty(store)
        fig, status, _ = chart.render_view(Service(store), view())
        text = text_of(status)
        assert text.startswith("1 article over 1 period (") and "1 articles" not in text
        assert "Getting started." in text and "python -m tension ingest" in text and "upload box" in text
        axis = fig["layout"]["xaxis"]
        assert axis["dtick"] == 86_400_000 and "%H" not in axis["tickformat"]
        lo, hi = (pd.Timestamp(x) for x in axis["range"])
        assert pd.Timedelta(days=6) < hi - lo <= pd.Timedelta(days=8)
    finally:
        store.dispose()


def test_a_store_with_a_corpus_shows_no_getting_started_note(service: Service) -> None:
    _, status, _ = chart.render_view(service, view())
    assert "Getting started" not in text_of(status)


def test_a_filtered_view_is_the_loaded_articles_filtered_not_a_second_load(service: Service) -> None:
    """A keyword or category change read the articles again. The service now filters the
    articles it holds; the result is what the store's own query gives."""
    from tension.core.selection import Selection
    from tension.store.queries import load_articles

    category = service.categories()[0]
    for sel in (Selection(filter="talks | war"), Selection(categories=(category,)),
                Selection(filter="talks | war", categories=(category,))):
        got = service.articles(sel).reset_index(drop=True)
        want = load_articles(service.store, sel)
        pd.testing.assert_frame_equal(got, want, check_like=True)
        assert len(want)


def test_a_category_views_hover_phrase_is_a_term_of_that_category(service: Service) -> None:
    """The hover named the day's first matched phrase of any category: in a category's
    sub-index it now names that category's strongest term of the day's strongest article."""
    from tension.core.selection import Selection
    from tension.store.queries import category_terms, resolve

    category = service.categories()[0]
    sel = Selection(categories=(category,))
    phrases = service.top_phrases(sel)
    assert len(phrases)
    version = resolve(service.store, sel).version
    terms = set(category_terms(service.store, version, (category,))["term"])
    assert set(phrases) <= terms


def test_a_bad_filter_in_a_url_is_shown_with_its_error_not_dropped(service: Service) -> None:
    v = view("?q=missile%20%26%20(launch")
    assert v["filter"] == "missile & (launch"
    assert ctl.controls_from_view(v)[7] == "missile & (launch"  # the box shows what the URL says
    _, status, _ = chart.render_view(service, v)
    assert "never closed" in text_of(status)


def test_api_spikes_lists_the_episodes_of_its_dates_as_the_cli_does(template_db: Path, tmp_path: Path) -> None:
    """/api/spikes ignored from/to (it listed every episode); `tension spikes` lists those
    that overlap the dates. Both now give the same list."""
    import json

    from click.testing import CliRunner

    from tension.cli import main
    from tension.dashboard.app import create_app

    url = f"sqlite:///{copy_db(template_db, tmp_path / 'tension.db')}"
    app = create_app(url, seed=False, upload_dir=tmp_path / "uploads")
    client = app.server.test_client()
    try:
        every = client.get("/api/spikes").get_json()
        assert SPIKE_DAY in [s["peak"] for s in every]
        for query in ({"to": day(30)}, {"from": day(44), "to": day(46)}, {"from": day(50)}):
            got = client.get("/api/spikes", query_string=query).get_json()
            flags = [x for k, v in query.items() for x in (f"--{k}", v)]
            cli = CliRunner().invoke(main, ["spikes", *flags, "--json", "--no-evidence", "--top", "100",
                                            "--db", url])
            assert cli.exit_code == 0, cli.output
            assert [s["peak"] for s in got] == [s["peak"] for s in json.loads(cli.output)], query
        assert SPIKE_DAY not in [s["peak"] for s in client.get("/api/spikes?to=" + day(30)).get_json()]
    finally:
        app.server.extensions["tension"]["service"].store.dispose()
