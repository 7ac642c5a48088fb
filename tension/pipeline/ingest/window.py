"""The write transaction of an ingest, held across whole batches.

A commit writes every page its rows touched, and the hash-keyed indexes are touched all
over, so a commit costs nearly the size of those indexes once the store is large: fewer,
larger transactions write far less (docs/benchmarks.md, "Scale"). A transaction therefore
spans whole batches, up to COMMIT_ROWS rows or COMMIT_SECONDS open; the time bound is how
long other writers (an annotation being saved) may have to wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Connection

from tension.pipeline.ingest.summary import Summary
from tension.pipeline.ingest.watch import Watcher
from tension.store.engine import Store

COMMIT_ROWS = 200_000
COMMIT_SECONDS = 5.0


class TransactionWindow:
    """The open write transaction (opened on first use), and the counts before it, so a
    rollback takes its batches out of the summary too."""

    def __init__(self, store: Store, summary: Summary, watcher: Watcher) -> None:
        self.store = store
        self.summary = summary
        self.watcher = watcher
        self._stack: ExitStack | None = None
        self._conn: Connection | None = None
        self._opened = 0.0
        self._counts: tuple[int, ...] = ()
        self.rows = 0

    @property
    def is_open(self) -> bool:
        return self._stack is not None

    def conn(self) -> Connection:
        """The open transaction's connection, opening one if none is."""
        if self._stack is None:
            stack = ExitStack()
            self._conn = stack.enter_context(self.store.write())
            self._stack, self._opened, self._counts, self.rows = stack, time.monotonic(), \
                self.summary.counts(), 0
        return self._conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection that sees the batches written so far, committed or not."""
        if self._stack is not None:
            yield self._conn
        else:
            with self.store.read() as conn:
                yield conn

    def left(self) -> float:
        """Seconds this transaction may still stay open."""
        return self._opened + COMMIT_SECONDS - time.monotonic()

    def wrote(self, rows: int) -> None:
        """A batch of `rows` was written in it: commit when the window is full or old."""
        self.rows += rows
        if self.rows >= COMMIT_ROWS or self.left() <= 0:
            self.commit()

    def commit(self) -> None:
        """Commit the open transaction (if any): its batches are then stored."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is not None:
            with self.watcher.committing():
                stack.close()

    def abort(self) -> None:
        """Roll back the open transaction (if any); the summary forgets its batches."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is None:
            return
        self.summary.restore(self._counts)
        exc = RuntimeError("ingest stopped")
        stack.__exit__(type(exc), exc, None)
