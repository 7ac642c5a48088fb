"""The event study's windows, by hand: days 0..post−1 against days −pre..−1, empty days skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tension.analysis.eventstudy import (
    correlation_by_part,
    direction_share,
    event_effects,
    event_study,
    monthly_correlation,
    window_means,
)


def series(values: dict[str, float]) -> pd.Series:
    return pd.Series(list(values.values()), index=pd.to_datetime(list(values)))


S = series({"2020-01-01": 1.0, "2020-01-02": 3.0, "2020-01-03": np.nan, "2020-01-05": 10.0,
            "2020-01-06": 20.0, "2020-01-09": 7.0})


def test_window_means_are_the_plain_means_of_the_days_inside() -> None:
    after, before = window_means(S, [pd.Timestamp("2020-01-05")], pre=4, post=2)
    assert after.tolist() == [15.0]  # 5th and 6th
    assert before.tolist() == [2.0]  # 1st..4th: 1 and 3 (the 3rd is empty, the 4th missing)


def test_a_window_without_values_is_nan_and_its_event_is_left_out() -> None:
    day = pd.Timestamp("2020-01-07")
    after, before = window_means(S, [day], pre=1, post=2)  # the 7th and 8th have no value
    assert np.isnan(after[0]) and before[0] == 20.0
    assert event_effects(S, [day, pd.Timestamp("2020-01-05")], pre=4, post=2).tolist() == [13.0]


def test_direction_share_counts_up_for_hostile_and_down_for_conciliatory() -> None:
    events = pd.DataFrame({"date": ["2020-01-05", "2020-01-09", "2019-06-01"],
                           "kind": ["hostile", "conciliatory", "hostile"]})
    got = direction_share(S, events, pre=4, post=2)
    assert got["n_events"] == 2  # the 2019 event has no days before or after
    assert [(e["date"], e["effect"], e["right"]) for e in got["events"]] == [
        ("2020-01-05", 13.0, True), ("2020-01-09", pytest.approx(7.0 - 15.0), True)]
    assert got["share"] == 1.0


def test_the_event_study_is_deterministic_and_its_placebo_p_value_is_a_share() -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range("2001-01-01", "2004-12-31")
    s = pd.Series(rng.normal(size=len(days)), index=days)
    events = pd.DataFrame({"start": pd.to_datetime(["2002-03-01", "2003-07-15"])})
    s[(s.index >= "2002-03-01") & (s.index < "2002-03-08")] += 5  # one real jump
    a = event_study(s, events, n_boot=100, n_placebo=100)
    assert a == event_study(s, events, n_boot=100, n_placebo=100)
    assert a["n_events"] == 2 and a["effect"] > 2
    assert 0 < a["p_value"] <= 1 and a["p_value"] < 0.1


def test_the_wilson_interval_of_a_share() -> None:
    from tension.analysis.eventstudy import wilson

    low, high = wilson(16, 23)  # the textbook formula worked by hand: 0.4913 .. 0.8440
    assert (round(low, 4), round(high, 4)) == (0.4913, 0.844)
    assert wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12) and wilson(10, 10)[1] == pytest.approx(1.0)
    assert all(np.isnan(wilson(0, 0)))


def test_correlation_by_part_is_the_monthly_correlation_of_each_stretch() -> None:
    """Twelve months in three stretches of four: the first moves with the reference, the
    second against it, the third with it; over the year the levels make r positive."""
    months = pd.date_range("2001-01-01", periods=12, freq="MS")
    reference = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], index=months, dtype="float64")
    monthly = [1, 2, 3, 4, 8, 7, 6, 5, 9, 10, 11, 12]
    # two days a month with the month's value as their mean: the series is daily
    days = pd.Series([v + d for v in monthly for d in (-0.5, 0.5)],
                     index=[m + pd.Timedelta(days=k) for m in months for k in (0, 10)])
    parts = correlation_by_part(days, reference, "2001-01", "2001-12")
    assert [(p["from"], p["to"], p["n_months"]) for p in parts] == [
        ("2001-01", "2001-04", 4), ("2001-05", "2001-08", 4), ("2001-09", "2001-12", 4)]
    assert [p["r"] for p in parts] == pytest.approx([1.0, -1.0, 1.0])
    assert monthly_correlation(days, reference, "2001-01", "2001-12")["r"] > 0.8
    # months outside the span or without the series do not count
    assert [p["n_months"] for p in correlation_by_part(days, reference, "2001-03", None, parts=2)] == [5, 5]
