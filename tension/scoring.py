"""Turn articles into the store's score rows, keyed by (content hash, scorer version).

Kept apart from the ingest loop so that the same function runs in this
process, in a pool of worker processes, or on Dask workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import Executor
from functools import lru_cache

from indicators.combine import Scorer
from indicators.lexicon import load_lexicon

ScoreItem = tuple[str, str, str]  # (content_hash, title, text)


def score_rows(scorer: Scorer, items: Iterable[ScoreItem]) -> tuple[list[dict], list[dict]]:
    """Rows for `article_scores` and `score_terms` for each distinct content hash."""
    version = scorer.version
    scores, terms, seen = [], [], set()
    for chash, title, text in items:
        if chash in seen:
            continue
        seen.add(chash)
        s = scorer.score_article(title, text)
        scores.append({
            "content_hash": chash, "scorer_version": version, "hostility": s.hostility,
            "conciliation": s.conciliation, "tension": s.tension, "label": s.label,
            "n_sentences": s.n_sentences,
            "evidence": json.dumps(s.evidence(), ensure_ascii=False, separators=(",", ":")),
        })
        for (term, pole, category), contribution in s.terms.items():
            terms.append({"content_hash": chash, "scorer_version": version, "term": term,
                          "pole": pole, "category": category, "contribution": round(contribution, 8)})
    return scores, terms


@lru_cache(maxsize=4)
def _worker_scorer(lexicon: bytes | None) -> Scorer:
    return Scorer(load_lexicon(lexicon))


def score_rows_for(lexicon: bytes | None, items: list[ScoreItem]) -> tuple[list[dict], list[dict]]:
    """`score_rows` with a scorer built (once per process) from lexicon bytes: picklable for pools."""
    return score_rows(_worker_scorer(lexicon), items)


def score_parallel(pool: Executor, lexicon: bytes | None, items: list[ScoreItem],
                   chunks: int) -> tuple[list[dict], list[dict]]:
    """Split items across a process pool and gather the rows in order."""
    size = max(1, -(-len(items) // chunks))
    parts = [items[i:i + size] for i in range(0, len(items), size)]
    scores: list[dict] = []
    terms: list[dict] = []
    for s, t in pool.map(score_rows_for, [lexicon] * len(parts), parts):
        scores += s
        terms += t
    return scores, terms
