"""The hostility / conciliation lexicon: loading it and finding its entries in text.

The lexicon is a TOML file an analyst can read and extend (`lexicon.toml` beside
this module). Each category has a pole, a severity weight and its terms; a term
may carry its own weight. Terms are phrases of one or more words; every word is
matched by its stem (see `tokens.stem`), so inflections come free, and a word
ending in `*` matches any word starting with it ("warmonger*").

Around each match the matcher looks for modifiers within the same clause:
- a negator shortly before ("no threat", "not hostile") cancels the match;
- a refusal before or after a conciliatory term ("rejected talks", "talks
  were called off") turns it into hostility: refusing dialogue is hostile;
- a hedge before ("might", "could") damps it.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from indicators.tokens import CLAUSE_BREAK, fold, stem, tokenize, word_spans, words

POLES = ("hostility", "conciliation", "neutral")
# Modifier words and phrases (as stems), indexed by their first stem.
WordSet = dict[str, tuple[tuple[str, ...], ...]]


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon term: its words (as stems), pole, category and severity weight."""

    term: str
    pole: str
    category: str
    weight: float
    stems: tuple[str, ...]


class Match(NamedTuple):
    """An entry found in a sentence, with the modifiers that applied to it.

    `start`/`end` index the sentence. `pole` is the pole the match counts for
    after modifiers (a refused conciliatory term counts for hostility).
    `effective` is the weight after negation, refusal and hedging, before VADER.
    """

    term: str
    text: str
    start: int
    end: int
    pole: str
    category: str
    weight: float
    effective: float
    modifiers: tuple[str, ...]


class _Node:
    """A trie of entry stems; `word*` steps are kept apart as prefixes."""

    __slots__ = ("entry", "children", "prefixes")

    def __init__(self) -> None:
        self.entry: Entry | None = None
        self.children: dict[str, _Node] = {}
        self.prefixes: list[tuple[str, _Node]] = []

    def add(self, entry: Entry) -> None:
        node = self
        for st in entry.stems:
            if st.endswith("*"):
                nxt = next((n for p, n in node.prefixes if p == st[:-1]), None)
                if nxt is None:
                    nxt = _Node()
                    node.prefixes.append((st[:-1], nxt))
            else:
                nxt = node.children.setdefault(st, _Node())
            node = nxt
        node.entry = entry

    def step(self, token: str, stem_: str) -> tuple[_Node, ...]:
        """The nodes reached from here by one word."""
        hit = self.children.get(stem_)
        if not self.prefixes:  # most nodes
            return (hit,) if hit else ()
        pre = tuple(n for p, n in self.prefixes if token.startswith(p))
        return ((hit,) if hit else ()) + pre


NEGATOR, REFUSAL, HEDGE = 1, 2, 4
_PHRASE = {NEGATOR: 8, REFUSAL: 16, HEDGE: 32}  # the word starts a multi-word modifier of that kind
# What the matcher memoises per distinct word: folded form, stem, entries starting there, flags.
Looked = tuple[str, str, tuple[_Node, ...], int]


@dataclass(frozen=True)
class Modifiers:
    """Words and phrases that change a match, and by how much."""

    negators: WordSet
    refusals: WordSet
    hedges: WordSet
    window: int = 4
    negation_window: int = 2
    hedge_factor: float = 0.6
    refusal_factor: float = 0.7

    def _sets(self) -> tuple[tuple[int, WordSet], ...]:
        return ((NEGATOR, self.negators), (REFUSAL, self.refusals), (HEDGE, self.hedges))

    def flags(self, token: str, stem_: str) -> int:
        """Bit flags: is this word a one-word modifier, or the start of a phrase one?"""
        out = 0
        for bit, words_ in self._sets():
            for phrase in words_.get(token, ()) + words_.get(stem_, ()):
                out |= bit if len(phrase) == 1 else _PHRASE[bit]
        return out

    def starts(self, looked: list[Looked], ks: list[int], kind: int) -> list[int]:
        """Positions in `ks` where a modifier of `kind` (one word, or a phrase within ks) starts."""
        found = [k for k in ks if looked[k][3] & kind]
        if any(looked[k][3] & _PHRASE[kind] for k in ks):
            words_ = dict(self._sets())[kind]
            for n, k in enumerate(ks):
                for phrase in words_.get(looked[k][0], ()) + words_.get(looked[k][1], ()):
                    if len(phrase) > 1 and n + len(phrase) <= len(ks) and all(
                        phrase[x] in looked[ks[n + x]][:2] for x in range(len(phrase))
                    ):
                        found.append(k)
        return sorted(set(found))

    def has(self, looked: list[Looked], ks: list[int], kind: int) -> bool:
        return bool(self.starts(looked, ks, kind))


@dataclass(frozen=True)
class Lexicon:
    """Entries indexed by their first stem, plus prefix entries for `word*` terms."""

    entries: tuple[Entry, ...]
    modifiers: Modifiers
    digest: str
    version: str
    _trie: _Node = field(repr=False, compare=False, default_factory=lambda: _Node())
    _seen: dict[str, Looked] = field(repr=False, compare=False, default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.digest)

    def categories(self) -> dict[str, str]:
        """Category name → pole."""
        return {e.category: e.pole for e in self.entries}

    def find(self, sentence: str) -> list[Match]:
        """All entries in `sentence`, longest match first, non-overlapping, with modifiers."""
        return self.analyse(sentence)[2]

    def analyse(self, sentence: str) -> tuple[list[str], list[str], list[Match]]:
        """The sentence's words (as `tokens.words` finds them), their stems, and `find`'s
        matches: one pass for a caller that wants all three (the learned scorer)."""
        seen = self._seen
        found = words(sentence)
        looked = [seen.get(w) or self._lookup(w) for w in found]
        stems = [x[1] for x in looked]
        return found, stems, self._matches(sentence, found, looked)

    def _matches(self, sentence: str, found: list[str], looked: list[Looked]) -> list[Match]:
        if not any(x[2] for x in looked):
            return []  # most sentences: no entry can start anywhere, so skip the spans
        spans: list[tuple[int, int]] = []
        clause: list[int] = []
        matches: list[Match] = []
        i, n, floor, prev = 0, len(looked), 0, None
        while i < n:
            entry = self._longest_at(looked, i) if looked[i][2] else None
            if entry is None:
                i += 1
                continue
            if not spans:  # only now: many sentences start an entry's phrase but match none
                spans = word_spans(sentence, found)
                clause = _clause_ids(sentence, spans)
            if prev is not None and prev[1] != entry.pole:
                floor = prev[0]  # words before a match of the other pole belong to it
            j = i + len(entry.stems)
            matches.append(self._modify(entry, sentence, looked, spans, clause, i, j, floor))
            prev, i = (i, entry.pole), j
        return matches

    def _lookup(self, word: str) -> Looked:
        """A raw word's folded form, stem, the entries that may start at it and its modifier flags."""
        token = fold(word)
        st = stem(token)
        hit = (token, st, self._trie.step(token, st), self.modifiers.flags(token, st))
        if len(self._seen) < 500_000:
            self._seen[word] = hit
        return hit

    @staticmethod
    def _longest_at(looked: list[Looked], i: int) -> Entry | None:
        """Walk the trie from word i; the last entry seen is the longest match."""
        best: Entry | None = None
        nodes, k, n = looked[i][2], i + 1, len(looked)
        while nodes:
            for nd in nodes:
                if nd.entry is not None:
                    best = nd.entry
                    break
            if k >= n:
                break
            token, stem_ = looked[k][0], looked[k][1]
            if len(nodes) == 1:  # the usual case
                nodes = nodes[0].step(token, stem_)
            else:
                nodes = tuple(c for nd in nodes for c in nd.step(token, stem_))
            k += 1
        return best

    def _modify(self, entry: Entry, sentence: str, looked: list[Looked], spans: list[tuple[int, int]],
                clause: list[int], i: int, j: int, floor: int) -> Match:
        """Apply negation, refusal and hedging found around words i..j.

        Negators and refusals before a match do not reach past a previous match of
        the other pole (`floor`): words before it belong to it, so the "non" of "non-aggression pact"
        does not also cancel "pact" and "anti-war" leaves "peace" alone, while
        "destroying peace and stability" refuses both and "rejected talks" still
        refuses. A refusal that is itself negated ("did not reject talks") does not count.
        """
        mods = self.modifiers
        reach = max(mods.window, mods.negation_window)
        if not any(looked[k][3] for k in range(max(0, i - reach), min(len(looked), j + mods.window))):
            # The common case: no modifier word anywhere near, so nothing below can apply.
            start, end = spans[i][0], spans[j - 1][1]
            weight = 0.0 if entry.pole == "neutral" else entry.weight
            return Match(entry.term, sentence[start:end], start, end, entry.pole, entry.category,
                         entry.weight, round(weight, 6), ())

        def window(lo: int, hi: int, anchor: int) -> list[int]:
            return [k for k in range(max(0, lo), min(len(looked), hi)) if clause[k] == clause[anchor]]

        def negated(k: int) -> bool:
            near_k = window(k - mods.negation_window, k, k)
            return mods.has(looked, near_k, NEGATOR) and looked[near_k[-1]][0] != "only"

        before = window(i - mods.window, i, i)
        after = window(j, j + mods.window, j - 1)
        near = window(max(i - mods.negation_window, floor), i, i)
        if near and looked[near[-1]][0] == "only":
            near = []  # "not only condemned ... but also" is no negation
        refusals = [k for k in mods.starts(looked, [k for k in before if k >= floor], REFUSAL)
                    + mods.starts(looked, after, REFUSAL) if not negated(k)]
        pole, weight, applied = entry.pole, entry.weight, []
        if pole == "neutral":
            weight = 0.0
        elif pole == "conciliation" and refusals:
            pole, weight = "hostility", weight * mods.refusal_factor
            applied.append("refused")
        elif mods.has(looked, near, NEGATOR):
            weight = 0.0
            applied.append("negated")
        if weight and mods.has(looked, before, HEDGE):
            weight *= mods.hedge_factor
            applied.append("hedged")
        start, end = spans[i][0], spans[j - 1][1]
        return Match(entry.term, sentence[start:end], start, end, pole, entry.category,
                     entry.weight, round(weight, 6), tuple(applied))


def _clause_ids(sentence: str, spans: list[tuple[int, int]]) -> list[int]:
    """Clause number of each token: clause punctuation between two tokens separates them."""
    if not CLAUSE_BREAK.search(sentence):
        return [0] * len(spans)  # most sentences: one clause
    ids, current, prev_end = [], 0, 0
    for start, end in spans:
        if CLAUSE_BREAK.search(sentence, prev_end, start):
            current += 1
        ids.append(current)
        prev_end = end
    return ids


def _entry_stems(term: str) -> tuple[str, ...]:
    out = []
    for w in term.split():
        if w.endswith("*"):
            head = tokenize(w[:-1])
            if len(head) != 1:
                raise ValueError(f"lexicon term {term!r}: '*' must end a word, as in 'warmonger*'")
            out.append(head[0][0] + "*")
        else:
            out.extend(stem(t) for t, _, _ in tokenize(w))
    return tuple(out)


def parse_lexicon(data: bytes) -> Lexicon:
    """Build a lexicon from the bytes of a TOML file (pure: no I/O)."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"lexicon is not valid UTF-8 TOML: {exc}") from None
    m = doc.get("modifiers", {})

    def fold(words: list[str]) -> WordSet:
        out: dict[str, tuple[tuple[str, ...], ...]] = {}
        for w in words:
            stems = tuple(stem(t) for t, _, _ in tokenize(w))
            if stems:
                out[stems[0]] = out.get(stems[0], ()) + (stems,)
        return out

    def factor(key: str, default: float) -> float:
        value = float(m.get(key, default))
        if not 0 < value <= 1:
            raise ValueError(f"lexicon modifiers: {key} must be in (0, 1], not {value}")
        return value

    modifiers = Modifiers(
        negators=fold(m.get("negators", [])),
        refusals=fold(m.get("refusals", [])),
        hedges=fold(m.get("hedges", [])),
        window=int(m.get("window", 4)),
        negation_window=int(m.get("negation_window", 2)),
        hedge_factor=factor("hedge_factor", 0.6),
        refusal_factor=factor("refusal_factor", 0.7),
    )
    entries: dict[tuple[str, ...], Entry] = {}
    for n, cat in enumerate(doc.get("category", []), 1):
        name = cat.get("name") or f"category #{n}"
        pole = cat.get("pole")
        if pole not in POLES:
            first = next((t if isinstance(t, str) else t.get("term") for t in cat.get("terms", [])), None)
            raise ValueError(f"lexicon category {name!r} (terms {first!r}, …): pole must be one of "
                             f"{POLES}, not {pole!r}")
        try:
            cat_weight = float(cat["weight"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"lexicon category {name!r}: needs a numeric 'weight'") from None
        for item in cat.get("terms", []):
            if isinstance(item, str):
                term, weight = item, cat_weight
            elif isinstance(item, dict) and isinstance(item.get("term"), str):
                term = item["term"]
                try:
                    weight = float(item["weight"])
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"lexicon term {term!r} in {name!r}: needs a numeric 'weight'") from None
            else:
                raise ValueError(f"lexicon category {name!r}: a term must be text or {{term = ..., weight = ...}}")
            if not 0 < weight <= 1:
                raise ValueError(f"lexicon term {term!r} in {name!r}: weight must be in (0, 1], not {weight}")
            stems = _entry_stems(term)
            if not stems:
                raise ValueError(f"lexicon term {term!r} in {name!r} has no words")
            if stems in entries:
                other = entries[stems]
                raise ValueError(f"lexicon term {term!r} in {name!r} duplicates {other.term!r} in {other.category!r}")
            entries[stems] = Entry(term, pole, name, weight, stems)
    trie = _Node()
    for e in entries.values():
        trie.add(e)
    digest = hashlib.sha256(data).hexdigest()
    return Lexicon(
        entries=tuple(entries.values()),
        modifiers=modifiers,
        digest=digest,
        version=str(doc.get("version", digest[:12])),
        _trie=trie,
    )


def default_lexicon_bytes() -> bytes:
    """The lexicon shipped with the package."""
    return resources.files("indicators").joinpath("lexicon.toml").read_bytes()


@lru_cache(maxsize=8)
def load_lexicon(data: bytes | None = None) -> Lexicon:
    """Parse (and memoise) a lexicon; None means the shipped one."""
    return parse_lexicon(default_lexicon_bytes() if data is None else data)
