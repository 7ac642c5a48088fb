"""Shared by the benchmarks: write one `## section` of docs/benchmarks.md (leaving the other
benchmarks' sections alone), say where a figure was measured, time the stages of an ingest."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tension.pipeline.ingest import Watcher

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("# Benchmarks\n\nMeasured on this project's machines by the scripts in `bench/`. Each "
          "benchmark compares against a baseline in the same run, so read the ratios: absolute "
          "times move with the load of these shared machines.\n")


def machine() -> str:
    """One line saying where and when a figure was measured."""
    return (f"{dt.date.today().isoformat()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {platform.machine()}")


def write_section(title: str, body: str, path: str | Path = "docs/benchmarks.md") -> Path:
    """Replace the `## title` section of `path` (or append it), keeping everything else."""
    path = Path(path)
    if not path.is_absolute():
        path = ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


class StageTimes(Watcher):
    """Seconds an ingest spends keying, scoring (all of it with one process: the executor
    runs in line) and writing batches; a commit counts as writing, once when it comes
    inside a batch's write."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self._depth = 0

    @contextmanager
    def _timed(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth:
                self.spent[label] += time.perf_counter() - start

    def keying(self, rows: int) -> AbstractContextManager:
        return self._timed("keying")

    def scoring(self, rows: int) -> AbstractContextManager:
        return self._timed("scoring")

    def writing(self, rows: int, held: int) -> AbstractContextManager:
        return self._timed("writing")

    def committing(self) -> AbstractContextManager:
        return self._timed("writing")
