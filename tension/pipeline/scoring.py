"""Turn articles into the store's score rows, keyed by (content hash, scorer version).

Kept apart from the ingest loop so that the same function runs in this
process, in a pool of worker processes, or on Dask workers.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import orjson

from indicators.combine import ArticleScore, Scorer
from indicators.learned.scorer import LearnedScorer
from indicators.scorers import scorer_for
from tension.pipeline.dedupe import minhash
from tension.store.articles import DyadRow, ScoreRow, TermRow

ScoreItem = tuple[str, str, str]  # (content_hash, title, text)
AnyScorer = LearnedScorer | Scorer  # the same interface: score_articles, version
# For what orjson refuses (see `evidence_json`); one encoder, as json.dumps with options builds
# a new one each call.
_EVIDENCE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def evidence_json(evidence: list[dict]) -> str:
    """Compact JSON of a score's evidence: orjson (much faster than json, see
    docs/benchmarks.md). It refuses lone surrogates, which the readers never let through
    but a caller might: those texts go through json."""
    try:
        return orjson.dumps(evidence).decode()
    except orjson.JSONEncodeError:
        return _EVIDENCE_JSON.encode(evidence)


Scored = tuple[ScoreRow, list[TermRow], list[DyadRow]]  # a text's score, term and dyad rows


# What a worker needs to build the scorer: the lexicon's and the model's bytes (None: the
# shipped ones). Sent with every task; the scorer is built once a process.
Setup = tuple[bytes | None, bytes | None]


def score_one(scorer: AnyScorer, chash: str, title: str, text: str) -> Scored:
    """The `article_scores` row, `score_terms` and `score_dyads` rows of one text."""
    return _rows(scorer, chash, scorer.score_article(title, text))


def _rows(scorer: AnyScorer, chash: str, s: ArticleScore) -> Scored:
    version = scorer.version
    score = (chash, version, s.hostility, s.conciliation, s.tension, s.label, s.n_sentences,
             evidence_json(s.evidence()))
    terms = [(chash, version, term, pole, category, round(contribution, 8))
             for (term, pole, category), contribution in s.terms.items()]
    dyads = [(chash, version, speaker, target, *values) for (speaker, target), values in s.dyads.items()]
    return score, terms, dyads


def score_many(scorer: AnyScorer, items: Iterable[ScoreItem]) -> dict[str, Scored]:
    """The rows of each distinct content hash, scored in one batch (the first text of each)."""
    todo = {chash: (title, text) for chash, title, text in reversed(list(items))}
    hashes = list(todo)[::-1]
    scores = scorer.score_articles([todo[h] for h in hashes])
    return {h: _rows(scorer, h, a) for h, a in zip(hashes, scores, strict=True)}


Rows = tuple[list[ScoreRow], list[TermRow], list[DyadRow]]


def score_rows(scorer: AnyScorer, items: Iterable[ScoreItem]) -> Rows:
    """Rows for `article_scores`, `score_terms` and `score_dyads` for each distinct content hash."""
    scored = score_many(scorer, items)
    return ([r for r, _, _ in scored.values()], [t for _, ts, _ in scored.values() for t in ts],
            [d for _, _, ds in scored.values() for d in ds])


@contextmanager
def young_gc_only(*, collect: bool = True) -> Iterator[None]:
    """Pause CPython's automatic cycle collector; collect the young generations at the end
    (unless `collect` is false: then the collector, once running again, finds them).

    Why: scoring and ingest allocate millions of short-lived, acyclic objects (rows,
    tuples, matches), and each automatic full collection re-walks every long-lived one
    (the lexicon's word memo, the sentence cache, the open batches). Reference counting
    still frees everything at once; only garbage cycles wait for a collection, and ingest
    makes few (SQLAlchemy query constructs, a few per batch).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collect:
            gc.collect(1)
        if was_enabled:
            gc.enable()


def yield_to_driver() -> None:
    """Give this worker process the lowest CPU priority (nice +19).

    Why: the driver that reads and writes the store is the serial stage of ingest;
    when workers and driver share the cores, the workers should take only what the
    driver leaves, or everyone waits on a driver slowed by its own workers (at +5 they
    still took a share of its core; docs/scaling.md)."""
    try:
        os.nice(19)
    except OSError:  # not permitted here: run at the same priority
        pass


def score_rows_for(setup: Setup, items: list[ScoreItem]) -> Rows:
    """`score_rows` with a scorer built (once per process) from the setup: picklable for pools."""
    with young_gc_only(collect=False):  # see sign_and_score
        return score_rows(scorer_for(*setup), items)


def sign_and_score(setup: Setup, items: list[tuple[str, str, str, bool]]) -> tuple[
        list[bytes | None], dict[str, Scored]]:
    """For a partition of (content hash, title, text, needs a score): MinHash signatures of
    all, and the score rows of those that need one (scored in one batch). The per-article CPU
    work of ingest, kept apart so it can run on other processes or Dask workers."""
    scorer = scorer_for(*setup)
    # No collection at the end: it would only walk the result, which is sent and freed next
    # (in this process, the ingest's own collections cover it).
    with young_gc_only(collect=False):
        sigs = [minhash(text) for _, _, text, _ in items]
        scored = score_many(scorer, [(h, title, text) for h, title, text, needed in items if needed])
    return sigs, scored
