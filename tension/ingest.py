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

The per-article CPU work (MinHash signature, scoring) runs on an
executor (in this process, a process pool, or Dask workers in
`tension.engine_dask`) while this process reads, keys, deduplicates and writes,
so the two overlap. A bounded number of batches is in flight (workers + 1), so
memory stays bounded whatever the corpus size. Batches are written in order,
each deduplicated against everything written before it in the same transaction.
A transaction holds whole batches until it has COMMIT_ROWS rows or has been open
COMMIT_SECONDS (see there).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, and_, null, or_, select, update

from tension import schema
from tension.dedupe import CopyFinder, content_hash
from tension.readers import ReadError, expand_paths, open_reader
from tension.records import Article, Problem
from tension.scoring import (
    SCORE_COLUMNS,
    TERM_COLUMNS,
    ScoreRow,
    TermRow,
    score_one,
    score_rows_for,
    scorer_for,
    sign_and_score,
    store_lexicon,
    use_lexicon,
    yield_to_driver,
    young_gc_only,
)
from tension.store import Store, bulk_insert, digest, in_values, insert_ignore, pairs_table

BATCH_SIZE = 10000  # rows read, keyed and scored together
# A commit writes every page its rows touched, and the hash-keyed indexes are touched all
# over, so a commit costs nearly the size of those indexes once the store is large: fewer,
# larger transactions write far less (measured in docs/benchmarks.md, "Scale"). A transaction
# therefore spans whole batches, up to COMMIT_ROWS rows or COMMIT_SECONDS open: the time
# bound is how long other writers (an annotation being saved) may have to wait, and it is
# usually the one reached (1M headlines on 2 Dask workers: 10 commits of ~100,000 rows took
# 6.3 s of CPU, where 20 of 50,000 took 7.6 s).
COMMIT_ROWS = 200_000
COMMIT_SECONDS = 5.0
# The cycle collector is paused during ingest (see `young_gc_only`); the young generations are
# collected every GC_BATCHES batches written. A collection costs the objects still alive (the
# batches in flight), not those freed since, so one every batch spent ~3 % of an ingest's CPU.
# What it frees matters, though: each batch's queries are SQLAlchemy constructs in reference
# cycles that hold the batch's keys as JSON (~1.7 MB); never collecting kept 170 MB more at
# a million headlines.
GC_BATCHES = 10
# An article row as `_dedupe` builds it, in the table's column order, so that it goes to the
# database driver as it is: tuples cost less to build than dicts, and need no conversion.
ARTICLE_COLUMNS = tuple(c.name for c in schema.articles.columns if c.name != "id")
_HASH, _COPY_OF = ARTICLE_COLUMNS.index("content_hash"), ARTICLE_COLUMNS.index("copy_of")
_TITLE, _TEXT = ARTICLE_COLUMNS.index("title"), ARTICLE_COLUMNS.index("text")
# Up to this many (day, content hash) pairs per batch, stored originals are looked up pair by
# pair (batch size × days in the dedupe window); beyond it, by one scan of the batch's days.
MAX_PAIRS = 100_000


@dataclass
class Summary:
    """What an ingest did. `duplicates` = rows already stored + copies of earlier articles."""

    read: int = 0
    added: int = 0
    already: int = 0
    copies: int = 0
    quarantined: int = 0
    scored: int = 0
    files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    run_id: int | None = None

    @property
    def duplicates(self) -> int:
        return self.already + self.copies

    @property
    def ok(self) -> bool:
        return not self.quarantined and not self.errors

    def line(self) -> str:
        # read = added + already + quarantined; the copies are among the added (stored, marked)
        return (f"read {self.read:,} rows: added {self.added:,}, of which {self.copies:,} duplicates of "
                f"earlier articles (kept as copies, not counted twice); {self.already:,} duplicates "
                f"already in the store (skipped); quarantined {self.quarantined:,}; "
                f"scored {self.scored:,} new texts")

    def as_dict(self) -> dict:
        return {"read": self.read, "added": self.added, "duplicates": self.duplicates,
                "already": self.already, "copies": self.copies, "quarantined": self.quarantined,
                "scored": self.scored, "files": self.files, "formats": self.formats,
                "unchanged": self.unchanged, "errors": self.errors, "run_id": self.run_id}


@dataclass
class _Prepared:
    """A batch read and keyed, waiting for its hashes and scores: the fresh rows, the problems."""

    fresh: list[tuple[str, Article]]
    hashes: list[str]
    problems: list[Problem]
    n_items: int
    n_already: int
    keys: set[str]
    scoring: set[str]  # content hashes this batch's workers score
    elsewhere: set[str]  # content hashes left to batches in flight before it (see `_write`)


@dataclass
class _Transaction:
    """The open write transaction, the batches written in it, and the counts before them."""

    stack: ExitStack
    conn: Connection
    opened: float
    counts: tuple[int, ...]
    rows: int = 0

    def due(self) -> bool:
        return self.rows >= COMMIT_ROWS or self.left() <= 0

    def left(self) -> float:
        """Seconds this transaction may still stay open."""
        return self.opened + COMMIT_SECONDS - time.monotonic()


class InlineExecutor(Executor):
    """Runs work in this process: the one-process engine, and the default for small inputs."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # noqa: ANN001
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _row_key(a: Article, occurrence: int) -> str:
    return digest(a.source, a.date.isoformat(), a.title, a.text, a.url, a.ext_id or "",
                  str(occurrence))


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _chunks(seq: list, n: int) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


class Ingester:
    """Writes reader output into a store, scoring on `executor`. One per ingest run."""

    def __init__(self, store: Store, *, lexicon: bytes | None = None, window_days: int = 0,
                 executor: Executor | None = None, split: int = 1) -> None:
        self.store = store
        self.lexicon = lexicon
        self.scorer = scorer_for(lexicon)
        self.version = self.scorer.version
        self.window_days = window_days
        self.executor = executor or InlineExecutor()
        self.split = max(1, split)  # scoring tasks per batch (≈ workers)
        self.summary = Summary()
        self._origin: str | None = None
        self._occurrences: dict[str, int] = {}
        self.max_in_flight = max(2, self.split + 1)  # keeps every worker busy while we write
        self._in_flight: deque[tuple[_Prepared, list[Future]]] = deque()
        self._tx: _Transaction | None = None
        self._unswept = 0  # batches written since the last collection

    # -- run bookkeeping -------------------------------------------------------------
    def start(self, paths: list[str]) -> int:
        with self.store.write() as conn:
            run_id = conn.execute(schema.ingest_runs.insert().values(
                started_at=now(), status="running", paths=json.dumps(paths),
                scorer_version=self.version)).inserted_primary_key[0]
        self.summary.run_id = run_id
        return run_id

    def finish(self, status: str, message: str | None = None) -> None:
        s = self.summary
        with self.store.write() as conn:
            conn.execute(update(schema.ingest_runs).where(schema.ingest_runs.c.id == s.run_id).values(
                finished_at=now(), status=status, message=message, **self._counts()))

    def _counts(self) -> dict[str, int]:
        s = self.summary
        return {"n_read": s.read, "n_added": s.added, "n_already": s.already,
                "n_copies": s.copies, "n_quarantined": s.quarantined, "n_scored": s.scored}

    # -- the pipeline ----------------------------------------------------------------
    def feed(self, items: list[Article | Problem]) -> None:
        """Key a batch and send its texts to be hashed and scored; write the oldest batches
        in flight meanwhile (in order: each is deduplicated against everything before it)."""
        prepared = self._prepare(items)
        # A text is scored once, as its first row in the batch has it (rows sharing a content
        # hash may differ in case or spacing): the same stored evidence whatever the split.
        first: set[str] = set()
        work: list[tuple[str, str, str, bool]] = []
        for (_, a), h in zip(prepared.fresh, prepared.hashes, strict=True):
            needed = h in prepared.scoring and h not in first
            if needed:
                first.add(h)
            work.append((h, a.title, a.text, needed))
        futures = [self.executor.submit(sign_and_score, self.lexicon, part)
                   for part in _split(work, self.split)]
        self._in_flight.append((prepared, futures))
        while len(self._in_flight) >= self.max_in_flight:
            self._write_oldest()

    def drain(self) -> None:
        """Wait for every batch in flight, write them in order, and commit."""
        while self._in_flight:
            self._write_oldest()
        self.commit()

    def commit(self) -> None:
        """Commit the open transaction (if any): its batches are then stored."""
        tx, self._tx = self._tx, None
        if tx is not None:
            tx.stack.close()

    def abort(self) -> None:
        """Roll back the open transaction (if any); the summary forgets its batches."""
        tx, self._tx = self._tx, None
        if tx is None:
            return
        s = self.summary
        s.read, s.already, s.added, s.copies, s.scored, s.quarantined = tx.counts
        exc = RuntimeError("ingest stopped")
        tx.stack.__exit__(type(exc), exc, None)

    def _writer(self) -> _Transaction:
        if self._tx is None:
            s = self.summary
            stack = ExitStack()
            conn = stack.enter_context(self.store.write())
            self._tx = _Transaction(stack, conn, time.monotonic(),
                                    (s.read, s.already, s.added, s.copies, s.scored, s.quarantined))
        return self._tx

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection that sees the batches written so far, committed or not."""
        if self._tx is not None:
            yield self._tx.conn
        else:
            with self.store.read() as conn:
                yield conn

    def _write_oldest(self) -> None:
        prepared, futures = self._in_flight.popleft()
        if self._tx is not None and wait_futures(futures, timeout=max(0.0, self._tx.left())).not_done:
            self.commit()  # not holding the store's write lock while the workers finish
        sigs: list[bytes | None] = []
        scored: dict[str, tuple[ScoreRow, list[TermRow]]] = {}
        for fut in futures:
            g, sc = fut.result()
            sigs += g
            scored.update(sc)
        self._write(prepared, sigs, scored)
        del prepared, futures, sigs, scored  # freed first, so a collection skips them
        self._unswept += 1
        if self._unswept >= GC_BATCHES:
            gc.collect(1)  # the garbage cycles of the batches written since the last one
            self._unswept = 0

    def _prepare(self, items: list[Article | Problem]) -> _Prepared:
        """Row keys, and which rows are new (not in the store, not in a batch in flight)."""
        arts = [x for x in items if isinstance(x, Article)]
        problems = [x for x in items if isinstance(x, Problem)]
        keyed = []
        for a in arts:
            if a.origin != self._origin:  # occurrence numbers count within one input
                self._origin, self._occurrences = a.origin, {}
            base = _row_key(a, 0)
            occurrence = self._occurrences.get(base, 0)
            self._occurrences[base] = occurrence + 1
            keyed.append((_row_key(a, occurrence) if occurrence else base, a))
        pending = [p for p, _ in self._in_flight]
        keys = [k for k, _ in keyed]
        with self._reading() as conn:
            existing = self._existing_keys(conn, keys)
            if pending:
                existing.update(*(p.keys.intersection(keys) for p in pending))
            fresh = [(k, a) for k, a in keyed if k not in existing]
            hashes = [content_hash(a.title, a.text) for _, a in fresh]
            # Texts scored before, or being scored for a batch in flight, are not scored again.
            distinct = set(hashes)
            elsewhere: set[str] = set()
            for p in pending:
                elsewhere |= distinct & p.scoring
            stored = self._scored(conn, distinct)
        return _Prepared(fresh, hashes, problems, len(items), len(keyed) - len(fresh),
                         {k for k, _ in fresh}, distinct - stored - elsewhere, elsewhere - stored)

    def _write(self, p: _Prepared, sigs: list[bytes | None],
               scored: dict[str, tuple[ScoreRow, list[TermRow]]]) -> None:
        """In the open transaction: dedupe against the store, then originals, copies (pointing
        at the originals' ids), the scores of texts not scored before, and the quarantine entries."""
        s = self.summary
        tx = self._writer()
        conn = tx.conn
        originals, copies = self._dedupe(conn, p.fresh, p.hashes, sigs)
        if originals:
            bulk_insert(conn, schema.articles, originals, ARTICLE_COLUMNS)
        if copies:
            ids = self._ids(conn, sorted({r[_COPY_OF] for r in copies if isinstance(r[_COPY_OF], str)}))
            copies = [r[:_COPY_OF] + (ids[r[_COPY_OF]],) + r[_COPY_OF + 1:]
                      if isinstance(r[_COPY_OF], str) else r for r in copies]
            bulk_insert(conn, schema.articles, copies, ARTICLE_COLUMNS)
        wanted: dict[str, tuple] = {}
        for r in originals:
            wanted.setdefault(r[_HASH], r)  # the first row with the text, as scored
        # Scores to store: of the texts this batch's workers scored, and of those left to an
        # earlier batch that has not stored them (it had them only as copies, whose scores are
        # dropped): rare, scored here. The rest were stored before this batch was prepared.
        later = p.elsewhere.intersection(wanted)
        if later:
            later -= self._scored(conn, later)
        new = sorted(p.scoring.intersection(wanted) | later)
        for h in new:
            if h not in scored:
                scored[h] = score_one(self.scorer, h, wanted[h][_TITLE], wanted[h][_TEXT])
        # Counted as stored: another writer may have stored some of them meanwhile.
        n_scored = insert_ignore(conn, schema.article_scores, [scored[h][0] for h in new],
                                 ["content_hash", "scorer_version"], SCORE_COLUMNS)
        insert_ignore(conn, schema.score_terms, [t for h in new for t in scored[h][1]],
                      ["content_hash", "scorer_version", "term", "pole"], TERM_COLUMNS)
        insert_ignore(conn, schema.quarantine, [_problem_row(x, s.run_id) for x in p.problems],
                      ["fingerprint"])
        s.read += p.n_items
        s.already += p.n_already
        s.added += len(originals) + len(copies)
        s.copies += len(copies)
        s.scored += n_scored
        s.quarantined += len(p.problems)
        conn.execute(update(schema.ingest_runs).where(schema.ingest_runs.c.id == s.run_id)
                     .values(**self._counts()))
        tx.rows += p.n_items
        if tx.due():
            self.commit()

    # -- queries -----------------------------------------------------------------------
    @staticmethod
    def _existing_keys(conn, keys: list[str]) -> set[str]:  # noqa: ANN001
        a = schema.articles.c
        return set(conn.execute(select(a.key).where(in_values(conn, a.key, keys))).scalars())

    @staticmethod
    def _ids(conn, keys: list[str]) -> dict[str, int]:  # noqa: ANN001
        a = schema.articles.c
        return dict(conn.execute(select(a.key, a.id).where(in_values(conn, a.key, keys))).all())

    def _scored(self, conn, hashes: Iterable[str]) -> set[str]:  # noqa: ANN001
        sc = schema.article_scores.c
        return set(conn.execute(select(sc.content_hash).where(
            sc.scorer_version == self.version, in_values(conn, sc.content_hash, set(hashes)))).scalars())

    def _dedupe(self, conn, fresh: list[tuple[str, Article]], hashes: list[str],  # noqa: ANN001
                sigs: list[bytes | None]) -> tuple[list[tuple], list[tuple]]:
        """Article rows (tuples in ARTICLE_COLUMNS order) of the originals, and of the copies
        with copy_of set: a stored id, or the key of an original in this batch."""
        if not fresh:
            return [], []
        finder = CopyFinder(self.window_days)
        prepared = [(k, a, h, g) for (k, a), h, g in zip(fresh, hashes, sigs, strict=True)]
        self._load_originals(conn, finder, prepared)
        run_id = self.summary.run_id
        origin = a0 = None
        originals, copies = [], []
        for key, a, chash, sig in prepared:
            if a.origin is not a0:  # one input at a time: its name is made storable once
                a0, origin = a.origin, storable(a.origin)
            hit = finder.find(a.date, chash, sig)
            if hit:
                copies.append((key, a.date, a.published_at, a.source, a.title, a.text, a.url,
                               a.ext_id, chash, hit[0], hit[1], None, run_id, origin, a.row))
            else:
                originals.append((key, a.date, a.published_at, a.source, a.title, a.text, a.url,
                                  a.ext_id, chash, None, None, sig, run_id, origin, a.row))
                finder.add(key, a.date, chash, sig)
        return originals, copies

    def _load_originals(self, conn, finder: CopyFinder, prepared: list) -> None:  # noqa: ANN001
        """Stored originals that new rows could copy: same hash, or a signature, on nearby days."""
        a = schema.articles.c
        w = dt.timedelta(days=self.window_days)
        days = {p[1].date for p in prepared}
        lo, hi = min(days) - w, max(days) + w
        near = any(p[3] is not None for p in prepared)
        shifts = [dt.timedelta(days=k) for k in range(-self.window_days, self.window_days + 1)]
        window = {d: [d + k for k in shifts] for d in days}  # each day's days within the window
        pairs = {(d, p[2]) for p in prepared for d in window[p[1].date]}
        if len(pairs) <= MAX_PAIRS:
            # Same hash on a day within the window: one seek of the (date, content_hash) index
            # per (day, hash). A scan of the batch's date range instead reads every article of
            # those days, and a batch of a long corpus spans months: at a million headlines
            # the scans took 4.7 s of the driver's 48 s.
            same = pairs_table(conn, pairs, (a.date.type, a.content_hash.type))
            q = select(a.id, a.date, a.content_hash, null()).select_from(same.join(
                schema.articles, and_(a.date == same.c.a, a.content_hash == same.c.b)))
            self._add_originals(conn, finder, q.where(a.copy_of.is_(None)))
            if near:  # long texts: originals with a signature in the date range, for near copies
                q = select(a.id, a.date, a.content_hash, a.minhash).where(
                    a.minhash.is_not(None), a.copy_of.is_(None), a.date.between(lo, hi))
                self._add_originals(conn, finder, q)
            return
        # A wide window: one scan of the index over the batch's days instead, the hashes
        # matched in the index (only candidates come back).
        same = in_values(conn, a.content_hash, {p[2] for p in prepared})
        if near:
            q = select(a.id, a.date, a.content_hash, a.minhash).where(or_(same, a.minhash.is_not(None)))
        else:
            q = select(a.id, a.date, a.content_hash, null()).where(same)
        self._add_originals(conn, finder, q.where(a.copy_of.is_(None), a.date.between(lo, hi)))

    @staticmethod
    def _add_originals(conn, finder: CopyFinder, q) -> None:  # noqa: ANN001
        a = schema.articles.c
        for rid, day, chash, sig in conn.execute(q.order_by(a.date, a.content_hash, a.id)):
            finder.add(rid, _as_date(day), chash, sig)


def _split(items: list, parts: int) -> list[list]:
    if not items:
        return []
    size = max(1, -(-len(items) // parts))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _problem_row(p: Problem, run_id: int | None) -> dict:
    return {"run_id": run_id, "fingerprint": digest(p.origin, str(p.row), p.field or "", p.reason),
            "origin": storable(p.origin), "row": p.row, "field": p.field, "reason": p.reason,
            "raw": p.raw, "created_at": now()}


def storable(path: str) -> str:
    """A file name as text any database accepts (undecodable bytes become \\x escapes)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def file_fingerprint(path: str, options: dict) -> str | None:
    """Hash of a regular file's bytes and the ingest options; None for folders and URLs."""
    return file_digests(path, options)[0]


def file_digests(path: str, options: dict) -> tuple[str | None, str | None]:
    """(hash of the bytes and the options, hash of the bytes alone), in one read; Nones
    for folders and URLs."""
    p = Path(path)
    if not p.is_file():
        return None, None
    h = hashlib.blake2b(digest_size=20)
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    content = h.copy().hexdigest()
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    return h.hexdigest(), content


# Options that decide the rows' keys (their dates, sources, columns): the same bytes read
# with other values would be stored a second time. --dedupe-window only marks copies.
KEYED_OPTIONS = ("mapping", "source", "tz", "date_order")


def _keyed(options: dict) -> dict:
    return {k: options.get(k) for k in KEYED_OPTIONS if options.get(k) not in (None, "auto")
            or k == "tz"}


def ingest(store: Store, paths: Iterable[str | os.PathLike[str]], *, fmt: str = "auto",
           mapping: dict[str, str] | None = None, source: str | None = None, tz: str = "UTC",
           date_order: str = "auto",
           lexicon: bytes | None = None, window_days: int = 0, jobs: int = 1,
           executor: Executor | None = None, batch_size: int = BATCH_SIZE,
           progress: Callable[[str, int], None] | None = None) -> Summary:
    """Read every path, store and score what is good, quarantine what is not.

    `jobs` > 1 scores in that many worker processes; pass `executor` to score
    elsewhere (e.g. a Dask client's executor) instead.
    """
    # Path objects too (stored as text); a path given twice is read once
    paths = list(dict.fromkeys(os.fspath(p) for p in paths))
    lexicon = _lexicon_of(store, lexicon)
    own_pool = executor is None and jobs > 1
    if own_pool:
        executor = ProcessPoolExecutor(jobs, initializer=yield_to_driver)
    ing = Ingester(store, lexicon=lexicon, window_days=window_days, executor=executor,
                   split=jobs)
    ing.start(paths)
    options = {"fmt": fmt, "mapping": mapping, "source": source, "tz": tz, "window": window_days}
    if date_order != "auto":  # only then: the fingerprints of earlier imports stay valid
        options["date_order"] = date_order
    try:
        with young_gc_only():
            for path in _expand(paths, ing.summary):
                _ingest_one(ing, path, options, batch_size, progress)
            ing.drain()
    except BaseException as exc:
        ing.abort()
        ing.finish("failed", repr(exc)[:500])
        raise
    finally:
        if own_pool:
            executor.shutdown(cancel_futures=True)
    ing.finish("done" if ing.summary.ok else "done_with_problems",
               "; ".join(ing.summary.errors)[:2000] or None)
    return ing.summary


def _ingest_one(ing: Ingester, path: str, options: dict, batch_size: int,
                progress: Callable[[str, int], None] | None) -> None:
    s = ing.summary
    fingerprint, content = file_digests(path, options)
    if fingerprint and _known_file(ing.store, fingerprint, path, s):
        return
    if content and (clash := _imported_otherwise(ing.store, content, options)):
        s.errors.append(f"{path}: {clash}")
        return
    try:
        reader = open_reader(path, fmt=options["fmt"], mapping=options["mapping"],
                             source=options["source"], tz=options["tz"],
                             date_order=options.get("date_order", "auto"))
    except ReadError as exc:
        s.errors.append(str(exc))
        return
    s.files.append(path)
    s.formats[path] = reader.format
    n_items = n_problems = 0
    for batch in reader.batches(batch_size):
        n_items += len(batch)
        n_problems += sum(isinstance(x, Problem) for x in batch)
        ing.feed(batch)
        if progress:
            progress(path, len(batch))
    ing.drain()
    if fingerprint:
        with ing.store.write() as conn:
            insert_ignore(conn, schema.ingest_files, [{
                "fingerprint": fingerprint, "origin": storable(path), "run_id": s.run_id,
                "format": reader.format, "n_read": n_items, "n_quarantined": n_problems,
                "completed_at": now(), "content_digest": content,
                "options": json.dumps(_keyed(options), sort_keys=True)}], ["fingerprint"])


def _imported_otherwise(store: Store, content: str, options: dict) -> str | None:
    """Why these bytes must not be imported with these options (None: they may be)."""
    f = schema.ingest_files.c
    mine = _keyed(options)
    with store.read() as conn:
        for run_id, earlier in conn.execute(select(f.run_id, f.options).where(
                f.content_digest == content, f.options.is_not(None)).order_by(f.run_id)):
            theirs = json.loads(earlier)
            differ = [k for k in KEYED_OPTIONS if theirs.get(k) != mine.get(k)]
            if differ:
                was = ", ".join(_option_text(k, theirs.get(k)) for k in differ)
                now_ = ", ".join(_option_text(k, mine.get(k)) for k in differ)
                return (f"not imported: the same file was imported before (run {run_id}) with {was}; "
                        f"with {now_} its rows would be stored a second time. Import it with the "
                        f"same options, or first undo that import: python -m tension runs remove {run_id}")
    return None


def _option_text(key: str, value: object) -> str:
    flag = {"mapping": "--map", "date_order": "--date-order"}.get(key, f"--{key}")
    if value in (None, "auto"):
        return f"no {flag}"
    if isinstance(value, dict):
        value = ",".join(f"{k}={v}" for k, v in value.items())
    return f"{flag} {value}"


def _known_file(store: Store, fingerprint: str, path: str, s: Summary) -> bool:
    f = schema.ingest_files.c
    with store.read() as conn:
        row = conn.execute(select(f.format, f.n_read, f.n_quarantined).where(
            f.fingerprint == fingerprint)).first()
    if row is None:
        return False
    s.files.append(path)
    s.formats[path] = row.format
    s.unchanged.append(path)
    s.read += row.n_read
    s.already += row.n_read - row.n_quarantined
    s.quarantined += row.n_quarantined
    return True


def _expand(paths: list[str], summary: Summary) -> Iterator[str]:
    for p in paths:
        try:
            yield from expand_paths([p])
        except ReadError as exc:
            summary.errors.append(str(exc))


def stale_hashes(store: Store, version: str) -> list[str]:
    """Content hashes of originals with no score from scorer `version`."""
    a, sc = schema.articles.c, schema.article_scores.c
    scored = select(sc.content_hash).where(sc.content_hash == a.content_hash,
                                           sc.scorer_version == version).exists()
    with store.read() as conn:
        return list(conn.execute(select(a.content_hash).where(a.copy_of.is_(None), ~scored)
                                 .distinct().order_by(a.content_hash)).scalars())


def rescore(store: Store, *, lexicon: bytes | None = None, jobs: int = 1,
            executor: Executor | None = None, batch_size: int = BATCH_SIZE, prune: bool = False,
            progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Score only what the current scorer has not scored (e.g. after a lexicon change).

    `prune` deletes scores of other scorer versions afterwards.
    """
    lexicon = _lexicon_of(store, lexicon)
    version = scorer_for(lexicon).version
    with store.write() as conn:  # a run row: rescoring is part of the store's history
        run_id = conn.execute(schema.ingest_runs.insert().values(
            started_at=now(), status="running", paths=json.dumps(["(rescore)"]),
            scorer_version=version)).inserted_primary_key[0]
    todo = stale_hashes(store, version)
    own_pool = executor is None and jobs > 1
    if own_pool:
        executor = ProcessPoolExecutor(jobs, initializer=yield_to_driver)
    executor = executor or InlineExecutor()
    a = schema.articles.c
    scored = 0
    try:
        for chunk in _chunks(todo, batch_size):
            with store.read() as conn:
                rows = {}
                for chash, title, text in conn.execute(select(a.content_hash, a.title, a.text).where(
                        in_values(conn, a.content_hash, chunk), a.copy_of.is_(None)).order_by(a.id)):
                    rows.setdefault(chash, (chash, title, text))
            futures = [executor.submit(score_rows_for, lexicon, part)
                       for part in _split(list(rows.values()), max(1, jobs))]
            scores, terms = [], []
            for fut in futures:
                s, t = fut.result()
                scores += s
                terms += t
            with store.write() as conn:
                insert_ignore(conn, schema.article_scores, scores, ["content_hash", "scorer_version"],
                              SCORE_COLUMNS)
                insert_ignore(conn, schema.score_terms, terms,
                              ["content_hash", "scorer_version", "term", "pole"], TERM_COLUMNS)
            scored += len(scores)
            if progress:
                progress(len(chunk))
    finally:
        if own_pool:
            executor.shutdown(cancel_futures=True)
    pruned = prune_scores(store, version) if prune else 0
    with store.write() as conn:
        conn.execute(update(schema.ingest_runs).where(schema.ingest_runs.c.id == run_id).values(
            finished_at=now(), status="done", n_scored=scored))
    return {"stale": len(todo), "scored": scored, "pruned": pruned, "version": version}


def _lexicon_of(store: Store, lexicon: bytes | None) -> bytes | None:
    """The lexicon to score with: the one given, which becomes the store's (so that the
    index, exports and dashboard read what was scored), else the store's own."""
    if lexicon is not None:
        use_lexicon(store, lexicon)
    return store_lexicon(store)


def prune_scores(store: Store, keep_version: str) -> int:
    """Delete scores (and their terms) of every scorer version but `keep_version`."""
    with store.write() as conn:
        conn.execute(schema.score_terms.delete().where(
            schema.score_terms.c.scorer_version != keep_version))
        return conn.execute(schema.article_scores.delete().where(
            schema.article_scores.c.scorer_version != keep_version)).rowcount
