"""Articles, their scores and the quarantine: the rows ingest and rescore write, and the
lookups they need (which keys are stored, which texts are scored, which originals a new row
could copy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from sqlalchemy import Connection, Select, and_, null, or_, select

from tension.store import schema
from tension.store.engine import Store
from tension.store.sql import bulk_insert, in_values, insert_ignore, pairs_table


class ArticleRow(NamedTuple):
    """An `articles` row without its id, in the table's column order: a tuple, so that a
    batch goes to the database driver as it is."""

    key: str
    date: dt.date
    published_at: str | None
    source: str
    title: str
    text: str
    url: str
    ext_id: str | None
    content_hash: str
    copy_of: int | str | None  # a stored id, or (while a batch is written) an original's key
    copy_kind: str | None
    minhash: bytes | None
    run_id: int | None
    origin: str | None
    row: int | None


# Score rows travel (also between processes) as plain tuples in their table's column order:
# no per-row objects to build, pickle, unpickle and turn into tuples again for the insert.
SCORE_COLUMNS = ("content_hash", "scorer_version", "hostility", "conciliation", "tension", "label",
                 "n_sentences", "evidence")  # evidence: JSON, the top sentences with their matches
TERM_COLUMNS = ("content_hash", "scorer_version", "term", "pole", "category", "contribution")
DYAD_COLUMNS = ("content_hash", "scorer_version", "speaker", "target", "weight", "hostility",
                "conciliation", "n_sentences")
ScoreRow = tuple[str, str, float, float, float, str, int, str]
DyadRow = tuple[str, str, str, str, float, float, float, int]  # who the stance is aimed at
TermRow = tuple[str, str, str, str, str, float]  # a lexicon term's signed share of the tension

ARTICLE_COLUMNS = ArticleRow._fields
assert ARTICLE_COLUMNS == tuple(c.name for c in schema.articles.columns if c.name != "id")
assert SCORE_COLUMNS == tuple(c.name for c in schema.article_scores.columns)
assert TERM_COLUMNS == tuple(c.name for c in schema.score_terms.columns)
assert DYAD_COLUMNS == tuple(c.name for c in schema.score_dyads.columns)


def existing_keys(conn: Connection, keys: list[str]) -> set[str]:
    """The row keys already stored."""
    a = schema.articles.c
    return set(conn.execute(select(a.key).where(in_values(conn, a.key, keys))).scalars())


def ids_of(conn: Connection, keys: list[str]) -> dict[str, int]:
    """Stored ids by row key."""
    a = schema.articles.c
    return dict(conn.execute(select(a.key, a.id).where(in_values(conn, a.key, keys))).all())


def scored_hashes(conn: Connection, hashes: Iterable[str], version: str) -> set[str]:
    """The content hashes with a score from scorer `version`."""
    sc = schema.article_scores.c
    return set(conn.execute(select(sc.content_hash).where(
        sc.scorer_version == version, in_values(conn, sc.content_hash, set(hashes)))).scalars())


def insert_articles(conn: Connection, rows: list[ArticleRow]) -> None:
    bulk_insert(conn, schema.articles, rows, ARTICLE_COLUMNS)


def insert_scores(conn: Connection, scores: list[ScoreRow], terms: list[TermRow],
                  dyads: list[DyadRow] = ()) -> int:
    """Store scores, their terms and dyads, skipping any stored meanwhile; the scores stored."""
    n = insert_ignore(conn, schema.article_scores, scores, ["content_hash", "scorer_version"],
                      SCORE_COLUMNS)
    insert_ignore(conn, schema.score_terms, terms, ["content_hash", "scorer_version", "term", "pole", "category"],
                  TERM_COLUMNS)
    if dyads:
        insert_ignore(conn, schema.score_dyads, list(dyads),
                      ["content_hash", "scorer_version", "speaker", "target"], DYAD_COLUMNS)
    return n


def insert_problems(conn: Connection, rows: list[dict]) -> None:
    """Quarantine rows; the same problem twice (same fingerprint) is stored once."""
    insert_ignore(conn, schema.quarantine, rows, ["fingerprint"])


OriginalRow = tuple[int, object, str, bytes | None]  # id, date, content hash, MinHash signature


def originals_on_days(conn: Connection, pairs: set[tuple[dt.date, str]]) -> Iterator[OriginalRow]:
    """Stored originals with one of the (day, content hash) pairs: one seek of the
    (date, content_hash) index per pair, however many articles those days hold."""
    a = schema.articles.c
    same = pairs_table(conn, pairs, (a.date.type, a.content_hash.type))
    q = select(a.id, a.date, a.content_hash, null()).select_from(same.join(
        schema.articles, and_(a.date == same.c.a, a.content_hash == same.c.b)))
    return _originals(conn, q)


def originals_with_signatures(conn: Connection, lo: dt.date, hi: dt.date) -> Iterator[OriginalRow]:
    """Stored originals with a MinHash signature (long texts) between lo and hi."""
    a = schema.articles.c
    return _originals(conn, select(a.id, a.date, a.content_hash, a.minhash).where(
        a.minhash.is_not(None), a.date.between(lo, hi)))


def originals_in_range(conn: Connection, hashes: set[str], lo: dt.date, hi: dt.date,
                       signatures: bool) -> Iterator[OriginalRow]:
    """Stored originals between lo and hi with one of the hashes (and, with `signatures`,
    any with a signature): one scan of the index over the days, for wide windows."""
    a = schema.articles.c
    same = in_values(conn, a.content_hash, hashes)
    if signatures:
        q = select(a.id, a.date, a.content_hash, a.minhash).where(or_(same, a.minhash.is_not(None)))
    else:
        q = select(a.id, a.date, a.content_hash, null()).where(same)
    return _originals(conn, q.where(a.date.between(lo, hi)))


def _originals(conn: Connection, q: Select) -> Iterator[OriginalRow]:
    a = schema.articles.c
    return iter(conn.execute(q.where(a.copy_of.is_(None)).order_by(a.date, a.content_hash, a.id)))


def stale_hashes(store: Store, version: str) -> list[str]:
    """Content hashes of originals with no score from scorer `version`."""
    a, sc = schema.articles.c, schema.article_scores.c
    scored = select(sc.content_hash).where(sc.content_hash == a.content_hash,
                                           sc.scorer_version == version).exists()
    with store.read() as conn:
        return list(conn.execute(select(a.content_hash).where(a.copy_of.is_(None), ~scored)
                                 .distinct().order_by(a.content_hash)).scalars())


def texts_of(store: Store, hashes: list[str]) -> list[tuple[str, str, str]]:
    """(content hash, title, text) of the first stored original with each hash."""
    a = schema.articles.c
    rows: dict[str, tuple[str, str, str]] = {}
    with store.read() as conn:
        for chash, title, text in conn.execute(select(a.content_hash, a.title, a.text).where(
                in_values(conn, a.content_hash, hashes), a.copy_of.is_(None)).order_by(a.id)):
            rows.setdefault(chash, (chash, title, text))
    return list(rows.values())


def prune_scores(store: Store, keep_version: str) -> int:
    """Delete scores (and their terms) of every scorer version but `keep_version`."""
    with store.write() as conn:
        conn.execute(schema.score_terms.delete().where(
            schema.score_terms.c.scorer_version != keep_version))
        conn.execute(schema.score_dyads.delete().where(
            schema.score_dyads.c.scorer_version != keep_version))
        return conn.execute(schema.article_scores.delete().where(
            schema.article_scores.c.scorer_version != keep_version)).rowcount
