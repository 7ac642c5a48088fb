"""Spike candidates: days far above (hostility spikes) or below (conciliation dips)
their own recent past, judged robustly.

For each day: the median and the MAD (median absolute deviation) of the daily
tension over the `window` days before it (the day itself excluded, empty days
skipped, at least `min_history` days with articles). robust z = (x − median) /
max(1.4826·MAD, `floor`). A candidate day has |z| ≥ `threshold` and at least
`min_articles` articles (a day of one article is noise, not news). Candidate
days of the same kind with at most `merge_gap` quiet days between them form one
episode, with its
start, end, peak (largest |z|) and magnitude (z at the peak).
Why robust: a mean and standard deviation are dragged by the very spikes we
look for; median and MAD are not.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tension.analysis.index import compute_index, period_start
from tension.analysis.options import IndexOptions

SPIKE_COLUMNS = ["kind", "start", "end", "peak", "magnitude", "peak_tension", "baseline",
                 "n_days", "n_articles"]


@dataclass(frozen=True)
class SpikeOptions:
    window: int = 90
    threshold: float = 3.5
    min_articles: int = 3
    min_history: int = 14
    merge_gap: int = 1
    floor: float = 0.02


def robust_z(index: pd.DataFrame, opts: SpikeOptions | None = None) -> pd.DataFrame:
    """Daily baseline median, MAD and robust z for a daily index table (date, tension)."""
    opts = opts or SpikeOptions()
    x = index["tension"].to_numpy(dtype="float64")
    padded = np.concatenate([np.full(opts.window, np.nan), x[:-1] if len(x) else x])
    windows = sliding_window_view(padded, opts.window)[: len(x)]  # the `window` days before each day
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-empty windows at the start
        med = np.nanmedian(windows, axis=1)
        mad = np.nanmedian(np.abs(windows - med[:, None]), axis=1)
    enough = np.sum(~np.isnan(windows), axis=1) >= opts.min_history
    med[~enough] = np.nan
    scale = np.maximum(1.4826 * mad, opts.floor)
    z = (x - med) / scale
    return pd.DataFrame({"date": index["date"].to_numpy(), "tension": x, "baseline": med,
                         "mad": mad, "z": z, "n_articles": index["n_articles"].to_numpy()})


def detect_spikes(index: pd.DataFrame, opts: SpikeOptions | None = None) -> pd.DataFrame:
    """Spike episodes in a daily index table, strongest first."""
    opts = opts or SpikeOptions()
    if not len(index):
        return pd.DataFrame(columns=SPIKE_COLUMNS)
    z = robust_z(index, opts)
    ok = z["n_articles"] >= opts.min_articles
    z["kind"] = np.where(ok & (z["z"] >= opts.threshold), "hostility",
                         np.where(ok & (z["z"] <= -opts.threshold), "conciliation", ""))
    cand = z[z["kind"] != ""]
    episodes = []
    for kind, days in cand.groupby("kind"):
        days = days.sort_values("date")
        gap = days["date"].diff().dt.days.fillna(opts.merge_gap + 2) > opts.merge_gap + 1
        for _, ep in days.groupby(gap.cumsum()):
            peak = ep.loc[ep["z"].abs().idxmax()]
            episodes.append({
                "kind": kind, "start": ep["date"].min(), "end": ep["date"].max(),
                "peak": peak["date"], "magnitude": float(peak["z"]),
                "peak_tension": float(peak["tension"]), "baseline": float(peak["baseline"]),
                "n_days": int(len(ep)), "n_articles": int(ep["n_articles"].sum()),
            })
    out = pd.DataFrame(episodes, columns=SPIKE_COLUMNS)
    return out.reindex(out["magnitude"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def find_spikes(articles: pd.DataFrame, opts: SpikeOptions | None = None,
                start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Spikes judged against each day's own history (all of `articles`), then kept if
    their episode overlaps [start, end]: a narrow view still shows its spikes."""
    return spikes_in_range(compute_index(articles, IndexOptions(n_boot=0, smooth=1, normalize="raw")), opts, start, end)


def spikes_in_range(daily: pd.DataFrame, opts: SpikeOptions | None = None,
                    start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Spikes of a full daily index table whose episode overlaps [start, end]."""
    return overlapping(detect_spikes(daily, opts), start, end)


def overlapping(spikes: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """The spike episodes that overlap [start, end]."""
    if start:
        spikes = spikes[spikes["end"] >= pd.Timestamp(start)]
    if end:
        spikes = spikes[spikes["start"] <= pd.Timestamp(end)]
    return spikes.reset_index(drop=True)


def spike_flags(table: pd.DataFrame, spikes: pd.DataFrame, freq: str = "D") -> pd.Series:
    """Per row of an index table: the kinds of spike ("hostility", "conciliation", or both
    joined with "; ") of the episodes with a day in that period, else ""."""
    kinds: dict[pd.Timestamp, set[str]] = {}  # period → kinds (one pass: spikes are many)
    for sp in spikes.itertuples():
        for p in set(period_start(pd.Series(pd.date_range(sp.start, sp.end, freq="D")), freq)):
            kinds.setdefault(p, set()).add(sp.kind)
    labels = {p: "; ".join(sorted(k)) for p, k in kinds.items()}
    return pd.Series([labels.get(d, "") for d in table["date"]], index=table.index, dtype=object)


def top_phrase(evidence: dict) -> str:
    """The strongest matched phrase of a spike's evidence, for labels and pre-filled notes."""
    for art in evidence.get("articles", []):
        for sent in art.get("evidence", []):
            for m in sent.get("matches", []):
                return m["text"]
    return ""


def as_records(spikes: pd.DataFrame) -> list[dict]:
    """JSON-ready spike rows (dates as ISO strings)."""
    out = []
    for r in spikes.to_dict("records"):
        out.append({k: (v.date().isoformat() if isinstance(v, pd.Timestamp | dt.datetime) else v)
                    for k, v in r.items()})
    return out
