"""Tests for tension.index.compute_index: a hand-computed golden case and hypothesis
property tests of the invariants (gaps stay gaps, counts add up, weeks and months agree
with the days, smoothing, the bootstrap band, normalisation, the calendar), on article
frames made by hand: pure pandas, no store."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tension.analysis.index import (
    INDEX_COLUMNS,
    aggregate,
    article_components,
    compute_index,
    finish,
    period_start,
    seasonal_coverage,
    window,
)
from tension.analysis.options import IndexOptions

BASE = dt.date(2024, 1, 1)  # a Monday
LEVELS = ["tension", "hostility", "conciliation", "share_hostile", "share_conciliatory"]
EXAMPLES = dict(max_examples=40, deadline=None)


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Articles from (date, tension, hostility, conciliation, label) tuples."""
    df = pd.DataFrame(rows, columns=["date", "tension", "hostility", "conciliation", "label"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def day(offset: int) -> dt.date:
    return BASE + dt.timedelta(days=offset)


def week_of(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def month_of(d: dt.date) -> dt.date:
    return d.replace(day=1)


PERIOD_OF = {"D": lambda d: d, "W": week_of, "M": month_of}


def row(table: pd.DataFrame, when: str) -> pd.Series:
    hit = table[table["date"] == pd.Timestamp(when)]
    assert len(hit) == 1, f"expected exactly one row for {when}, got {len(hit)}"
    return hit.iloc[0]


# ----------------------------------------------------------------------------- golden case
# Four calendar days, the second without articles:
#   Mon 2024-01-01  +0.6 (h .7 c .1 hostile)   -0.2 (h .1 c .3 neutral)
#   Tue 2024-01-02  nothing
#   Wed 2024-01-03  -0.8 (h 0 c .8 conciliatory)  +0.2 (h .3 c .1 neutral)  -0.3 (h .1 c .4 conciliatory)
#   Thu 2024-01-04  +0.5 (h .5 c 0 hostile)

GOLDEN = frame([
    ("2024-01-01", 0.6, 0.7, 0.1, "hostile"),
    ("2024-01-01", -0.2, 0.1, 0.3, "neutral"),
    ("2024-01-03", -0.8, 0.0, 0.8, "conciliatory"),
    ("2024-01-03", 0.2, 0.3, 0.1, "neutral"),
    ("2024-01-03", -0.3, 0.1, 0.4, "conciliatory"),
    ("2024-01-04", 0.5, 0.5, 0.0, "hostile"),
])


def test_golden_daily_by_hand() -> None:
    t = compute_index(GOLDEN, IndexOptions(smooth=2, n_boot=2000, seed=7))
    assert list(t.columns) == INDEX_COLUMNS
    assert [d.date().isoformat() for d in t["date"]] == [
        "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    assert t["n_articles"].tolist() == [2, 0, 3, 1]
    assert t["n_articles"].dtype.kind == "i"

    d1, d2, d3, d4 = (t.iloc[i] for i in range(4))
    # Monday: (0.6 - 0.2) / 2 ; hostility (0.7 + 0.1) / 2 ; conciliation (0.1 + 0.3) / 2
    assert d1["tension"] == pytest.approx(0.2)
    assert d1["hostility"] == pytest.approx(0.4)
    assert d1["conciliation"] == pytest.approx(0.2)
    assert d1["share_hostile"] == pytest.approx(0.5)
    assert d1["share_conciliatory"] == pytest.approx(0.0)
    # Tuesday: no articles → every level is missing, never 0
    for col in ["tension", "ci_low", "ci_high", *LEVELS]:
        assert math.isnan(d2[col]), col
    # Wednesday: (-0.8 + 0.2 - 0.3) / 3
    assert d3["tension"] == pytest.approx(-0.3)
    assert d3["hostility"] == pytest.approx(0.4 / 3)
    assert d3["conciliation"] == pytest.approx(1.3 / 3)
    assert d3["share_hostile"] == pytest.approx(0.0)
    assert d3["share_conciliatory"] == pytest.approx(2 / 3)
    # Thursday: the one article
    assert d4["tension"] == pytest.approx(0.5)
    assert (d4["hostility"], d4["conciliation"]) == pytest.approx((0.5, 0.0))
    assert (d4["share_hostile"], d4["share_conciliatory"]) == pytest.approx((1.0, 0.0))

    # Smoothing, trailing window of 2 days, empty days skipped (not counted as 0):
    #   Mon 0.2 | Tue mean(0.2) = 0.2 | Wed mean(-0.3) = -0.3 | Thu mean(-0.3, 0.5) = 0.1
    assert t["tension_smoothed"].tolist() == pytest.approx([0.2, 0.2, -0.3, 0.1])

    # Band (2000 resamples): with 2 articles the resampled means are -0.2, 0.2 or 0.6 with
    # probabilities 1/4, 1/2, 1/4, so the 2.5 % and 97.5 % points are the extremes; with 3
    # articles the extreme means (-0.8 and 0.2, each 1/27 ≈ 3.7 %) are the 2.5 % / 97.5 % points.
    assert (d1["ci_low"], d1["ci_high"]) == pytest.approx((-0.2, 0.6))
    assert (d3["ci_low"], d3["ci_high"]) == pytest.approx((-0.8, 0.2))


def test_golden_week_and_month_are_article_weighted() -> None:
    for freq in ("W", "M"):
        t = compute_index(GOLDEN, IndexOptions(freq=freq, smooth=1))
        assert len(t) == 1 and t["date"].iloc[0] == pd.Timestamp("2024-01-01")
        r = t.iloc[0]
        assert r["n_articles"] == 6
        # (0.6 - 0.2 - 0.8 + 0.2 - 0.3 + 0.5) / 6 = 0, not the mean of daily means (0.1333)
        assert r["tension"] == pytest.approx(0.0, abs=1e-12)
        assert r["hostility"] == pytest.approx(1.7 / 6)
        assert r["conciliation"] == pytest.approx(1.7 / 6)
        assert r["share_hostile"] == pytest.approx(2 / 6)
        assert r["share_conciliatory"] == pytest.approx(2 / 6)
        assert r["tension_smoothed"] == pytest.approx(0.0, abs=1e-12)


def test_golden_normalisation_by_hand() -> None:
    raw = [0.2, -0.3, 0.5]  # the three days with articles
    m = sum(raw) / 3
    s = math.sqrt(sum((x - m) ** 2 for x in raw) / 2)
    z = compute_index(GOLDEN, IndexOptions(smooth=1, normalize="zscore"))
    got = z["tension"].dropna().tolist()
    assert got == pytest.approx([(x - m) / s for x in raw])
    assert math.isnan(z["tension"].iloc[1])
    h = [0.4, 0.4 / 3, 0.5]
    hm = sum(h) / 3
    hs = math.sqrt(sum((x - hm) ** 2 for x in h) / 2)
    assert z["hostility"].dropna().tolist() == pytest.approx([(x - hm) / hs for x in h])

    b = compute_index(GOLDEN, IndexOptions(smooth=1, normalize="base100"))
    assert b["tension"].dropna().tolist() == pytest.approx([100 * (x + 1) / (m + 1) for x in raw])
    assert b["hostility"].dropna().tolist() == pytest.approx([100 * x / hm for x in h])
    # shares and counts are not levels: untouched
    assert b["n_articles"].tolist() == [2, 0, 3, 1]
    assert b["share_hostile"].iloc[0] == pytest.approx(0.5)

    # without base dates the base is the whole history, not the shown days: a day's value
    # does not change with the view (it read 0.89, 1.51 or 2.11 for three views)
    zs = compute_index(GOLDEN, IndexOptions(smooth=1, normalize="zscore", start=day(2), end=day(3)))
    assert zs["tension"].tolist() == pytest.approx([(x - m) / s for x in raw[1:]])
    bs = compute_index(GOLDEN, IndexOptions(smooth=1, normalize="base100", start=day(3)))
    assert bs["tension"].tolist() == pytest.approx([100 * (raw[2] + 1) / (m + 1)])

    # base period = Monday and Wednesday only: mean(0.2, -0.3) = -0.05
    bb = compute_index(GOLDEN, IndexOptions(smooth=1, normalize="base100",
                                            base_start=day(0), base_end=day(2)))
    assert bb["tension"].iloc[3] == pytest.approx(100 * 1.5 / 0.95)



def one_a_day(values: dict[str, float]) -> pd.DataFrame:
    """One article a day: {iso date: tension}, hostility the positive part."""
    return frame([(dt.date.fromisoformat(d), t, max(t, 0.0), max(-t, 0.0), "neutral")
                  for d, t in values.items()])


def test_seasonal_adjustment_by_hand() -> None:
    """Each day minus its seasonal component: over the other years' days within 7 days of the
    same date (New Year crossed as dates are, 29 February as 28 February), the mean of each
    value's difference from its own year's mean; the day's own occurrence of that time of year
    never counts; fewer than 4 other years there: as scored."""
    df = one_a_day({"2019-12-29": 0.3, "2020-01-03": 0.5, "2020-06-01": 0.9, "2021-01-01": -0.1,
                    "2021-06-01": -0.3, "2022-01-09": 0.4, "2022-07-01": 0.0, "2023-01-02": 0.6,
                    "2023-08-01": -0.2, "2024-01-05": 0.2, "2024-02-29": 0.1})
    t = compute_index(df, IndexOptions(smooth=1, n_boot=0, normalize="seasonal")).set_index("date")
    # 2020-01-03: 2021-01-01 (-0.1 in a year of mean -0.2), 2022-01-09 (6 days off; 0.4 in 0.2),
    # 2023-01-02 (0.6 in 0.2) and 2024-01-05 (0.2 in 0.15); 2019-12-29 is 5 days before it:
    # its own occurrence of early January, not another year's
    assert t.loc["2020-01-03", "tension"] == pytest.approx(0.5 - (0.1 + 0.2 + 0.4 + 0.05) / 4)
    # hostility against its own calendar (the positive parts; year means 0, 0.2, 0.3, 0.15)
    assert t.loc["2020-01-03", "hostility"] == pytest.approx(0.5 - (0.0 + 0.2 + 0.3 + 0.05) / 4)
    # 2021-01-01 has three other years near it (2020 through 2019-12-29 and 2020-01-03, 2023,
    # 2024; 2022-01-09 is 8 days off): as scored; so have 1 June (one other year) and
    # 29 February (none)
    for day, value in (("2021-01-01", -0.1), ("2020-06-01", 0.9), ("2024-02-29", 0.1)):
        assert t.loc[day, "tension"] == value
    # an empty day stays missing, never 0
    assert math.isnan(t.loc["2020-01-04", "tension"]) and t.loc["2020-01-04", "n_articles"] == 0
    # a base period without 2019-2021 leaves 2020-01-03 three other years: as scored
    b = compute_index(df, IndexOptions(smooth=1, n_boot=0, normalize="seasonal",
                                       base_start=dt.date(2022, 1, 1))).set_index("date")
    assert b.loc["2020-01-03", "tension"] == 0.5
    # the default is the seasonal view, and raw is the values as scored
    assert IndexOptions().normalize == "seasonal"
    r = compute_index(df, IndexOptions(smooth=1, n_boot=0, normalize="raw")).set_index("date")
    assert r.loc["2020-01-03", "tension"] == 0.5
    # 29 February has 28 February's time of year: 21 February is 7 days from it, 8 from 1 March
    leap = one_a_day({**{f"{y}-02-21": 0.4 for y in range(2020, 2024)},
                      **{f"{y}-08-01": 0.0 for y in range(2020, 2024)}, "2024-02-29": 0.1, "2024-08-01": 0.0})
    t = compute_index(leap, IndexOptions(smooth=1, n_boot=0)).set_index("date")
    assert t.loc["2024-02-29", "tension"] == pytest.approx(0.1 - 0.2)


def test_what_the_explanation_and_the_status_read_of_the_adjustment() -> None:
    """article_components gives each article its period's component, so a day's (or a
    week's) mean minus its articles' mean component is the adjusted value the index shows;
    seasonal_coverage counts the periods the adjustment moves."""
    days = pd.date_range("2001-01-01", "2006-12-31", freq="D")
    rng = np.random.default_rng(3)
    df = frame([(d.date(), float(x), 0.0, 0.0, "neutral") for d in days for x in rng.uniform(-1, 1, 2)])
    for freq in ("D", "W"):
        opts = IndexOptions(freq=freq, smooth=1, n_boot=0)
        shown = compute_index(df, opts).set_index("date")["tension"]
        comp = article_components(df, opts)
        key = period_start(df["date"], freq)
        got = (df["tension"] - comp).groupby(key).mean()
        np.testing.assert_allclose(got.to_numpy(), shown.loc[got.index].to_numpy(), atol=1e-12)
        assert (comp != 0).any()
    at = pd.DatetimeIndex(["2001-03-01", "2006-07-01"])
    assert seasonal_coverage(days, at) == 2
    assert seasonal_coverage(days[days.year <= 2004], at) == 1  # 2006: 2001-2004, four other years
    assert seasonal_coverage(days[days.year <= 2003], at) == 0


@settings(**EXAMPLES)
@given(levels=st.lists(st.floats(-1, 1, allow_nan=False), min_size=5, max_size=7),
       calendar=st.lists(st.floats(-0.5, 0.5, allow_nan=False), min_size=12, max_size=12),
       freq=st.sampled_from(["D", "W", "M"]), cut=st.tuples(st.integers(0, 2500), st.integers(0, 2500)))
def test_seasonal_adjustment_removes_the_calendar(levels: list[float], calendar: list[float], freq: str,
                                                  cut: tuple[int, int]) -> None:
    """Tension = the year's level + the month's calendar effect, every day: the seasonally
    adjusted months keep each year's level and lose the calendar, and no value depends on
    the dates shown."""
    days = pd.date_range("2001-01-01", f"{2000 + len(levels)}-12-31", freq="D")
    t = np.array([levels[d.year - 2001] + calendar[d.month - 1] for d in days])
    df = frame([(d.date(), x, 0.0, 0.0, "neutral") for d, x in zip(days, t, strict=True)])
    full = compute_index(df, IndexOptions(freq=freq, smooth=1, n_boot=0, normalize="seasonal"))
    if freq == "M":  # the other years' month minus their mean month: the calendar's deviation
        year = full["date"].dt.year - 2001
        np.testing.assert_allclose(full["tension"], [levels[y] + np.mean(calendar) for y in year], atol=1e-9)
        # the smoothed line is the adjusted values smoothed: no calendar comes back through it
        smoothed = compute_index(df, IndexOptions(freq=freq, smooth=3, n_boot=0))["tension_smoothed"]
        np.testing.assert_allclose(smoothed, full["tension"].rolling(3, min_periods=1).mean(), atol=1e-9)
    start, end = (days[min(k, len(days) - 1)] for k in sorted(cut))
    part = compute_index(df, IndexOptions(freq=freq, smooth=1, n_boot=0, normalize="seasonal",
                                          start=start.date(), end=end.date()))
    shown = full[full["date"].isin(part["date"])]
    last_day = {"D": part["date"], "W": part["date"] + pd.Timedelta(days=6),
                "M": part["date"] + pd.offsets.MonthEnd(0)}[freq]
    inside = (part["date"] >= start) & (last_day <= end)  # a cut week or month holds fewer days
    np.testing.assert_allclose(part.loc[inside, "tension"], shown.set_index("date").loc[part.loc[inside, "date"],
                               "tension"], atol=1e-9)


def test_golden_range_wider_than_the_data() -> None:
    t = compute_index(GOLDEN, IndexOptions(start=dt.date(2023, 12, 30), end=dt.date(2024, 1, 6),
                                           smooth=3))
    assert len(t) == 8
    assert t["n_articles"].tolist() == [0, 0, 2, 0, 3, 1, 0, 0]
    # nothing before the first article, not even from the smoother
    assert t["tension_smoothed"].iloc[:2].isna().all()
    assert t["tension"].iloc[:2].isna().all() and t["tension"].iloc[6:].isna().all()


def test_empty_range_gives_empty_rows_and_no_data_gives_no_rows() -> None:
    empty = GOLDEN.iloc[:0]
    t = compute_index(empty, IndexOptions(start=day(0), end=day(2)))
    assert len(t) == 3 and (t["n_articles"] == 0).all()
    assert t[["tension", "tension_smoothed", "ci_low", "ci_high"]].isna().all().all()
    assert len(compute_index(empty)) == 0
    assert list(compute_index(empty).columns) == INDEX_COLUMNS
    # a range in which no article falls
    t = compute_index(GOLDEN, IndexOptions(start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 2)))
    assert t["n_articles"].tolist() == [0, 0] and t["tension"].isna().all()


# ------------------------------------------------------------------------- known bugs


def test_band_is_missing_for_a_single_article_period() -> None:
    # regression: np.fmin/np.fmax(band, tension) once turned the missing band of a
    # one-article day into ci_low == ci_high == tension (fixed in 8b8d9ad)
    t = compute_index(GOLDEN, IndexOptions(smooth=1))
    thu = row(t, "2024-01-04")
    assert thu["n_articles"] == 1 and thu["tension"] == pytest.approx(0.5)
    assert math.isnan(thu["ci_low"]) and math.isnan(thu["ci_high"])
    # and no band at all without resamples
    t = compute_index(GOLDEN, IndexOptions(smooth=1, n_boot=0))
    assert t[["ci_low", "ci_high"]].isna().all().all()
    assert t["tension"].notna().sum() == 3


def test_band_does_not_depend_on_row_order() -> None:
    df = frame([("2024-01-01", 0.1, 0.2, 0.1, "neutral"), ("2024-01-01", 0.5, 0.5, 0.0, "hostile"),
                ("2024-01-01", -0.3, 0.0, 0.3, "conciliatory")])
    a = compute_index(df, IndexOptions(n_boot=50))
    b = compute_index(df.iloc[::-1].reset_index(drop=True), IndexOptions(n_boot=50))
    assert a["tension"].iloc[0] == pytest.approx(b["tension"].iloc[0])
    assert (a["ci_low"].iloc[0], a["ci_high"].iloc[0]) == (b["ci_low"].iloc[0], b["ci_high"].iloc[0])


def test_zscore_of_a_constant_base_period_is_undefined() -> None:
    df = frame([("2024-01-01", 0.5, 0.6, 0.1, "hostile"), ("2024-01-01", -0.1, 0.1, 0.2, "neutral"),
                ("2024-01-03", 0.2, 0.3, 0.1, "hostile"), ("2024-01-04", 1.0, 1.0, 0.0, "hostile"),
                ("2024-01-04", 0.0, 0.2, 0.2, "neutral"), ("2024-01-04", -0.4, 0.0, 0.4, "conciliatory")])
    raw = compute_index(df, IndexOptions(smooth=1))
    assert raw["tension"].dropna().tolist() == pytest.approx([0.2, 0.2, 0.2])
    z = compute_index(df, IndexOptions(smooth=1, normalize="zscore"))
    assert z[["tension", "tension_smoothed", "ci_low", "ci_high"]].isna().all().all()


# ---------------------------------------------------------------------- option checks


@pytest.mark.parametrize("kwargs, message", [
    ({"freq": "Q"}, "freq must be one of D, W, M"),
    ({"freq": "d"}, "freq must be one of"),
    ({"normalize": "minmax"}, "normalize must be one of"),
    ({"smoother": "lowess"}, "smoother must be one of"),
    ({"smoother": "ewm", "center": True}, "center applies to the rolling mean only"),
    ({"base_start": dt.date(2024, 1, 10), "base_end": dt.date(2024, 1, 1)}, "base period start 2024-01-10 is after its end"),
    ({"smooth": 0}, "smooth must be"),
    ({"smooth": 3651}, "smooth must be"),
    ({"ci": 1.0}, "ci must be between 0 and 1"),
    ({"ci": 0}, "ci must be between 0 and 1"),
    ({"start": dt.date(2024, 1, 5), "end": dt.date(2024, 1, 4)}, "start 2024-01-05 is after end 2024-01-04"),
])
def test_bad_options_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IndexOptions(**kwargs).check()
    with pytest.raises(ValueError, match=message):
        compute_index(GOLDEN, IndexOptions(**kwargs))


def test_good_options_pass_and_start_equal_end_is_one_day() -> None:
    opts = IndexOptions(start=day(2), end=day(2), freq="D", smooth=1, smoother="ewm",
                        normalize="raw", ci=0.9)
    assert opts.check() is opts
    t = compute_index(GOLDEN, opts)
    assert len(t) == 1 and t["n_articles"].iloc[0] == 3


# -------------------------------------------------------------------------- properties

SPAN = 100  # days: covers several weeks and four calendar months


@st.composite
def articles(draw: st.DrawFn, min_size: int = 1, max_size: int = 60) -> pd.DataFrame:
    n = draw(st.integers(min_size, max_size))
    # cluster some articles on a few days so that days with 1, 2 and more articles occur
    hot = draw(st.lists(st.integers(0, SPAN), min_size=1, max_size=5))
    rows = []
    for _ in range(n):
        off = draw(st.one_of(st.sampled_from(hot), st.integers(0, SPAN)))
        h = draw(st.floats(0, 1, allow_nan=False))
        c = draw(st.floats(0, 1, allow_nan=False))
        t = h - c
        label = "hostile" if t >= 0.2 else "conciliatory" if t <= -0.2 else "neutral"
        rows.append((day(off), t, h, c, label))
    return frame(rows)


def article_days(df: pd.DataFrame) -> list[dt.date]:
    return [ts.date() for ts in df["date"]]


@settings(**EXAMPLES)
@given(df=articles(), pad_before=st.integers(0, 10), pad_after=st.integers(0, 10))
def test_missing_days_stay_missing(df: pd.DataFrame, pad_before: int, pad_after: int) -> None:
    days = article_days(df)
    start, end = min(days) - dt.timedelta(days=pad_before), max(days) + dt.timedelta(days=pad_after)
    before = df.copy()
    t = compute_index(df, IndexOptions(start=start, end=end, smooth=1))
    pd.testing.assert_frame_equal(df, before)  # the input is not modified
    empty = t["n_articles"] == 0
    assert set(t.loc[~empty, "date"].dt.date) == set(days)
    for col in ["tension", "ci_low", "ci_high", *LEVELS]:
        assert t.loc[empty, col].isna().all(), col  # missing, never 0
    for col in ["tension", *LEVELS]:
        assert t.loc[~empty, col].notna().all(), col
    assert (t["n_articles"] >= 0).all()


@settings(**EXAMPLES)
@given(df=articles(), freq=st.sampled_from(["D", "W", "M"]),
       cut=st.tuples(st.integers(0, SPAN), st.integers(0, SPAN)))
def test_counts_add_up(df: pd.DataFrame, freq: str, cut: tuple[int, int]) -> None:
    start, end = day(min(cut)), day(max(cut))
    t = compute_index(df, IndexOptions(start=start, end=end, freq=freq, n_boot=0))
    inside = [d for d in article_days(df) if start <= d <= end]
    assert t["n_articles"].sum() == len(inside)
    # and per period, counted independently of pandas' period machinery
    expected: dict[dt.date, int] = {}
    for d in inside:
        expected[PERIOD_OF[freq](d)] = expected.get(PERIOD_OF[freq](d), 0) + 1
    got = {ts.date(): int(n) for ts, n in zip(t["date"], t["n_articles"], strict=True) if n}
    assert got == expected


@settings(**EXAMPLES)
@given(df=articles(max_size=80), freq=st.sampled_from(["W", "M"]))
def test_weeks_and_months_agree_with_the_days(df: pd.DataFrame, freq: str) -> None:
    daily = compute_index(df, IndexOptions(freq="D", n_boot=0, smooth=1))
    coarse = compute_index(df, IndexOptions(freq=freq, n_boot=0, smooth=1))
    daily["period"] = [PERIOD_OF[freq](ts.date()) for ts in daily["date"]]
    for period, days in daily.groupby("period"):
        r = row(coarse, period.isoformat())
        n = days["n_articles"].sum()
        assert r["n_articles"] == n
        for col in LEVELS:
            if n == 0:
                assert math.isnan(r[col])
            else:
                weighted = (days[col].fillna(0) * days["n_articles"]).sum() / n
                assert r[col] == pytest.approx(weighted, abs=1e-9), col
    assert len(coarse) == daily["period"].nunique()


def _trailing_mean(values: list[float], window: int) -> list[float]:
    out = []
    for i in range(len(values)):
        seen = [v for v in values[max(0, i - window + 1): i + 1] if not math.isnan(v)]
        out.append(sum(seen) / len(seen) if seen else math.nan)
    return out


@settings(**EXAMPLES)
@given(df=articles(max_size=30), window=st.integers(1, 20), pad=st.integers(0, 15),
       freq=st.sampled_from(["D", "W"]))
def test_trailing_rolling_mean_skips_empty_periods(df: pd.DataFrame, window: int, pad: int,
                                                   freq: str) -> None:
    start = min(article_days(df)) - dt.timedelta(days=pad)
    t = compute_index(df, IndexOptions(start=start, freq=freq, smooth=window, n_boot=0))
    expected = _trailing_mean(t["tension"].tolist(), window)
    np.testing.assert_allclose(t["tension_smoothed"].to_numpy(), expected, rtol=1e-9, atol=1e-12)


@settings(**EXAMPLES)
@given(df=articles(max_size=30), window=st.integers(1, 40), pad=st.integers(1, 30),
       smoother=st.sampled_from(["rolling", "ewm"]), center=st.booleans(),
       freq=st.sampled_from(["D", "W", "M"]))
def test_smoothing_never_invents_values_before_the_first_article(
        df: pd.DataFrame, window: int, pad: int, smoother: str, center: bool, freq: str) -> None:
    center = center and smoother == "rolling"
    first = min(article_days(df))
    start = first - dt.timedelta(days=pad)
    t = compute_index(df, IndexOptions(start=start, freq=freq, smooth=window, smoother=smoother,
                                       center=center, n_boot=0))
    first_period = pd.Timestamp(PERIOD_OF[freq](first))
    before = t["date"] < first_period
    assert t.loc[before, "tension_smoothed"].isna().all()
    assert t.loc[before, "tension"].isna().all()
    assert not math.isnan(row(t, first_period.date().isoformat())["tension_smoothed"])
    # a smoothed value is a weighted mean of period means: it stays within their range
    lo, hi = t["tension"].min(), t["tension"].max()
    s = t["tension_smoothed"].dropna()
    assert ((s >= lo - 1e-9) & (s <= hi + 1e-9)).all()


@settings(**EXAMPLES)
@given(df=articles(), freq=st.sampled_from(["D", "W", "M"]), seed=st.integers(0, 2**31),
       ci=st.sampled_from([0.5, 0.8, 0.95, 0.99]), normalize=st.sampled_from(["raw", "zscore", "base100", "seasonal"]))
def test_band_bounds_the_tension(df: pd.DataFrame, freq: str, seed: int, ci: float,
                                 normalize: str) -> None:
    t = compute_index(df, IndexOptions(freq=freq, seed=seed, ci=ci, n_boot=100,
                                       normalize=normalize))
    defined = t["tension"].notna()
    lo, hi, x = t.loc[defined, "ci_low"], t.loc[defined, "ci_high"], t.loc[defined, "tension"]
    band = lo.notna() & hi.notna()
    assert (lo[band] <= x[band] + 1e-12).all() and (x[band] <= hi[band] + 1e-12).all()
    assert t.loc[~defined, ["ci_low", "ci_high"]].isna().all().all()
    few = t["n_articles"] < 2
    assert t.loc[few, ["ci_low", "ci_high"]].isna().all().all()  # no band from < 2 articles
    assert t.loc[~few & defined, ["ci_low", "ci_high"]].notna().all().all()
    if normalize == "raw":
        # the mean of any resample lies between the period's smallest and largest article
        key = [pd.Timestamp(PERIOD_OF[freq](d)) for d in article_days(df)]
        spread = df.assign(_p=key).groupby("_p")["tension"].agg(["min", "max", "size"])
        for ts, r in t[defined & (t["n_articles"] >= 2)].set_index("date").iterrows():
            assert spread.loc[ts, "min"] - 1e-12 <= r["ci_low"] <= r["ci_high"] <= spread.loc[ts, "max"] + 1e-12


@settings(**EXAMPLES)
@given(df=articles(), seed=st.integers(0, 2**31), cut=st.tuples(st.integers(0, SPAN), st.integers(0, SPAN)))
def test_same_seed_same_band_whatever_range_is_shown(df: pd.DataFrame, seed: int,
                                                     cut: tuple[int, int]) -> None:
    opts = IndexOptions(seed=seed, n_boot=100, start=day(0), end=day(SPAN))
    full = compute_index(df, opts)
    again = compute_index(df.copy(), opts)
    pd.testing.assert_frame_equal(full, again)  # reproducible
    start, end = day(min(cut)), day(max(cut))
    part = compute_index(df, IndexOptions(seed=seed, n_boot=100, start=start, end=end))
    sub = full[(full["date"] >= pd.Timestamp(start)) & (full["date"] <= pd.Timestamp(end))]
    assert len(part) == len(sub)
    np.testing.assert_array_equal(part["n_articles"].to_numpy(), sub["n_articles"].to_numpy())
    # the smoothed line too: the first days of a range are smoothed with the days before them
    for col in ["ci_low", "ci_high", "tension", "tension_smoothed"]:  # up to float rounding
        np.testing.assert_allclose(part[col].to_numpy(), sub[col].to_numpy(), rtol=1e-12,
                                   atol=1e-15, err_msg=col)
    # what the dashboard caches: the daily aggregate of everything, sliced to the view
    daily = aggregate(df, "D", 100, 0.95, seed)
    sliced = daily[(daily.index >= pd.Timestamp(start)) & (daily.index <= pd.Timestamp(end))]
    opts = IndexOptions(seed=seed, n_boot=100, start=start, end=end)
    pd.testing.assert_frame_equal(finish(window(sliced, start, end, "D"), opts, daily), part,
                                  check_exact=False, rtol=1e-12, atol=1e-15)


@settings(**EXAMPLES)
@given(df=articles(min_size=6), cut=st.tuples(st.integers(0, SPAN), st.integers(0, SPAN)),
       window=st.integers(2, 20), smoother=st.sampled_from(["rolling", "ewm"]), center=st.booleans())
def test_smoothed_value_and_base_period_do_not_depend_on_the_range_shown(
        df: pd.DataFrame, cut: tuple[int, int], window: int, smoother: str, center: bool) -> None:
    """QA found a day's smoothed value changing with --from (0.208 vs 0.517): the window
    restarted at the range's first day. And a base period outside the range gave blanks."""
    kw = dict(n_boot=0, smooth=window, smoother=smoother, center=center and smoother == "rolling")
    full = compute_index(df, IndexOptions(**kw))
    start, end = day(min(cut)), day(max(cut))
    part = compute_index(df, IndexOptions(start=start, end=end, **kw))
    sub = full[(full["date"] >= pd.Timestamp(start)) & (full["date"] <= pd.Timestamp(end))]
    inside = part["date"].isin(sub["date"])
    np.testing.assert_allclose(part.loc[inside, "tension_smoothed"].to_numpy(),
                               sub["tension_smoothed"].to_numpy(), rtol=1e-9, atol=1e-12)
    # a base period elsewhere: the view's z-scores are those of the full series
    first, last = min(article_days(df)), max(article_days(df))
    z_opts = dict(kw, normalize="zscore", base_start=first, base_end=last)
    zf = compute_index(df, IndexOptions(**z_opts))
    zp = compute_index(df, IndexOptions(start=start, end=end, **z_opts))
    zs = zf[zf["date"].isin(zp["date"])]
    np.testing.assert_allclose(zp.loc[zp["date"].isin(zs["date"]), "tension"].to_numpy(),
                               zs["tension"].to_numpy(), rtol=1e-9, atol=1e-12)


@settings(**EXAMPLES)
@given(df=articles(min_size=6), cut=st.tuples(st.integers(0, SPAN), st.integers(0, SPAN)),
       freq=st.sampled_from(["D", "W"]))
def test_normalisation_against_the_base_period(df: pd.DataFrame, cut: tuple[int, int],
                                               freq: str) -> None:
    base_start, base_end = day(min(cut)), day(max(cut))
    raw = compute_index(df, IndexOptions(freq=freq, n_boot=0, smooth=1))
    in_base = (raw["date"] >= pd.Timestamp(base_start)) & (raw["date"] <= pd.Timestamp(base_end))
    base = raw.loc[in_base, "tension"].dropna()
    assume(len(base) >= 2 and base.std() > 1e-3)
    opts = dict(freq=freq, n_boot=0, smooth=1, base_start=base_start, base_end=base_end)
    z = compute_index(df, IndexOptions(normalize="zscore", **opts))
    zb = z.loc[in_base, "tension"].dropna()
    assert zb.mean() == pytest.approx(0, abs=1e-9)
    assert zb.std() == pytest.approx(1, abs=1e-9)
    # an affine rescaling of the raw values: the shape is kept, gaps stay gaps
    np.testing.assert_allclose(z["tension"] * base.std() + base.mean(), raw["tension"], atol=1e-9)
    assert (z["tension"].isna() == raw["tension"].isna()).all()

    b = compute_index(df, IndexOptions(normalize="base100", **opts))
    assert b.loc[in_base, "tension"].dropna().mean() == pytest.approx(100, rel=1e-9)
    hb = raw.loc[in_base, "hostility"].dropna()
    if hb.mean() > 1e-6:
        assert b.loc[in_base, "hostility"].dropna().mean() == pytest.approx(100, rel=1e-9)
    pd.testing.assert_series_equal(b["n_articles"], raw["n_articles"])


@settings(**EXAMPLES)
@given(df=articles(max_size=10), a=st.integers(-400, 400), length=st.integers(0, 400),
       freq=st.sampled_from(["D", "W", "M"]))
def test_one_row_per_calendar_period_from_start_to_end(df: pd.DataFrame, a: int, length: int,
                                                       freq: str) -> None:
    start = day(a)
    end = start + dt.timedelta(days=length)
    t = compute_index(df, IndexOptions(start=start, end=end, freq=freq, n_boot=0))
    expected = sorted({PERIOD_OF[freq](start + dt.timedelta(days=i)) for i in range(length + 1)})
    assert [ts.date() for ts in t["date"]] == expected
    assert t["date"].is_unique and t["date"].is_monotonic_increasing


@settings(**EXAMPLES)
@given(df=articles())
def test_default_range_is_first_to_last_article_day(df: pd.DataFrame) -> None:
    days = article_days(df)
    t = compute_index(df, IndexOptions(n_boot=0))
    assert t["date"].iloc[0].date() == min(days)
    assert t["date"].iloc[-1].date() == max(days)
    assert len(t) == (max(days) - min(days)).days + 1
    assert t["n_articles"].sum() == len(df)
