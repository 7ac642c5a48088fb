"""A day's or range's explanation from the store: the word shift against the weeks before
(`tension.analysis.wordshift`) and the articles that moved it, with their evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from tension.analysis.index import between
from tension.analysis.wordshift import (
    BASELINE_DAYS,
    OTHER_TERMS,
    empty_shares,
    ranked_contributions,
    term_shares,
    word_shift,
)
from tension.core.selection import Selection
from tension.store.actors import actor_of_source
from tension.store.engine import Store
from tension.store.queries import (
    TooManyToExplain,
    load_articles,
    load_evidence,
    load_measure_terms,
    load_terms,
    measure_of,
    rescored,
    resolve,
)
from tension.store.scoring import store_scorer


def _shares(store: Store, articles: pd.DataFrame, sel: Selection) -> pd.DataFrame:
    """The articles' term shares, which add up to their mean under `sel`'s measure."""
    if measure_of(sel) != "all":  # the measure's own contributions (rescored), per article
        terms = load_measure_terms(store, sel, articles) if len(articles) else None
        return term_shares(terms, articles, key="id")
    terms = load_terms(store, articles["content_hash"].tolist(), sel.version) if len(articles) else None
    return term_shares(terms, articles, sel.categories)


def explain(store: Store, sel: Selection, start: dt.date, end: dt.date | None = None,
            baseline_days: int = BASELINE_DAYS, top: int = 15, articles: pd.DataFrame | None = None) -> dict:
    """What moved [start, end] compared with the `baseline_days` before `start`. `articles`:
    `load_articles`' frame of `sel` over all dates, when the caller has it (the dashboard's
    cache); the two periods are then cut from it instead of read."""
    end = end or start
    sel = resolve(store, sel)
    base_start = start - dt.timedelta(days=baseline_days)
    base_end = start - dt.timedelta(days=1)
    if articles is None:
        target = load_articles(store, replace(sel, start=start, end=end))
        base = load_articles(store, replace(sel, start=base_start, end=base_end))
    else:
        target = between(articles, start, end).reset_index(drop=True)
        base = between(articles, base_start, base_end).reset_index(drop=True)
    # An empty side has no mean: None (JSON null), never NaN, which is not JSON.
    mean_t = float(target["tension"].mean()) if len(target) else None
    mean_b = float(base["tension"].mean()) if len(base) else None
    try:
        if measure_of(sel) != "all":  # both sides within the limit before any is rescored
            rescored(target, measure_of(sel)), rescored(base, measure_of(sel))
        shift = word_shift(_shares(store, target, sel), _shares(store, base, sel), bool(len(target)),
                           bool(len(base)))
        unexplained = None
    except TooManyToExplain as exc:
        shift, unexplained = word_shift(empty_shares(), empty_shares(), False, False), str(exc)
    articles = _article_contributions(store, target, mean_b or 0.0, sel.version, top)
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "baseline_start": base_start.isoformat(),
        "baseline_end": base_end.isoformat(),
        "mean_target": mean_t, "mean_baseline": mean_b,
        "delta": mean_t - mean_b if mean_t is not None and mean_b is not None else None,
        "n_target": int(len(target)), "n_baseline": int(len(base)),
        "terms": _listed(shift, top),
        "terms_unavailable": unexplained,  # why no terms are listed, when they could not be
        "articles": articles,
    }


def _article_contributions(store: Store, target: pd.DataFrame, baseline_mean: float, version: str,
                           top: int) -> list[dict]:
    """Target articles ranked by how much each moved the period's mean away from the baseline."""
    if not len(target):
        return []
    df = ranked_contributions(target, baseline_mean, top)
    evidence = load_evidence(store, df["content_hash"].tolist(), version)
    speaks_for = actor_of_source(store, store_scorer(store).actors)
    return [
        {"id": int(r.id), "date": r.date.date().isoformat(), "source": r.source,
         "source_actor": speaks_for(r.source), "title": r.title,
         "url": r.url, "tension": float(r.tension), "hostility": float(r.hostility),
         "conciliation": float(r.conciliation), "label": r.label,
         "contribution": float(r.contribution), "evidence": evidence.get(r.content_hash, [])}
        for r in df.itertuples()
    ]


def day_articles(store: Store, sel: Selection, start: dt.date, end: dt.date | None = None,
                 limit: int = 50) -> list[dict]:
    """Articles of a day or range ranked by |tension|, with their evidence (the evidence panel)."""
    sel = resolve(store, sel)
    df = load_articles(store, replace(sel, start=start, end=end or start))
    if not len(df):
        return []
    return _article_contributions(store, df, 0.0, sel.version, limit)


def _listed(shift: pd.DataFrame, top: int) -> list[dict]:
    """The `top` terms that moved it most; the rest as one "(other terms)" line, so that the
    listed shifts still add up to the change."""
    rows = [{"term": r.term, "pole": r.pole, "category": r.category, "shift": float(r.shift),
             "target": float(r.share_target), "baseline": float(r.share_baseline),
             "n_target": int(r.n_articles_target), "n_baseline": int(r.n_articles_baseline)}
            for r in shift.head(top).itertuples()]
    rest = shift.iloc[top:]
    if len(rest):
        value = float(rest["shift"].sum())
        rows.append({"term": OTHER_TERMS, "pole": "hostility" if value >= 0 else "conciliation",
                     "category": "", "shift": value, "target": float(rest["share_target"].sum()),
                     "baseline": float(rest["share_baseline"].sum()), "n_target": 0, "n_baseline": 0})
    return rows
