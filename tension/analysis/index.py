"""The daily tension index: pure pandas over a frame of scored articles.

Per period (day, week or month) over that period's original articles:
    tension       mean article tension (each article once; copies were dropped at ingest)
    hostility     mean article hostility;  conciliation: mean article conciliation
    share_hostile / share_conciliatory   share of articles with that label
    n_articles    number of articles; a period without articles is NaN, never 0
    ci_low/ci_high   percentile bootstrap interval of the mean over that period's
                  articles, seeded per period (a day's band does not depend on which
                  other days are shown); NaN when fewer than 2 articles
    tension_smoothed  rolling mean (or EWMA) over N periods of the period means,
                  ignoring empty periods; nothing before the first article. It is
                  computed over the selection's whole history, so a period's value
                  does not depend on where the shown range starts
Weeks and months are computed from the articles themselves, so they are
article-weighted means, not means of daily means.
Normalisation (applied last, to every level column alike):
    raw; zscore against the base period's values at the same period (days, weeks or
    months); base100: 100 = the base period's mean (tension is shifted by +1 first so the scale stays positive);
    seasonal (the default): minus the seasonal component, how far the base period's values at
    the same time of year in the *other* years (days and weeks: within SEASON_DAYS of the same
    day of the year; months: the same month) lie from their own year's mean; the level stays,
    and the smoothed line is the adjusted values smoothed. A period with fewer than
    MIN_SEASON_YEARS other years at its time of year is unadjusted.
    The base period (default: the selection's whole history, every period with articles,
    so a value does not change with the dates shown) may lie outside the shown range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tension.analysis.options import FREQS, IndexOptions

LEVEL_COLUMNS = ["tension", "tension_smoothed", "ci_low", "ci_high", "hostility", "conciliation"]
INDEX_COLUMNS = ["date", "tension", "tension_smoothed", "ci_low", "ci_high", "hostility",
                 "conciliation", "share_hostile", "share_conciliatory", "n_articles"]


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The first day of the period each date falls in (Mondays for weeks)."""
    if freq == "D":
        return dates.dt.normalize()
    return dates.dt.to_period(FREQS[freq]).dt.start_time


def calendar(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Every period from the one holding `start` to the one holding `end`."""
    first = period_start(pd.Series([start]), freq).iloc[0]
    last = period_start(pd.Series([end]), freq).iloc[0]
    step = {"D": "D", "W": "W-MON", "M": "MS"}[freq]
    return pd.date_range(first, last, freq=step)


def between(frame: pd.DataFrame, start: object = None, end: object = None) -> pd.DataFrame:
    """The rows of `frame` whose `date` lies in [start, end] (either bound may be None)."""
    dates = frame["date"]
    if (start or end) and dates.is_monotonic_increasing:
        # sorted (the store's articles are): a slice by position, where a mask copied every
        # column of the rows kept, the text ones row by row
        lo = dates.searchsorted(pd.Timestamp(start), "left") if start else 0
        hi = dates.searchsorted(pd.Timestamp(end), "right") if end else len(frame)
        return frame.iloc[lo:hi]
    if start:
        frame = frame[frame["date"] >= pd.Timestamp(start)]
    if end:
        frame = frame[frame["date"] <= pd.Timestamp(end)]
    return frame


def compute_index(articles: pd.DataFrame, opts: IndexOptions | None = None) -> pd.DataFrame:
    """The index table: one row per period in range, empty periods included as NaN.

    `articles` needs date, tension, hostility, conciliation and label columns.
    The range is opts.start..opts.end, else the first to the last article day;
    articles outside it are left out (a partial first week holds only its days in range).
    """
    opts = (opts or IndexOptions()).check()
    df = between(articles, opts.start, opts.end)
    start = pd.Timestamp(opts.start) if opts.start else (df["date"].min() if len(df) else None)
    end = pd.Timestamp(opts.end) if opts.end else (df["date"].max() if len(df) else None)
    if start is None or end is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in INDEX_COLUMNS})
    table = aggregate(df, opts.freq, opts.n_boot, opts.ci, opts.seed)
    history = aggregate(articles, opts.freq, n_boot=0) if len(articles) else None
    return finish(window(table, start, end, opts.freq), opts, history)


def aggregate(articles: pd.DataFrame, freq: str = "D", n_boot: int = 200, ci: float = 0.95,
              seed: int = 0) -> pd.DataFrame:
    """Per-period means, shares, counts and band, indexed by period start (periods with
    articles only). Daily tables can be sliced by date and still equal a recomputation,
    which is what lets the dashboard cache them."""
    key = period_start(articles["date"], freq)
    label = articles["label"].astype(object).to_numpy()
    g = articles.assign(_p=key, _h=(label == "hostile").astype("float64"),
                        _c=(label == "conciliatory").astype("float64")).groupby("_p")
    out = pd.DataFrame({
        "tension": g["tension"].mean(), "hostility": g["hostility"].mean(),
        "conciliation": g["conciliation"].mean(), "share_hostile": g["_h"].mean(),
        "share_conciliatory": g["_c"].mean(), "n_articles": g.size(),
    })
    lo, hi = bootstrap_band(key, articles["tension"], n_boot, ci, seed)
    lo, hi = lo.reindex(out.index), hi.reindex(out.index)
    out["ci_low"] = lo.where(lo.isna(), np.minimum(lo, out["tension"]))  # contains the mean
    out["ci_high"] = hi.where(hi.isna(), np.maximum(hi, out["tension"]))
    out.index.name = "date"
    return out


def window(table: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DataFrame:
    """The aggregated table on the full calendar from start to end (empty periods: NaN, n 0)."""
    periods = calendar(pd.Timestamp(start), pd.Timestamp(end), freq)
    out = table.reindex(periods)
    out["n_articles"] = out["n_articles"].fillna(0).astype("int64")
    out.index.name = "date"
    return out


def finish(table: pd.DataFrame, opts: IndexOptions, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Smoothing and normalisation on a windowed table; returns INDEX_COLUMNS.

    `history` (the selection's per-period means over all its articles, as `aggregate`
    gives them) is the context: the smoothing runs over it, with the shown periods'
    own values, so that the first days of a range are smoothed with the days before
    them; and a base period outside the shown range is read from it."""
    out = table.copy()
    series = out["tension"]
    if history is not None and len(history):
        lo, hi = min(history.index.min(), out.index.min()), max(history.index.max(), out.index.max())
        series = history["tension"].reindex(calendar(lo, hi, opts.freq))
        series.loc[out.index] = out["tension"]  # the shown periods as shown (a partial first week)
    if opts.normalize == "seasonal":  # smooth the adjusted values, or the calendar comes back
        base = base_period(history if history is not None else out, opts)
        series = series - seasonal_component(base["tension"], pd.DatetimeIndex(series.index), opts.freq)
    out["tension_smoothed"] = smooth(series, opts.smooth, opts.smoother, opts.center).reindex(out.index)
    out = normalize(out, opts, history)
    return out.reset_index()[INDEX_COLUMNS]


def smooth(series: pd.Series, window: int, smoother: str = "rolling", center: bool = False) -> pd.Series:
    """Smooth period means, skipping empty periods; NaN before the first value."""
    if window <= 1:
        return series.copy()
    if smoother == "ewm":
        out = series.ewm(span=window, ignore_na=True, min_periods=1).mean()
    else:
        out = series.rolling(window, min_periods=1, center=center).mean()
    first = series.first_valid_index()
    if first is None:
        return out * np.nan
    out[out.index < first] = np.nan
    return out


def base_period(table: pd.DataFrame, opts: IndexOptions) -> pd.DataFrame:
    """The periods of `table` (indexed by period start) inside the options' base period: the
    whole history unless dates are given (a base that followed the shown range made the same
    month read 0.89, 1.51 or 2.11 in three views)."""
    if opts.base_start:
        table = table[table.index >= pd.Timestamp(opts.base_start)]
    if opts.base_end:
        table = table[table.index <= pd.Timestamp(opts.base_end)]
    return table


def normalize(table: pd.DataFrame, opts: IndexOptions, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rescale level columns as `opts.normalize` says (see module docstring). A base period
    given by dates is read from `history` when there is one (it may lie outside `table`)."""
    if opts.normalize == "raw":
        return table
    base = base_period(history if history is not None else table, opts)
    out = table.copy()
    if opts.normalize == "seasonal":  # the smoothed line was smoothed adjusted (finish)
        comp = {c: seasonal_component(base[c], table.index, opts.freq) for c in ("tension", "hostility", "conciliation")}
        for col in ("tension", "ci_low", "ci_high", "hostility", "conciliation"):  # the band moves with the tension
            out[col] = table[col] - comp[col if col in comp else "tension"]
        return out
    t_mean, t_std = base["tension"].mean(), base["tension"].std()
    for col in LEVEL_COLUMNS:
        if col in ("hostility", "conciliation"):
            m, s = base[col].mean(), base[col].std()
        else:
            m, s = t_mean, t_std
        if opts.normalize == "zscore":
            flat = not np.isfinite(s) or s <= 1e-12 * max(1.0, abs(m))  # a constant base has no scale
            out[col] = np.nan if flat else (table[col] - m) / s
        elif col in ("hostility", "conciliation"):
            out[col] = 100 * table[col] / m if m else np.nan
        else:
            out[col] = 100 * (table[col] + 1) / (m + 1) if np.isfinite(m) and m > -1 else np.nan
    return out


SEASON_DAYS = 7  # ± days around the same day of the year: one day of a year is too few to average
# other years needed at a time of year: with fewer, one year's crisis would pass for the season
MIN_SEASON_YEARS = 4


def seasonal_component(values: pd.Series, at: pd.DatetimeIndex, freq: str = "D") -> np.ndarray:
    """For each period start in `at`, the seasonal component of `values` (indexed by period
    start): how far values lie from their own year's mean at the same time of year in the
    other years (within SEASON_DAYS of the same day of the year for days and weeks, New Year
    crossed as dates are; the same month for months), averaged over those values; 0 where
    fewer than MIN_SEASON_YEARS other years have a value at that time of year.

    Why: a source's calendar (anniversaries, annual campaigns, the season of drills) moves
    its tone every year on the same days; taking the component out leaves what is particular
    to that year on the same scale. Deviations from each year's own mean, so that a year the
    store holds only half of does not pass its level off as a season; the period's own
    occurrence of that time of year is left out, so that an event does not make its own
    baseline."""
    component, enough = _seasonal(values, at, freq)
    return np.where(enough, component, 0.0)


def article_components(articles: pd.DataFrame, opts: IndexOptions) -> pd.Series:
    """Each article's share of the seasonal adjustment of its period's tension under `opts`
    (its period's component; the base period and periods as the index has them), aligned
    with `articles`: what a day's or a range's explanation subtracts from its mean tension to
    reach the adjusted value the chart shows."""
    key = period_start(articles["date"], opts.freq)
    means = articles.groupby(key)["tension"].mean()
    base = base_period(means, opts)
    component = pd.Series(seasonal_component(base, pd.DatetimeIndex(means.index), opts.freq), index=means.index)
    return pd.Series(component.reindex(key).to_numpy(), index=articles.index)


def seasonal_coverage(days: pd.DatetimeIndex, at: pd.DatetimeIndex, freq: str = "D") -> int:
    """How many periods of `at` the seasonal adjustment moves: those with at least
    MIN_SEASON_YEARS other years among `days` (the base's periods with values) at their time
    of year."""
    return int(_seasonal(pd.Series(0.0, index=pd.DatetimeIndex(days)), at, freq)[1].sum())


def _slots(index: pd.DatetimeIndex, monthly: bool) -> np.ndarray:
    """Time of year: the month, or the day of the year with 29 February as 28 February."""
    if monthly:
        return index.month.to_numpy() - 1
    doy = index.day_of_year.to_numpy()
    return np.where(index.is_leap_year & (doy >= 60), doy - 1, doy) - 1


def _seasonal(values: pd.Series, at: pd.DatetimeIndex, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """The component at each period of `at` and whether enough other years define it.

    The values lie on a flat timeline of years × slots (a year before and after the data
    added, so that a window crosses New Year as dates do); a window sum at (year, slot) holds
    the values near that date, and the sum over the years at one slot all the values near
    that time of year: the other years' are that sum minus the target's own window."""
    v = values.dropna()
    if not len(v) or not len(at):
        return np.zeros(len(at)), np.zeros(len(at), dtype=bool)
    monthly = freq == "M"
    n_slots = 12 if monthly else 365
    first = min(v.index.year.min(), at.year.min()) - 1
    n_years = max(v.index.year.max(), at.year.max()) + 2 - first
    own_mean = v.groupby(v.index.year).transform("mean")  # each year's own level
    cell = (v.index.year.to_numpy() - first) * n_slots + _slots(v.index, monthly)
    total, count = np.zeros(n_years * n_slots), np.zeros(n_years * n_slots)
    np.add.at(total, cell, (v - own_mean).to_numpy(dtype="float64"))
    np.add.at(count, cell, 1.0)
    if not monthly:  # each cell: the values within SEASON_DAYS of its date
        kernel = np.ones(2 * SEASON_DAYS + 1)
        total, count = np.convolve(total, kernel, "same"), np.convolve(count, kernel, "same")
    total, count = total.reshape(n_years, n_slots), count.reshape(n_years, n_slots)
    r, k = at.year.to_numpy() - first, _slots(at, monthly)
    others = count[:, k].sum(axis=0) - count[r, k]
    component = (total[:, k].sum(axis=0) - total[r, k]) / np.maximum(others, 1)
    n_other_years = (count[:, k] > 0).sum(axis=0) - (count[r, k] > 0)
    return component, n_other_years >= MIN_SEASON_YEARS


def bootstrap_band(period: pd.Series, values: pd.Series, n_boot: int = 200, ci: float = 0.95,
                   seed: int = 0) -> tuple[pd.Series, pd.Series]:
    """Percentile bootstrap interval of each period's mean.

    The resampling plan for a period of n articles is an (n_boot × n) matrix of
    draws from a generator seeded by (seed, n), applied to the period's values in
    sorted order: a period's band depends only on its own articles, the seed and
    n — not on which other periods are shown, nor on the order rows came in — and
    all periods of the same size are resampled at once. Periods with fewer than 2
    articles get no band.
    """
    if n_boot < 1 or not len(values):
        empty = pd.Series(dtype="float64")
        return empty, empty
    raw = values.to_numpy(dtype="float64")
    order = np.lexsort((raw, period.to_numpy()))  # by period, then value: row order cannot matter
    keys = period.to_numpy()[order]
    vals = raw[order]
    uniq, starts, counts = np.unique(keys, return_index=True, return_counts=True)
    lows = np.full(len(uniq), np.nan)
    highs = np.full(len(uniq), np.nan)
    qs = [100 * (1 - ci) / 2, 100 * (1 + ci) / 2]
    for n in np.unique(counts[counts >= 2]):
        which = np.flatnonzero(counts == n)
        draws = np.random.default_rng([seed, int(n)]).integers(0, n, size=(n_boot, n))
        block = vals[starts[which][:, None] + np.arange(n)]  # periods × n
        step = max(1, 2_000_000 // (n_boot * n))  # bounded memory: periods × n_boot × n floats
        for c in range(0, len(which), step):
            means = block[c:c + step][:, draws].mean(axis=2)  # periods × n_boot
            lows[which[c:c + step]], highs[which[c:c + step]] = np.percentile(means, qs, axis=1)
    idx = pd.DatetimeIndex(uniq)
    return pd.Series(lows, index=idx), pd.Series(highs, index=idx)
