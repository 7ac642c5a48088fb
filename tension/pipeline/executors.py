"""Where the per-article CPU work runs: this process, a process pool, or Dask workers
(`tension.pipeline.dask`): anything with `concurrent.futures.Executor`'s `submit`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future


class InlineExecutor(Executor):
    """Runs work in this process: the one-process engine, and the default for small inputs."""

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut


def split(items: list, parts: int) -> list[list]:
    """`items` in at most `parts` consecutive pieces of near-equal size (none empty)."""
    if not items:
        return []
    size = max(1, -(-len(items) // parts))
    return [items[i:i + size] for i in range(0, len(items), size)]
