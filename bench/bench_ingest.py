"""Benchmark for issue 3: ingest the 99,841 KCNA headlines end to end into a fresh SQLite store.

Compared in the same run with bare VADER (`SentimentIntensityAnalyzer().polarity_scores(title)`
over the same titles, read from the same gzipped CSV with the csv module), for `jobs=1` and
`jobs=2`. Then a second ingest of the same file into the same store: once with the
file-fingerprint shortcut (the default: the file is recognised and not re-read) and once
without it (a re-compressed copy under another name: other bytes, same rows, so every row is
read, keyed and found already stored). Goals: first ingest ≤ 2× bare VADER; second ingest
≥ 20× faster than the first.

The machine is shared and noisy, so the measurements alternate (the order rotates every
round) and the report gives the median of 3 rounds. Results go to docs/benchmarks.md,
section "Ingest (issue 3)".

Usage: .venv/bin/python bench/bench_ingest.py [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tension.ingest import file_fingerprint, ingest  # noqa: E402
from tension.store import Store  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "kcna_headlines_1997_2014.csv.gz"
N_ROWS = 99_841
SECTION = "Ingest (issue 3)"


def bare_vader(path: Path) -> tuple[float, int]:
    """Seconds to read every title from the file and score it with plain VADER."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    start = time.perf_counter()
    analyzer = SentimentIntensityAnalyzer()
    n = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            analyzer.polarity_scores(row["title"])
            n += 1
    return time.perf_counter() - start, n


def first_ingest(workdir: Path, path: Path, jobs: int) -> tuple[float, Store]:
    """Seconds for ingest() into a fresh SQLite store (store creation not counted)."""
    store = Store(f"sqlite:///{workdir / f'bench_jobs{jobs}.db'}")
    start = time.perf_counter()
    summary = ingest(store, [str(path)], jobs=jobs)
    elapsed = time.perf_counter() - start
    assert (summary.read, summary.added, summary.quarantined) == (N_ROWS, N_ROWS, 0), summary.line()
    assert store.counts()["articles"] == N_ROWS
    return elapsed, store


def second_ingest(store: Store, path: Path, *, skip: bool) -> float:
    """Seconds for ingesting rows the store already has; nothing may be added or scored."""
    start = time.perf_counter()
    summary = ingest(store, [str(path)])
    elapsed = time.perf_counter() - start
    assert (summary.added, summary.scored, summary.already) == (0, 0, N_ROWS), summary.line()
    assert summary.unchanged == ([str(path)] if skip else []), summary.unchanged
    assert store.counts()["articles"] == N_ROWS
    return elapsed


def recompressed_copy(path: Path, workdir: Path) -> Path:
    """The same rows in a file with other bytes and another name: the fingerprint cannot match."""
    target = workdir / "kcna_headlines_reexported.csv.gz"
    with gzip.open(path, "rb") as src, open(target, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    options = {"fmt": "auto", "mapping": None, "source": None, "tz": "UTC", "window": 0}
    assert file_fingerprint(str(target), options) != file_fingerprint(str(path), options)
    return target


def run(rounds: int) -> dict:
    if not CORPUS.is_file():
        sys.exit(f"bench_ingest: the corpus {CORPUS} is missing (expected in ../shared/data)")
    results: dict[str, list[float]] = {k: [] for k in (
        "vader", "ingest_jobs1", "ingest_jobs2", "second_skip", "second_reread")}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        copy = recompressed_copy(CORPUS, workdir)

        def vader() -> None:
            seconds, n = bare_vader(CORPUS)
            assert n == N_ROWS
            results["vader"].append(seconds)

        def ingest_jobs(jobs: int) -> Callable[[], None]:
            def task() -> None:
                rdir = workdir / f"r{len(results[f'ingest_jobs{jobs}'])}_j{jobs}"
                rdir.mkdir()
                seconds, store = first_ingest(rdir, CORPUS, jobs)
                results[f"ingest_jobs{jobs}"].append(seconds)
                if jobs == 1:  # the second ingest of the same file, into the same store
                    results["second_skip"].append(second_ingest(store, CORPUS, skip=True))
                    results["second_reread"].append(second_ingest(store, copy, skip=False))
                store.dispose()
                shutil.rmtree(rdir)
            return task

        tasks = [("vader", vader), ("ingest jobs=1", ingest_jobs(1)), ("ingest jobs=2", ingest_jobs(2))]
        for r in range(rounds):
            order = tasks[r % len(tasks):] + tasks[:r % len(tasks)]
            for name, task in order:
                task()
                print(f"round {r + 1}: {name} done", file=sys.stderr, flush=True)
    return {"runs": results, "load": (load_before, os.getloadavg()), "rounds": rounds}


def report(res: dict) -> str:
    runs = res["runs"]
    med = {k: statistics.median(v) for k, v in runs.items()}
    r1 = med["ingest_jobs1"] / med["vader"]
    r2 = med["ingest_jobs2"] / med["vader"]
    skip_speedup = med["ingest_jobs1"] / med["second_skip"]
    reread_speedup = med["ingest_jobs1"] / med["second_reread"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    def cells(key: str) -> str:
        return ", ".join(f"{x:.3f}" if x < 1 else f"{x:.2f}" for x in runs[key])

    (b1, b5, b15), (a1, a5, a15) = res["load"]
    lines = [
        f"Run on {dt.date.today().isoformat()} by `bench/bench_ingest.py`: {N_ROWS:,} KCNA headlines "
        f"(`../shared/data/{CORPUS.name}`) into a fresh SQLite store through "
        "`tension.ingest.ingest` (read, validate, key, deduplicate, score, write), against bare "
        "VADER (`SentimentIntensityAnalyzer().polarity_scores(title)` over the same titles, read "
        "from the same file with `gzip` + `csv`). Medians of "
        f"{res['rounds']} alternating rounds (the order rotates each round).",
        "",
        "| measurement | median (s) | rows/s | runs (s) |",
        "|---|---:|---:|---|",
        f"| bare VADER over the titles | {med['vader']:.2f} | {N_ROWS / med['vader']:,.0f} | {cells('vader')} |",
        f"| first ingest, `jobs=1` | {med['ingest_jobs1']:.2f} | {N_ROWS / med['ingest_jobs1']:,.0f} | "
        f"{cells('ingest_jobs1')} |",
        f"| first ingest, `jobs=2` | {med['ingest_jobs2']:.2f} | {N_ROWS / med['ingest_jobs2']:,.0f} | "
        f"{cells('ingest_jobs2')} |",
        f"| second ingest, fingerprint skip (default) | {med['second_skip']:.3f} | – | {cells('second_skip')} |",
        f"| second ingest, no skip (re-compressed copy, new name: every row re-read, 0 added) | "
        f"{med['second_reread']:.2f} | {N_ROWS / med['second_reread']:,.0f} | {cells('second_reread')} |",
        "",
        "| goal | figure | verdict |",
        "|---|---|---|",
        f"| end to end ≤ 2× bare VADER, `jobs=1` | {r1:.2f}× | {verdict(r1 <= 2)} |",
        f"| end to end ≤ 2× bare VADER, `jobs=2` | {r2:.2f}× | {verdict(r2 <= 2)} |",
        f"| second ingest ≥ 20× faster than the first (`jobs=1`), fingerprint skip | {skip_speedup:,.0f}× | "
        f"{verdict(skip_speedup >= 20)} |",
        f"| second ingest ≥ 20× faster than the first (`jobs=1`), no skip | {reread_speedup:.1f}× | "
        f"{verdict(reread_speedup >= 20)} |",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; load average {b1:.1f}/{b5:.1f}/{b15:.1f} before and "
        f"{a1:.1f}/{a5:.1f}/{a15:.1f} after (1/5/15 min). The machine is shared: other jobs ran "
        "meanwhile, so treat single runs as noisy and compare the medians.",
        "",
        "Notes: the file fingerprint is the hash of the file's bytes plus the ingest options (not its "
        "path), so a byte-identical copy under a new name is still skipped; the no-skip case "
        "therefore re-compresses the rows into other bytes. Every second ingest is checked to add "
        "0 rows and score 0 texts. The ingest time does not include creating the store.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch docs/")
    args = parser.parse_args()
    body = report(run(args.rounds))
    print(body)
    if not args.no_write:
        from bench._report import write_section

        os.chdir(ROOT)  # the helper's default path, docs/benchmarks.md, is relative to the repo
        write_section(SECTION, body)
        print(f"wrote the section '{SECTION}' to docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
