"""The learned scorer: sentences and articles scored by the model, with evidence that adds up.

Per sentence: hostility = P(hostile), conciliation = P(conciliatory), tension = their
difference; the label is the most probable class. The evidence lists every cue that moved it:
the lexicon entries found (with their modifiers), the words and phrases, VADER's reading and
the model's baseline, each with its signed contribution; they sum to the tension exactly.

Per article, as the lexicon scorer does (`indicators.combine`): the title and every distinct
sentence are units, the title weighing `title_weight` sentences; hostility and conciliation are
weighted means over units, the label is the most probable class of the mean probabilities,
and each unit's contributions, weighted the same way, add up to the article's tension. Words
and phrases beyond an article's strongest few are kept as one "(other words)" term, so that
what is stored stays small and still adds up.

Sentences are scored in batches (`score_articles`): the model's arithmetic runs once for all
the sentences of many articles, which is most of what makes it cheap.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain

import numpy as np

from indicators.actors import (
    THIRD_PARTY,
    Actors,
    Attribution,
    facing,
    load_actors,
    third_party_weight,
)
from indicators.combine import ArticleScore, scorable_units
from indicators.learned.features import N_WORDS, VADER_KEYS, Cue, Features, Featurizer
from indicators.learned.model import CLASSES, LinearModel
from indicators.lexicon import Lexicon, Match
from indicators.vader import VaderIndicator

CODE_VERSION = "learned-4"  # 2: neutral lexicon categories are features; 3: actors and dyads; 4: as combine's 4
OTHER_WORDS = "(other words)"
BASELINE = "(baseline)"
VADER_TERM = "VADER tone"
WORDS_SHOWN = 6  # words and phrases listed per sentence; the rest are summed as OTHER_WORDS
WORD_TERMS_KEPT = 8  # per article, the same for the stored terms
TENSION_LABEL = 0.25  # see `LearnedScorer.label`


def _argmax(probs: np.ndarray) -> list[int]:
    """Per row, the most probable class (ties to neutral, then hostile), as `label_of`."""
    best = probs.max(axis=1, keepdims=True)
    return np.where(probs[:, 1:2] == best, 1, np.where(probs[:, 0:1] == best, 0, 2))[:, 0].tolist()


def _pole(contribution: float) -> str:
    return "hostility" if contribution >= 0 else "conciliation"


def label_of(ph: float, pn: float, pc: float) -> str:
    """The most probable class (ties to neutral, then hostile)."""
    best = max(ph, pn, pc)
    return "neutral" if pn == best else "hostile" if ph == best else "conciliatory"


class LearnedSentence:
    """One sentence (or title) scored, with what is needed to explain it: its features, and
    each listed feature's share of tension − baseline (`index`, `contribution`)."""

    __slots__ = ("text", "start", "end", "hostility", "conciliation", "neutral", "tension", "label",
                 "features", "index", "contribution", "baseline", "scorer", "part", "shares")

    def __init__(self, text: str, start: int, end: int, hostility: float, conciliation: float,
                 neutral: float, tension: float, label: str, features: Features, index: np.ndarray,
                 contribution: np.ndarray, baseline: float, scorer: LearnedScorer,
                 part: str = "text", shares: dict | None = None) -> None:
        self.text, self.start, self.end, self.part = text, start, end, part
        self.hostility, self.conciliation, self.neutral = hostility, conciliation, neutral
        self.tension, self.label, self.baseline = tension, label, baseline
        self.features, self.index, self.contribution, self.scorer = features, index, contribution, scorer
        # each lexicon entry's share of the contributions, worked out once (see `_lexicon_shares`)
        self.shares = _lexicon_shares(self) if shares is None else shares

    @property
    def confidence(self) -> float:
        """The probability of the most likely class: low means the model is unsure."""
        return max(self.hostility, self.neutral, self.conciliation)

    @property
    def matches(self) -> tuple[Match, ...]:
        return tuple(self.features.matches)

    def moved(self, start: int, part: str) -> LearnedSentence:
        if (start, part) == (self.start, self.part):
            return self
        return LearnedSentence(self.text, start, start + len(self.text), self.hostility,
                               self.conciliation, self.neutral, self.tension, self.label,
                               self.features, self.index, self.contribution, self.baseline,
                               self.scorer, part, self.shares)

    def contributions(self) -> dict[int, float]:
        """Feature → its contribution."""
        out: dict[int, float] = {}
        for f, c in zip(self.index.tolist(), self.contribution.tolist(), strict=True):
            out[f] = out.get(f, 0.0) + c
        return out

    def cues(self) -> list[tuple[Cue, float]]:
        """Every cue with its signed contribution (a feature's shared among its cues)."""
        x, c = self.features.x, self.contributions()
        return [(cue, c.get(cue.index, 0.0) * cue.value / x[cue.index])
                for cue in self.scorer.featurizer.cues(self.text, self.features) if x.get(cue.index)]

    def items(self) -> tuple[list[dict], list[dict]]:
        """(cues with a span in the sentence, sentence-wide readings), each with its signed
        contribution; together they add up to the tension."""
        spans: list[dict] = []
        by_match: dict[int, dict] = {}
        words: list[tuple[Cue, float]] = []
        vader = 0.0
        for cue, value in self.cues():
            if cue.kind == "lexicon":
                m = cue.match
                item = by_match.get(id(m))
                if item is None:
                    item = by_match[id(m)] = {
                        "kind": "lexicon", "term": m.term, "text": m.text, "start": m.start,
                        "end": m.end, "pole": m.pole, "category": m.category, "weight": m.weight,
                        "effective": m.effective, "modifiers": list(m.modifiers), "contribution": 0.0}
                    spans.append(item)
                item["contribution"] += value
            elif cue.kind == "words":
                words.append((cue, value))
            else:
                vader += value
        words.sort(key=lambda cv: -abs(cv[1]))
        for cue, value in words[:WORDS_SHOWN]:
            spans.append({"kind": "words", "term": cue.term, "text": cue.text, "start": cue.start,
                          "end": cue.end, "pole": _pole(value), "category": "words", "weight": 0.0,
                          "effective": abs(value), "modifiers": [], "contribution": value})
        for item in spans:
            item["contribution"] = round(item["contribution"], 6)
        spans.sort(key=lambda i: -abs(i["contribution"]))
        readings = [{"kind": "vader", "term": VADER_TERM, "contribution": round(vader, 6)}] if vader else []
        rest = round(sum(v for _, v in words[WORDS_SHOWN:]), 6)
        if rest:
            readings.append({"kind": "words", "term": OTHER_WORDS, "contribution": rest})
        # the baseline takes what rounding left, so the listed contributions add up exactly
        shown = sum(i["contribution"] for i in spans) + sum(r["contribution"] for r in readings)
        readings.append({"kind": "baseline", "term": BASELINE, "contribution": round(self.tension - shown, 6)})
        return spans, readings

    def evidence(self) -> dict:
        spans, readings = self.items()
        who = self.scorer.attribution(self.text)
        return {"part": self.part, "sentence": self.text, "start": self.start, "end": self.end,
                "hostility": self.hostility, "conciliation": self.conciliation,
                "neutral": self.neutral, "tension": self.tension, "label": self.label,
                "vader": None, "matches": spans, "readings": readings,
                "actors": [m._asdict() for m in who.mentions], "speaker": who.speaker,
                "targets": list(who.targets)}


class LearnedScorer:
    """Scores sentences and articles with a `LinearModel` over `Featurizer` features."""

    def __init__(self, lexicon: Lexicon, model: LinearModel, *, title_weight: float = 2.0,
                 top_k: int = 3, cache_size: int = 50_000, actors: Actors | None = None) -> None:
        self.actors = actors if actors is not None else load_actors()
        self._who: dict[str, Attribution] = {}
        self.featurizer = Featurizer(lexicon, ngrams=model.settings["ngrams"],
                                     vader=model.settings["vader"], named=model.settings["named"])
        self.model = model
        self.title_weight = title_weight
        self.top_k = top_k
        self._baseline = round(model.baseline(), 6)
        self._vader_array = np.array([self.featurizer.named[f"vader:{k}"] for k in VADER_KEYS])
        self._cache: dict[str, LearnedSentence] = {}
        self._cache_size = cache_size

    @property
    def lexicon(self) -> Lexicon:
        return self.featurizer.lexicon

    @property
    def version(self) -> str:
        """Keys stored scores: the code, the lexicon, VADER, the model and the settings."""
        v = self.__dict__.get("_version")
        if v is None:
            parts = [CODE_VERSION, self.lexicon.version, self.lexicon.digest[:12], VaderIndicator.version,
                     self.model.version, f"{self.title_weight}:{self.top_k}", self.actors.key]
            v = self.__dict__["_version"] = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        return v

    def label(self, tension: float) -> str:
        """A label for a tension that has no probabilities of its own (a sub-index of some
        lexicon categories): hostile from TENSION_LABEL up, conciliatory from −TENSION_LABEL."""
        if tension >= TENSION_LABEL:
            return "hostile"
        if tension <= -TENSION_LABEL:
            return "conciliatory"
        return "neutral"

    def attribution(self, sentence: str) -> Attribution:
        """Who the sentence names, speaks and aims at (`indicators.actors`), memoised."""
        who = self._who.get(sentence)
        if who is None:
            if len(self._who) >= self._cache_size:
                self._who.clear()
            who = self._who[sentence] = self.actors.attribute(sentence)
        return who

    # -- sentences -----------------------------------------------------------------------
    def score_sentence(self, sentence: str, *, start: int = 0, part: str = "text") -> LearnedSentence:
        return self.score_sentences([sentence])[0].moved(start, part)

    def score_sentences(self, sentences: list[str]) -> list[LearnedSentence]:
        """Score sentences, the ones not seen before in one batch."""
        cache = self._cache
        found = {s: cache[s] for s in dict.fromkeys(sentences) if s in cache}
        todo = [s for s in dict.fromkeys(sentences) if s not in found]
        if todo:
            new = dict(zip(todo, self._score_batch(todo), strict=True))
            found.update(new)
            if len(cache) + len(new) > self._cache_size:
                cache.clear()
            cache.update(new)
        return [found[s] for s in sentences]

    def _score_batch(self, sentences: list[str]) -> list[LearnedSentence]:
        feats = [self.featurizer.features(s) for s in sentences]
        lists = [f.arrays() for f in feats]
        starts = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([len(i) for i, _ in lists], out=starts[1:])
        idx = np.array(list(chain.from_iterable(i for i, _ in lists)), dtype=np.int64)
        vals = np.array(list(chain.from_iterable(v for _, v in lists)), dtype=np.float64)
        probs, contribution = self.model.score(idx, vals, starts)
        probs = np.round(probs, 6)
        tension = np.round(probs[:, 0] - probs[:, 2], 6).tolist()
        labels = [CLASSES[k] for k in _argmax(probs)]
        ends = starts.tolist()
        base = self._baseline
        # index and contribution are views into the batch's arrays (no copy per sentence)
        return [LearnedSentence(s, 0, len(s), ph, pc, pn, t, lab, f, idx[a:b], contribution[a:b], base, self)
                for s, f, (ph, pn, pc), t, lab, a, b in zip(
                    sentences, feats, probs.tolist(), tension, labels, ends, ends[1:], strict=False)]

    # -- articles ------------------------------------------------------------------------
    def score_text(self, text: str) -> ArticleScore:
        return self.score_article("", text)

    def score_article(self, title: str, text: str) -> ArticleScore:
        return self.score_articles([(title, text)])[0]

    def score_articles(self, items: Iterable[tuple[str, str]]) -> list[ArticleScore]:
        """Score (title, text) pairs; their sentences in one batch."""
        with _collector_paused():
            units = [scorable_units(title, text, self.title_weight) for title, text in items]
            scored = iter(self.score_sentences([s.text for u in units for s, _, _ in u]))
            articles = [[(next(scored).moved(s.start, part), w) for s, part, w in u] for u in units]
            terms = self._terms(articles)
            return [self._aggregate(a, t) for a, t in zip(articles, terms, strict=True)]

    def aimed_terms(self, items: Iterable[tuple[str, str, str]], keep: Callable[[str, str], bool],
                    tone: bool, third_party: Iterable[tuple[str, str]] = ()) -> list[dict]:
        """Per (title, text, the actor its source speaks for): the term contributions of the
        units aimed across the (speaker, target) pairs `keep` accepts, a unit counting once
        per such target as the dyad rows count it. They add up to the article's value under a
        measure (`tension.analysis.dyads`): with `tone`, the tone of those units (the conflict
        index, one dyad); without, their part of the article (the conflict intensity). {} for
        an article that aims nothing there. With `third_party` (the conflict dyads), a unit in
        the voice of a source that speaks for nobody also counts for each target facing
        another it names (`indicators.actors`, third-party reporting). Why rescored: stored
        contributions are per text, and the speaker of a unit depends on the source, known
        only when a selection is read."""
        third_party = tuple(third_party)
        items = list(items)
        with _collector_paused():
            units = [scorable_units(title, text, self.title_weight) for title, text, _ in items]
            scored = iter(self.score_sentences([s.text for u in units for s, _, _ in u]))
            articles = [[(next(scored).moved(s.start, part), w) for s, part, w in u] for u in units]
        aimed, scale = [], []
        for (_, _, own), article in zip(items, articles, strict=True):
            kept = []
            for s, w in article:
                who = self.attribution(s.text)
                speaker = who.speaker or own
                k = sum(1 for t in who.targets if t != speaker and keep(speaker, t))
                if third_party and not speaker:  # as the THIRD_PARTY rows count it
                    sides = facing(who.targets, third_party)
                    k += len(sides) * third_party_weight(sides, third_party)
                if k:
                    kept.append((s, w * k))
            aimed.append(kept)
            total = sum(w for _, w in article)
            scale.append(1.0 if tone or not total else sum(w for _, w in kept) / total)
        return [{key: v * f for key, v in terms.items()} for terms, f in
                zip(self._terms(aimed), scale, strict=True)]

    def _aggregate(self, units: list[tuple[LearnedSentence, float]], terms: dict) -> ArticleScore:
        total = sum(w for _, w in units)
        if not total:
            return ArticleScore(0.0, 0.0, 0.0, "neutral", 0, ())
        h = sum(s.hostility * w for s, w in units) / total
        n = sum(s.neutral * w for s, w in units) / total
        c = sum(s.conciliation * w for s, w in units) / total
        h, c = round(h, 6), round(c, 6)
        ranked = sorted((s for s, _ in units), key=lambda s: -abs(s.tension))
        return ArticleScore(h, c, round(h - c, 6), label_of(h, n, c), len(units),
                            tuple(ranked[: self.top_k]), terms, self._dyads(units, total))

    def _dyads(self, units: list[tuple[LearnedSentence, float]], total: float) -> dict:
        """(speaker, target) → (weight, hostility, conciliation, sentences), see ArticleScore."""
        acc: dict[tuple[str, str], list] = {}
        for s, w in units:
            who = self.attribution(s.text)
            share = w / total
            rows = [(who.speaker or "", t, share) for t in who.targets or ("",)]
            sides = frozenset() if who.speaker else facing(who.targets, self.actors.conflict)
            f = third_party_weight(sides, self.actors.conflict)
            rows += [(THIRD_PARTY, t, share * f) for t in sorted(sides)]
            for speaker, target, weight in rows:
                a = acc.setdefault((speaker, target), [0.0, 0.0, 0.0, 0])
                a[0] += weight
                a[1] += weight * s.hostility
                a[2] += weight * s.conciliation
                a[3] += 1
        return {k: (round(v[0], 6), round(v[1], 6), round(v[2], 6), v[3]) for k, v in acc.items()}

    def _terms(self, articles: list[list[tuple[LearnedSentence, float]]]) -> list[dict]:
        """Per article, (term, pole, category) → signed share of its tension; they add up to
        it: lexicon entries, its strongest words and phrases, the other words, VADER and the
        baseline (with what rounding left). Computed for all the articles at once."""
        n = len(articles)
        out: list[dict] = [{} for _ in articles]
        sents: list[LearnedSentence] = []
        share_list: list[float] = []
        art_list: list[int] = []
        for a, units in enumerate(articles):
            total = sum(w for _, w in units)
            for s, w in units:
                sents.append(s)
                share_list.append(w / total)
                art_list.append(a)
        if not sents:
            return out
        lengths = np.fromiter((len(s.index) for s in sents), dtype=np.int64, count=len(sents))
        shares, arts = np.array(share_list), np.array(art_list)
        art_ = np.repeat(arts, lengths)
        tension = np.bincount(arts, weights=shares * np.fromiter((s.tension for s in sents), float,
                                                                 count=len(sents)), minlength=n)
        f = np.concatenate([s.index for s in sents])
        part = np.concatenate([s.contribution for s in sents]) * np.repeat(shares, lengths)
        baseline = tension - np.bincount(art_, weights=part, minlength=n)
        is_vader = np.isin(f, self._vader_array)
        vader = np.bincount(art_[is_vader], weights=part[is_vader], minlength=n)
        word = f < N_WORDS
        keys, inverse = np.unique(art_[word] * N_WORDS + f[word], return_inverse=True)
        sums = np.bincount(inverse, weights=part[word], minlength=len(keys))
        key_art = keys // N_WORDS
        order = np.lexsort((-np.abs(sums), key_art))
        first = np.searchsorted(key_art[order], key_art[order], side="left")
        kept = order[np.arange(len(order)) - first < WORD_TERMS_KEPT]
        words_total = np.bincount(key_art, weights=sums, minlength=n)
        kept_total = np.bincount(key_art[kept], weights=sums[kept], minlength=n)
        for k in kept.tolist():
            a, feature = divmod(int(keys[k]), N_WORDS)
            value = float(sums[k])
            key = (_word_name(articles[a], feature), _pole(value), "words")
            out[a][key] = out[a].get(key, 0.0) + value
        for s, share, a in zip(sents, share_list, art_list, strict=True):
            if s.shares:
                terms = out[a]
                for key, value in s.shares.items():
                    terms[key] = terms.get(key, 0.0) + value * share
        for a in range(n):
            for term, value, category in ((OTHER_WORDS, words_total[a] - kept_total[a], "words"),
                                          (VADER_TERM, vader[a], "vader"), (BASELINE, baseline[a], "baseline")):
                if value:
                    out[a][(term, _pole(value), category)] = float(value)
        return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is built. A batch allocates
    several small lists per sentence, none of them in a cycle (reference counting frees
    them), and each few hundred allocations would otherwise make the collector walk the
    growing batch again: a fifth of the batch's time (docs/benchmarks.md)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _lexicon_shares(s: LearnedSentence) -> dict[tuple[str, str, str], float]:
    """Each lexicon match's share of its features' contributions (the named features come
    last in a sentence's feature list, in the order the featurizer gives them)."""
    f = s.features
    named = f.named
    if not f.matches:
        return {}
    tail = s.contribution[len(s.contribution) - len(named):].tolist()
    total: dict[int, float] = {}
    contribution: dict[int, float] = {}
    for (i, v), c in zip(named, tail, strict=True):
        total[i] = total.get(i, 0.0) + v
        contribution[i] = contribution.get(i, 0.0) + c
    index = s.scorer.featurizer.named
    out: dict[tuple[str, str, str], float] = {}
    for m in f.matches:
        for name, value in Featurizer._lexicon_features([m]):
            i = index.get(name)
            if i is not None and total.get(i):
                key = (m.term, m.pole, m.category)
                out[key] = out.get(key, 0.0) + contribution[i] * value / total[i]
    return out


def _word_name(units: list[tuple[LearnedSentence, float]], feature: int) -> str:
    """A word feature as first written in the article (a word, or two neighbouring ones)."""
    for s, _ in units:
        f = s.features
        if feature in f.unigrams:
            return f.words[f.unigrams.index(feature)].lower()
        if feature in f.bigrams:
            k = f.bigrams.index(feature)
            return f"{f.words[k]} {f.words[k + 1]}".lower()
    return "?"


__all__ = ["CLASSES", "LearnedScorer", "LearnedSentence", "label_of"]
