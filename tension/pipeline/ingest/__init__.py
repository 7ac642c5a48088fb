"""Ingest: files → validated articles → deduplicated rows → scores, in whole-batch transactions.

Guarantees
- Idempotent: every row gets a key (hash of its fields plus its occurrence
  number among identical rows of the same input), so re-importing a file adds
  nothing and scores nothing. A file whose bytes and options were fully
  ingested before is recognised by its fingerprint and not even re-read.
- Nothing lost: a bad row becomes a quarantine entry (file, row, field,
  reason); the good rows of the same file still get in.
- Crash-safe: articles, their scores and the quarantine entries of a batch are
  written in the same transaction, so a kill leaves whole batches only; re-running
  skips what is there and finishes the rest.
- Copies count once: exact and near copies are stored, marked `copy_of` their
  first original, and are not scored (their original's score stands).

The modules, in the order a batch meets them:
- `run`: `ingest()` and the `Ingester` pipeline: the per-article CPU work (MinHash
  signature, scoring) runs on an executor (this process, a process pool, or Dask workers)
  while this process reads, keys, deduplicates and writes; a bounded number of batches
  is in flight (workers + 1), written in order.
- `keys`: row keys and which rows and texts of a batch are new.
- `writer`: a batch's dedupe decisions and inserts.
- `window`: the write transaction, held across whole batches.
- `files`: which files were imported, with which options.
- `watch`: the `Watcher` seam for tests and benchmarks.
"""

from tension.pipeline.ingest.run import BATCH_SIZE, Ingester, ingest
from tension.pipeline.ingest.summary import Summary
from tension.pipeline.ingest.watch import Watcher

__all__ = ["BATCH_SIZE", "Ingester", "Summary", "Watcher", "ingest"]
