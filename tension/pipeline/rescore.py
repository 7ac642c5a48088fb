"""Rescore: score only what the store's scorer has not scored (after a lexicon or model change)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

from indicators.scorers import scorer_for
from tension.pipeline.executors import InlineExecutor, split
from tension.pipeline.ingest.run import BATCH_SIZE
from tension.pipeline.scoring import score_rows_for, yield_to_driver
from tension.store import articles, runs
from tension.store.engine import Store
from tension.store.scoring import lexicon_for, store_model


def rescore(store: Store, *, lexicon: bytes | None = None, jobs: int = 1,
            executor: Executor | None = None, batch_size: int = BATCH_SIZE, prune: bool = False,
            progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Score only what the current scorer has not scored (e.g. after a lexicon change).

    `prune` deletes scores of other scorer versions afterwards.
    """
    setup = (lexicon_for(store, lexicon), store_model(store))
    version = scorer_for(*setup).version
    run_id = runs.start_run(store, ["(rescore)"], version)  # rescoring is part of the history
    todo = articles.stale_hashes(store, version)
    own_pool = executor is None and jobs > 1
    if own_pool:
        executor = ProcessPoolExecutor(jobs, initializer=yield_to_driver)
    executor = executor or InlineExecutor()
    scored = 0
    try:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            texts = articles.texts_of(store, chunk)
            futures = [executor.submit(score_rows_for, setup, part)
                       for part in split(texts, max(1, jobs))]
            scores, terms, dyads = [], [], []
            for fut in futures:
                s, t, d = fut.result()
                scores += s
                terms += t
                dyads += d
            with store.write() as conn:
                articles.insert_scores(conn, scores, terms, dyads)
            scored += len(scores)
            if progress:
                progress(len(chunk))
    finally:
        if own_pool:
            executor.shutdown(cancel_futures=True)
    pruned = articles.prune_scores(store, version) if prune else 0
    runs.finish_run(store, run_id, "done", counts={"n_scored": scored})
    return {"stale": len(todo), "scored": scored, "pruned": pruned, "version": version}
