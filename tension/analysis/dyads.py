"""Who against whom: per-article frames for a dyad, the conflict index and the conflict
intensity, made from the stored dyad rows (pandas in, pandas out).

A dyad row says, for one article and one (speaker, target), which share of the article's
units (title and sentences) is aimed at the target (`weight`) and their hostility and
conciliation, each weighted by that share (see `indicators.actors` and the scorer). The
speaker of a row is the actor named as speaking in the sentence (reported speech), else the
actor the article's source speaks for.

Measures, each an article frame that `compute_index` turns into the usual index:
    all        every article's overall tone (the scores themselves; not built here)
    conflict   the conflict index: the tone of what is aimed across a conflict dyad, over the
               articles that aim anything there (hostility = Σ hostility / Σ weight); from a
               source that speaks for nobody, a sentence naming both sides of a conflict dyad
               counts (third-party reporting, `indicators.actors`)
    intensity  the conflict intensity: over every article, the hostility and conciliation aimed
               across a conflict dyad (weighted by their share of the article); a day's mean is
               the share of the day's output that is hostile to the other side, minus the share
               that is conciliatory. Quiet days and ceremony count as zero, so it rises with
               both the tone and the volume of conflict talk
    A-B        one dyad: the tone of what A aims at B, over the articles that do
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from indicators.actors import THIRD_PARTY
from tension.analysis.index import compute_index
from tension.analysis.options import MEASURES, IndexOptions, parse_dyad

__all__ = ["MEASURES", "HEADLINE", "measure_frame", "dyad_index", "dyad_counts", "resolve_speakers",
           "conflict_pairs"]
# The headline (the `tension` column, the chart's main line): the conflict intensity, which
# validates best on the development references (docs/methodology.md, "Which headline").
HEADLINE = "intensity"
LABEL_AT = 0.25  # an article frame's label: hostile from +0.25, conciliatory from −0.25
ROW_COLUMNS = ["id", "date", "source", "speaker", "target", "weight", "hostility", "conciliation"]
DYAD_INDEX_COLUMNS = ["date", "source_actor", "target_actor", "tension", "tension_smoothed", "ci_low",
                      "ci_high", "hostility", "conciliation", "share_hostile", "share_conciliatory",
                      "n_articles"]

Pair = tuple[str, str]


def resolve_speakers(rows: pd.DataFrame, actor_of: Callable[[str], str]) -> pd.DataFrame:
    """`rows` with `src` (the speaker, else the source's actor) and `tgt` (the target); the
    THIRD_PARTY rows are kept for a source that speaks for nobody only."""
    rows = rows[rows["weight"].notna()]
    speaker = rows["speaker"].astype(object).fillna("")
    by_source = {s: actor_of(s) for s in rows["source"].unique()}
    own = rows["source"].map(by_source)
    keep = (speaker != THIRD_PARTY) | (own == "")
    rows, speaker, own = rows[keep], speaker[keep], own[keep]
    return rows.assign(src=speaker.where(speaker != "", own), tgt=rows["target"].astype(object))


def aimed(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (article, src, tgt) the summed weight, hostility and conciliation of the rows aimed
    at someone other than the speaker (`rows` from `resolve_speakers`)."""
    r = rows[(rows["tgt"] != "") & (rows["tgt"] != rows["src"])]
    g = r.groupby(["id", "src", "tgt"], sort=False)
    return pd.DataFrame({"date": g["date"].first(), "weight": g["weight"].sum(),
                         "h": g["hostility"].sum(), "c": g["conciliation"].sum()}).reset_index()


def _frame(ids: pd.Series, dates: pd.Series, h: pd.Series, c: pd.Series) -> pd.DataFrame:
    t = h - c
    label = np.where(t >= LABEL_AT, "hostile", np.where(t <= -LABEL_AT, "conciliatory", "neutral"))
    return pd.DataFrame({"id": ids.to_numpy(), "date": dates.to_numpy(), "hostility": h.to_numpy(),
                         "conciliation": c.to_numpy(), "tension": t.to_numpy(), "label": label})


def tone_frame(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per article: the tone of its rows in `pairs` (an `aimed` frame)."""
    g = pairs.groupby("id", sort=False)
    w = g["weight"].sum()
    return _frame(w.index.to_series(), g["date"].first(), g["h"].sum() / w, g["c"].sum() / w)


def conflict_pairs(conflict: Iterable[Pair]) -> set[Pair]:
    """The conflict dyads in both directions."""
    return {p for a, b in conflict for p in ((a, b), (b, a))}


def conflict_mask(pairs: pd.DataFrame, conflict: Iterable[Pair]) -> pd.Series:
    """Which rows of an `aimed` frame are aimed across a conflict dyad: by their speaker, or
    as third-party reporting (`indicators.actors.THIRD_PARTY`)."""
    keys = pairs["src"].astype(str) + ">" + pairs["tgt"].astype(str)  # vectorised: 10⁵ rows
    return keys.isin({f"{a}>{b}" for a, b in conflict_pairs(conflict)}) | (pairs["src"] == THIRD_PARTY)


def by_actors(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` for the dyad lists: without the THIRD_PARTY rows (a third party's report has no
    direction; the same sentence is in its source's voice, nobody's, too)."""
    return rows[rows["src"] != THIRD_PARTY]


def measure_frame(rows: pd.DataFrame, measure: str, conflict: Iterable[Pair],
                  articles: pd.DataFrame | None = None) -> pd.DataFrame:
    """The article frame of a measure or a dyad ('PRK-USA'), sorted by date then id.

    `rows` come from `resolve_speakers`; `articles` (id, date, and what the caller wants
    kept: title, url, …) are every article of the selection, which the intensity needs
    (an article aiming nothing across a conflict dyad counts as 0)."""
    pairs = aimed(rows)
    if measure == "intensity":
        if articles is None:
            raise ValueError("the conflict intensity needs every article of the selection")
        hit = pairs[conflict_mask(pairs, conflict)]
        h = hit.groupby("id")["h"].sum()
        c = hit.groupby("id")["c"].sum()
        out = _frame(articles["id"], articles["date"], articles["id"].map(h).fillna(0.0),
                     articles["id"].map(c).fillna(0.0))
    elif measure == "conflict":
        out = tone_frame(pairs[conflict_mask(pairs, conflict)])
    else:
        a, b = parse_dyad(measure)
        out = tone_frame(pairs[(pairs["src"] == a) & (pairs["tgt"] == b)])
    if articles is not None:  # even when empty: the caller selects these columns
        keep = [c for c in articles.columns if c not in out.columns]
        out = out.merge(articles[["id", *keep]], on="id", how="left")
    out["date"] = pd.to_datetime(out["date"])
    return out.sort_values(["date", "id"], kind="stable").reset_index(drop=True)


def dyad_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (source_actor, target_actor): articles, mean tension (article-weighted), hostility
    and conciliation over the rows given (the heatmap and the dyad list)."""
    pairs = aimed(by_actors(rows))
    if not len(pairs):
        return pd.DataFrame(columns=["source_actor", "target_actor", "n_articles", "tension",
                                     "hostility", "conciliation"])
    pairs = pairs.assign(hostility=pairs["h"] / pairs["weight"], conciliation=pairs["c"] / pairs["weight"])
    g = pairs.groupby(["src", "tgt"])
    out = pd.DataFrame({"n_articles": g.size(), "hostility": g["hostility"].mean(),
                        "conciliation": g["conciliation"].mean()})
    out["tension"] = out["hostility"] - out["conciliation"]
    out = out.reset_index().rename(columns={"src": "source_actor", "tgt": "target_actor"})
    return out.sort_values(["n_articles", "source_actor", "target_actor"], ascending=[False, True, True],
                           ignore_index=True)


def dyad_index(rows: pd.DataFrame, opts: IndexOptions | None = None, pairs: Iterable[Pair] | None = None,
               min_articles: int = 1) -> pd.DataFrame:
    """The long dyadic index: per dyad (all, or `pairs`) with at least `min_articles` articles,
    its index (same band, smoothing and normalisation as the headline) on the periods where it
    has articles."""
    opts = opts or IndexOptions()
    aimed_rows = aimed(by_actors(rows))
    counts = aimed_rows.groupby(["src", "tgt"]).size()
    wanted = list(pairs) if pairs is not None else [p for p, n in counts.items() if n >= min_articles]
    tables = []
    for a, b in sorted(wanted):
        sub = aimed_rows[(aimed_rows["src"] == a) & (aimed_rows["tgt"] == b)]
        if not len(sub):
            continue
        frame = tone_frame(sub)
        frame["date"] = pd.to_datetime(frame["date"])
        table = compute_index(frame.sort_values(["date", "id"], kind="stable"), opts)
        table = table[table["n_articles"] > 0]
        tables.append(table.assign(source_actor=a, target_actor=b))
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in DYAD_INDEX_COLUMNS})
    return pd.concat(tables, ignore_index=True)[DYAD_INDEX_COLUMNS]
