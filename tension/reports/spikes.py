"""A spike's evidence from the store: the peak day's explanation, strongest first."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from tension.core.selection import Selection
from tension.reports.explain import explain
from tension.store.engine import Store


def spike_evidence(store: Store, sel: Selection, spike: dict, top: int = 5,
                   articles: pd.DataFrame | None = None) -> dict:
    """The peak day's explanation: top articles (with sentences) and the terms that moved it
    (`articles`: as `explain` takes them)."""
    peak = pd.Timestamp(spike["peak"]).date()
    why = explain(store, replace(sel, start=None, end=None), peak, peak, top=top, articles=articles)
    sign = 1 if spike["kind"] == "hostility" else -1
    why["articles"] = sorted(why["articles"], key=lambda a: -sign * a["tension"])[:top]
    why["terms"] = [t for t in why["terms"] if sign * t["shift"] > 0][:top]
    return why
