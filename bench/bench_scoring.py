"""Benchmark for issues 2 and 20: the learned scorer against today's lexicon scorer and bare
VADER on the same 2,000 KCNA stories, and the time to retrain with 1,000 analyst labels.

All three score the first 2,000 stories of ../shared/data/kcna_stories_2011_2012.jsonl.gz in one
run, each as its users call it:
- the learned scorer (`scorer_for().score_articles(...)` in batches of the ingest's batch size:
  split, lexicon matches, VADER where the lexicon fires, hashed n-grams, the linear model,
  exact contributions, aggregation, evidence);
- the lexicon scorer (`lexicon_scorer().score_articles(...)`, the same batches: the scorer the
  pipeline used before issue 20);
- bare VADER (`SentimentIntensityAnalyzer().polarity_scores(text)` on each story's text).
Goals: the learned scorer takes at most 1.5x the lexicon scorer's time (issue 20), and the
lexicon scorer's throughput is at least 0.7x bare VADER's (issue 2).

The machine is shared and noisy, so the three rotate (the order changes every round), every
round starts cold (freshly parsed lexicon and model: no sentence cache, no word memo), ratios are
taken within a round, and the report gives medians over the rounds, in wall and CPU time.

Retraining: `train_for_store` with the shipped base features plus 1,000 analyst labels (pool
sentences no reader labelled, labelled here by the shipped model itself: only the time is
measured), cross-validation included, as `tension train --db` runs it. Goal: under a minute.

Results go to docs/benchmarks.md, section "Scoring (issues 2 and 20)".

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

from indicators import tokens
from indicators.combine import Scorer
from indicators.evaluate import Report
from indicators.learned import features
from indicators.learned.model import LinearModel
from indicators.learned.scorer import LearnedScorer
from indicators.lexicon import default_lexicon_bytes, parse_lexicon
from indicators.scorers import load_model, scorer_for, shipped_model_bytes
from tension.pipeline.ingest import BATCH_SIZE
from tension.pipeline.train import settings_file, train_for_store

DATA = Path(__file__).resolve().parents[2] / "shared/data"
CORPUS = DATA / "kcna_stories_2011_2012.jsonl.gz"
POOL = DATA / "sentence_pool.jsonl.gz"
SECTION = "Scoring (issues 2 and 20)"
LEARNED_MAX = 1.5  # learned time / lexicon time
VADER_MIN = 0.7  # lexicon throughput / VADER throughput
RETRAIN_MAX = 60.0  # seconds


def load_stories(path: Path, n: int) -> list[tuple[str, str]]:
    """(title, text) of the first `n` stories of the corpus."""
    if not path.is_file():
        raise SystemExit(f"error: corpus {path} is missing (expected in ../shared/data beside the repo)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, n)]
    if len(rows) < n:
        raise SystemExit(f"error: {path} has only {len(rows)} stories, {n} wanted")
    return [(r.get("title") or "", r.get("text") or "") for r in rows]


def _batched(scorer, stories: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    labels: Counter = Counter()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(stories), BATCH_SIZE):
        for score in scorer.score_articles(stories[i:i + BATCH_SIZE]):
            labels[score.label] += 1
    return time.perf_counter() - wall, time.process_time() - cpu, labels


def cold() -> None:
    """Forget what the process memoises for every scorer (folded and stemmed words, word
    buckets), so each run pays for them as a fresh process would."""
    tokens.fold.cache_clear()
    tokens.stem.cache_clear()
    features._UNIGRAMS.clear()


def run_learned(stories: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    cold()  # and a freshly parsed lexicon and model: no sentence cache, no word memo
    return _batched(LearnedScorer(parse_lexicon(default_lexicon_bytes()),
                                  LinearModel.from_bytes(shipped_model_bytes())), stories)


def run_lexicon(stories: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    cold()
    return _batched(Scorer(parse_lexicon(default_lexicon_bytes())), stories)


def run_vader(stories: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    analyzer = SentimentIntensityAnalyzer()
    labels: Counter = Counter()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for _title, text in stories:
        compound = analyzer.polarity_scores(text)["compound"]
        labels["conciliatory" if compound >= 0.05 else "hostile" if compound <= -0.05 else "neutral"] += 1
    return time.perf_counter() - wall, time.process_time() - cpu, labels


RUNNERS: dict[str, Callable] = {"learned": run_learned, "lexicon": run_lexicon, "vader": run_vader}


def measure(stories: list[tuple[str, str]], rounds: int) -> dict[str, dict]:
    results: dict[str, dict] = {name: {"wall": [], "cpu": [], "labels": None} for name in RUNNERS}
    names = list(RUNNERS)
    for r in range(rounds):
        for name in names[r % 3:] + names[:r % 3]:
            wall, cpu, labels = RUNNERS[name](stories)
            results[name]["wall"].append(wall)
            results[name]["cpu"].append(cpu)
            results[name]["labels"] = labels
            print(f"round {r + 1}/{rounds} {name:<7}: {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    for res in results.values():
        res["wall_median"] = statistics.median(res["wall"])
        res["cpu_median"] = statistics.median(res["cpu"])
    return results


def ratio(results: dict, a: str, b: str, kind: str) -> float:
    """Median over rounds of a's time / b's time, each round's pair measured together."""
    return statistics.median(x / y for x, y in zip(results[a][kind], results[b][kind], strict=True))


def retrain(n_labels: int) -> tuple[float, Report, int]:
    """Seconds for train_for_store with the shipped base plus `n_labels` analyst labels."""
    if not POOL.is_file():
        raise SystemExit(f"error: {POOL} is missing (expected in ../shared/data beside the repo)")
    scorer = scorer_for()
    with gzip.open(POOL, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in itertools.islice(fh, 20_000, 20_000 + n_labels)]
    labels = [{"text": t, "label": scorer.score_text(t).label} for t in texts]
    gc.collect()
    start = time.perf_counter()
    result = train_for_store(labels, scorer.lexicon, load_model())
    seconds = time.perf_counter() - start
    return seconds, result.trained.cv, len(labels)


def report(stories: list[tuple[str, str]], results: dict[str, dict], rounds: int,
           retrain_s: float, cv: Report, n_labels: int,
           load_before: tuple[float, ...], load_after: tuple[float, ...]) -> str:
    n = len(stories)
    chars = sum(len(t) + len(x) for t, x in stories)

    def row(label: str, res: dict) -> str:
        runs = ", ".join(f"{w:.2f}" for w in res["wall"])
        return (f"| {label} | {res['wall_median']:.2f} | {res['cpu_median']:.2f} | "
                f"{n / res['wall_median']:,.0f} | {chars / res['wall_median']:,.0f} | {runs} |")

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lw, lc = ratio(results, "learned", "lexicon", "wall"), ratio(results, "learned", "lexicon", "cpu")
    vw, vc = ratio(results, "vader", "lexicon", "wall"), ratio(results, "vader", "lexicon", "cpu")
    labels = lambda c: ", ".join(f"{k} {c[k]:,}" for k in ("hostile", "neutral", "conciliatory"))  # noqa: E731
    folds = settings_file()["folds"]
    return f"""`python bench/bench_scoring.py`, measured {machine()}: the first {n:,} stories of
`../shared/data/kcna_stories_2011_2012.jsonl.gz` ({chars:,} characters with titles, longest text
{max(len(x) for _, x in stories):,}), scored in one run by the learned scorer (issue 20:
`LearnedScorer.score_articles`, in batches of {BATCH_SIZE:,} as ingest calls it), today's lexicon
scorer (`Scorer.score_articles`, the same batches) and bare VADER
(`polarity_scores(text)` on each story's text). {rounds} rounds, the order rotating every round,
each round cold (freshly parsed lexicon and model, the process's word memos cleared). Medians; CPU is this process's CPU time;
ratios are taken within each round.

| scorer | median wall (s) | median CPU (s) | stories/s (wall) | characters/s (wall) | wall runs (s) |
|---|---:|---:|---:|---:|---|
{row("learned scorer (title + text)", results["learned"])}
{row("lexicon scorer (title + text)", results["lexicon"])}
{row("bare VADER (text)", results["vader"])}

| goal | figure | verdict |
|---|---|---|
| learned scorer's time ≤ {LEARNED_MAX}× the lexicon scorer's (wall) | {lw:.2f}× | {verdict(lw <= LEARNED_MAX)} |
| learned scorer's time ≤ {LEARNED_MAX}× the lexicon scorer's (CPU) | {lc:.2f}× | {verdict(lc <= LEARNED_MAX)} |
| lexicon scorer's throughput ≥ {VADER_MIN}× bare VADER's (wall) | {vw:.2f}× | {verdict(vw >= VADER_MIN)} |
| lexicon scorer's throughput ≥ {VADER_MIN}× bare VADER's (CPU) | {vc:.2f}× | {verdict(vc >= VADER_MIN)} |
| retraining with the base set + {n_labels:,} analyst labels < {RETRAIN_MAX:.0f} s | {retrain_s:.1f} s | {verdict(retrain_s < RETRAIN_MAX)} |

Labels of the {n:,} stories: learned {labels(results["learned"]["labels"])}; lexicon
{labels(results["lexicon"]["labels"])}; bare VADER {labels(results["vader"]["labels"])}.

Retraining (`train_for_store`, what `tension train --db` and the page's button run): the shipped
base features plus {n_labels:,} pool sentences labelled by the shipped model (only the time
matters here), {folds}-fold cross-validation on two cores, the final fit and the temperature; its
cross-validated macro-F1 was {cv.macro_f1:.3f}.

Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]} ({platform.platform()}); load
average {"/".join(f"{x:.1f}" for x in load_before)} before and
{"/".join(f"{x:.1f}" for x in load_after)} after (1/5/15 min).

Where the time goes: both scorers split the text and match the lexicon with the same
word-memoised trie walk and run VADER only on the sentences where the lexicon fires; the learned
scorer adds hashing each sentence's words and word pairs (CRC32), one sparse dot product per
batch, and its exact contributions (integrated gradients over the model's 3 logits, 10
quadrature nodes, vectorised per batch). Bare VADER reads each whole story, and its cost grows
faster than linearly with the length of what it is given."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    stories = load_stories(CORPUS, args.stories)
    load_before = os.getloadavg()
    results = measure(stories, args.rounds)
    retrain_s, cv, n_labels = retrain(args.labels)
    print(f"retraining with {n_labels} labels: {retrain_s:.1f} s", flush=True)
    body = report(stories, results, args.rounds, retrain_s, cv, n_labels, load_before, os.getloadavg())
    print(body)
    if not args.no_write:
        print(f"wrote {write_section(SECTION, body)}")


if __name__ == "__main__":
    main()
