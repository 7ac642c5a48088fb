"""Tests for tension.spikes (robust spike candidates on synthetic daily indexes), tension.explain
(the word shift, on a real store ingested from a tiny corpus) and tension.filters (keyword /
actor expressions, including hostile input)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tension.analysis.spikes import (
    SPIKE_COLUMNS,
    SpikeOptions,
    as_records,
    detect_spikes,
    find_spikes,
    robust_z,
    spike_flags,
)
from tension.cli import main
from tension.core.filters import (
    MAX_LENGTH,
    MAX_TERMS,
    FilterError,
    Term,
    filter_mask,
    parse_filter,
    terms,
)
from tension.core.selection import Selection
from tension.pipeline.ingest import ingest
from tension.reports.explain import day_articles, explain
from tension.reports.spikes import spike_evidence
from tension.store.engine import Store
from tension.store.queries import load_articles

START = pd.Timestamp("2020-01-01")


def daily(tension: np.ndarray | list[float], n_articles: int | list[int] = 5) -> pd.DataFrame:
    """A daily index table (date, tension, n_articles) from consecutive days."""
    tension = np.asarray(tension, dtype="float64")
    n = np.broadcast_to(np.asarray(n_articles), tension.shape).copy()
    n[np.isnan(tension)] = 0
    return pd.DataFrame({"date": pd.date_range(START, periods=len(tension), freq="D"),
                         "tension": tension, "n_articles": n.astype("int64")})


def noise(n: int, amplitude: float = 0.05, seed: int = 3) -> np.ndarray:
    """Bounded (uniform) noise around 0: no noise day can look like a spike."""
    return np.random.default_rng(seed).uniform(-amplitude, amplitude, n)


def at(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=i)


# ------------------------------------------------------------------------------ spikes


def test_one_spike_and_one_dip_are_found_exactly() -> None:
    x = noise(200)
    x[100], x[150] = 0.9, -0.7
    found = detect_spikes(daily(x))
    assert list(found.columns) == SPIKE_COLUMNS
    assert len(found) == 2
    by_kind = {r["kind"]: r for r in found.to_dict("records")}
    assert set(by_kind) == {"hostility", "conciliation"}
    up, down = by_kind["hostility"], by_kind["conciliation"]
    assert up["start"] == up["end"] == up["peak"] == at(100)
    assert down["start"] == down["end"] == down["peak"] == at(150)
    assert up["magnitude"] >= 3.5 and down["magnitude"] <= -3.5
    assert up["peak_tension"] == pytest.approx(0.9) and down["peak_tension"] == pytest.approx(-0.7)
    assert abs(up["baseline"]) < 0.05 and abs(down["baseline"]) < 0.05
    assert (up["n_days"], up["n_articles"]) == (1, 5)
    # strongest first
    assert list(found["magnitude"].abs()) == sorted(found["magnitude"].abs(), reverse=True)
    flags = spike_flags(daily(x), found)
    assert flags[100] == "hostility" and flags[150] == "conciliation"
    assert (flags.drop([100, 150]) == "").all()
    recs = as_records(found)
    assert {r["peak"] for r in recs} == {"2020-04-10", "2020-05-30"}
    json.dumps(recs)  # JSON-ready


@settings(max_examples=40, deadline=None)
@given(amplitude=st.floats(0, 0.01), up_at=st.integers(20, 90), down_at=st.integers(100, 170),
       up=st.floats(0.12, 1.0), down=st.floats(0.12, 1.0), seed=st.integers(0, 1000),
       level=st.floats(-0.5, 0.5))
def test_spikes_found_wherever_they_are(amplitude: float, up_at: int, down_at: int, up: float,
                                        down: float, seed: int, level: float) -> None:
    x = level + noise(200, amplitude, seed)
    x[up_at] += up
    x[down_at] -= down
    found = detect_spikes(daily(x))
    assert sorted(zip(found["kind"], found["peak"], strict=True)) == [
        ("conciliation", at(down_at)), ("hostility", at(up_at))]
    assert (found["start"] == found["peak"]).all() and (found["end"] == found["peak"]).all()


def test_consecutive_days_merge_into_one_episode() -> None:
    x = noise(200)
    x[100:103] = [0.6, 0.9, 0.7]
    found = detect_spikes(daily(x))
    assert len(found) == 1
    ep = found.iloc[0]
    assert (ep["kind"], ep["start"], ep["end"], ep["peak"]) == ("hostility", at(100), at(102), at(101))
    assert (ep["n_days"], ep["n_articles"]) == (3, 15)
    assert ep["peak_tension"] == pytest.approx(0.9)


def test_merge_gap() -> None:
    x = noise(200)
    x[100], x[102], x[120], x[124] = 0.8, 0.8, 0.8, 0.8
    found = detect_spikes(daily(x)).sort_values("start")
    # one quiet day in between still merges (merge_gap=1); three do not
    assert [(r.start, r.end) for r in found.itertuples()] == [(at(100), at(102)), (at(120), at(120)),
                                                             (at(124), at(124))]
    strict = detect_spikes(daily(x), SpikeOptions(merge_gap=0)).sort_values("start")
    assert [(r.start, r.end) for r in strict.itertuples()] == [
        (at(100), at(100)), (at(102), at(102)), (at(120), at(120)), (at(124), at(124))]
    # a spike and a dip next to each other stay two episodes of different kinds
    y = noise(200)
    y[100], y[101] = 0.8, -0.8
    both = detect_spikes(daily(y))
    assert sorted(both["kind"]) == ["conciliation", "hostility"]


def test_min_articles_is_respected() -> None:
    x = noise(200)
    x[100] = 0.9
    n = np.full(200, 5)
    n[100] = 2
    assert detect_spikes(daily(x, n)).empty
    assert detect_spikes(daily(x, n), SpikeOptions(min_articles=2))["peak"].tolist() == [at(100)]


def test_no_spikes_before_min_history() -> None:
    x = noise(60)
    x[10] = 0.9
    assert detect_spikes(daily(x)).empty  # 10 days of history < 14
    assert detect_spikes(daily(x), SpikeOptions(min_history=10))["peak"].tolist() == [at(10)]
    z = robust_z(daily(x))
    assert z["baseline"].iloc[:14].isna().all() and z["baseline"].iloc[14:].notna().all()
    assert z["z"].iloc[:14].isna().all()


def test_empty_days_do_not_count_as_history() -> None:
    x = np.full(80, np.nan)
    x[0:40:4] = noise(10)  # 10 days with articles in the first 40 calendar days
    x[40] = 0.9
    assert detect_spikes(daily(x)).empty
    assert detect_spikes(daily(x), SpikeOptions(min_history=10))["peak"].tolist() == [at(40)]
    # and empty days are never spikes, nor count as zero in the baseline
    y = np.where(np.arange(200) % 2 == 0, 0.5 + noise(200), np.nan)
    assert detect_spikes(daily(y)).empty
    assert robust_z(daily(y))["baseline"].dropna().between(0.45, 0.55).all()


def test_baseline_is_the_median_of_the_window_before_the_day() -> None:
    x = noise(120)
    x[110] = 0.9
    z = robust_z(daily(x), SpikeOptions(window=30))
    history = x[80:110]
    assert z["baseline"].iloc[110] == pytest.approx(np.median(history))
    mad = np.median(np.abs(history - np.median(history)))
    assert z["z"].iloc[110] == pytest.approx((0.9 - np.median(history)) / max(1.4826 * mad, 0.02))
    # the day itself is not in its own baseline
    assert z["baseline"].iloc[111] == pytest.approx(np.median(x[81:111]))


def test_no_spikes_in_empty_or_flat_series() -> None:
    assert detect_spikes(daily([])).empty
    assert list(detect_spikes(daily([])).columns) == SPIKE_COLUMNS
    assert detect_spikes(daily(np.full(100, 0.3))).empty
    assert detect_spikes(daily(np.full(100, np.nan))).empty


def _articles_for(x: np.ndarray, per_day: int = 4) -> pd.DataFrame:
    rows = []
    for i, v in enumerate(x):
        if math.isnan(v):
            continue
        for _ in range(per_day):
            rows.append((at(i), v, max(v, 0.0), max(-v, 0.0), "neutral"))
    return pd.DataFrame(rows, columns=["date", "tension", "hostility", "conciliation", "label"])


def test_find_spikes_judges_against_full_history_and_keeps_overlapping() -> None:
    x = noise(200)
    x[100:102] = [0.8, 0.9]
    x[150] = -0.8
    arts = _articles_for(x)
    assert sorted(find_spikes(arts)["peak"]) == [at(101), at(150)]
    # a one-day view inside the episode still shows it (it overlaps), judged on full history
    narrow = find_spikes(arts, None, at(100).date(), at(100).date())
    assert narrow["peak"].tolist() == [at(101)]
    assert (narrow["start"].iloc[0], narrow["end"].iloc[0]) == (at(100), at(101))
    assert find_spikes(arts, None, at(110).date(), at(140).date()).empty


# ------------------------------------------------------------- a real store for explain

BASE_DAY = dt.date(2021, 3, 1)
TARGET = dt.date(2021, 3, 29)  # the 28 days before it are the default baseline
INJECTION = "'); DROP TABLE articles; --"


def corpus_rows() -> list[tuple]:
    rows = []
    for i in range(28):
        d = BASE_DAY + dt.timedelta(days=i)
        rows.append((d, "KCNA", f"Delegation visits factory number {i}",
                     "Workers meet the production plan.", f"http://a/{i}"))
        rows.append((d, "KCNA", f"Talks on cooperation and friendship continue {i}",
                     "Both sides agreed to hold talks.", f"http://b/{i}"))
        rows.append((d, "KCNA", f"Weather report {i}: sunny skies over the capital", "",
                     f"http://c/{i}"))
    # two more on days 5 and 9: within the first 14 days, so they cannot be spike candidates
    rows.append((BASE_DAY + dt.timedelta(days=5), "Yonhap", "Seoul proposes family reunions and talks",
                 "The offer was made on Tuesday.", "http://d/1"))
    rows.append((BASE_DAY + dt.timedelta(days=9), "Reader", "A letter to the editor",
                 f"He typed {INJECTION} into the form.", "http://e/1"))
    rows += [
        (TARGET, "KCNA", "DPRK threatens nuclear war against US imperialists",
         "The army warns of a merciless strike.", "http://z/1"),
        (TARGET, "Yonhap", "Seoul condemns missile launch", "South Korea condemned the test.",
         "http://z/2"),
        # a same-day exact copy from another outlet: stored, marked a copy, counted once
        (TARGET, "Wire", "Seoul condemns missile launch", "South Korea condemned the test.",
         "http://z/3"),
        (TARGET, "KCNA", "Puppets of south Korea slammed for reckless war drills", "", "http://z/4"),
        # the same content as an article of the baseline (day 0): counted on both days
        (TARGET, "KCNA", "Talks on cooperation and friendship continue 0",
         "Both sides agreed to hold talks.", "http://z/5"),
    ]
    return rows


def build_store(url: str, folder: Path) -> Store:
    path = folder / "corpus.csv"
    pd.DataFrame(corpus_rows(), columns=["date", "source", "title", "text", "url"]).to_csv(path, index=False)
    store = Store(url)
    summary = ingest(store, [str(path)])
    assert summary.ok and summary.copies == 1 and summary.added == len(corpus_rows())
    return store


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("explain")
    store = build_store(f"sqlite:///{folder / 'tension.db'}", folder)
    yield store
    store.dispose()


@pytest.fixture
def any_store(db_url: str, tmp_path: Path) -> Store:
    store = build_store(db_url, tmp_path)
    yield store
    store.dispose()


def test_word_shift_of_a_category_sub_index_lists_only_its_terms(any_store: Store) -> None:
    """QA: with a category chosen, "What moved it" listed other categories' terms, whose
    shifts were larger than the change they were meant to explain."""
    cats = ("war_nuclear", "threats", "condemnation")
    why = explain(any_store, Selection(categories=cats), TARGET, top=1000)
    assert why["terms"] and {t["category"] for t in why["terms"]} <= set(cats)
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["delta"], abs=1e-6)
    assert why["delta"] != pytest.approx(explain(any_store, Selection(), TARGET)["delta"])


def test_word_shift_adds_up_to_the_change(any_store: Store) -> None:
    """The overall tone's word shift, from the stored contributions (a measure's, rescored:
    tests/reports/test_dyads.py)."""
    sel = Selection(dyad="all")
    why = explain(any_store, sel, TARGET, top=1000)
    target = load_articles(any_store, Selection(dyad="all", start=TARGET, end=TARGET))
    base = load_articles(any_store, Selection(dyad="all", start=TARGET - dt.timedelta(days=28),
                                              end=TARGET - dt.timedelta(days=1)))
    assert why["n_target"] == len(target) == 4  # the copy counts once
    assert why["n_baseline"] == len(base) == 28 * 3 + 2
    assert why["mean_target"] == pytest.approx(target["tension"].mean())
    assert why["mean_baseline"] == pytest.approx(base["tension"].mean())
    assert why["delta"] == pytest.approx(why["mean_target"] - why["mean_baseline"])
    assert why["delta"] > 0.5
    # every term is listed: shifts add up to delta, shares to the two means (contributions
    # are stored rounded to 8 decimals)
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["delta"], abs=1e-6)
    assert sum(t["target"] for t in why["terms"]) == pytest.approx(why["mean_target"], abs=1e-6)
    assert sum(t["baseline"] for t in why["terms"]) == pytest.approx(why["mean_baseline"], abs=1e-6)
    shifts = [abs(t["shift"]) for t in why["terms"]]
    assert shifts == sorted(shifts, reverse=True)
    by_term = {t["term"]: t for t in why["terms"]}
    assert by_term["nuclear war"]["shift"] > 0 and by_term["nuclear war"]["baseline"] == 0
    assert by_term["nuclear war"]["n_target"] == 1
    assert by_term["delegation"]["shift"] > 0 and by_term["delegation"]["target"] == 0  # gone
    assert by_term["talks"]["n_target"] == 1 and by_term["talks"]["n_baseline"] >= 28
    assert {"baseline_start": why["baseline_start"], "baseline_end": why["baseline_end"]} == {
        "baseline_start": "2021-03-01", "baseline_end": "2021-03-28"}


@pytest.mark.parametrize("sel", [Selection(), Selection(dyad="all"), Selection(dyad="PRK-USA"),
                                 Selection(filter="talks|war"), Selection(categories=("war_nuclear", "threats"))],
                         ids=["headline", "all", "dyad", "filter", "category"])
def test_explain_from_the_articles_already_read_is_the_one_read_from_the_store(sqlite_store: Store,
                                                                               sel: Selection) -> None:
    """The dashboard passes its cached articles (every date) instead of two reads per click."""
    whole = load_articles(sqlite_store, sel)
    read = {}
    for start, end in ((TARGET, TARGET), (TARGET - dt.timedelta(days=3), TARGET), (BASE_DAY, BASE_DAY)):
        read[start] = explain(sqlite_store, sel, start, end)
        assert explain(sqlite_store, sel, start, end, articles=whole) == read[start]
    assert read[TARGET]["n_target"] > 0 and read[TARGET]["terms"]
    assert read[BASE_DAY]["n_baseline"] == 0  # the first day has nothing before it


def test_explain_articles_ranked_with_evidence(sqlite_store: Store) -> None:
    why = explain(sqlite_store, Selection(dyad="all"), TARGET, top=1000)
    arts = why["articles"]
    assert len(arts) == 4
    contribs = [abs(a["contribution"]) for a in arts]
    assert contribs == sorted(contribs, reverse=True)
    for a in arts:
        assert a["contribution"] == pytest.approx((a["tension"] - why["mean_baseline"]) / 4)
    # the articles' contributions add up to the change too
    assert sum(a["contribution"] for a in arts) == pytest.approx(why["delta"])
    assert {a["label"] for a in arts[:3]} == {"hostile"}  # the three hostile ones lead
    assert arts[3]["label"] == "conciliatory"
    top = next(a for a in arts if a["title"].startswith("DPRK threatens"))
    assert top["date"] == TARGET.isoformat() and top["source"] == "KCNA"
    sentences = top["evidence"]
    assert sentences and sentences[0]["sentence"]
    assert "nuclear war" in {m["term"] for s in sentences for m in s["matches"]}
    assert all(a["evidence"] for a in arts if a["label"] != "neutral")
    # top limits both lists; the terms past it are one line, so the list still adds up
    short = explain(sqlite_store, Selection(dyad="all"), TARGET, top=2)
    assert len(short["terms"]) == 3 and len(short["articles"]) == 2
    assert short["terms"][:2] == why["terms"][:2] and short["terms"][2]["term"] == "(other terms)"
    assert sum(t["shift"] for t in short["terms"]) == pytest.approx(short["delta"], abs=1e-6)


def test_explain_a_range_and_an_empty_baseline(sqlite_store: Store) -> None:
    why = explain(sqlite_store, Selection(), dt.date(2021, 3, 20), TARGET, top=1000)
    assert why["n_target"] == 9 * 3 + 4  # 2021-03-20..28 and the target day
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["delta"], abs=1e-6)
    first = explain(sqlite_store, Selection(), BASE_DAY, top=1000)
    assert first["n_baseline"] == 0 and first["delta"] is None and first["mean_baseline"] is None
    # with no baseline the shift of each term is its share of the day
    assert sum(t["shift"] for t in first["terms"]) == pytest.approx(first["mean_target"], abs=1e-6)
    nothing = explain(sqlite_store, Selection(), dt.date(2030, 1, 1))
    assert nothing["n_target"] == 0 and nothing["articles"] == [] and nothing["terms"] == []


def test_explain_with_a_filter(sqlite_store: Store) -> None:
    sel = Selection(filter="Seoul|South Korea")
    why = explain(sqlite_store, sel, TARGET, top=1000)
    assert {a["title"] for a in why["articles"]} == {
        "Seoul condemns missile launch", "Puppets of south Korea slammed for reckless war drills"}
    assert why["n_baseline"] == 1  # the Seoul proposal
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["delta"], abs=1e-6)


def test_day_articles_ranked_by_tension(sqlite_store: Store) -> None:
    arts = day_articles(sqlite_store, Selection(), TARGET)
    assert [abs(a["tension"]) for a in arts] == sorted((abs(a["tension"]) for a in arts), reverse=True)
    assert len(arts) == 4


def test_spike_evidence_from_the_store(sqlite_store: Store) -> None:
    found = find_spikes(load_articles(sqlite_store, Selection()))
    assert found["kind"].tolist() == ["hostility"] and found["peak"].tolist() == [pd.Timestamp(TARGET)]
    rec = as_records(found)[0]
    ev = spike_evidence(sqlite_store, Selection(), rec, top=3)
    tensions = [a["tension"] for a in ev["articles"]]
    assert len(tensions) == 3 and tensions == sorted(tensions, reverse=True)
    assert ev["terms"] and all(t["shift"] > 0 for t in ev["terms"])
    assert len(ev["terms"]) <= 3


def test_cli_spikes_and_explain(sqlite_store: Store) -> None:
    runner = CliRunner()
    db = ["--db", sqlite_store.url]
    res = runner.invoke(main, ["spikes", "--json", "--no-evidence", *db])
    assert res.exit_code == 0, res.output
    spikes = json.loads(res.output)
    assert [(s["kind"], s["peak"]) for s in spikes] == [("hostility", TARGET.isoformat())]
    res = runner.invoke(main, ["explain", TARGET.isoformat(), "--json", "--top", "1000", *db])
    assert res.exit_code == 0, res.output
    why = json.loads(res.output)
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["delta"], abs=1e-6)
    res = runner.invoke(main, ["explain", f"2021-03-20..{TARGET.isoformat()}", *db])
    assert res.exit_code == 0 and "articles that moved it most" in res.output
    res = runner.invoke(main, ["explain", "2021-03-29..2021-03-01", *db])
    assert res.exit_code == 2 and "before" in res.output
    res = runner.invoke(main, ["explain", "yesterday", *db])
    assert res.exit_code == 2
    res = runner.invoke(main, ["spikes", "--filter", "a|", *db])
    assert res.exit_code == 2 and "empty term" in res.output


# ----------------------------------------------------------------------------- filters

TEXTS = pd.Series([
    "Seoul proposes talks",                      # 0
    "Puppets of south Korea slammed",            # 1 KCNA's lower-case "south"
    "South\n  Korea and Japan hold talks",       # 2 line break inside the phrase
    "Seoulites enjoy the spring",                # 3 not the word Seoul
    "North Korea tests a missile",               # 4
    "Missile test condemned by Japan",           # 5
    "Rokkasho plant inspected",                  # 6 not the word ROK
    "ROK and US forces drill",                   # 7
    None,                                        # 8 no text
    "He said: not guilty",                       # 9
])


def hits(expr: str, texts: pd.Series = TEXTS) -> list[int]:
    mask = filter_mask(texts, expr)
    assert mask.dtype == bool and mask.index.equals(texts.index)
    return [int(i) for i in texts.index[mask]]


@pytest.mark.parametrize("expr, expected", [
    ("Seoul|South Korea", [0, 1, 2]),
    ("seoul | SOUTH KOREA", [0, 1, 2]),
    ("Korea & missile", [4]),
    ("missile & -test", [4]),                   # whole words: "tests" is not "test"
    ("missile & !tests", [5]),
    ("missile & NOT test", [4]),
    ("-Korea", [0, 3, 5, 6, 7, 8, 9]),
    ("-Korea & -Japan & -missile", [0, 3, 6, 7, 8, 9]),
    ("ROK", [7]),                              # whole words: not "Rokkasho"
    ("Seoul", [0]),                            # not "Seoulites"
    ('"South Korea"', [1, 2]),                 # quotes are allowed and ignored
    ("'South Korea'", [1, 2]),
    ("“South Korea”", [1, 2]),
    ('"not guilty"', [9]),                     # quoted: a phrase, not a negation
    ("talks & Japan | Rokkasho", [2, 6]),
    ("", list(range(10))),
    ("   ", list(range(10))),
])
def test_filter_expressions(expr: str, expected: list[int]) -> None:
    assert hits(expr) == expected


def test_filter_is_literal_not_a_pattern() -> None:
    texts = pd.Series(["a.b", "axb", "C++ code", "C code", "100% sure", "50 percent", "x_y", "xzy"])
    assert hits("a.b", texts) == [0]
    assert hits("C++", texts) == [2]
    assert hits("100%", texts) == [4]
    assert hits("x_y", texts) == [6]
    assert hits(".*", texts) == [] and hits("[a-z]", texts) == []
    assert hits('"("', texts) == []  # a bracket is grouping; quoted, a literal character


@pytest.mark.parametrize("expr", ["a|", "|a", "a||b", "a & ", "& a", "-", "!", "- & a", '""', "a | -"])
def test_filter_empty_terms_are_errors(expr: str) -> None:
    with pytest.raises(FilterError, match="empty term"):
        parse_filter(expr)
    with pytest.raises(ValueError):
        filter_mask(TEXTS, expr)


def test_filter_limits() -> None:
    assert parse_filter("a" * MAX_LENGTH)
    with pytest.raises(FilterError, match=f"limit is {MAX_LENGTH}"):
        parse_filter("a" * (MAX_LENGTH + 1))
    assert len(terms(parse_filter("|".join(f"w{i}" for i in range(MAX_TERMS))))) == MAX_TERMS
    with pytest.raises(FilterError, match=f"more than {MAX_TERMS} terms"):
        parse_filter("|".join(f"w{i}" for i in range(MAX_TERMS + 1)))


@settings(max_examples=100, deadline=None)
@given(expr=st.text(max_size=80))
def test_any_input_parses_or_fails_cleanly(expr: str) -> None:
    try:
        mask = filter_mask(TEXTS, expr)
    except FilterError:
        return
    assert mask.dtype == bool and len(mask) == len(TEXTS)


def test_hostile_filter_input_is_just_a_phrase(tmp_path: Path) -> None:
    store = build_store(f"sqlite:///{tmp_path / 'tension.db'}", tmp_path)
    before = store.counts()
    # unquoted, its "'" and ")" are a quote and a bracket that never match: refused, by name
    for expr in [INJECTION, "Robert'); DELETE FROM articles; --"]:
        with pytest.raises(FilterError, match="never closed|no matching"):
            load_articles(store, Selection(filter=expr))
    quoted = f'"{INJECTION}"'
    assert parse_filter(quoted) == Term(INJECTION)  # quoted: just a phrase
    hit = load_articles(store, Selection(filter=quoted))
    assert hit["title"].tolist() == ["A letter to the editor"]  # the one text that says it
    for expr in [quoted, "x' OR '1'='1", "%", "_"]:
        load_articles(store, Selection(filter=expr))
        day_articles(store, Selection(filter=expr), BASE_DAY, TARGET)
    assert load_articles(store, Selection(filter="%")).empty
    assert store.counts() == before
    assert store.integrity_check() == []
    assert len(load_articles(store, Selection())) == before["articles"] - 1  # minus the copy
    res = CliRunner().invoke(main, ["export", "--out", "-", "--filter", INJECTION,
                                    "--db", store.url])
    assert res.exit_code == 2 and "never closed" in res.output
    res = CliRunner().invoke(main, ["export", "--out", "-", "--filter", quoted, "--db", store.url])
    assert res.exit_code == 0, res.output
    assert store.counts() == before
    store.dispose()


def test_explain_when_one_side_has_no_terms(sqlite_store: Store) -> None:
    # target: nothing matches; baseline: only the letter to the editor, which has no terms
    why = explain(sqlite_store, Selection(filter="letter"), TARGET)
    assert why["n_target"] == 0 and why["n_baseline"] == 1 and why["terms"] == []
    # the other way round: a day of neutral articles only, nothing before it: the terms
    # (words pulling towards neutral, the model's baseline) add up to its small tension
    why = explain(sqlite_store, Selection(filter="weather"), BASE_DAY)
    assert why["n_target"] == 1 and why["n_baseline"] == 0
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["mean_target"], abs=1e-6)
    assert abs(why["mean_target"]) < 0.25
