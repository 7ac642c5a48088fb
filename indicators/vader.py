"""VADER's compound score per sentence, VADER's own numbers left untouched."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version as _package_version

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from indicators.base import Indicator, Reading


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    # Building the analyzer reads VADER's bundled lexicon once per process.
    return SentimentIntensityAnalyzer()


def vader_compound(sentence: str) -> float:
    """VADER's compound polarity in [-1, 1]; positive is friendly in tone."""
    return float(_analyzer().polarity_scores(sentence)["compound"])


def vader_label(compound: float) -> str:
    """VADER's customary three-way reading (±0.05), used as our baseline."""
    if compound >= 0.05:
        return "conciliatory"
    if compound <= -0.05:
        return "hostile"
    return "neutral"


class VaderIndicator(Indicator):
    """General sentiment. One input among others: it knows nothing of conflict."""

    name = "vader"
    version = f"vaderSentiment-{_package_version('vaderSentiment')}"

    def read(self, sentence: str) -> Reading:
        return Reading(self.name, vader_compound(sentence))


def vader_scores(sentence: str) -> dict[str, float]:
    """VADER's neg, neu, pos and compound for a sentence, as VADER gives them."""
    return _analyzer().polarity_scores(sentence)
