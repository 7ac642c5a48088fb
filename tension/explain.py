"""Why a day (or range) differs from the weeks before it: a word shift.

Every article's tension is the exact sum of its lexicon terms' contributions
(see `indicators.combine`), so a period's mean tension is the sum over terms of
(term contributions in the period) / (articles in the period). The shift of a
term is that share in the target period minus the same in the baseline (by
default the 28 days before). The shifts add up exactly to the change in mean
tension — the spirit of Hedonometer's word shift, on a two-sided scale.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
from sqlalchemy import select

from tension import schema
from tension.query import Selection, load_articles, load_terms, resolve
from tension.store import Store, in_values

BASELINE_DAYS = 28


def load_evidence(store: Store, hashes: list[str], version: str) -> dict[str, list[dict]]:
    """Stored top-sentence evidence per content hash."""
    s = schema.article_scores.c
    out: dict[str, list[dict]] = {}
    with store.read() as conn:
        for chash, ev in conn.execute(select(s.content_hash, s.evidence).where(
                s.scorer_version == version, in_values(conn, s.content_hash, sorted(set(hashes))))):
            out[chash] = json.loads(ev)
    return out


def term_shares(store: Store, articles: pd.DataFrame, version: str,
                categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per term: summed contribution / number of articles, and how many articles use it.
    With `categories`, only their terms (the sub-index's own terms, which add up to it)."""
    cols = ["term", "pole", "category", "share", "n_articles"]
    empty = pd.DataFrame({"term": pd.Series(dtype=object), "pole": pd.Series(dtype=object),
                          "category": pd.Series(dtype=object), "share": pd.Series(dtype="float64"),
                          "n_articles": pd.Series(dtype="int64")})
    if not len(articles):
        return empty
    terms = load_terms(store, articles["content_hash"].tolist(), version)
    if categories:
        terms = terms[terms["category"].isin(categories)]
    if not len(terms):
        return empty
    # An original's content can recur on other days: weight each hash by its count.
    weight = articles["content_hash"].value_counts()
    terms["w"] = terms["content_hash"].map(weight).fillna(0)
    terms["c"] = terms["contribution"] * terms["w"]
    g = terms.groupby(["term", "pole", "category"], as_index=False).agg(
        share=("c", "sum"), n_articles=("w", "sum"))
    g["share"] /= len(articles)
    g["n_articles"] = g["n_articles"].astype(int)
    return g[cols]


def explain(store: Store, sel: Selection, start: dt.date, end: dt.date | None = None,
            baseline_days: int = BASELINE_DAYS, top: int = 15) -> dict:
    """What moved [start, end] compared with the `baseline_days` before `start`."""
    end = end or start
    sel = resolve(store, sel)
    base_start = start - dt.timedelta(days=baseline_days)
    target = load_articles(store, replace(sel, start=start, end=end))
    base = load_articles(store, replace(sel, start=base_start, end=start - dt.timedelta(days=1)))
    # An empty side has no mean: None (JSON null), never NaN, which is not JSON.
    mean_t = float(target["tension"].mean()) if len(target) else None
    mean_b = float(base["tension"].mean()) if len(base) else None
    t_shares = term_shares(store, target, sel.version, sel.categories)
    b_shares = term_shares(store, base, sel.version, sel.categories)
    keys = ["term", "pole", "category"]
    t_shares[keys] = t_shares[keys].astype(object)
    b_shares[keys] = b_shares[keys].astype(object)
    shift = t_shares.merge(b_shares, on=keys, how="outer",
                           suffixes=("_target", "_baseline"))
    for c in ("share_target", "share_baseline", "n_articles_target", "n_articles_baseline"):
        shift[c] = shift[c].fillna(0)
    shift["shift"] = shift["share_target"] - (shift["share_baseline"] if len(base) else 0.0)
    shift = shift.reindex(shift["shift"].abs().sort_values(ascending=False).index)
    if not len(target):
        shift = shift.head(0)  # nothing happened that day: no term moved it
    articles = _article_contributions(store, target, mean_b or 0.0, sel.version, top)
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "baseline_start": base_start.isoformat(),
        "baseline_end": (start - dt.timedelta(days=1)).isoformat(),
        "mean_target": mean_t, "mean_baseline": mean_b,
        "delta": mean_t - mean_b if mean_t is not None and mean_b is not None else None,
        "n_target": int(len(target)), "n_baseline": int(len(base)),
        "terms": [
            {"term": r.term, "pole": r.pole, "category": r.category, "shift": float(r.shift),
             "target": float(r.share_target), "baseline": float(r.share_baseline),
             "n_target": int(r.n_articles_target), "n_baseline": int(r.n_articles_baseline)}
            for r in shift.head(top).itertuples()
        ],
        "articles": articles,
    }


def _article_contributions(store: Store, target: pd.DataFrame, baseline_mean: float, version: str,
                           top: int) -> list[dict]:
    """Target articles ranked by how much each moved the period's mean away from the baseline."""
    if not len(target):
        return []
    df = target.assign(contribution=(target["tension"] - baseline_mean) / len(target))
    df = df.reindex(df["contribution"].abs().sort_values(ascending=False).index).head(top)
    evidence = load_evidence(store, df["content_hash"].tolist(), version)
    return [
        {"id": int(r.id), "date": r.date.date().isoformat(), "source": r.source, "title": r.title,
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
