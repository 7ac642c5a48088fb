"""One million articles through ingest + scoring: the pandas engine on one process against
the Dask engine with two workers, in the same run.

The corpus is the 99,841 real KCNA headlines written ten times with distinct ids; each
copy's titles carry a copy marker so that nothing is a duplicate and every title is
really scored (otherwise the store's score cache would skip the repeats). Each engine
ingests it into a fresh SQLite store, in alternating rounds (the order swaps each round,
so that a change in the machine's load falls on both). Reported per round and as medians:
wall time, throughput, their ratio (each round's own, and the ratio of the medians), time
per million articles, the time the driver spent writing to the store (the part that does
not parallelise), the driver thread's CPU, how busy the two cores were in the Dask run,
and peak driver memory (RSS sampled every 0.2 s).

    python bench/bench_scale.py [--copies 10] [--workers 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _report import StageTimes, machine, write_section

from tension.pipeline import ingest as ingest_mod
from tension.pipeline.dask import PackedExecutor, dask_client
from tension.pipeline.ingest import window
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[1]

HEADLINES = ROOT.parent / "shared" / "data" / "kcna_headlines_1997_2014.csv.gz"


def make_corpus(path: Path, copies: int) -> int:
    rows = list(csv.DictReader(gzip.open(HEADLINES, "rt", encoding="utf-8")))
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "source", "title", "url"])
        for k in range(copies):
            for i, r in enumerate(rows):
                w.writerow([f"c{k}-{i}", r["date"], r["source"], f"{r['title']} (copy {k})",
                            f"{r['url']}#copy{k}"])
    return len(rows) * copies


class PeakRSS:
    """Peak resident memory of this process, sampled in a background thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()

    def __enter__(self) -> PeakRSS:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def run(engine: str, corpus: Path, workdir: Path, workers: int) -> dict:
    db = workdir / f"{engine}.db"
    db.unlink(missing_ok=True)
    store = Store(str(db))
    startup = workers_cpu = process_cpu = 0.0
    writes = StageTimes()
    with PeakRSS() as mem:
        t = time.perf_counter()
        cpu = time.thread_time()  # this thread only: the driver's own serial work
        if engine == "pandas":
            summary = ingest_mod.ingest(store, [str(corpus)], jobs=1, watcher=writes)
        else:
            with dask_client(workers=workers) as client:
                executor, n = PackedExecutor(client), len(client.scheduler_info()["workers"])
                start = time.perf_counter()  # cluster start-up is reported apart
                startup = start - t
                before, cpu0 = client.run(time.process_time), time.process_time()
                summary = ingest_mod.ingest(store, [str(corpus)], executor=executor, jobs=n,
                                              watcher=writes)
                after, process_cpu = client.run(time.process_time), time.process_time() - cpu0
                workers_cpu = sum(after[w] - before[w] for w in before)
                t = start
        seconds = time.perf_counter() - t
        driver_cpu = time.thread_time() - cpu
    articles = store.counts()["articles"]
    store.dispose()
    for f in workdir.glob(f"{engine}.db*"):
        f.unlink()
    return {"driver_cpu": driver_cpu, "engine": engine, "seconds": seconds, "rows": summary.added,
            "scored": summary.scored, "peak_rss": mem.peak, "write_seconds": writes.spent["writing"],
            "startup": startup, "articles": articles, "process_cpu": process_cpu,
            "workers_cpu": workers_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tension-scale-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus.csv.gz"
        n = make_corpus(corpus, args.copies)
        print(f"corpus: {n:,} articles", flush=True)
        for k in range(args.rounds):
            results = {}
            for engine in ("pandas", "dask")[::1 if k % 2 == 0 else -1]:
                results[engine] = r = run(engine, corpus, work, args.workers)
                print(f"round {k + 1} {engine}: {r['seconds']:.1f} s, {r['rows'] / r['seconds']:,.0f} "
                      f"articles/s, writes {r['write_seconds']:.1f} s, driver CPU {r['driver_cpu']:.1f} s, "
                      f"peak driver RSS {r['peak_rss'] / 2**20:,.0f} MiB", flush=True)
                assert r["articles"] == n, (engine, r["articles"], n)
            rounds.append(results)
    load_after = os.getloadavg()

    def med(engine: str, key: str) -> float:
        return statistics.median(r[engine][key] for r in rounds)

    ratios = [r["pandas"]["seconds"] / r["dask"]["seconds"] for r in rounds]
    ratio = med("pandas", "seconds") / med("dask", "seconds")
    busy = [(r["dask"]["process_cpu"] + r["dask"]["workers_cpu"]) / (args.workers * r["dask"]["seconds"])
            for r in rounds]
    p = {k: med("pandas", k) for k in rounds[0]["pandas"] if k != "engine"}
    d = {k: med("dask", k) for k in rounds[0]["dask"] if k != "engine"}
    for engine, m in (("pandas", p), ("dask", d)):  # memory: the highest, not the median
        m["peak_rss"] = max(r[engine]["peak_rss"] for r in rounds)
    write_rate = d["rows"] / d["write_seconds"] if d["write_seconds"] else float("nan")
    per_million = {"pandas": p["seconds"] * 1e6 / p["rows"], "dask": d["seconds"] * 1e6 / d["rows"]}
    lines = "\n".join(
        f"| {k + 1} | {r['pandas']['seconds']:.1f} s | {r['dask']['seconds']:.1f} s | "
        f"{ratios[k]:.2f}× | {r['dask']['driver_cpu']:.1f} s | {r['dask']['workers_cpu']:.1f} s | {busy[k]:.0%} |"
        for k, r in enumerate(rounds))
    body = f"""`python bench/bench_scale.py` — {machine()}; load average {load_before[0]:.1f} before,
{load_after[0]:.1f} after.

{n:,} articles (the 99,841 KCNA headlines × {args.copies}, distinct ids, every title scored),
ingested and scored into a fresh SQLite store by each engine, in {args.rounds} alternating rounds
(the order swaps each round). Medians over the rounds (peak memory: the highest round):

| engine | wall time | articles/s | per million articles | driver writing to the store | driver thread CPU | peak driver memory |
|---|---|---|---|---|---|---|
| pandas, 1 process | {p['seconds']:.1f} s | {p['rows'] / p['seconds']:,.0f} | {per_million['pandas']:.0f} s | {p['write_seconds']:.1f} s | {p['driver_cpu']:.1f} s | {p['peak_rss'] / 2**20:,.0f} MiB |
| dask, {args.workers} workers | {d['seconds']:.1f} s (+{d['startup']:.1f} s cluster start) | {d['rows'] / d['seconds']:,.0f} | {per_million['dask']:.0f} s | {d['write_seconds']:.1f} s | {d['driver_cpu']:.1f} s | {d['peak_rss'] / 2**20:,.0f} MiB |

**Throughput ratio dask / pandas: {ratio:.2f}×** (ratio of the median times; goal ≥ 1.6×);
{min(ratios):.2f}× to {max(ratios):.2f}× in single rounds. Peak driver memory goal: under 2 GiB.

| round | pandas | dask | ratio | dask: driver thread CPU | dask: workers' CPU | dask: the {args.workers} cores busy |
|---|---|---|---|---|---|---|
{lines}

("Cores busy" = the CPU time of the driver process, all its threads, and of the workers,
over {args.workers} × the wall time: what this run got of the machine, which other tenants share.
Peak memory is the resident size of the benchmark's one process: once a Dask round has run
in it, it holds Dask's modules and buffers, so a later pandas round reads higher than the
first.)

Where the time goes: in the pandas run, writing to the store took {p['write_seconds']:.0f} s of
{p['seconds']:.0f} s ({p['write_seconds'] / p['seconds']:.0%}); scoring, reading and keying the rest.
In the dask run the driver's own thread (reading, keying, deduplicating, writing: the work
that stays serial whatever the number of workers) used {d['driver_cpu']:.0f} s of CPU. No number
of workers brings the run under that, so the ratio is bounded by about
{p['seconds']:.0f} / {d['driver_cpu']:.0f} = {p['seconds'] / d['driver_cpu']:.2f}× with one writing driver. It
stays below because the two cores are shared three ways (the driver and two workers) and
are nearly all in use ({min(busy):.0%} to {max(busy):.0%}): the workers' CPU is the scoring plus what
running it elsewhere costs (sending the texts, sending back the rows, Dask's own event
loops), and the scoring itself runs slower on a core shared with the driver than alone.
Writing grows faster than the corpus (each batch inserts under random-key hash indexes, so
it dirties pages all over them, and they grow with the store; a transaction therefore spans
batches, up to {window.COMMIT_ROWS:,} rows or {window.COMMIT_SECONDS:g} s, and each commit writes those pages once for all its
batches), and it is serial: one writer. With Dask the workers take the
scoring, but the driver still reads, keys and writes: the same writes took
{d['write_seconds']:.0f} s (pandas run: {p['write_seconds']:.0f} s) while the driver process also runs the
Dask client and scheduler threads (sending batches, receiving results, under the same GIL).
The workers run at the lowest CPU priority (nice +19) so that the driver keeps its core;
batches go out and results come back as one serialised blob each, and a worker pauses the
automatic cycle collector while it runs one; the local workers run without Dask's stack
profiler, each on a core of its own, and every server of the local cluster checks its event
loop and its memory once a second (not every 20 ms and 100 ms: each check takes the GIL
from the work).

How it should grow: scoring parallelises without coordination, so throughput grows
nearly linearly with workers until the driver's serial part saturates. Here the driver
wrote at about {write_rate:,.0f} articles/s (with their scores and evidence) to SQLite, a
ceiling of roughly {write_rate / 1e6 * 3600:.1f} million articles an hour whatever the number of
workers. Past that ceiling: a machine with more cores than workers (the driver then has
a core of its own), PostgreSQL on its own machine, and several ingest processes, one per
file; see docs/scaling.md.
"""
    write_section("Scale: pandas vs Dask engine (issue 6)", body)
    print(body)


if __name__ == "__main__":
    main()
