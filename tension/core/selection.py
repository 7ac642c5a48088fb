"""Which articles an index, a spike list or an export is computed over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Selection:
    """Which articles an index is computed over."""

    start: dt.date | None = None
    end: dt.date | None = None
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    filter: str = ""
    # what the index measures: "" = the headline (tension.analysis.dyads.HEADLINE), "all" (overall
    # tone), "conflict" (the conflict index), "intensity" (conflict intensity) or a dyad "PRK-USA"
    dyad: str = ""
    version: str = ""  # the scorer whose scores are read; "" = the store's (see `resolve`)
