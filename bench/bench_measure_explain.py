"""Benchmark for issue 22's explanations: what a word shift costs under a measure or a dyad
(the articles that aim there are rescored) against the same explanation of the overall tone
(read from the stored term contributions), in the same run.

Stores: the 99,841 KCNA headlines and the first 5,000 KCNA stories (full texts), each
ingested into a temporary SQLite file. For spans of 1, 7, 31 and 365 days ending on days
spread over each corpus, `explain` runs under `all` (the baseline), `intensity` and
`PRK-USA`, each with a fresh scorer (no sentence cached from an earlier call: the first click
on a day in a server just started). Medians over the days, and the ratio measure / overall tone.

Results go to docs/benchmarks.md, section "Explanations under a measure (issue 22)".

Usage: .venv/bin/python bench/bench_measure_explain.py [--days 4] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, machine, write_section  # noqa: E402

from indicators.scorers import scorer_for  # noqa: E402
from tension.core.selection import Selection  # noqa: E402
from tension.pipeline.ingest import ingest  # noqa: E402
from tension.reports.explain import explain  # noqa: E402
from tension.store.engine import Store  # noqa: E402
from tension.store.queries import load_articles  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SPANS = (1, 7, 31, 365)
MEASURES = ("all", "intensity", "PRK-USA")


def stores(tmp: Path) -> dict[str, Store]:
    stories = tmp / "stories_5000.jsonl"
    with gzip.open(DATA / "kcna_stories_2011_2012.jsonl.gz", "rt", encoding="utf-8") as fh:
        stories.write_text("".join(itertools.islice(fh, 5000)), encoding="utf-8")
    out = {}
    for name, path in (("headlines", DATA / "kcna_headlines_1997_2014.csv.gz"), ("stories", stories)):
        store = Store(f"sqlite:///{tmp / name}.db")
        ingest(store, [str(path)], jobs=2)
        out[name] = store
    return out


def timed(store: Store, measure: str, start: dt.date, end: dt.date) -> tuple[float, dict]:
    scorer_for.cache_clear()  # a fresh scorer: nothing cached from the call before
    t0 = time.perf_counter()
    why = explain(store, Selection(dyad=measure), start, end)
    return time.perf_counter() - t0, why


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=4, help="end days per span, spread over the corpus")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        for name, store in stores(Path(tmp)).items():
            dates = load_articles(store, Selection())["date"]
            lo, hi = dates.min().date(), dates.max().date()
            for span in SPANS:
                first = lo + dt.timedelta(days=span + 28)
                step = max(1, (hi - first).days // args.days)
                ends = [first + dt.timedelta(days=step * k) for k in range(args.days)]
                times: dict[str, list[float]] = {m: [] for m in MEASURES}
                n_target = []
                for end in ends:
                    start = end - dt.timedelta(days=span - 1)
                    for measure in MEASURES:
                        seconds, why = timed(store, measure, start, end)
                        times[measure].append(seconds)
                        if measure == "intensity":
                            n_target.append(why["n_target"])
                            if why["delta"] is not None and why["terms_unavailable"] is None:
                                total = sum(t["shift"] for t in why["terms"])
                                assert abs(total - why["delta"]) < 1e-4, (name, span, end, total, why["delta"])
                base = statistics.median(times["all"])
                rows.append((name, span, int(statistics.median(n_target)), base,
                             *[statistics.median(times[m]) for m in MEASURES[1:]]))
                print(rows[-1], flush=True)
            store.dispose()
    table = "\n".join(f"| {n} | {s} | {a:,} | {b:.2f} s | {i:.2f} s ({i / b:.1f}×) | {d:.2f} s ({d / b:.1f}×) |"
                      for n, s, a, b, i, d in rows)
    body = f"""Measured {machine()} by `bench/bench_measure_explain.py` ({args.days} end days per span,
spread over each corpus; medians). `explain` of a span against the 28 days before it, with a
fresh scorer each time (the first click on a day in a server just started). The overall
tone's terms are read from the store; under a measure or dyad — the headline, the conflict
intensity, among them — the articles that aim there are rescored (docs/methodology.md §4), so
that the terms add up to the measure's change (checked on every run here).

| corpus | span (days) | articles in the span | overall tone (`all`) | `intensity` (the headline) | `PRK-USA` |
|---|---|---|---|---|---|
{table}

Spans with more than 5,000 articles to rescore list no term and say why."""
    print(body)
    if not args.no_write:
        write_section("Explanations under a measure (issue 22)", body)


if __name__ == "__main__":
    main()
