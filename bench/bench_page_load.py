"""How long headless Chromium takes to show the dashboard: the landing view (all 18 years of
the 99,841 KCNA headlines, 6,477 days) against a one-year view, in the same run.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="an existing store (default: ingest the headlines into a temp one)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch docs/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, how = open_store(args.db, Path(tmp))
        port = free_port()
        app = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--db", db, "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        driver = None
        try:
            base = f"http://127.0.0.1:{port}/"
            wait_http(base, app)
            driver = browser()
            for query in VIEWS.values():  # warm the server's caches: the browser is what is timed
                load(driver, base + query)
            times: dict[str, list[float]] = {name: [] for name in VIEWS}
            for r in range(args.rounds):
                order = list(VIEWS.items())[:: 1 if r % 2 == 0 else -1]
                for name, query in order:
                    times[name].append(load(driver, base + query))
        finally:
            if driver is not None:
                driver.quit()
            app.terminate()
            app.wait(timeout=30)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    (full, full_t), (year, year_t) = med.items()
    lines = [
        f"`python bench/bench_page_load.py` — {machine()}; {how}; headless Chromium, "
        f"1400×1000, {args.rounds} alternating loads of each view after one warm-up load "
        "(server caches warm: the browser's drawing is what is timed).",
        "",
        "| view | median load to drawn chart | loads |",
        "|---|---:|---|",
        *[f"| {name} | {med[name]:.2f} s | {', '.join(f'{t:.2f}' for t in ts)} |"
          for name, ts in times.items()],
        "",
        f"**{full} / {year}: {full_t / year_t:.2f}×.** Views longer than {MANY_PERIODS:,} periods "
        "draw the daily index and the article counts as one path each (a thin line and a filled "
        "step) instead of a dot and a bar per day; shorter views keep their dots and bars. "
        "Before that change, timed by an equivalent one-off script against the new code in one run "
        "(a copy of the same store), the landing view took 7.1–7.4 s warm (9.2–9.3 s on a fresh page) against 1.2–1.4 s for the year: about 6×.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        print(f"written to {write_section(TITLE, body)}", file=sys.stderr)


if __name__ == "__main__":
    main()
