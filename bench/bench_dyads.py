"""Benchmark for issue 22: ingest and rescore of the 99,841 KCNA headlines with actors and dyads
against the code before them, in the same run.

The baseline is the commit before issue 22 (BASE, checked out into a temporary git worktree
and run from there); the candidate is this working tree. Each round runs, in alternating order:
- `python -m tension ingest FILE --db NEW.db --quiet` (a fresh store each time), and
- `python -m tension rescore --db STORE --quiet` after the store's scores were deleted (every
  text scored again, as after a change of lexicon, model or actors file).
Wall time of each command, medians over the rounds, and the ratio candidate / baseline within
each round. Goal: at most 1.3x for both.

Results go to docs/benchmarks.md, section "Actors and dyads (issue 22)".

Usage: .venv/bin/python bench/bench_dyads.py [--rounds 2] [--no-write]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, machine, write_section  # noqa: E402

BASE = "3d451bc"  # the last commit before actors and dyads
HEADLINES = ROOT.parent / "shared" / "data" / "kcna_headlines_1997_2014.csv.gz"
SCORE_TABLES = ("article_scores", "score_terms", "score_dyads")


def run(tree: Path, args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tension", *args], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - t0


def clear_scores(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        for table in SCORE_TABLES:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 (a fixed table name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dyads-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), BASE], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            trees = {"before": base, "dyads": ROOT}
            times: dict[str, dict[str, list[float]]] = {k: {"ingest": [], "rescore": []} for k in trees}
            for r in range(args.rounds):
                order = list(trees) if r % 2 == 0 else list(trees)[::-1]
                for name in order:
                    db = tmp / f"{name}-{r}.db"
                    times[name]["ingest"].append(run(trees[name], ["ingest", str(HEADLINES), "--db", str(db),
                                                                   "--quiet"]))
                    clear_scores(db)
                    times[name]["rescore"].append(run(trees[name], ["rescore", "--db", str(db), "--quiet"]))
                    print(name, r, {k: round(v[-1], 1) for k, v in times[name].items()}, flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    ratios = {k: statistics.median(d / b for d, b in zip(times["dyads"][k], times["before"][k], strict=True))
              for k in ("ingest", "rescore")}
    rows = "\n".join(f"| {k} | {statistics.median(times['before'][k]):.1f} s | {statistics.median(times['dyads'][k]):.1f} s "
                     f"| {ratios[k]:.2f}x |" for k in ("ingest", "rescore"))
    body = f"""`bench/bench_dyads.py`, {args.rounds} rounds, {machine()}. The 99,841 KCNA headlines: a fresh
store's `ingest`, then `rescore` of every text (scores deleted first), by the code before issue 22
(commit {BASE}, in a git worktree) and by this tree (targets of every sentence, the dyad rows
stored). Medians; the ratio is taken within each round. Goal: at most 1.3x.

| command | before | with actors and dyads | ratio |
|---|---|---|---|
{rows}
"""
    print(body)
    if not args.no_write:
        write_section("Actors and dyads (issue 22)", body)


if __name__ == "__main__":
    main()
