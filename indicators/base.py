"""The shape every indicator has, so new ones can be added beside the existing ones.

An indicator reads one sentence and returns a `Reading`: a number and the
evidence behind it. It does no I/O. The combiner (`indicators.combine`) decides
how readings become hostility and conciliation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

from indicators.lexicon import Match


class Reading(NamedTuple):
    """What one indicator says about one sentence."""

    indicator: str
    value: float
    matches: tuple[Match, ...] = ()


class Indicator(ABC):
    """Text → a number with evidence. Subclasses set `name` and implement `read`."""

    name: str = "indicator"

    @property
    @abstractmethod
    def version(self) -> str:
        """Changes whenever the same text could get a different reading."""

    @abstractmethod
    def read(self, sentence: str) -> Reading:
        """Measure one sentence."""
