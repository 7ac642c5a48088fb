"""Reading scored articles out of the store into pandas, for the index, spikes and exports.

Only originals count (copies are marked `copy_of` at ingest), and only scores of
the given scorer version: a day is never an average of two lexicons.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
from sqlalchemy import Select, String, func, select, type_coerce

from indicators.learned.scorer import BASELINE
from indicators.scorers import scorer_for
from tension.analysis.dyads import (
    HEADLINE,
    ROW_COLUMNS,
    conflict_pairs,
    measure_frame,
    resolve_speakers,
)
from tension.analysis.options import parse_dyad
from tension.core.filters import filter_mask
from tension.core.selection import Selection
from tension.store import schema
from tension.store.actors import actor_of_source
from tension.store.engine import Store
from tension.store.scoring import store_scorer
from tension.store.sql import in_values

ARTICLE_COLUMNS = ["id", "date", "source", "title", "url", "content_hash", "hostility",
                   "conciliation", "tension", "label"]


def known_categories(store: Store | None = None) -> dict[str, str]:
    """Lexicon category → pole: of the store's lexicon, or without a store the shipped one."""
    return (store_scorer(store) if store is not None else scorer_for(None)).lexicon.categories()


class SelectionError(ValueError):
    """A selection the store cannot answer (an unknown category); the message says why."""


def resolve(store: Store, sel: Selection) -> Selection:
    """`sel` with the store's scorer version filled in and its categories checked against
    the store's lexicon: a misspelt category would otherwise give a flat zero sub-index."""
    scorer = store_scorer(store)
    known = scorer.lexicon.categories()
    unknown = [c for c in sel.categories if c not in known]
    if unknown:
        raise SelectionError(f"unknown lexicon category {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if "-" in sel.dyad:
        codes = scorer.actors.actors
        for code in sel.dyad.split("-"):
            if code not in codes:
                raise SelectionError(f"unknown actor {code!r} in dyad {sel.dyad}; the actors file knows "
                                     f"{', '.join(sorted(codes))}")
    if sel.categories and measure_of(sel) != "all":
        raise SelectionError("a lexicon category sub-index reads the overall tone: with a category, "
                             f"choose the overall tone (dyad 'all'), not {measure_of(sel)!r}")
    return sel if sel.version else replace(sel, version=scorer.version)


def _to_day(value: object) -> pd.Timestamp:
    return pd.Timestamp(value)


def articles_query(sel: Selection, columns: list) -> Select:
    """Originals joined with their scores by `sel.version`, dates and sources applied in SQL
    (the keyword filter and categories are applied afterwards, never in SQL)."""
    a, s = schema.articles.c, schema.article_scores.c
    return _originals(select(*columns).join_from(
        schema.articles, schema.article_scores, (s.content_hash == a.content_hash) & (s.scorer_version == sel.version)),
        sel)


def _originals(q: Select, sel: Selection) -> Select:
    """`q` limited to the originals of `sel`'s dates and sources."""
    a = schema.articles.c
    q = q.where(a.copy_of.is_(None))
    if sel.start:
        q = q.where(a.date >= sel.start)
    if sel.end:
        q = q.where(a.date <= sel.end)
    if sel.sources:  # case-insensitive: --source kcna finds KCNA, as a person means it
        q = q.where(func.lower(a.source).in_(sorted({x.lower() for x in sel.sources})))
    return q


def _of_version(table, columns: list, sel: Selection) -> Select:
    """Rows of a score table (keyed by content hash and scorer version) for `sel.version`,
    only those of `sel`'s articles when it names dates or sources. Read apart from the articles
    and merged in pandas: SQLite's lookup of the score row per article was most of a fresh
    dashboard's first page (docs/benchmarks.md)."""
    q = select(*columns).where(table.c.scorer_version == sel.version)
    if sel.start or sel.end or sel.sources:
        q = q.where(table.c.content_hash.in_(_originals(select(schema.articles.c.content_hash), sel)))
    return q


def measure_of(sel: Selection) -> str:
    """What `sel` measures: its dyad or measure, else the headline (a category sub-index
    restricts the overall tone, so without a dyad it reads "all")."""
    if sel.dyad:
        return sel.dyad
    return "all" if sel.categories else HEADLINE


def load_articles(store: Store, sel: Selection) -> pd.DataFrame:
    """One row per original article with its scores, filtered as `sel` says.

    With `sel.categories`, hostility/conciliation/tension are recomputed from the
    per-term contributions of those lexicon categories only (a sub-index, like the
    Geopolitical Risk index's threats and acts); articles without such terms score 0.
    Unless `sel` measures "all", the scores are those of its measure or dyad
    (`tension.analysis.dyads`); a dyad has only the articles that aim at it.
    """
    sel = resolve(store, sel)
    return load_measures(store, sel, (measure_of(sel),))[measure_of(sel)]


def load_measures(store: Store, sel: Selection, measures: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """`load_articles`' frame under each of `measures` ("all", "conflict", a dyad …) for the
    rest of `sel`, reading the store once."""
    sel = resolve(store, sel)
    df = _load_overall(store, sel)
    out = {m: df for m in measures if m == "all"}
    wanted = [m for m in measures if m != "all"]
    if not wanted:
        return out
    rows = resolve_speakers(load_dyad_rows(store, sel, df), actor_of_source(store, store_scorer(store).actors))
    kept = df.drop(columns=["hostility", "conciliation", "tension", "label"])
    for m in wanted:
        frame_m = measure_frame(rows, m, store_scorer(store).actors.conflict, kept)
        out[m] = frame_m[ARTICLE_COLUMNS + [c for c in frame_m.columns if c not in ARTICLE_COLUMNS]]
    return out


def load_dyad_rows(store: Store, sel: Selection, articles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every original of `sel` (dates and sources applied), or every row of `articles` (a
    `load_articles` frame of it), with its dyad rows, one row per (article, speaker, target);
    an article without dyad rows has one row of NaN."""
    sel = resolve(store, sel)
    if articles is None:
        articles = _read_scored(store, sel)
    d = schema.score_dyads.c
    cols = ["content_hash", "speaker", "target", "weight", "hostility", "conciliation"]
    with store.read() as conn:
        dyads = frame(conn.execute(_of_version(schema.score_dyads, [getattr(d, c) for c in cols], sel)).all(), cols)
    df = articles[["id", "date", "source", "content_hash"]].merge(dyads, on="content_hash", how="left", sort=False)
    df = df[ROW_COLUMNS].reset_index(drop=True)
    for col in ("weight", "hostility", "conciliation"):
        df[col] = df[col].astype("float64")
    return df


def _read_scored(store: Store, sel: Selection) -> pd.DataFrame:
    """The originals of `sel` (dates and sources applied) with their scores of `sel.version`,
    in the order of date and id; articles without such a score are left out."""
    a, s = schema.articles.c, schema.article_scores.c
    # type_coerce: let pandas parse the dates in one go instead of SQLAlchemy row by row.
    q = _originals(select(a.id, type_coerce(a.date, String), a.source, a.title, a.url, a.content_hash), sel)
    scores = ["content_hash", "hostility", "conciliation", "tension", "label"]
    with store.read() as conn:
        arts = frame(conn.execute(q.order_by(a.date, a.id)).all(), ARTICLE_COLUMNS[:6])
        scored = frame(conn.execute(_of_version(schema.article_scores, [getattr(s, c) for c in scores], sel)).all(),
                       scores)
    df = arts.merge(scored, on="content_hash", how="inner", sort=False, validate="many_to_one")
    df["date"] = pd.to_datetime(df["date"].astype(str), format="ISO8601")
    for col in ("hostility", "conciliation", "tension"):
        df[col] = df[col].astype("float64")
    return df[ARTICLE_COLUMNS]


def _load_overall(store: Store, sel: Selection) -> pd.DataFrame:
    df = _read_scored(store, sel)
    if sel.filter and len(df):
        df = filter_articles(store, df, sel.filter)
    if sel.categories and len(df):
        df = restrict_to_categories(store, df, sel)
    return df.reset_index(drop=True)


def frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """A DataFrame from result rows, column-wise (much faster than row-wise for 10⁵ rows).
    Without rows the columns are of object dtype, not pandas' float64 for an empty list: a
    merge on an empty column of hashes must still work (nothing scored by the current version)."""
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    cols = list(zip(*rows, strict=True))
    return pd.DataFrame({c: list(v) for c, v in zip(columns, cols, strict=True)})


def filter_articles(store: Store, df: pd.DataFrame, expr: str) -> pd.DataFrame:
    """The rows of `load_articles`' frame whose title or text match the keyword expression."""
    return df[filter_mask(_article_text(store, df["id"]), expr)] if len(df) else df


def _article_text(store: Store, ids: pd.Series) -> pd.Series:
    """Title and text of the given articles, aligned with `ids`' index."""
    text = {rid: f"{title}\n{body}" for rid, (title, body) in article_texts(store, ids.tolist()).items()}
    return ids.map(text)


def article_texts(store: Store, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Title and text of the given articles, by id."""
    a = schema.articles.c
    with store.read() as conn:
        return {rid: (title, body) for rid, title, body in conn.execute(
            select(a.id, a.title, a.text).where(in_values(conn, a.id, ids)))}


def load_terms(store: Store, hashes: list[str], version: str) -> pd.DataFrame:
    """Per-term contributions (content_hash, term, pole, category, contribution)."""
    t = schema.score_terms.c
    cols = ["content_hash", "term", "pole", "category", "contribution"]
    with store.read() as conn:
        rows = conn.execute(select(t.content_hash, t.term, t.pole, t.category, t.contribution)
                            .where(t.scorer_version == version,
                                   in_values(conn, t.content_hash, sorted(set(hashes))))
                            .order_by(t.content_hash, t.term, t.pole)).all()
    return frame(rows, cols)


# Articles rescored at most to explain a measure word by word (a month of stories takes seconds).
MAX_RESCORED = 5_000


class TooManyToExplain(ValueError):
    """A measure's word-level explanation would rescore more articles than MAX_RESCORED."""


def load_measure_terms(store: Store, sel: Selection, articles: pd.DataFrame) -> pd.DataFrame:
    """Per-term contributions (id, term, pole, category, contribution) of `articles` (a frame
    of `load_articles` under `sel`'s measure or dyad), adding up to each article's value under
    it. The scorer rescores the articles that aim anything there (the stored contributions
    are the overall tone's); more than MAX_RESCORED raises TooManyToExplain."""
    measure = measure_of(resolve(store, sel))
    scorer = store_scorer(store)
    busy = rescored(articles, measure)
    third_party: tuple = ()
    if measure in ("conflict", "intensity"):
        pairs = conflict_pairs(scorer.actors.conflict)
        keep = lambda s, t: (s, t) in pairs  # noqa: E731
        third_party = scorer.actors.conflict
    else:
        src, tgt = parse_dyad(measure)
        keep = lambda s, t: s == src and t == tgt  # noqa: E731
    actor_of = actor_of_source(store, scorer.actors)
    # each content hash's text from the first of these articles that has it, read by id: by
    # hash was a scan of every article (no index on the hash alone: it slowed bulk writes).
    # Ingest scored the first original with the hash, whose text may differ in case or
    # spacing (a copy's in more): see the leftover below.
    first = busy.drop_duplicates("content_hash")
    text_of = article_texts(store, first["id"].tolist())
    scored = {h: text_of[i] for h, i in zip(first["content_hash"], first["id"], strict=True)}
    ids = busy["id"].tolist()
    terms = scorer.aimed_terms([(*scored[h], actor_of(src)) for h, src in
                                zip(busy["content_hash"], busy["source"], strict=True)],
                               keep, tone=measure != "intensity", third_party=third_party)
    rows = []
    for i, value, found in zip(ids, busy["tension"], terms, strict=True):
        # The stored dyad rows are rounded, and a copy's text may have been scored for its
        # original: what the rescore leaves (1e-4 at most in a long story) joins the baseline
        # term, so the terms add up to the value shown.
        left = float(value) - sum(found.values())
        base = next((k for k in found if k[0] == BASELINE), None)
        left += found.pop(base, 0.0) if base else 0.0
        if left:
            found[(BASELINE, "hostility" if left >= 0 else "conciliation", "baseline")] = left
        rows += [(i, term, pole, category, v) for (term, pole, category), v in found.items()]
    return frame(rows, ["id", "term", "pole", "category", "contribution"])


def rescored(articles: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The articles of a measure's frame its explanation rescores (those with a value); more
    than MAX_RESCORED raises TooManyToExplain."""
    busy = articles[(articles["hostility"] != 0) | (articles["conciliation"] != 0)]
    if len(busy) > MAX_RESCORED:
        raise TooManyToExplain(f"explaining this {measure} word by word would rescore {len(busy):,} "
                               f"articles on one side (at most {MAX_RESCORED:,}): choose a shorter range")
    return busy


def category_terms(store: Store, version: str, categories: tuple[str, ...]) -> pd.DataFrame:
    """The term contributions (content_hash, term, contribution) of these lexicon categories
    only, filtered by the database (not every article's terms, filtered in pandas)."""
    t = schema.score_terms.c
    with store.read() as conn:
        rows = conn.execute(select(t.content_hash, t.term, t.contribution)
                            .where(t.scorer_version == version, t.category.in_(sorted(categories)))).all()
    return frame(rows, ["content_hash", "term", "contribution"])


def restrict_to_categories(store: Store, df: pd.DataFrame, sel: Selection) -> pd.DataFrame:
    """`load_articles`' frame rescored by the sub-index of `sel.categories` (see there), with
    each article's strongest term of those categories as `top_term` (the chart's hover)."""
    if not len(df):
        return df
    sel = resolve(store, sel)
    terms = category_terms(store, sel.version, tuple(sel.categories))
    c = terms["contribution"]
    host = c.where(c > 0, 0.0).groupby(terms["content_hash"]).sum()
    conc = (-c).where(c < 0, 0.0).groupby(terms["content_hash"]).sum()
    top = terms.loc[c.abs().groupby(terms["content_hash"]).idxmax()].set_index("content_hash")["term"] \
        if len(terms) else pd.Series(dtype=object)
    df = df.copy()
    df["hostility"] = df["content_hash"].map(host).fillna(0.0)
    df["conciliation"] = df["content_hash"].map(conc).fillna(0.0)
    df["tension"] = df["hostility"] - df["conciliation"]
    df["top_term"] = df["content_hash"].map(top)
    label = store_scorer(store).label
    df["label"] = [label(t) for t in df["tension"]]  # the shares follow the sub-index
    return df


def sources(store: Store) -> list[str]:
    """Distinct sources in the store, for filters."""
    a = schema.articles.c
    with store.read() as conn:
        return list(conn.execute(select(a.source).distinct().order_by(a.source)).scalars())


def date_bounds(store: Store) -> tuple[dt.date | None, dt.date | None]:
    """First and last article day in the store."""
    a = schema.articles.c
    with store.read() as conn:
        lo, hi = conn.execute(select(func.min(a.date), func.max(a.date))).one()
    conv = lambda v: None if v is None else pd.Timestamp(v).date()  # noqa: E731
    return conv(lo), conv(hi)


def coverage(store: Store, version: str | None = None) -> dict[str, int]:
    """How many originals the given scorer has scored, and how many it has not."""
    version = version or store_scorer(store).version
    a, s = schema.articles.c, schema.article_scores.c
    scored = select(s.content_hash).where(s.content_hash == a.content_hash,
                                          s.scorer_version == version).exists()
    with store.read() as conn:
        total = conn.execute(select(func.count()).where(a.copy_of.is_(None))).scalar_one()
        done = conn.execute(select(func.count()).where(a.copy_of.is_(None), scored)).scalar_one()
    return {"originals": total, "scored": done, "unscored": total - done}


def load_evidence(store: Store, hashes: list[str], version: str) -> dict[str, list[dict]]:
    """Stored top-sentence evidence per content hash."""
    s = schema.article_scores.c
    out: dict[str, list[dict]] = {}
    with store.read() as conn:
        for chash, ev in conn.execute(select(s.content_hash, s.evidence).where(
                s.scorer_version == version, in_values(conn, s.content_hash, sorted(set(hashes))))):
            out[chash] = json.loads(ev)
    return out
