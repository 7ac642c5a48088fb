"""Benchmark for issue 2: the full scorer against bare VADER on the same 2,000 KCNA stories.

Both score the first 2,000 stories of ../shared/data/kcna_stories_2011_2012.jsonl.gz in one
run: the full scorer as the pipeline calls it (`Scorer().score_article(title, text)`: sentence
splitting, lexicon matching with modifiers, VADER on the sentences where the lexicon fires,
aggregation, evidence) and bare VADER as its users call it
(`SentimentIntensityAnalyzer().polarity_scores(text)` on each story's text). Goal: the full
scorer's throughput is at least 0.7x bare VADER's.

The machine is shared and noisy, so the two alternate (the order flips every round), each
round starts cold (a fresh Scorer with a freshly parsed lexicon: no sentence cache, no word
memo), and the report gives the median of 3 rounds, in wall time and in CPU time of this
process (what the code itself costs when neighbours take the CPUs). Results go to
docs/benchmarks.md, section "Scoring (issue 2)".

Usage: .venv/bin/python bench/bench_scoring.py [--rounds 3] [--stories 2000] [--no-write]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from _report import machine, write_section
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from indicators.combine import Scorer
from indicators.lexicon import default_lexicon_bytes, parse_lexicon

ROOT = Path(__file__).resolve().parents[1]

CORPUS = Path(__file__).resolve().parents[2] / "shared/data/kcna_stories_2011_2012.jsonl.gz"
SECTION = "Scoring (issue 2)"
GOAL = 0.7


def load_stories(path: Path, n: int) -> list[tuple[str, str]]:
    """(title, text) of the first `n` stories of the corpus."""
    if not path.is_file():
        raise SystemExit(f"error: corpus {path} is missing (expected in ../shared/data beside the repo)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, n)]
    if len(rows) < n:
        raise SystemExit(f"error: {path} has only {len(rows)} stories, {n} wanted")
    return [(r.get("title") or "", r.get("text") or "") for r in rows]


def run_full(stories: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    """Wall and CPU seconds of the full scorer over all stories, cold, and its labels."""
    scorer = Scorer(parse_lexicon(default_lexicon_bytes()))  # fresh: no caches carried over
    labels: Counter = Counter()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for title, text in stories:
        labels[scorer.score_article(title, text).label] += 1
    return time.perf_counter() - wall, time.process_time() - cpu, labels


def run_bare(stories: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    """Wall and CPU seconds of bare VADER over every story's text, and its labels."""
    analyzer = SentimentIntensityAnalyzer()
    labels: Counter = Counter()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for _title, text in stories:
        compound = analyzer.polarity_scores(text)["compound"]
        labels["conciliatory" if compound >= 0.05 else "hostile" if compound <= -0.05 else "neutral"] += 1
    return time.perf_counter() - wall, time.process_time() - cpu, labels


def measure(stories: list[tuple[str, str]], rounds: int) -> dict[str, dict]:
    runners: dict[str, Callable] = {"full": run_full, "bare": run_bare}
    results: dict[str, dict] = {name: {"wall": [], "cpu": [], "labels": None} for name in runners}
    for r in range(rounds):
        order = ["full", "bare"] if r % 2 == 0 else ["bare", "full"]
        for name in order:
            wall, cpu, labels = runners[name](stories)
            results[name]["wall"].append(wall)
            results[name]["cpu"].append(cpu)
            results[name]["labels"] = labels
            print(f"round {r + 1}/{rounds} {name:<4}: {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    for res in results.values():
        res["wall_median"] = statistics.median(res["wall"])
        res["cpu_median"] = statistics.median(res["cpu"])
    return results


def report(stories: list[tuple[str, str]], results: dict[str, dict], rounds: int,
           load_before: tuple[float, ...], load_after: tuple[float, ...]) -> str:
    n = len(stories)
    chars_full = sum(len(t) + len(x) for t, x in stories)
    chars_bare = sum(len(x) for _, x in stories)
    full, bare = results["full"], results["bare"]
    ratio_wall = bare["wall_median"] / full["wall_median"]  # throughput ratio = inverse time ratio
    ratio_cpu = bare["cpu_median"] / full["cpu_median"]

    def row(label: str, res: dict, chars: int) -> str:
        runs = ", ".join(f"{w:.2f}" for w in res["wall"])
        return (f"| {label} | {res['wall_median']:.2f} | {res['cpu_median']:.2f} | "
                f"{n / res['wall_median']:,.0f} | {n / res['cpu_median']:,.0f} | "
                f"{chars / res['wall_median']:,.0f} | {chars / res['cpu_median']:,.0f} | {runs} |")

    def verdict(x: float) -> str:
        return "met" if x >= GOAL else "**not met**"

    labels = lambda c: ", ".join(f"{k} {c[k]:,}" for k in ("hostile", "neutral", "conciliatory"))  # noqa: E731
    return f"""`python bench/bench_scoring.py`, measured {machine()}: the first {n:,} stories of
`../shared/data/kcna_stories_2011_2012.jsonl.gz` ({chars_bare:,} characters of text, longest
{max(len(x) for _, x in stories):,}), scored in one run by the full scorer
(`Scorer().score_article(title, text)`: split, lexicon with modifiers, VADER where the lexicon
fires, aggregation, evidence) and by bare VADER (`SentimentIntensityAnalyzer().polarity_scores(text)`
on each story's text). {rounds} round{'s' if rounds != 1 else ''}, the order flipping every round; each full-scorer round
starts cold (fresh `Scorer` and freshly parsed lexicon: no sentence cache, no word memo).
Medians of the rounds; CPU is this process's CPU time.

| scorer | median wall (s) | median CPU (s) | stories/s (wall) | stories/s (CPU) | characters/s (wall) | characters/s (CPU) | wall runs (s) |
|---|---:|---:|---:|---:|---:|---:|---|
{row("full scorer (title + text)", full, chars_full)}
{row("bare VADER (text)", bare, chars_bare)}

| goal | figure | verdict |
|---|---|---|
| full-scorer throughput ≥ {GOAL}× bare VADER (wall) | {ratio_wall:.2f}× | {verdict(ratio_wall)} |
| full-scorer throughput ≥ {GOAL}× bare VADER (CPU) | {ratio_cpu:.2f}× | {verdict(ratio_cpu)} |

Labels of the {n:,} stories: full scorer {labels(full["labels"])}; bare VADER
{labels(bare["labels"])}.

Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]} ({platform.platform()}); load
average {"/".join(f"{x:.1f}" for x in load_before)} before and
{"/".join(f"{x:.1f}" for x in load_after)} after (1/5/15 min). The machine is shared: compare the medians, and prefer the CPU figures when
the load is high.

Where the time goes: bare VADER reads each whole story, and its cost grows faster than
linearly with the length of what it is given (doubling a story roughly triples its time); the
full scorer splits first, runs VADER only on the sentences where the lexicon fires (elsewhere
VADER cannot change the score: it only scales a lexicon verdict) and matches the lexicon with a
word-memoised trie walk. So long stories cost it relatively less, short ones relatively more."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch docs/benchmarks.md")
    args = parser.parse_args()

    stories = load_stories(CORPUS, args.stories)
    # Warm-up outside the measurement: imports, VADER's lexicon, the code paths.
    run_full(stories[:50])
    run_bare(stories[:50])
    load_before = os.getloadavg()
    results = measure(stories, args.rounds)
    load_after = os.getloadavg()
    body = report(stories, results, args.rounds, load_before, load_after)
    print()
    print(body)
    if not args.no_write:
        path = write_section(SECTION, body)
        print(f"\nwrote section '{SECTION}' of {path}")


if __name__ == "__main__":
    main()
