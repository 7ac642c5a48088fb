"""`ingest()`: read every path, store and score what is good, quarantine what is not; and the
`Ingester` pipeline it drives, one batch at a time.

A batch is keyed here (which rows and texts are new), its texts are sent to the executor to
be signed and scored, and the oldest batches in flight are written meanwhile, in order, each
deduplicated against everything written before it in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures

from indicators.scorers import scorer_for
from tension.core.records import Article, Problem
from tension.io.readers import Reader, ReadError, expand_paths, open_reader
from tension.pipeline.executors import InlineExecutor, split
from tension.pipeline.ingest import files
from tension.pipeline.ingest.keys import Batch, Keyer, prepare
from tension.pipeline.ingest.summary import Summary
from tension.pipeline.ingest.watch import Watcher
from tension.pipeline.ingest.window import TransactionWindow
from tension.pipeline.ingest.writer import write_batch
from tension.pipeline.scoring import Scored, sign_and_score, yield_to_driver, young_gc_only
from tension.store import runs
from tension.store.actors import check_actor, set_source_actor
from tension.store.engine import Store
from tension.store.scoring import lexicon_for, store_model, store_scorer

BATCH_SIZE = 10000  # rows read, keyed and scored together
# The cycle collector is paused during ingest (see `young_gc_only`); the young generations are
# collected every GC_BATCHES batches written: a collection costs the objects still alive (the
# batches in flight), but each batch's queries leave SQLAlchemy constructs in reference cycles
# that hold its keys as JSON, and never collecting them costs memory on long corpora.
GC_BATCHES = 10


class Ingester:
    """Writes reader output into a store, scoring on `executor`. One per ingest run."""

    def __init__(self, store: Store, *, lexicon: bytes | None = None, model: bytes | None = None,
                 window_days: int = 0, executor: Executor | None = None, split: int = 1,
                 watcher: Watcher | None = None) -> None:
        self.store = store
        self.setup = (lexicon, model)  # what workers build the scorer from
        self.scorer = scorer_for(lexicon, model)
        self.version = self.scorer.version
        self.window_days = window_days
        self.executor = executor or InlineExecutor()
        self.split = max(1, split)  # scoring tasks per batch (≈ workers)
        self.watcher = watcher or Watcher()
        self.summary = Summary()
        self.window = TransactionWindow(store, self.summary, self.watcher)
        self.max_in_flight = max(2, self.split + 1)  # keeps every worker busy while we write
        self._keyer = Keyer()
        self._in_flight: deque[tuple[Batch, list[Future]]] = deque()
        self._unswept = 0  # batches written since the last collection

    def start(self, paths: list[str]) -> int:
        self.summary.run_id = runs.start_run(self.store, paths, self.version)
        return self.summary.run_id

    def finish(self, status: str, message: str | None = None) -> None:
        runs.finish_run(self.store, self.summary.run_id, status, message, self.summary.run_counts())

    def feed(self, items: list[Article | Problem]) -> None:
        """Key a batch and send its texts to be hashed and scored; write the oldest batches
        in flight meanwhile (in order: each is deduplicated against everything before it)."""
        self.watcher.read(items)
        with self.watcher.keying(len(items)), self.window.reading() as conn:
            batch = prepare(conn, self._keyer, items, [b for b, _ in self._in_flight], self.version)
        # A text is scored once, as its first row in the batch has it (rows sharing a content
        # hash may differ in case or spacing): the same stored evidence whatever the split.
        first: set[str] = set()
        work: list[tuple[str, str, str, bool]] = []
        for (_, a), h in zip(batch.fresh, batch.hashes, strict=True):
            needed = h in batch.scoring and h not in first
            if needed:
                first.add(h)
            work.append((h, a.title, a.text, needed))
        with self.watcher.scoring(len(work)):
            futures = [self.executor.submit(sign_and_score, self.setup, part)
                       for part in split(work, self.split)]
        self._in_flight.append((batch, futures))
        while len(self._in_flight) >= self.max_in_flight:
            self._write_oldest()

    def drain(self) -> None:
        """Wait for every batch in flight, write them in order, and commit."""
        while self._in_flight:
            self._write_oldest()
        self.window.commit()

    def abort(self) -> None:
        """Roll back the open transaction; the summary forgets its batches."""
        self.window.abort()

    def _write_oldest(self) -> None:
        batch, futures = self._in_flight.popleft()
        if self.window.is_open and wait_futures(futures, timeout=max(0.0, self.window.left())).not_done:
            self.window.commit()  # not holding the store's write lock while the workers finish
        sigs: list[bytes | None] = []
        scored: dict[str, Scored] = {}
        for fut in futures:
            g, sc = fut.result()
            sigs += g
            scored.update(sc)
        held = batch.n_items + sum(b.n_items for b, _ in self._in_flight)
        with self.watcher.writing(batch.n_items, held):
            self._write(batch, sigs, scored)
        del batch, futures, sigs, scored  # freed first, so a collection skips them
        self._unswept += 1
        if self._unswept >= GC_BATCHES:
            gc.collect(1)  # the garbage cycles of the batches written since the last one
            self._unswept = 0

    def _write(self, batch: Batch, sigs: list[bytes | None], scored: dict[str, Scored]) -> None:
        s = self.summary
        conn = self.window.conn()
        added, copies, n_scored = write_batch(conn, batch, sigs, scored, scorer=self.scorer,
                                              window_days=self.window_days, run_id=s.run_id)
        s.read += batch.n_items
        s.already += batch.n_already
        s.added += added
        s.copies += copies
        s.scored += n_scored
        s.quarantined += len(batch.problems)
        s.keep_problems(batch.problems)
        runs.set_counts(conn, s.run_id, s.run_counts())
        self.window.wrote(batch.n_items)


def ingest(store: Store, paths: Iterable[str | os.PathLike[str]], *, fmt: str = "auto",
           mapping: dict[str, str] | None = None, source: str | None = None, tz: str = "UTC",
           date_order: str = "auto", date: dt.date | None = None,
           names: Mapping[str, str] | None = None,
           lexicon: bytes | None = None, window_days: int = 0, jobs: int = 1, actor: str | None = None,
           executor: Executor | None = None, batch_size: int = BATCH_SIZE,
           progress: Callable[[str, int], None] | None = None,
           watcher: Watcher | None = None) -> Summary:
    """Read every path, store and score what is good, quarantine what is not.

    `date` is the day of the articles that have no date of their own (an article's own
    date wins; without it they are quarantined, never dated today). `names` gives a path's
    own file name when the path is a stored copy (an upload), for its default source and a
    date in its name. `jobs` > 1 scores in that many worker processes; pass `executor` to
    score elsewhere (e.g. a Dask client's executor) instead. `actor` (a code of the actors
    file) becomes the actor the sources of these files speak for (`tension.store.actors`).
    """
    if date is not None and type(date) is not dt.date:  # a datetime's time would be dropped silently
        raise TypeError(f"date must be a datetime.date, not {type(date).__name__}")
    # Path objects too (stored as text); a path given twice is read once
    paths = list(dict.fromkeys(os.fspath(p) for p in paths))
    if actor is not None:  # checked before anything is read
        check_actor(actor, store_scorer(store).actors)
    sources: set[str] | None = {source} if source else (set() if actor is not None else None)
    lexicon = lexicon_for(store, lexicon)
    own_pool = executor is None and jobs > 1
    if own_pool:
        executor = ProcessPoolExecutor(jobs, initializer=yield_to_driver)
    ing = Ingester(store, lexicon=lexicon, model=store_model(store), window_days=window_days,
                   executor=executor, split=jobs, watcher=watcher)
    ing.start(paths)
    options = {"fmt": fmt, "mapping": mapping, "source": source, "tz": tz, "window": window_days}
    if date_order != "auto":  # only then: the fingerprints of earlier imports stay valid
        options["date_order"] = date_order
    if date is not None:  # likewise
        options["date"] = date.isoformat()
    names = {os.fspath(k): v for k, v in (names or {}).items()}
    try:
        with young_gc_only():
            for path in _expand(paths, ing.summary):
                _ingest_one(ing, path, options, batch_size, progress, date, names.get(path), sources)
            ing.drain()
    except BaseException as exc:
        ing.abort()
        ing.finish("failed", repr(exc)[:500])
        raise
    finally:
        if own_pool:
            executor.shutdown(cancel_futures=True)
    s = ing.summary
    if actor is not None and sources:
        s.notes += set_source_actor(store, sorted(sources), actor, store_scorer(store).actors)
    here = s.quarantined - sum(e["n"] for e in s.quarantine_in)  # the rest: files not re-read
    if here:  # `listed`: how many `quarantine list --run` shows (the rest were met before)
        listed = runs.quarantined(store, run_id=s.run_id, limit=0)[1]
        s.quarantine_in.insert(0, {"run": s.run_id, "file": None, "n": here, "listed": listed})
    ing.finish("done" if s.ok else "done_with_problems", "; ".join(s.errors)[:2000] or None)
    return s


def _reader(path: str, options: dict, date: dt.date | None, name: str | None) -> Reader:
    return open_reader(path, fmt=options["fmt"], mapping=options["mapping"], source=options["source"],
                       tz=options["tz"], date_order=options.get("date_order", "auto"), default_date=date,
                       name=name)


def _sources_of(path: str, options: dict, date: dt.date | None, name: str | None,
                batch_size: int) -> set[str]:
    """The sources of a file's good rows, read again without storing anything."""
    try:
        batches = _reader(path, options, date, name).batches(batch_size)
    except ReadError:
        return set()
    return {x.source for batch in batches for x in batch if isinstance(x, Article)}


def _ingest_one(ing: Ingester, path: str, options: dict, batch_size: int,
                progress: Callable[[str, int], None] | None, date: dt.date | None = None,
                name: str | None = None, sources: set[str] | None = None) -> None:
    s = ing.summary
    fingerprint, content = files.file_digests(path, options)
    if fingerprint and files.known_file(ing.store, fingerprint, path, s):
        if sources is not None and not options["source"]:  # `--actor` for a file read before:
            sources.update(_sources_of(path, options, date, name, batch_size))  # its sources still
        return
    if content and (clash := files.imported_otherwise(ing.store, content, options)):
        s.errors.append(f"{path}: {clash}")
        return
    try:
        reader = _reader(path, options, date, name)
    except ReadError as exc:
        s.errors.append(str(exc))
        return
    s.files.append(path)
    s.formats[path] = reader.format
    n_items = n_problems = 0
    for batch in reader.batches(batch_size):
        n_items += len(batch)
        n_problems += sum(isinstance(x, Problem) for x in batch)
        if sources is not None:
            sources.update(x.source for x in batch if isinstance(x, Article))
        ing.feed(batch)
        if progress:
            progress(path, len(batch))
    ing.drain()
    if fingerprint:
        files.record_file(ing.store, path, fingerprint, content, options, reader.format, n_items,
                          n_problems, s.run_id)


def _expand(paths: list[str], summary: Summary) -> Iterator[str]:
    for p in paths:
        try:
            yield from expand_paths([p])
        except ReadError as exc:
            summary.errors.append(str(exc))
