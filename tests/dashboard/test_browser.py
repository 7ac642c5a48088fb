"""End to end in a real headless Chromium (dash.testing's `dash_duo`, run with `--headless`).

The store holds the real KCNA headlines (1997-2014) and the North Korean weapons tests as
reference events. It is ingested once per run; a test that writes gets its own copy (SQLite
backup), the tests that only read share one (checked unchanged after each), and every test
gets its own app and its own browser, so tests can be run alone and in any order.
On failure conftest.py saves a screenshot to tests/artifacts/<test name>.png.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _stores import copy_db
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tension.core.selection import Selection
from tension.dashboard.app import create_app
from tension.dashboard.panels.chart import render_view
from tension.dashboard.panels.controls import measure_options
from tension.dashboard.service import Service
from tension.dashboard.view import parse_query
from tension.pipeline.events import import_events
from tension.store import annotations as ann
from tension.store import schema
from tension.store.engine import Store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
WAIT = 25  # seconds: a shared two-core machine
# Drawing all 18 years (6,477 days, every trace twice with the range slider) kept headless
# Chromium busy for 15-30 s on that machine; one path per series now takes ~2 s (see
# docs/benchmarks.md, "Dashboard page load in Chromium"): the margin stays for loaded machines.
LOAD_WAIT = 90
N_ORIGINALS = "99,735"  # 99,841 headlines, 106 of them same-day copies
SPRING_2013 = "?from=2013-02-01&to=2013-04-30"
XSS_ARTICLE = "<script>window.__pwned=1</script> Army threatens war"
XSS_ANNOTATION = '<img src=x onerror="window.__pwned=2">'


# --------------------------------------------------------------------------- the store
@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return {"dir": tmp_path_factory.mktemp("kcna-browser"), "db": None, "warm": None, "reader": None}


# What a Service computed from the template, handed to each test's app whose store is still an
# unchanged copy of it: every app read the 18 years cold (seconds a test, 22 times over). The
# cache is keyed by the store's data revision, so a test that writes first misses it and reads.
_WARM: dict[str, Service] = {}


@pytest.fixture
def kcna_template(shared_data, kcna_headlines_db: Path, _template: dict) -> Path:
    """The KCNA store with the weapons tests as events, made on first use in this module from
    the run's shared headline store (shared_data decides skip/fail)."""
    if _template["db"] is None:
        events = shared_data("nk_weapons_tests_1984_2025.csv")
        db = copy_db(kcna_headlines_db, _template["dir"] / "kcna.db")
        store = Store(f"sqlite:///{db}")
        assert import_events(store, events).added > 100
        store.dispose()
        _template["db"] = db
        service = Service(Store(f"sqlite:///{db}"))
        render_view(service, parse_query(""))
        measure_options(service)
        _template["warm"] = service
    return _template["db"]


@pytest.fixture
def db_url(kcna_template: Path, _template: dict, tmp_path: Path) -> str:
    """A pristine copy of the KCNA store for one test that writes to it."""
    url = f"sqlite:///{copy_db(kcna_template, tmp_path / 'kcna.db')}"
    _WARM[url] = _template["warm"]
    return url


def _written(url: str) -> tuple:
    """What a write to the store changes: every revision counter and the main tables' rows."""
    store = Store(url)
    try:
        return store.revision(*sorted(set(schema.TOPICS.values()))), store.counts()
    finally:
        store.dispose()


@pytest.fixture
def reader_url(kcna_template: Path, _template: dict) -> Iterator[str]:
    """One copy of the KCNA store for the tests that only read it (copying its ~460 MB took
    seconds a test); a test that writes to it fails here and needs `db_url`."""
    if _template["reader"] is None:
        _template["reader"] = f"sqlite:///{copy_db(kcna_template, _template['dir'] / 'reader.db')}"
        _WARM[_template["reader"]] = _template["warm"]
    url = _template["reader"]
    before = _written(url)
    yield url
    assert _written(url) == before, "this test wrote to the shared read-only store: give it db_url"


@pytest.fixture(autouse=True)
def _callbacks_done(dash_duo):
    """After each test, let the page's callbacks still running finish (up to a minute): one cut
    off when the server stops (the heatmap of a test that ended early) warned in the next test."""
    yield
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if dash_duo._wait_for_callbacks():  # dash.testing's own check of the page's store
                return
        except Exception:  # noqa: BLE001 - the page is gone: nothing left to wait for
            return
        time.sleep(0.3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(dash_duo, db_url: str, tmp_path: Path, search: str = "", seed: bool = False):
    """Serve the dashboard for `db_url` and open it at `search`; returns the app."""
    app = create_app(db_url, seed=seed, upload_dir=tmp_path / "uploads")
    service = app.server.extensions["tension"]["service"]
    if db_url in _WARM:  # a copy of the template: start from what its service computed
        for key, value in _WARM[db_url]._cache._data.items():
            service._cache.put(key, value)
    # Warm the server's caches for the first view, so the page does not wait on a cold store.
    render_view(service, parse_query(search))
    dash_duo.driver.set_window_size(1400, 1800)
    dash_duo.start_server(app, port=_free_port())
    if search:
        dash_duo.wait_for_page(url=dash_duo.server_url + "/" + search, timeout=WAIT)
    dash_duo.wait_for_contains_text("#status", " over ", timeout=LOAD_WAIT)  # "1 article over 1 period"
    dash_duo.wait_for_element("#index-graph .scatterlayer .trace", timeout=LOAD_WAIT)
    return app


def store_of(app) -> Store:
    return app.server.extensions["tension"]["service"].store


def wait_until(predicate, timeout: float = WAIT, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except StaleElementReferenceException:  # the page redrew while it was being read
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.25)


def plot_point(dash_duo, when: str) -> tuple[int, int]:
    """Viewport pixel of date `when` on the x axis, half-way up the plot area."""
    dash_duo.driver.execute_script(
        "document.querySelector('#index-graph').scrollIntoView({block: 'center'})")

    def where() -> tuple[int, int]:
        x, y = dash_duo.driver.execute_script("""
            const g = document.querySelector('#index-graph .js-plotly-plot');
            const xa = g._fullLayout.xaxis;
            const r = g.querySelector('.nsewdrag').getBoundingClientRect();
            return [r.left + xa.c2p(xa.d2c(arguments[0])), r.top + r.height * 0.5];""", when)
        return round(x), round(y)

    # The chart may still be redrawn (margins, page layout) after it first appears: wait
    # until the point stays put, or the click lands on a neighbouring day.
    last = where()
    for _ in range(40):
        time.sleep(0.25)
        now = where()
        if now == last:
            return now
        last = now
    return last


def click_at(dash_duo, when: str) -> None:
    """A real click on the plot's drag layer at date `when` (plotly's `clickanywhere`)."""
    x, y = plot_point(dash_duo, when)
    actions = ActionChains(dash_duo.driver)
    actions.w3c_actions.pointer_action.move_to_location(x, y)
    actions.w3c_actions.pointer_action.click()
    actions.perform()


def x_range(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "return document.querySelector('#index-graph .js-plotly-plot')._fullLayout.xaxis.range")


def chart_labels(dash_duo, events: bool = False) -> list[str]:
    """The annotations' labels drawn on the chart (with `events`, the reference events' too)."""
    return [e.text for e in dash_duo.find_elements("#index-graph .annotation-text")
            if events or "185, 101, 28" not in (e.get_attribute("style") or "")]


def grid_rows(dash_duo) -> list[str]:
    return [r.text for r in dash_duo.find_elements("#ann-grid .ag-center-cols-container .ag-row")]


def download_view_csv(dash_duo, tmp_path: Path) -> Path:
    """Click "Download CSV of this view" and wait for the finished file."""
    downloads = tmp_path / "downloads"
    downloads.mkdir(exist_ok=True)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(downloads)})
    dash_duo.find_element("#export-btn").click()
    path = downloads / "tension_index.csv"
    wait_until(lambda: path.exists() and not list(downloads.glob("*.crdownload")),
               message="the downloaded CSV")
    return path


def type_into(dash_duo, selector: str, text: str) -> None:
    dash_duo.clear_input(selector)
    dash_duo.find_element(selector).send_keys(text)


def pwned(dash_duo):
    return dash_duo.driver.execute_script("return window.__pwned")


def kcna(test):
    """Marks of the tests that load the real KCNA corpus."""
    return pytest.mark.corpus(pytest.mark.slow(test))


# --------------------------------------------------------------------------- tests
@kcna
def test_page_loads_and_chart_draws(dash_duo, reader_url: str, tmp_path: Path) -> None:
    start(dash_duo, reader_url, tmp_path)
    status = dash_duo.find_element("#status").text
    assert status.startswith(f"{N_ORIGINALS} articles over 6,477 periods"), status
    # the traces are drawn: the daily index and lines, the article counts (one filled path in
    # a view this long, not 6,477 bars: see MANY_PERIODS), spikes, events
    assert len(dash_duo.find_elements("#index-graph .scatterlayer .trace")) >= 6
    assert dash_duo.find_elements("#index-graph .scatterlayer .trace .fills path")
    legend = [e.text for e in dash_duo.find_elements("#index-graph .legendtext")]
    for name in ("daily index", "smoothed", "95% band", "articles", "hostility spike",
                 "reference events", "hostility", "conciliation"):
        assert name in legend, legend
    # the whole store is shown: 1997 to 2014, with quick ranges (no range slider on a view
    # this long: it drew every trace twice)
    lo, hi = x_range(dash_duo)  # plotly pads the autorange by a few percent
    assert "1995-01-01" <= lo[:10] <= "1997-01-01" and "2014-09-01" <= hi[:10] <= "2016-12-31"
    assert not dash_duo.find_elements("#index-graph .rangeslider-container")
    assert {"1M", "6M", "1Y", "all"} <= {e.text for e in dash_duo.find_elements(
        "#index-graph .rangeselector text")}
    # spike candidates with their one-click button
    spikes = dash_duo.find_elements("#spike-list li.spike")
    assert spikes and all(s.find_element(By.TAG_NAME, "button").text == "Annotate" for s in spikes)
    errors = [e for e in dash_duo.get_logs() or [] if "favicon" not in e.get("message", "")]
    assert errors == [], errors


@kcna
def test_range_from_url_from_controls_and_by_drag(dash_duo, reader_url: str, tmp_path: Path) -> None:
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    # the URL set the date controls and the chart
    dash_duo.wait_for_contains_text("#status", "articles over 89 periods", timeout=WAIT)
    assert dash_duo.find_element("#date-range").get_attribute("value") == "2013-02-01"
    assert dash_duo.find_element("#date-range-end-date").get_attribute("value") == "2013-04-30"
    lo, hi = x_range(dash_duo)
    assert "2013-01-20" <= lo[:10] <= "2013-02-01" and "2013-04-30" <= hi[:10] <= "2013-05-10"
    # dragging across the chart selects a range: its evidence, and the annotation form
    x1, y = plot_point(dash_duo, "2013-03-04 06:00")
    x2, _ = plot_point(dash_duo, "2013-03-12 06:00")
    actions = ActionChains(dash_duo.driver)
    pointer = actions.w3c_actions.pointer_action
    pointer.move_to_location(x1, y)
    pointer.pointer_down()
    for k in range(1, 6):
        pointer.move_to_location(x1 + (x2 - x1) * k // 5, y)
    pointer.pointer_up()
    actions.perform()
    dash_duo.wait_for_contains_text("#evidence", "2013-03-04 to 2013-03-12:", timeout=WAIT)
    assert dash_duo.find_element("#ann-start").get_attribute("value") == "2013-03-04"
    assert dash_duo.find_element("#ann-end").get_attribute("value") == "2013-03-12"
    # a control rewrites the URL (the view can be shared) and redraws the chart
    type_into(dash_duo, "#smooth", "14")
    dash_duo.find_element("#smooth").send_keys(Keys.ENTER)
    wait_until(lambda: "smooth=14" in dash_duo.driver.current_url, message="smooth=14 in the URL")
    assert "from=2013-02-01" in dash_duo.driver.current_url
    # ... and a shared URL opens the same view
    dash_duo.wait_for_page(url=dash_duo.driver.current_url, timeout=WAIT)
    dash_duo.wait_for_contains_text("#status", "articles over 89 periods", timeout=WAIT)
    assert dash_duo.find_element("#smooth").get_attribute("value") == "14"
    assert dash_duo.find_element("#view-message").text == ""
    # a hand-edited URL with a date out of range: the page says what it did not use
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?from=1700-01-01&to=2013-04-30", timeout=WAIT)
    dash_duo.wait_for_contains_text("#view-message", "This link's from=1700-01-01 was not used: ",
                                    timeout=WAIT)
    assert "1800-01-01" in dash_duo.find_element("#view-message").text
    assert dash_duo.find_element("#date-range-end-date").get_attribute("value") == "2013-04-30"
    # the view from the data's first day: let it draw (a request cut off at the end warns)
    wait_until(lambda: " over " in (t := dash_duo.find_element("#status").text) and "89 periods" not in t,
               timeout=LOAD_WAIT, message="the view from the data's first day")


@kcna
def test_clicking_a_day_shows_its_evidence(dash_duo, reader_url: str, tmp_path: Path) -> None:
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    # A real click on the plot's drag layer (plotly's `clickanywhere` sends the x value).
    # We aim a quarter of a day right of the point: see test_callbacks'
    # test_click_just_left_of_a_point_selects_that_day for what happens left of it.
    click_at(dash_duo, "2013-03-07 06:00")
    dash_duo.wait_for_contains_text("#evidence", "2013-03-07:", timeout=WAIT)
    assert dash_duo.find_element("#ann-start").get_attribute("value") == "2013-03-07"
    assert dash_duo.find_element("#ann-end").get_attribute("value") == ""
    heading = dash_duo.find_element("#evidence p").text
    assert heading.startswith("2013-03-07: ") and "articles, mean tension" in heading
    assert "What moved it" in dash_duo.find_element("#evidence").text
    articles = dash_duo.find_elements("#evidence details.article")
    assert articles
    scores = [float(a.find_element(By.CSS_SELECTOR, "summary .score").text) for a in articles]
    assert scores == sorted(scores, key=abs, reverse=True)
    # open the strongest article: its sentences with the matched phrases highlighted
    articles[0].find_element(By.TAG_NAME, "summary").click()
    marks = wait_until(lambda: [m for m in articles[0].find_elements(By.CSS_SELECTOR, "mark.hit")
                                if m.is_displayed() and m.text], message="highlighted phrases")
    for m in marks:
        sentence = m.find_element(By.XPATH, "./ancestor::li[1]").text
        assert m.text in sentence
        assert "contribution" in m.get_attribute("title")


@kcna
def test_month_view_draws_each_month_across_it_and_a_click_opens_that_month(dash_duo, reader_url: str, tmp_path: Path) -> None:
    # four months around the store's strongest hostility spike (which day that is depends
    # on the scorer, not on this test)
    store = Store(reader_url)
    spikes = Service(store).spikes(Selection())
    store.dispose()
    peak = pd.Timestamp(spikes[spikes["kind"] == "hostility"].iloc[0]["peak"])
    months = [(peak.to_period("M") + k) for k in (-1, 0, 1, 2)]
    first, second = months[0], months[1]
    start(dash_duo, reader_url, tmp_path, f"?from={first.start_time:%Y-%m-%d}&to={months[-1].end_time:%Y-%m-%d}&freq=M")
    dash_duo.wait_for_contains_text("#status", "articles over 4 periods", timeout=WAIT)
    # each month's bar is drawn inside its month (the February bar spanned Jan 20 - Feb 12)
    bars = dash_duo.driver.execute_script("""
        const g = document.querySelector('#index-graph .js-plotly-plot');
        const xa = g._fullLayout.xaxis, r = g.querySelector('.nsewdrag').getBoundingClientRect();
        const day = (px) => new Date(xa.p2c(px - r.left)).toISOString().slice(0, 10);
        return Array.from(g.querySelectorAll('.cartesianlayer .barlayer .point path')).map(
            (p) => [day(p.getBoundingClientRect().left), day(p.getBoundingClientRect().right)]);""")
    assert [b[0][:7] for b in bars] == [str(m) for m in months], bars
    assert all(lo[:7] == hi[:7] and lo[8:] <= "14" <= hi[8:] for lo, hi in bars), bars
    # the spike triangles sit on the monthly values: the y axis is not stretched to a day's
    top, day_heights = dash_duo.driver.execute_script("""
        const g = document.querySelector('#index-graph .js-plotly-plot');
        return [g._fullLayout.yaxis.range[1],
                g.data.filter((t) => t.name.endsWith('spike')).flatMap((t) => t.customdata.map((c) => c[2]))];""")
    assert day_heights and top < max(day_heights), (top, day_heights)
    # a click lands in the month drawn under the cursor
    def span(m: pd.Period) -> tuple[str, str]:
        return f"{m.start_time:%Y-%m-%d}", f"{m.end_time:%Y-%m-%d}"

    click_at(dash_duo, f"{first.start_time:%Y-%m}-25")
    dash_duo.wait_for_contains_text("#evidence", "{} to {}:".format(*span(first)), timeout=WAIT)
    click_at(dash_duo, f"{second.start_time:%Y-%m}-20")
    dash_duo.wait_for_contains_text("#evidence", "{} to {}:".format(*span(second)), timeout=WAIT)
    assert dash_duo.find_element("#ann-start").get_attribute("value") == span(second)[0]
    assert dash_duo.find_element("#ann-end").get_attribute("value") == span(second)[1]


@kcna
def test_zooming_the_chart_sets_the_views_dates(dash_duo, reader_url: str, tmp_path: Path) -> None:
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    dash_duo.wait_for_contains_text("#status", "articles over 89 periods", timeout=WAIT)

    def dates() -> tuple[str, str]:
        return (dash_duo.find_element("#date-range").get_attribute("value"),
                dash_duo.find_element("#date-range-end-date").get_attribute("value"))

    # "1M": the view's last month, in the date fields, the URL, the chart and the CSV download
    next(b for b in dash_duo.find_elements("#index-graph .rangeselector .button") if b.text == "1M").click()
    wait_until(lambda: dates() == ("2013-03-31", "2013-04-30"), message=f"the 1M dates, not {dates()}")
    wait_until(lambda: dash_duo.driver.current_url.endswith("/?from=2013-03-31&to=2013-04-30"),
               message="the 1M dates in the URL")
    dash_duo.wait_for_contains_text("#status", "articles over 31 periods", timeout=WAIT)
    lo, hi = x_range(dash_duo)
    assert lo[:10] == "2013-03-30" and hi[:10] == "2013-04-30"
    lines = download_view_csv(dash_duo, tmp_path).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 31 and lines[1].startswith("2013-03-31,") and lines[-1].startswith("2013-04-30,")
    # dragging the range slider sends a burst of ranges: the view takes the last one, once
    dash_duo.driver.execute_script("""
        const g = document.querySelector('#index-graph .js-plotly-plot');
        for (const d of ['05', '08', '11', '14']) {
            Plotly.relayout(g, {'xaxis.range': ['2013-04-' + d + ' 12:00', '2013-04-20 12:00']});
        }""")
    wait_until(lambda: dates() == ("2013-04-15", "2013-04-20"), message=f"the slider's dates, not {dates()}")
    dash_duo.wait_for_contains_text("#status", "articles over 6 periods", timeout=WAIT)
    time.sleep(2)  # the redraw for the new dates sends no zoom back: the view stays
    assert dates() == ("2013-04-15", "2013-04-20")
    # "all" (like a double-click reset) clears the dates: the whole store
    next(b for b in dash_duo.find_elements("#index-graph .rangeselector .button") if b.text == "all").click()
    dash_duo.wait_for_contains_text("#status", "articles over 6,477 periods", timeout=LOAD_WAIT)
    assert dates() == ("", "") and "from=" not in dash_duo.driver.current_url


@kcna
def test_a_smoothing_out_of_range_is_refused_and_the_field_shows_the_one_in_use(dash_duo, reader_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, reader_url, tmp_path, SPRING_2013 + "&smooth=14")
    dash_duo.wait_for_contains_text("#status", "articles over 89 periods", timeout=WAIT)
    service = app.server.extensions["tension"]["service"]
    in_use = next(t for t in render_view(service, parse_query(SPRING_2013 + "&smooth=14"))[0]["data"]
                  if t["name"] == "smoothed")["y"]
    assert not dash_duo.find_element("#view-message").is_displayed()
    for typed in ("0", "1000"):  # the field kept them while the chart used 7 and the URL dropped smooth
        type_into(dash_duo, "#smooth", typed)
        dash_duo.find_element("#smooth").send_keys(Keys.ENTER)
        dash_duo.wait_for_text_to_equal(
            "#view-message", "Smoothing must be a whole number of days from 1 to 365; "
            "still smoothing over 14 days.", timeout=WAIT)
        wait_until(lambda: dash_duo.find_element("#smooth").get_attribute("value") == "14",
                   message="the smoothing in use back in the field")
        assert dash_duo.driver.current_url.endswith(SPRING_2013 + "&smooth=14")
        time.sleep(1)
        drawn = dash_duo.driver.execute_script(
            "return document.querySelector('#index-graph .js-plotly-plot').data"
            ".find((t) => t.name === 'smoothed').y")
        assert drawn == in_use
    # a usable smoothing is taken, and the message goes
    type_into(dash_duo, "#smooth", "3")
    dash_duo.find_element("#smooth").send_keys(Keys.ENTER)
    wait_until(lambda: dash_duo.driver.current_url.endswith("&smooth=3"), message="smooth=3 in the URL")
    wait_until(lambda: not dash_duo.find_element("#view-message").is_displayed(), message="no message")


@kcna
def test_annotation_create_reload_edit_delete(dash_duo, db_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path, SPRING_2013)
    store = store_of(app)
    type_into(dash_duo, "#ann-start", "2013-02-12")
    type_into(dash_duo, "#ann-title", "Third nuclear test")
    type_into(dash_duo, "#ann-note", "KCNA reports the test")
    type_into(dash_duo, "#ann-tags", "nuclear, test")
    type_into(dash_duo, "#ann-author", "ana")
    dash_duo.find_element("#ann-save").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Annotation 1 saved.", timeout=WAIT)
    (stored,) = ann.list_annotations(store)
    assert (stored["date"], stored["title"], stored["tags"], stored["author"]) == (
        "2013-02-12", "Third nuclear test", ["nuclear", "test"], "ana")
    # seen at once in the grid and on the chart
    dash_duo.wait_for_contains_text("#ann-grid", "Third nuclear test", timeout=WAIT)
    wait_until(lambda: "Third nuclear test" in chart_labels(dash_duo), message="chart label")
    # still there after a reload
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#status", "articles over 89 periods", timeout=WAIT)
    dash_duo.wait_for_contains_text("#ann-grid", "Third nuclear test", timeout=WAIT)
    wait_until(lambda: "Third nuclear test" in chart_labels(dash_duo), message="label after reload")
    # edit: select the row in the grid, change the title, save
    dash_duo.find_element("#ann-grid .ag-center-cols-container .ag-row input.ag-checkbox-input").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 1.", timeout=WAIT)
    assert dash_duo.find_element("#ann-title").get_attribute("value") == "Third nuclear test"
    assert dash_duo.find_element("#ann-tags").get_attribute("value") == "nuclear, test"
    type_into(dash_duo, "#ann-title", "Third nuclear test (Punggye-ri)")
    dash_duo.find_element("#ann-save").click()
    # (the "Saved changes" message is soon replaced: see test_save_message_stays_after_an_edit)
    wait_until(lambda: ann.get(store, 1)["title"] == "Third nuclear test (Punggye-ri)",
               message="the edit in the store")
    assert ann.get(store, 1)["updated_at"] > stored["updated_at"]
    wait_until(lambda: any("Third nuclear test (Punggye-ri)" in r for r in grid_rows(dash_duo)),
               message="edited title in the grid")
    assert len(grid_rows(dash_duo)) == 1
    wait_until(lambda: "Third nuclear test (Punggye-ri)" in chart_labels(dash_duo),
               message="edited chart label")
    # delete
    dash_duo.find_element("#ann-delete").click()
    dash_duo.wait_for_element("#ann-delete-yes", timeout=WAIT).click()  # it asks first
    dash_duo.wait_for_text_to_equal("#ann-message", "Annotation 1 deleted.", timeout=WAIT)
    assert ann.list_annotations(store) == []
    wait_until(lambda: grid_rows(dash_duo) == [], message="empty grid")
    wait_until(lambda: chart_labels(dash_duo) == [], message="no chart label")


@kcna
def test_picking_a_day_after_a_save_starts_a_new_annotation(dash_duo, db_url: str, tmp_path: Path) -> None:
    """The QA case: save A, click another day, type B, save. B is a second annotation; A stays."""
    app = start(dash_duo, db_url, tmp_path, SPRING_2013)
    click_at(dash_duo, "2013-03-07 06:00")
    wait_until(lambda: dash_duo.find_element("#ann-start").get_attribute("value") == "2013-03-07",
               message="the clicked day in the form")
    type_into(dash_duo, "#ann-title", "Annotation A")
    dash_duo.find_element("#ann-save").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Annotation 1 saved.", timeout=WAIT)
    click_at(dash_duo, "2013-04-10 06:00")
    dash_duo.wait_for_text_to_equal("#ann-message", "New annotation for 2013-04-10 (annotation 1 is saved).",
                                    timeout=WAIT)
    assert dash_duo.find_element("#ann-title").get_attribute("value") == ""
    type_into(dash_duo, "#ann-title", "Annotation B")
    dash_duo.find_element("#ann-save").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Annotation 2 saved.", timeout=WAIT)
    assert [(a["id"], a["date"], a["title"]) for a in ann.list_annotations(store_of(app))] == [
        (1, "2013-03-07", "Annotation A"), (2, "2013-04-10", "Annotation B")]


@kcna
def test_spike_is_accepted_in_one_click(dash_duo, db_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path, SPRING_2013)
    first = dash_duo.find_element("#spike-list li.spike")
    peak, kind = first.text.split()[:2]
    first.find_element(By.TAG_NAME, "button").click()
    dash_duo.wait_for_contains_text("#ann-message", f"created from the {peak} spike", timeout=WAIT)
    (stored,) = ann.list_annotations(store_of(app))
    assert stored["tags"] == ["spike", kind]
    assert stored["start"] <= peak <= stored["end"]
    assert stored["title"].startswith(("Hostility spike: ", "Conciliation dip: "))
    assert stored["note"].startswith("Robust z ")
    wait_until(lambda: any(f"spike, {kind}" in r and stored["title"] in r for r in grid_rows(dash_duo)),
               message="the spike's annotation in the grid")
    # the list now says the spike is annotated, and offers no second "Annotate" (QA: duplicates)
    wait_until(lambda: dash_duo.find_elements("#spike-list li.spike:first-child .annotated"),
               message="the spike marked annotated")
    first = dash_duo.find_element("#spike-list li.spike")
    assert first.text.startswith(peak) and not first.find_elements(By.TAG_NAME, "button")


@kcna
def test_close_annotation_labels_do_not_overlap(dash_duo, db_url: str, tmp_path: Path) -> None:
    """QA: four annotations three weeks apart in a one-year view drew their labels on one line."""
    store = Store(db_url)
    for k, d in enumerate(["2013-02-12", "2013-03-05", "2013-03-26", "2013-04-16"]):
        ann.create(store, {"date": d, "title": f"Annotation number {k} of four"})
    store.dispose()
    start(dash_duo, db_url, tmp_path, "?from=2013-01-01&to=2013-12-31")
    wait_until(lambda: len(chart_labels(dash_duo)) == 4, message="four chart labels")
    boxes = dash_duo.driver.execute_script("""
        return [...document.querySelectorAll('#index-graph g.annotation')]
            .filter(a => !(a.querySelector('.annotation-text').getAttribute('style') || '').includes('185, 101, 28'))
            .map(a => {
                const r = a.getBoundingClientRect();
                return [r.left, r.top, r.right, r.bottom];});""")
    assert len(boxes) == 4 and all(r > left and b > top for left, top, r, b in boxes), boxes
    for (l1, t1, r1, b1), (l2, t2, r2, b2) in itertools.combinations(boxes, 2):
        assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, f"labels overlap: {boxes}"


@kcna
def test_count_axis_ticks_do_not_repeat_with_a_keyword_filter(dash_duo, reader_url: str, tmp_path: Path) -> None:
    """QA: with few articles a day the count axis read 0, 1, 1, 1, 2, 2."""
    start(dash_duo, reader_url, tmp_path, SPRING_2013 + "&q=Seoul")
    dash_duo.wait_for_contains_text("#status", "articles over 89 periods", timeout=WAIT)  # that view
    time.sleep(1)  # and its figure drawn (the status and the figure come from one callback)
    ticks = wait_until(lambda: [e.text for e in dash_duo.find_elements("#index-graph .y2tick text")],
                       message="count axis ticks")
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks
    assert [int(t.replace(",", "")) for t in ticks] == sorted(int(t.replace(",", "")) for t in ticks)


def test_annotation_grid_logs_no_warnings(dash_duo, tmp_path: Path) -> None:
    """QA: every page with annotations logged AG Grid warning #25 ("getRowId callback must
    return a string"): ids are numbers. Warnings are not in the SEVERE log dash_duo keeps,
    so the page records console.warn itself, from before any script runs."""
    db_url = f"sqlite:///{tmp_path / 'seeded.db'}"
    store = Store(db_url)
    ann.create(store, {"date": "2018-01-03", "title": "Hotline reopened"})
    ann.create(store, {"date": "2018-01-09", "title": "Talks at Panmunjom"})
    store.dispose()
    start(dash_duo, db_url, tmp_path, seed=True)
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__warnings = [];
        const warn = console.warn;
        console.warn = (...args) => { window.__warnings.push(args.join(' ')); warn(...args); };"""})
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#ann-grid", "Talks at Panmunjom", timeout=WAIT)
    wait_until(lambda: len(grid_rows(dash_duo)) == 2, message="two grid rows")
    time.sleep(1)
    warnings = dash_duo.driver.execute_script("return window.__warnings")
    assert warnings == [], warnings
    assert dash_duo.driver.execute_script(
        "return dash_ag_grid.getApi('ann-grid').getRowNode('2').data.title") == "Talks at Panmunjom"


@kcna
def test_csv_download_equals_cli_export(dash_duo, db_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path, SPRING_2013 + "&smooth=14")
    ann.create(store_of(app), {"start": "2013-03-11", "end": "2013-03-21", "title": "Key Resolve"})
    path = download_view_csv(dash_duo, tmp_path)
    cli = subprocess.run([sys.executable, "-m", "tension", "export", "--out", "-", "--db", db_url,
                          "--from", "2013-02-01", "--to", "2013-04-30", "--smooth", "14"],
                         cwd=ROOT, capture_output=True, text=True, timeout=180,
                         env={**os.environ, "TENSION_DB": ""})
    assert cli.returncode == 0, cli.stderr
    downloaded = path.read_text(encoding="utf-8")
    assert downloaded == cli.stdout
    lines = downloaded.splitlines()
    assert len(lines) == 1 + 89 and lines[1].startswith("2013-02-01,")
    assert sum("Key Resolve" in line for line in lines) == 11


@kcna
def test_upload_ingests_and_user_text_stays_inert(dash_duo, db_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path, SPRING_2013)
    upload = tmp_path / "new_articles.csv"
    upload.write_text("date,source,title,url\n"
                      f'2013-04-29,Upload Wire,"{XSS_ARTICLE}",http://example.org/u1\n'
                      "2013-04-29,Upload Wire,Leaders agree to resume talks,http://example.org/u2\n"
                      "not-a-date,Upload Wire,Broken row,http://example.org/u3\n", encoding="utf-8")
    dash_duo.find_element("#upload input[type=file]").send_keys(str(upload))
    dash_duo.wait_for_contains_text("#upload-status", "quarantined", timeout=WAIT)
    summary = dash_duo.find_element("#upload-status").text
    assert "new_articles.csv: read 3 rows, added 2, duplicates 0, quarantined 1." in summary
    # the chart and status are redrawn with the new articles
    dash_duo.wait_for_contains_text("#status", "2,482 articles over 89 periods", timeout=WAIT)
    assert store_of(app).counts()["quarantine"] == 1
    # the uploaded <script> headline, shown in the evidence panel as text
    click_at(dash_duo, "2013-04-29 06:00")
    dash_duo.wait_for_contains_text("#evidence", "2013-04-29:", timeout=WAIT)
    dash_duo.wait_for_contains_text("#evidence", XSS_ARTICLE, timeout=WAIT)
    # an annotation whose title is an HTML payload, in the grid and on the chart
    type_into(dash_duo, "#ann-start", "2013-04-29")
    type_into(dash_duo, "#ann-title", XSS_ANNOTATION)
    dash_duo.find_element("#ann-save").click()
    dash_duo.wait_for_contains_text("#ann-message", "saved.", timeout=WAIT)
    dash_duo.wait_for_contains_text("#ann-grid", XSS_ANNOTATION, timeout=WAIT)
    # on the chart: the literal text (cut to 40 characters; the '"' shows as &quot;: see
    # test_callbacks' test_quoted_annotation_title_reads_right_on_the_chart)
    wait_until(lambda: [t for t in chart_labels(dash_duo) if t.startswith("<img src=x onerror=")],
               message="the annotation's chart label")
    assert not dash_duo.find_elements("#index-graph img, #ann-grid img, #evidence img, "
                                      "#evidence script")
    assert pwned(dash_duo) is None


def test_date_picker_applies_a_typed_date_on_blur_and_opens_on_the_data(dash_duo, tmp_path: Path) -> None:
    """QA: a start date typed and left by a click elsewhere was shown but never applied (no
    `from` in the URL); and the calendar opened on today's month, years after the data."""
    db_url = f"sqlite:///{tmp_path / 'seeded.db'}"  # the seed article: 2018-01-03
    start(dash_duo, db_url, tmp_path, seed=True)
    dash_duo.find_element("#date-range").click()
    calendar = wait_until(lambda: dash_duo.find_elements(".dash-datepicker-content"), message="calendar")
    assert "January 2018" in calendar[0].text, calendar[0].text
    dash_duo.find_element("#date-range").send_keys("2017-12-20")
    dash_duo.find_element("h1").click()
    wait_until(lambda: "from=2017-12-20" in dash_duo.driver.current_url, message="from= in the URL")
    dash_duo.wait_for_contains_text("#status", "1 article over 15 periods", timeout=WAIT)
    assert dash_duo.find_element("#date-range").get_attribute("value") == "2017-12-20"
    # the end date too
    dash_duo.find_element("#date-range-end-date").send_keys("2017-12-31")
    dash_duo.find_element("h1").click()
    wait_until(lambda: "to=2017-12-31" in dash_duo.driver.current_url, message="to= in the URL")
    dash_duo.wait_for_contains_text("#status", "0 articles over 12 periods", timeout=WAIT)


def test_keyword_filter_box_shows_its_whole_placeholder(dash_duo, tmp_path: Path) -> None:
    """QA: the keyword filter box was too narrow for its placeholder ("e.g. Seoul|South Korea")."""
    start(dash_duo, f"sqlite:///{tmp_path / 'seeded.db'}", tmp_path, seed=True)
    need, room = dash_duo.driver.execute_script("""
        const box = document.querySelector('input#filter');
        const style = getComputedStyle(box);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = style.font;
        // what shows: the input, cut by dash's wrapper around it (it was cut at 141 px)
        const shown = Math.min(box.getBoundingClientRect().right, box.parentElement.getBoundingClientRect().right)
                      - box.getBoundingClientRect().left;
        const room = shown - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
                     - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
        return [ctx.measureText(box.placeholder + ' & more').width, room];""")
    assert room >= need, (room, need)


def test_save_message_stays_after_an_edit(dash_duo, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'seeded.db'}"
    store = Store(db_url)  # create_app fills it from seeds/
    ann.create(store, {"date": "2018-01-03", "title": "Hotline reopened"})
    store.dispose()
    app = start(dash_duo, db_url, tmp_path, seed=True)
    dash_duo.wait_for_contains_text("#ann-grid", "Hotline reopened", timeout=WAIT)
    dash_duo.find_element("#ann-grid .ag-center-cols-container .ag-row input.ag-checkbox-input").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 1.", timeout=WAIT)
    type_into(dash_duo, "#ann-title", "Hotline reopened at Panmunjom")
    dash_duo.find_element("#ann-save").click()
    wait_until(lambda: ann.get(store_of(app), 1)["title"] == "Hotline reopened at Panmunjom",
               message="the edit in the store")
    wait_until(lambda: any("at Panmunjom" in r for r in grid_rows(dash_duo)), message="grid row")
    time.sleep(2)  # let the grid's refresh run its course
    assert dash_duo.find_element("#ann-message").text == "Saved changes to annotation 1."


# --------------------------------------------------------------------------- issue 21
def marker_point(dash_duo, trace_name: str) -> tuple[int, int, str]:
    """Screen position and day of the first marker of a trace (a spike triangle)."""
    return tuple(dash_duo.driver.execute_script("""
        const g = document.querySelector('#index-graph .js-plotly-plot');
        const t = g._fullData.find((d) => d.name === arguments[0]);
        const xa = g._fullLayout.xaxis, ya = g._fullLayout[t.yaxis === 'y' ? 'yaxis' : 'yaxis' + t.yaxis.slice(1)];
        const r = g.querySelector('.nsewdrag').getBoundingClientRect();
        return [Math.round(r.left + xa.c2p(xa.d2c(t.x[0]))), Math.round(r.top + ya.c2p(t.y[0])),
                t.customdata[0][1]];""", trace_name))


@kcna
def test_a_click_on_a_spike_marker_of_the_whole_view_opens_that_spikes_day(dash_duo, reader_url: str, tmp_path: Path) -> None:
    """On the 18-year view (about 5 days a pixel) a click on a spike's triangle opened the
    evidence of the day under the cursor, days off the day its hover named."""
    start(dash_duo, reader_url, tmp_path)
    dash_duo.wait_for_contains_text("#status", "articles over 6,477 periods", timeout=LOAD_WAIT)
    x, y, day = marker_point(dash_duo, "hostility spike")
    actions = ActionChains(dash_duo.driver)
    actions.w3c_actions.pointer_action.move_to_location(x, y)
    actions.w3c_actions.pointer_action.pause(0.3)  # let the hover settle on the marker
    actions.w3c_actions.pointer_action.click()
    actions.perform()
    dash_duo.wait_for_contains_text("#evidence", f"{day}:", timeout=WAIT)
    assert dash_duo.find_element("#evidence p").text.startswith(f"{day}: ")
    assert dash_duo.find_element("#ann-start").get_attribute("value") == day


@kcna
def test_a_chosen_day_is_shaded_and_named_under_the_chart(dash_duo, reader_url: str, tmp_path: Path) -> None:
    """A click seemed to do nothing: the evidence opened below the fold, the chart marked nothing."""
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    click_at(dash_duo, "2013-03-07 06:00")
    dash_duo.wait_for_contains_text("#chosen-note", "2013-03-07 chosen", timeout=WAIT)
    shade = wait_until(lambda: dash_duo.driver.execute_script("""
        const g = document.querySelector('#index-graph .js-plotly-plot');
        const s = g.layout.shapes[0];
        return s.visible ? [s.name, s.x0, s.x1] : null;"""), message="the shaded day")
    assert shade == ["chosen", "2013-03-06 12:00", "2013-03-07 12:00"]
    # drawn: a shape path in the plot, across that day's pixels
    left, right = dash_duo.driver.execute_script("""
        const g = document.querySelector('#index-graph .js-plotly-plot');
        const xa = g._fullLayout.xaxis;
        return [xa.c2p(xa.d2c('2013-03-06 12:00')), xa.c2p(xa.d2c('2013-03-07 12:00'))];""")
    assert right - left > 3
    assert dash_duo.find_elements("#index-graph .layer-below .shapelayer path, #index-graph .shapelayer path")
    # the link under the chart leads to the evidence
    link = dash_duo.find_element("#chosen-note a")
    assert link.get_attribute("href").endswith("#evidence-panel")
    link.click()
    wait_until(lambda: dash_duo.driver.execute_script(
        "const r = document.getElementById('evidence-panel').getBoundingClientRect();"
        "return r.top >= -2 && r.top < window.innerHeight;"), message="the evidence scrolled into view")
    # another day moves the shade (the chart is not redrawn for it)
    click_at(dash_duo, "2013-04-02 06:00")
    dash_duo.wait_for_contains_text("#chosen-note", "2013-04-02 chosen", timeout=WAIT)
    wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelector('#index-graph .js-plotly-plot').layout.shapes[0].x0") == "2013-04-01 12:00",
        message="the shade on the new day")
    # its evidence too (the server is not stopped while it is still answering)
    dash_duo.wait_for_contains_text("#evidence", "2013-04-02:", timeout=WAIT)


@kcna
def test_zoom_mode_stays_after_a_zoom_redraws_the_chart(dash_duo, reader_url: str, tmp_path: Path) -> None:
    """After one toolbar zoom the drag mode went back to select: the next drag filled the
    annotation form instead of zooming."""
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    # the toolbar's zoom button (the toolbar shows on hover: clicked through the DOM)
    dash_duo.driver.execute_script(
        "document.querySelector(\"#index-graph .modebar-btn[data-attr='dragmode'][data-val='zoom']\").click()")
    wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelector('#index-graph .js-plotly-plot')._fullLayout.dragmode") == "zoom",
        message="zoom mode")

    def dates() -> tuple[str, str]:
        return (dash_duo.find_element("#date-range").get_attribute("value"),
                dash_duo.find_element("#date-range-end-date").get_attribute("value"))

    def mode() -> str:
        return dash_duo.driver.execute_script(
            "return document.querySelector('#index-graph .js-plotly-plot')._fullLayout.dragmode")

    # a zoom sets the view's dates and the chart is redrawn for them (new axes' revision) ...
    next(b for b in dash_duo.find_elements("#index-graph .rangeselector .button") if b.text == "1M").click()
    wait_until(lambda: dates() == ("2013-03-31", "2013-04-30"), message=f"the 1M dates, not {dates()}")
    dash_duo.wait_for_contains_text("#status", "articles over 31 periods", timeout=WAIT)
    time.sleep(1)
    # ... and the drag mode the analyst chose stays: the next drag zooms again
    assert mode() == "zoom"
    type_into(dash_duo, "#smooth", "14")
    dash_duo.find_element("#smooth").send_keys(Keys.ENTER)
    wait_until(lambda: "smooth=14" in dash_duo.driver.current_url, message="smooth=14 in the URL")
    time.sleep(1)
    assert mode() == "zoom"


@kcna
def test_reference_events_are_labelled_on_a_zoomed_view(dash_duo, reader_url: str, tmp_path: Path) -> None:
    """Orange lines without labels: the label showed only on hover near the line's top."""
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    wait_until(lambda: "Nuclear test (3rd)" in chart_labels(dash_duo, events=True), message="the 2013 nuclear test's label")
    assert "Nuclear test (3rd)" not in chart_labels(dash_duo)  # told apart from the annotations' labels
    # the hover on the line, half-way up, names the event (not the day's dot)
    x, _ = plot_point(dash_duo, "2013-02-12")
    top, height = dash_duo.driver.execute_script(
        "const r = document.querySelector('#index-graph .nsewdrag').getBoundingClientRect();"
        "return [r.top, r.height];")
    actions = ActionChains(dash_duo.driver)
    actions.w3c_actions.pointer_action.move_to_location(x, round(top + height * 0.4))
    actions.perform()
    hover = wait_until(lambda: " ".join(e.text for e in dash_duo.find_elements("#index-graph .hoverlayer .hovertext")),
                       message="a hover label")
    assert "Nuclear test (3rd) [nuclear_test]" in hover, hover


@kcna
def test_at_1280_by_800_the_date_axis_is_above_the_fold(dash_duo, reader_url: str, tmp_path: Path) -> None:
    """The controls took ~300 px and pushed the chart's date axis below the fold."""
    start(dash_duo, reader_url, tmp_path, SPRING_2013)
    dash_duo.driver.set_window_size(1280, 800)
    time.sleep(1)
    bottom, inner, controls = dash_duo.driver.execute_script("""
        const ticks = Array.from(document.querySelectorAll('#index-graph .xtick text'));
        return [Math.max(...ticks.map((t) => t.getBoundingClientRect().bottom)), window.innerHeight,
                document.querySelector('.controls').getBoundingClientRect().height];""")
    assert bottom < inner, (bottom, inner, controls)
    assert controls < 200, controls
