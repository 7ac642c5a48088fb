"""Sentences to review first: of a day's or range's articles, those the model is least sure
of (the lowest probability for its chosen class), which an analyst's label teaches it most."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from indicators.combine import scorable_units
from tension.core.selection import Selection
from tension.store.engine import Store
from tension.store.labels import labels_for
from tension.store.queries import article_texts, load_articles
from tension.store.scoring import store_scorer


def least_sure(store: Store, sel: Selection, start: dt.date, end: dt.date | None = None,
               limit: int = 10, max_articles: int = 500) -> list[dict]:
    """Up to `limit` sentences of the range's articles (the `max_articles` strongest), least
    sure first, without those already labelled: text, what the model says, its probabilities."""
    df = load_articles(store, replace(sel, start=start, end=end or start))
    if not len(df):
        return []
    df = df.reindex(df["tension"].abs().sort_values(ascending=False).index).head(max_articles)
    texts = article_texts(store, df["id"].tolist())
    scorer = store_scorer(store)
    seen: dict[str, dict] = {}
    for r in df.itertuples():
        title, body = texts.get(r.id, ("", ""))
        for s, _, _ in scorable_units(title, body, scorer.title_weight):
            seen.setdefault(s.text, {"article": r.title, "date": r.date.date().isoformat()})
    scored = scorer.score_sentences(list(seen))
    labelled = labels_for(store, list(seen))
    rows = [{"text": s.text, "predicted": s.label, "confidence": round(s.confidence, 3),
             "hostile": s.hostility, "neutral": s.neutral, "conciliatory": s.conciliation, **seen[s.text]}
            for s in scored if s.text not in labelled]
    return sorted(rows, key=lambda r: r["confidence"])[:limit]
