"""Row keys and what is new in a batch: rows not stored and not in a batch in flight, and
texts not scored and not being scored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from tension.core.hashing import content_hash, digest
from tension.core.records import Article, Problem
from tension.store.articles import existing_keys, scored_hashes


def row_key(a: Article, occurrence: int) -> str:
    return digest(a.source, a.date.isoformat(), a.title, a.text, a.url, a.ext_id or "",
                  str(occurrence))


class Keyer:
    """Keys rows: identical rows of one input differ by their occurrence number, so a file
    with a headline twice stores it twice, and importing the file again adds nothing."""

    def __init__(self) -> None:
        self._origin: str | None = None
        self._occurrences: dict[str, int] = {}

    def key(self, a: Article) -> str:
        if a.origin != self._origin:  # occurrence numbers count within one input
            self._origin, self._occurrences = a.origin, {}
        base = row_key(a, 0)
        occurrence = self._occurrences.get(base, 0)
        self._occurrences[base] = occurrence + 1
        return row_key(a, occurrence) if occurrence else base


@dataclass
class Batch:
    """A batch read and keyed, waiting for its hashes and scores."""

    fresh: list[tuple[str, Article]]  # (row key, article) of the rows not stored yet
    hashes: list[str]  # content hash of each fresh row
    problems: list[Problem]
    n_items: int
    n_already: int
    keys: set[str]
    scoring: set[str]  # content hashes this batch's workers score
    elsewhere: set[str]  # content hashes left to batches in flight before it (see `writer`)


def prepare(conn: Connection, keyer: Keyer, items: list[Article | Problem], pending: list[Batch],
            version: str) -> Batch:
    """Row keys, and which rows are new (not in the store, not in a batch in flight).
    `conn` sees the batches written so far, committed or not."""
    arts = [x for x in items if isinstance(x, Article)]
    problems = [x for x in items if isinstance(x, Problem)]
    keyed = [(keyer.key(a), a) for a in arts]
    keys = [k for k, _ in keyed]
    existing = existing_keys(conn, keys)
    if pending:
        existing.update(*(p.keys.intersection(keys) for p in pending))
    fresh = [(k, a) for k, a in keyed if k not in existing]
    hashes = [content_hash(a.title, a.text) for _, a in fresh]
    # Texts scored before, or being scored for a batch in flight, are not scored again.
    distinct = set(hashes)
    elsewhere: set[str] = set()
    for p in pending:
        elsewhere |= distinct & p.scoring
    stored = scored_hashes(conn, distinct, version)
    return Batch(fresh, hashes, problems, len(items), len(keyed) - len(fresh),
                 {k for k, _ in fresh}, distinct - stored - elsewhere, elsewhere - stored)
