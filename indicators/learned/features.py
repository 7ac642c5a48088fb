"""A sentence as the learned scorer's features, and where in the sentence each one came from.

Three kinds, in one sparse vector:
- words: the stems of the sentence's words, one and two at a time ("lip servic", "turn down"),
  hashed into N_WORDS buckets: a word by the CRC32 of its stem, a pair by arithmetic on its
  two words' buckets (the same in every process and on every machine);
- lexicon: per lexicon category, the effective weight of its matches after negation, refusal
  and hedging (a refused conciliatory term has a feature of its own); the same summed per
  pole, which is how a category added to the lexicon counts before the model is trained
  again; and how many matches each modifier touched;
- VADER: its neg, neu, pos and compound scores, on the sentences where the lexicon fires
  (as the lexicon scorer runs it: elsewhere its cost buys little).
The lexicon and VADER features have names, numbered after the word buckets in the order of
the model's own table (`named_features` at training time): a category the model does not
know is left out until the model is trained again.

Scoring reads only the vector; where each feature came from (`Cue`s, for the evidence) is
worked out again from the sentence when it is shown, which keeps scoring cheap.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass

from indicators.lexicon import Lexicon, Match
from indicators.tokens import fold, stem, word_spans
from indicators.vader import vader_scores

N_WORDS = 1 << 18  # buckets for word features; named features are numbered after them
MODIFIERS = ("negated", "refused", "hedged")
VADER_KEYS = ("neg", "neu", "pos", "compound")
VADER_MAX_CHARS = 2000  # VADER's cost grows with the square of its input

# Memos shared by every featurizer of the process (pure functions of their keys).
_UNIGRAMS: dict[str, tuple[int, int]] = {}
_MEMO_LIMIT = 500_000
_PAIR = 1_000_003  # a pair (a, b) of word buckets goes to (a · _PAIR + b) mod N_WORDS
# Words too common to say anything alone: they still count in pairs ("turn down", "the
# puppet"), but have no feature of their own, which would mostly learn sentence length.
_COMMON = """a an the of to in on at by for from with and or but as is are was were be been being
it its this that these those there their they them he she his her we our us you your i me my has
have had do does did not no so if than then also which who whom what when where while about into
over under after before again once all any both each few more most other some such only own same
too very can will just should now"""
STOPWORDS = frozenset(stem(fold(w)) for w in _COMMON.split())


def word_index(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % N_WORDS


def named_features(lexicon: Lexicon) -> dict[str, int]:
    """Every named feature a lexicon can give, numbered after the word buckets."""
    names = [f"vader:{k}" for k in VADER_KEYS] + [f"modifier:{m}" for m in MODIFIERS] + [
        "pole:hostility", "pole:conciliation"]
    for category, pole in sorted(lexicon.categories().items()):
        names += [f"lexicon:{category}"] if pole == "neutral" else [
            f"lexicon:{category}", f"lexicon:{category}:refused"]
    return {name: N_WORDS + k for k, name in enumerate(names)}


def _code(st: str) -> tuple[int, int]:
    """A stem's bucket, and its unigram feature (-1: none, a common or one-letter word)."""
    i = word_index(st)
    code = (i, -1 if len(st) < 2 or st in STOPWORDS else i)
    if len(_UNIGRAMS) < _MEMO_LIMIT:
        _UNIGRAMS[st] = code
    return code


@dataclass(frozen=True, slots=True)
class Cue:
    """Where a feature came from: a word or two (a span of the sentence), a lexicon match,
    or a sentence-wide reading (VADER); `index` is its feature, `value` what it adds there."""

    index: int
    value: float
    kind: str  # "words" | "lexicon" | "vader"
    term: str  # the words as written (lower case), the lexicon entry, or "VADER neg"
    text: str  # as written in the sentence ("" for sentence-wide cues)
    start: int
    end: int
    category: str = ""  # the lexicon category of a lexicon cue
    match: Match | None = None


@dataclass(slots=True)
class Features:
    """A sentence's features: each word's and each pair's bucket (counted once per occurrence),
    the lexicon's matches and VADER's reading, and the named features they give."""

    words: list[str]  # the sentence's words, as `tokens.words` finds them
    unigrams: list[int]  # the feature of each word (-1: none, a common word)
    bigrams: list[int]  # the feature of each pair of neighbouring words (empty for ngrams=1)
    matches: list[Match]
    vader: dict[str, float] | None
    named: list[tuple[int, float]]  # (feature, value) of the lexicon and VADER features

    @property
    def x(self) -> dict[int, float]:
        """Feature → value."""
        x: Counter = Counter(i for i in self.unigrams if i >= 0)
        x.update(self.bigrams)
        for i, v in self.named:
            x[i] += v
        return dict(x)

    def arrays(self) -> tuple[list[int], list[float]]:
        """(features, values), a feature listed once per occurrence."""
        uni = [i for i in self.unigrams if i >= 0]
        idx = uni + self.bigrams + [i for i, _ in self.named]
        return idx, [1.0] * (len(uni) + len(self.bigrams)) + [v for _, v in self.named]


class Featurizer:
    """Turns sentences into features. `ngrams` 1 or 2; `vader` "matched" (on sentences with a
    lexicon match), "all" or "none"."""

    def __init__(self, lexicon: Lexicon, *, ngrams: int = 2, vader: str = "matched",
                 named: dict[str, int] | None = None) -> None:
        if ngrams not in (1, 2) or vader not in ("matched", "all", "none"):
            raise ValueError(f"featurizer: ngrams 1 or 2, vader matched|all|none, not {ngrams}, {vader}")
        self.lexicon = lexicon
        self.ngrams = ngrams
        self.vader = vader
        self.named = named if named is not None else named_features(lexicon)

    @property
    def settings(self) -> dict:
        return {"ngrams": self.ngrams, "vader": self.vader, "n_words": N_WORDS, "named": self.named}

    @property
    def n_features(self) -> int:
        return max(self.named.values(), default=N_WORDS - 1) + 1

    def features(self, sentence: str) -> Features:
        found, stems, matches = self.lexicon.analyse(sentence)
        memo = _UNIGRAMS
        codes = [memo.get(s) or _code(s) for s in stems]
        every, uni = (list(t) for t in zip(*codes, strict=True)) if codes else ([], [])
        bi: list[int] = []
        if self.ngrams == 2 and len(every) > 1:
            bi = [(a * _PAIR + b) % N_WORDS for a, b in zip(every, every[1:], strict=False)]
        named_values: list[tuple[int, float]] = []
        named = self.named
        if matches:
            for name, value in self._lexicon_features(matches):
                i = named.get(name)
                if i is not None:
                    named_values.append((i, value))
        scores = None
        stance = any(m.pole != "neutral" for m in matches)
        if self.vader == "all" or (self.vader == "matched" and stance):
            scores = vader_scores(sentence[:VADER_MAX_CHARS])
            named_values += [(named[f"vader:{k}"], scores[k]) for k in VADER_KEYS if scores[k]]
        return Features(found, uni, bi, matches, scores, named_values)

    @staticmethod
    def _lexicon_features(matches: list[Match]) -> list[tuple[str, float]]:
        out = []
        for m in matches:
            if m.pole == "neutral":  # scores nothing, but what it names may (a mill, a farm)
                out.append((f"lexicon:{m.category}", 1.0))
                continue
            refused = "refused" in m.modifiers
            out.append((f"lexicon:{m.category}" + (":refused" if refused else ""), m.effective))
            out.append((f"pole:{m.pole}", m.effective))
            out += [(f"modifier:{mod}", 1.0) for mod in m.modifiers]
        return out

    def cues(self, sentence: str, f: Features) -> list[Cue]:
        """Every feature's origin in the sentence, each with the value it adds to its feature."""
        cues: list[Cue] = []
        if f.words:
            spans = word_spans(sentence, f.words)
            for k, (i, (a, b)) in enumerate(zip(f.unigrams, spans, strict=True)):
                if i >= 0:
                    cues.append(Cue(i, 1.0, "words", f.words[k].lower(), sentence[a:b], a, b))
            for k, i in enumerate(f.bigrams):
                a, b = spans[k][0], spans[k + 1][1]
                cues.append(Cue(i, 1.0, "words", f"{f.words[k]} {f.words[k + 1]}".lower(),
                                sentence[a:b], a, b))
        for m in f.matches:
            for name, value in self._lexicon_features([m]):
                if name in self.named:
                    cues.append(Cue(self.named[name], value, "lexicon", m.term, m.text, m.start,
                                    m.end, m.category, m))
        if f.vader:
            cues += [Cue(self.named[f"vader:{k}"], f.vader[k], "vader", f"VADER {k}", "", -1, -1)
                     for k in VADER_KEYS if f.vader[k]]
        return cues
