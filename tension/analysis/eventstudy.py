"""Does a daily series move when events happen? An event study with a bootstrap over events
and placebo dates, and the agreement of two daily series. Pandas in, numbers out."""

from __future__ import annotations

import numpy as np
import pandas as pd

PRE, POST = 28, 7


def window_means(series: pd.Series, days: list[pd.Timestamp], pre: int,
                 post: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: the mean of days 0..post−1 and of days −pre..−1 (empty days skipped; NaN when
    a window has no value). Sorted positions, not a mask per event: placebo draws call this
    thousands of times."""
    s = series.dropna().sort_index()
    stamps, values = s.index.to_numpy(dtype="datetime64[ns]"), s.to_numpy(dtype="float64")
    at = np.asarray(days, dtype="datetime64[ns]")
    i_pre, i_day, i_post = (np.searchsorted(stamps, at + np.timedelta64(k, "D")) for k in (-pre, 0, post))
    after = np.array([values[a:b].mean() if b > a else np.nan for a, b in zip(i_day, i_post, strict=True)])
    before = np.array([values[a:b].mean() if b > a else np.nan for a, b in zip(i_pre, i_day, strict=True)])
    return after, before


def event_effects(series: pd.Series, days: list[pd.Timestamp], pre: int = PRE,
                  post: int = POST) -> np.ndarray:
    """Per event: mean of days 0..post−1 minus mean of days −pre..−1 (empty days skipped;
    an event without values on both sides is left out)."""
    after, before = window_means(series, days, pre, post)
    effect = after - before
    return effect[~np.isnan(effect)]


def event_study(series: pd.Series, events: pd.DataFrame, *, pre: int = PRE, post: int = POST,
                n_boot: int = 2000, n_placebo: int = 1000, seed: int = 0) -> dict:
    """Mean effect over events, a bootstrap interval over events, and placebo dates."""
    lo, hi = series.dropna().index.min(), series.dropna().index.max()
    eligible = events[(events["start"] >= lo + pd.Timedelta(days=pre))
                      & (events["start"] <= hi - pd.Timedelta(days=post))]
    days = sorted(set(pd.to_datetime(eligible["start"])))
    effects = event_effects(series, days, pre, post)
    rng = np.random.default_rng(seed)
    boot = np.array([rng.choice(effects, len(effects)).mean() for _ in range(n_boot)]) \
        if len(effects) else np.array([np.nan])
    candidates = pd.date_range(lo + pd.Timedelta(days=pre), hi - pd.Timedelta(days=post), freq="D")
    placebo = np.array([event_effects(series, list(rng.choice(candidates, len(days), replace=False)),
                                      pre, post).mean() for _ in range(n_placebo)]) \
        if len(days) else np.array([np.nan])
    observed = float(effects.mean()) if len(effects) else float("nan")
    return {
        "n_events": int(len(effects)), "pre_days": pre, "post_days": post,
        "effect": observed, "ci_low": float(np.percentile(boot, 2.5)),
        "ci_high": float(np.percentile(boot, 97.5)),
        "placebo_mean": float(np.mean(placebo)), "placebo_p95": float(np.percentile(placebo, 95)),
        "p_value": float((1 + np.sum(placebo >= observed)) / (1 + len(placebo))),
        "share_positive": float(np.mean(effects > 0)) if len(effects) else float("nan"),
        "effects": effects.tolist(), "placebo": placebo.tolist(),
        "event_days": [d.date().isoformat() for d in days],
    }


def event_path(series: pd.Series, days: list[pd.Timestamp], pre: int = PRE, post: int = 14) -> pd.Series:
    """Mean index by day relative to the events (−pre..+post), for the figure."""
    rows = []
    for d in days:
        for k in range(-pre, post + 1):
            rows.append((k, series.get(d + pd.Timedelta(days=k), np.nan)))
    df = pd.DataFrame(rows, columns=["k", "v"])
    return df.groupby("k")["v"].mean()


def agreement(heads: pd.DataFrame, stories: pd.DataFrame) -> dict:
    """Agreement of two daily index tables (e.g. headlines and stories) over the days both
    have articles: correlations by day and month, and how often their signs agree."""
    h = heads.set_index("date")["tension"]
    s = stories.set_index("date")["tension"]
    both = pd.concat([h.rename("headlines"), s.rename("stories")], axis=1, join="inner").dropna()
    monthly = both.resample("MS").mean().dropna()
    return {
        "n_days": int(len(both)),
        "pearson_daily": float(both["headlines"].corr(both["stories"])),
        "spearman_daily": float(both["headlines"].rank().corr(both["stories"].rank())),
        "pearson_monthly": float(monthly["headlines"].corr(monthly["stories"])),
        "n_months": int(len(monthly)),
        "sign_agreement": float(np.mean(np.sign(both["headlines"]) == np.sign(both["stories"]))),
    }


def direction_share(series: pd.Series, events: pd.DataFrame, *, post: int = 4, pre: int = 27) -> dict:
    """How often the series moves the way each event should move it: per event (`date`,
    `kind` hostile = up, conciliatory = down) the mean of days 0..post−1 minus the mean of days
    −pre..−1; an event without values on both sides is not counted."""
    days = list(pd.to_datetime(events["date"]))
    after, before = window_means(series, days, pre, post)
    labels = events["label"] if "label" in events else [""] * len(days)
    rows = []
    for day, kind, label, effect in zip(days, events["kind"], labels, after - before, strict=True):
        if not np.isnan(effect):
            effect = float(effect)
            rows.append({"date": day.date().isoformat(), "kind": kind, "label": str(label), "effect": effect,
                         "right": bool(effect > 0 if kind == "hostile" else effect < 0)})
    right = sum(r["right"] for r in rows)
    low, high = wilson(right, len(rows))
    return {"n_events": len(rows), "right": right, "share": right / len(rows) if rows else float("nan"),
            "ci_low": low, "ci_high": high, "post_days": post, "pre_days": pre, "events": rows}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson 95 % interval of a share k/n. Why: with a few dozen events one event is
    several points, so a share is read with its interval."""
    if not n:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def monthly_correlation(series: pd.Series, reference: pd.Series, start: str, end: str) -> dict:
    """Pearson r of the series' monthly means with a monthly reference (indexed by month
    start) over start..end (months with both)."""
    both = _monthly_pairs(series, reference, start, end)
    r = float(both["a"].corr(both["b"])) if len(both) > 2 else float("nan")
    return {"r": r, "n_months": int(len(both)), "from": start, "to": end}


def correlation_by_part(series: pd.Series, reference: pd.Series, start: str | None, end: str | None,
                        parts: int = 3) -> list[dict]:
    """`monthly_correlation` over `parts` consecutive stretches of the months both have in
    start..end. Why: an r over years can come from one stretch, or from levels that differ
    between stretches while the months within them do not move together."""
    months = _monthly_pairs(series, reference, start, end).index
    return [monthly_correlation(series, reference, f"{c[0]:%Y-%m}", f"{c[-1]:%Y-%m}")
            for c in np.array_split(months, parts) if len(c)]


def _monthly_pairs(series: pd.Series, reference: pd.Series, start: str | None, end: str | None) -> pd.DataFrame:
    """The series' monthly means (`a`) beside the reference (`b`), months with both in start..end."""
    monthly = series.dropna().resample("MS").mean()
    return pd.concat([monthly.rename("a"), reference.rename("b")], axis=1, join="inner").loc[start:end].dropna()
