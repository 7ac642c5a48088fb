"""The combiner: lexicon matches and VADER → hostility, conciliation, tension, label.

Per sentence
    Each match has an effective weight e (severity weight after negation,
    refusal and hedging). VADER scales it, and only it: for a hostile match the
    factor is 1 + g·(−compound), for a conciliatory one 1 + g·compound, with
    g = `vader_gain` (0.25), so VADER can move a match by at most ±25 % and can
    never create a verdict or flip one on its own. The sentence's charge is the
    probabilistic sum S = 1 − Π(1 − e·f) over all its matches: in [0, 1], it
    grows with every extra cue and saturates. The poles split the charge by
    their weight: hostility = S·Σh / (Σh + Σc), conciliation = S·Σc / (Σh + Σc),
    so a strong hostile sentence with one weak friendly word stays clearly
    hostile. tension = hostility − conciliation; the label is hostile when
    tension ≥ threshold, conciliatory when ≤ −threshold.

Per article
    The title and every distinct sentence of the text are units (a sentence
    repeated verbatim counts once; the title weighs `title_weight` sentences).
    Article hostility and conciliation are the weighted means over units, so
    long articles are not louder than short ones. Each unit's score is shared
    among its matches in proportion to their weights, which makes the per-term
    contributions add up exactly to the article's tension (used to explain
    days and spikes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from indicators.base import Indicator, Reading
from indicators.lexicon import Lexicon, Match, load_lexicon
from indicators.sentences import Sentence, split_sentences
from indicators.vader import VaderIndicator

# Bump when the scoring logic changes; together with the lexicon digest and the
# parameters it forms the scorer version that keys stored scores.
CODE_VERSION = "4"  # 3: neutral-only sentences are no evidence; 4: "U.S.-S.", "Mt.", "s." split no title
LABELS = ("hostile", "neutral", "conciliatory")
VADER_MAX_CHARS = 2000
_SPACES = re.compile(r"\s+")


class SentenceScore(NamedTuple):
    """One sentence (or title) scored, with everything needed to explain it."""

    text: str
    start: int
    end: int
    hostility: float
    conciliation: float
    tension: float
    label: str
    vader: float | None
    matches: tuple[Match, ...]
    part: str = "text"

    def evidence(self) -> dict:
        """JSON-ready explanation: the sentence, its span, VADER and each matched entry."""
        return {
            "part": self.part,
            "sentence": self.text,
            "start": self.start,
            "end": self.end,
            "hostility": self.hostility,
            "conciliation": self.conciliation,
            "tension": self.tension,
            "label": self.label,
            "vader": self.vader,
            "matches": [
                {
                    "term": m.term,
                    "text": m.text,
                    "start": m.start,
                    "end": m.end,
                    "pole": m.pole,
                    "category": m.category,
                    "weight": m.weight,
                    "effective": m.effective,
                    "modifiers": list(m.modifiers),
                }
                for m in self.matches
            ],
        }


@dataclass(frozen=True, slots=True)
class ArticleScore:
    """An article's (or a passage's) scores, top evidence and per-term contributions.

    `terms` maps (term, pole, category) to the term's signed share of `tension`
    (positive pushes towards hostility); the values sum to `tension`.
    `dyads` maps (speaker, target) to (weight, hostility, conciliation, sentences): the share
    of the article's units aimed at that target and their hostility and conciliation, each
    weighted by that share. Speaker "" is the article's own voice, target "" names nobody;
    speaker "~" (THIRD_PARTY) rows read a sentence naming both sides of a conflict dyad as a
    third party's report (`indicators.actors`).
    """

    hostility: float
    conciliation: float
    tension: float
    label: str
    n_sentences: int
    top: tuple[SentenceScore, ...]
    terms: dict[tuple[str, str, str], float] = field(default_factory=dict)
    dyads: dict[tuple[str, str], tuple[float, float, float, int]] = field(default_factory=dict)

    def evidence(self) -> list[dict]:
        return [s.evidence() for s in self.top]


class LexiconIndicator(Indicator):
    """Hostility and conciliation entries found in a sentence (value: their raw balance)."""

    name = "lexicon"

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @property
    def version(self) -> str:
        return f"lexicon-{self.lexicon.version}-{self.lexicon.digest[:12]}"

    def read(self, sentence: str) -> Reading:
        matches = tuple(self.lexicon.find(sentence))
        value = sum(m.effective if m.pole == "hostility" else -m.effective for m in matches)
        return Reading(self.name, value, matches)


def _probabilistic_sum(values: list[float]) -> float:
    remaining = 1.0
    for v in values:
        remaining *= 1.0 - min(1.0, max(0.0, v))
    return 1.0 - remaining


def _key(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


class Scorer:
    """Scores sentences and articles. Holds no data beyond its settings and a small cache."""

    def __init__(
        self,
        lexicon: Lexicon | None = None,
        *,
        threshold: float = 0.25,
        vader_gain: float = 0.25,
        title_weight: float = 2.0,
        top_k: int = 3,
        cache_size: int = 50_000,
    ) -> None:
        self.lexicon_indicator = LexiconIndicator(lexicon or load_lexicon())
        self.vader = VaderIndicator()
        self.threshold = threshold
        self.vader_gain = vader_gain
        self.title_weight = title_weight
        self.top_k = top_k
        self._cache: dict[str, SentenceScore] = {}
        self._cache_size = cache_size

    @property
    def lexicon(self) -> Lexicon:
        return self.lexicon_indicator.lexicon

    @cached_property
    def version(self) -> str:
        """Hash of the code version, the lexicon file and the settings: keys stored scores.
        Computed once: it is read for every stored score."""
        parts = [CODE_VERSION, self.lexicon_indicator.version, self.vader.version,
                 f"{self.threshold}:{self.vader_gain}:{self.title_weight}:{self.top_k}"]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def label(self, tension: float) -> str:
        if tension >= self.threshold:
            return "hostile"
        if tension <= -self.threshold:
            return "conciliatory"
        return "neutral"

    def score_sentence(self, sentence: str, *, start: int = 0, part: str = "text") -> SentenceScore:
        """Score one sentence. VADER runs only where the lexicon fires, since only there it counts."""
        cached = self._cache.get(sentence)
        if cached is not None:
            if (cached.start, cached.part) == (start, part):
                return cached
            return _moved(cached, start, part)
        reading = self.lexicon_indicator.read(sentence)
        compound = self.vader.read(_vader_window(sentence, reading.matches)).value if reading.matches else None
        host: list[float] = []
        conc: list[float] = []
        for m in reading.matches:
            if m.effective <= 0:
                continue
            lean = (compound or 0.0) * (-1 if m.pole == "hostility" else 1)
            scaled = m.effective * (1.0 + self.vader_gain * lean)
            (host if m.pole == "hostility" else conc).append(scaled)
        charge, mass = _probabilistic_sum(host + conc), sum(host) + sum(conc)
        h = round(charge * sum(host) / mass, 6) if mass else 0.0
        c = round(charge * sum(conc) / mass, 6) if mass else 0.0
        t = round(h - c, 6)
        score = SentenceScore(sentence, start, start + len(sentence), h, c, t, self.label(t),
                              compound, reading.matches, part)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[sentence] = score
        return score

    def score_text(self, text: str) -> ArticleScore:
        """Score a passage with no title (one line of `score-text`)."""
        return self.score_article("", text)

    def score_articles(self, items: Iterable[tuple[str, str]]) -> list[ArticleScore]:
        """Score (title, text) pairs (as the learned scorer does in batches)."""
        return [self.score_article(title, text) for title, text in items]

    def score_article(self, title: str, text: str) -> ArticleScore:
        """Score an article: title plus distinct sentences, weighted means, top evidence."""
        return self._aggregate([(self.score_sentence(s.text, start=s.start, part=part), w)
                                for s, part, w in scorable_units(title, text, self.title_weight)])

    def _aggregate(self, units: list[tuple[SentenceScore, float]]) -> ArticleScore:
        total = sum([w for _, w in units])
        if not total:
            return ArticleScore(0.0, 0.0, 0.0, "neutral", 0, ())
        if len(units) == 1 and not units[0][0].matches:
            return ArticleScore(0.0, 0.0, 0.0, "neutral", 1, ())
        h = sum([s.hostility * w for s, w in units]) / total
        c = sum([s.conciliation * w for s, w in units]) / total
        terms: dict[tuple[str, str, str], float] = {}
        # only sentences with a stance term have a share to give (neutral terms just claim words)
        matched = [(s, w) for s, w in units if any(m.pole != "neutral" for m in s.matches)]
        for s, w in matched:
            _share(s, w / total, terms)
        h, c = round(h, 6), round(c, 6)
        t = round(h - c, 6)
        ranked = sorted([s for s, _ in matched], key=_strength)
        return ArticleScore(h, c, t, self.label(t), len(units), tuple(ranked[: self.top_k]), terms)


def scorable_units(title: str, text: str, title_weight: float) -> list[tuple[Sentence, str, float]]:
    """The units an article is scored by, with their part and weight: the title's sentences
    (spans index the title as given), then every distinct sentence of the text (a sentence
    repeated verbatim, or the title repeated as the text's first line, counts once)."""
    units: list[tuple[Sentence, str, float]] = []
    seen: set[str] = set()
    if title.strip():
        for s in split_sentences(title):
            if text:
                seen.add(_key(s.text))
            units.append((s, "title", title_weight))
    for s in split_sentences(text) if text else ():
        k = _key(s.text)
        if k in seen:
            continue
        seen.add(k)
        units.append((s, "text", 1.0))
    return units


def _strength(s: SentenceScore) -> float:
    return -abs(s.tension)


def _share(s: SentenceScore, weight: float, terms: dict[tuple[str, str, str], float]) -> None:
    """Split a unit's hostility and conciliation among its matches, by effective weight."""
    for pole, score, sign in (("hostility", s.hostility, 1.0), ("conciliation", s.conciliation, -1.0)):
        if not score:
            continue
        ms = [m for m in s.matches if m.pole == pole and m.effective > 0]
        mass = sum([m.effective for m in ms])
        if not mass:
            continue
        for m in ms:
            key = (m.term, m.pole, m.category)
            terms[key] = terms.get(key, 0.0) + sign * score * weight * m.effective / mass


def _vader_window(sentence: str, matches: tuple[Match, ...]) -> str:
    """VADER's cost grows with the square of a sentence's length; give it at most
    VADER_MAX_CHARS around the first match (run-on or broken input only)."""
    if len(sentence) <= VADER_MAX_CHARS:
        return sentence
    centre = matches[0].start if matches else 0
    lo = max(0, min(centre - VADER_MAX_CHARS // 2, len(sentence) - VADER_MAX_CHARS))
    return sentence[lo : lo + VADER_MAX_CHARS]


def _moved(s: SentenceScore, start: int, part: str) -> SentenceScore:
    return SentenceScore(s.text, start, start + len(s.text), s.hostility, s.conciliation, s.tension,
                         s.label, s.vader, s.matches, part)


def to_json(score: ArticleScore, text: str) -> str:
    """One `score-text` output line."""
    return json.dumps(
        {
            "text": text,
            "hostility": score.hostility,
            "conciliation": score.conciliation,
            "tension": score.tension,
            "label": score.label,
            "evidence": score.evidence(),
        },
        ensure_ascii=False,
    )
