"""Why a day (or range) differs from the weeks before it: a word shift.

Every article's tension is the exact sum of its lexicon terms' contributions
(see `indicators.combine`), so a period's mean tension is the sum over terms of
(term contributions in the period) / (articles in the period). The shift of a
term is that share in the target period minus the same in the baseline (by
default the 28 days before). The shifts add up exactly to the change in mean
tension — the spirit of Hedonometer's word shift, on a two-sided scale.
"""

from __future__ import annotations

import pandas as pd

BASELINE_DAYS = 28
SHARE_COLUMNS = ["term", "pole", "category", "share", "n_articles"]
OTHER_TERMS = "(other terms)"  # the terms past those listed, so that the list adds up


def empty_shares() -> pd.DataFrame:
    return pd.DataFrame({"term": pd.Series(dtype=object), "pole": pd.Series(dtype=object),
                         "category": pd.Series(dtype=object), "share": pd.Series(dtype="float64"),
                         "n_articles": pd.Series(dtype="int64")})


def term_shares(terms: pd.DataFrame, articles: pd.DataFrame,
                categories: tuple[str, ...] = (), key: str = "content_hash") -> pd.DataFrame:
    """Per term: summed contribution / number of articles, and how many articles use it.
    `terms` holds the per-term contributions of the articles' texts (`key` "content_hash"),
    or of the articles themselves under a measure (`key` "id"); with `categories`, only their
    terms count (the sub-index's own terms, which add up to it)."""
    if not len(articles):
        return empty_shares()
    if categories:
        terms = terms[terms["category"].isin(categories)]
    if not len(terms):
        return empty_shares()
    # An original's content can recur on other days: weight each hash by its count.
    weight = articles[key].value_counts()
    terms["w"] = terms[key].map(weight).fillna(0)
    terms["c"] = terms["contribution"] * terms["w"]
    g = terms.groupby(["term", "pole", "category"], as_index=False).agg(
        share=("c", "sum"), n_articles=("w", "sum"))
    g["share"] /= len(articles)
    g["n_articles"] = g["n_articles"].astype(int)
    return g[SHARE_COLUMNS]


def word_shift(target: pd.DataFrame, baseline: pd.DataFrame, has_target: bool,
               has_baseline: bool) -> pd.DataFrame:
    """Terms ranked by |shift| (target share minus baseline share); none without a target."""
    keys = ["term", "pole", "category"]
    target[keys] = target[keys].astype(object)
    baseline[keys] = baseline[keys].astype(object)
    shift = target.merge(baseline, on=keys, how="outer", suffixes=("_target", "_baseline"))
    for c in ("share_target", "share_baseline", "n_articles_target", "n_articles_baseline"):
        shift[c] = shift[c].fillna(0)
    shift["shift"] = shift["share_target"] - (shift["share_baseline"] if has_baseline else 0.0)
    shift = shift.reindex(shift["shift"].abs().sort_values(ascending=False).index)
    if not has_target:
        shift = shift.head(0)  # nothing happened that day: no term moved it
    return shift


def ranked_contributions(target: pd.DataFrame, baseline_mean: float, top: int) -> pd.DataFrame:
    """Target articles ranked by how much each moved the period's mean from the baseline's."""
    df = target.assign(contribution=(target["tension"] - baseline_mean) / len(target))
    return df.reindex(df["contribution"].abs().sort_values(ascending=False).index).head(top)
