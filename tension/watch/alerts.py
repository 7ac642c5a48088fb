"""Which new spikes deserve an alert, and what the alert says.

After a pull, the spike candidates of each watched measure (the headline, or a dyad or
measure given by `--alert-on`) are computed as everywhere else (`tension.analysis.spikes`,
each day against its own 90 days before). An episode that reaches the latest day with
articles (or the day before: a late item can close it) is *live*; each live episode is
claimed in the alerts table under (measure, kind, first day), so the same spike alerts
once, across restarts and between watchers, even as it grows by a day.
"""

from __future__ import annotations

import pandas as pd

from tension.analysis.dyads import HEADLINE
from tension.analysis.spikes import SpikeOptions, find_spikes
from tension.core.selection import Selection
from tension.reports.spikes import spike_evidence
from tension.store.engine import Store
from tension.store.queries import load_articles
from tension.store.sources import claim_alert

LIVE_DAYS = 2
LABELS = {"all": "the overall tone", "conflict": "the conflict index", "intensity": "the conflict intensity"}


def measure_label(measure: str) -> str:
    if measure in ("", HEADLINE):
        return f"the headline index ({LABELS[HEADLINE]})"
    return LABELS.get(measure) or f"dyad {measure.replace('-', ' → ')}"


def new_spike_alerts(store: Store, measures: tuple[str, ...] | list[str] = ("",),
                     opts: SpikeOptions | None = None) -> list[dict]:
    """Claim and return the alerts of live spikes not alerted before: [{id, payload}]."""
    out = []
    # the headline is claimed under its measure's name: "" and `--alert-on intensity` are one
    # series (one alert), and an alert claimed when "" was the overall tone blocks nothing
    for measure in dict.fromkeys(m or HEADLINE for m in measures):
        sel = Selection(dyad=measure)
        arts = load_articles(store, sel)
        if not len(arts):
            continue
        last = arts["date"].max()
        spikes = find_spikes(arts, opts)
        live = spikes[spikes["end"] >= last - pd.Timedelta(days=LIVE_DAYS - 1)]
        for sp in live.to_dict("records"):
            payload = _payload(store, sel, measure, sp)
            alert_id = claim_alert(store, measure=measure, kind=sp["kind"], start=sp["start"].date(),
                                   peak=sp["peak"].date(), payload=payload)
            if alert_id is not None:
                out.append({"id": alert_id, "payload": payload})
    return out


def _link(peak: pd.Timestamp, measure: str) -> str:
    """The page at the 90 days up to the spike, that day chosen (its evidence open)."""
    start = (peak - pd.Timedelta(days=90)).date().isoformat()
    day = peak.date().isoformat()
    dyad = f"&dyad={measure}" if measure not in ("", HEADLINE) else ""
    return f"/?from={start}&to={day}&day={day}" + dyad + "#evidence-panel"


def _payload(store: Store, sel: Selection, measure: str, sp: dict) -> dict:
    why = spike_evidence(store, sel, sp, top=3)
    peak = sp["peak"].date().isoformat()
    return {
        "date": peak, "start": sp["start"].date().isoformat(), "end": sp["end"].date().isoformat(),
        "kind": sp["kind"], "z": round(float(sp["magnitude"]), 3), "value": round(float(sp["peak_tension"]), 6),
        "baseline": round(float(sp["baseline"]), 6), "n_articles": int(sp["n_articles"]),
        "measure": "headline" if measure in ("", HEADLINE) else measure, "measure_label": measure_label(measure),
        "link": _link(sp["peak"], measure),
        "evidence": [{"title": a["title"], "url": a["url"], "date": a["date"], "tension": a["tension"],
                      "sentences": [s["sentence"] for s in a["evidence"][:2]]}
                     for a in why["articles"]],
        "terms": [{"term": t["term"], "shift": t["shift"]} for t in why["terms"]],
    }
