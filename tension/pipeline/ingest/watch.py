"""The seam tests and benchmarks use to see inside an ingest, instead of patching it."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from tension.core.records import Article, Problem


class Watcher:
    """Sees each batch read, and wraps each stage of the work on it. Every method does
    nothing here; override what you need (a stage may also raise, to test a failure)."""

    def read(self, items: list[Article | Problem]) -> None:
        """A batch came from a reader, before it is keyed."""

    def keying(self, rows: int) -> AbstractContextManager:
        """Around keying a batch: row keys, content hashes, which rows and texts are new."""
        return nullcontext()

    def scoring(self, rows: int) -> AbstractContextManager:
        """Around handing a batch to the executor (with one process, the scoring itself)."""
        return nullcontext()

    def writing(self, rows: int, held: int) -> AbstractContextManager:
        """Around writing one batch in the open transaction. `held`: rows read and not yet
        written, this batch's included (what the driver holds at once)."""
        return nullcontext()

    def committing(self) -> AbstractContextManager:
        """Around a commit (after a batch's write, or before the driver waits for workers)."""
        return nullcontext()
