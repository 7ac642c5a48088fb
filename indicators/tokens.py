"""Tokens with spans, folded so that lexicon entries match real text.

Both the lexicon and the text go through `tokenize` and `stem`, so a phrase
written once ("threaten", "olive branch") also matches "Threatened",
"olive-branch", "OLIVE‑BRANCH" (Unicode hyphen) and "threatening". Hyphens,
dashes and quotes of every kind separate tokens; apostrophes inside a word
do not ("don't", "DPRK’s" → "dprk").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A word: letters/digits, optionally joined by apostrophes (straight or curly).
_WORD = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*")
# Clause punctuation stops negation and hedging from reaching across clauses.
CLAUSE_BREAK = re.compile(r"[,;:()\[\]—–]|\s-\s")

_VOWELS = set("aeiouy")
# Words that look inflected but are words of their own ("according" is not "accord").
_KEEP = frozenset(
    "according during morning evening something nothing anything everything ceiling "
    "news series species always perhaps bias gas lens thus".split()
)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(folded token, start, end) for each word; spans index the original text."""
    return [(fold(m.group()), *m.span()) for m in _WORD.finditer(text)]


def words(text: str) -> list[str]:
    """The raw words of `text`, in the same order as `tokenize` gives them."""
    return _WORD.findall(text)


def word_spans(text: str, found: list[str] | None = None) -> list[tuple[int, int]]:
    """(start, end) of each word, in the same order as `words`. Given `found` (what
    `words(text)` returned), each word is looked up after the previous one instead of
    matching the pattern again: a word starts with a letter or digit and what lies between
    two words holds none, so its first occurrence there is the match (and it is faster)."""
    if found is None:
        return [m.span() for m in _WORD.finditer(text)]
    spans, pos, find = [], 0, text.find
    for w in found:
        start = find(w, pos)
        pos = start + len(w)
        spans.append((start, pos))
    return spans


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """Case-fold, NFKC-normalise and drop a possessive 's (DPRK's → dprk)."""
    t = token.casefold() if token.isascii() else unicodedata.normalize("NFKC", token).casefold()
    t = t.replace("’", "'").replace("ʼ", "'")
    if t.endswith("'s"):
        t = t[:-2]
    return t


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """A light, predictable English suffix stripper (not Porter: fewer surprises).

    threaten/threatens/threatened/threatening → threaten; talks → talk;
    provoke/provoked/provoking → provok; sanctions → sanction; allies → ally;
    agree/agreed/agreeing → agre; cancel/cancelled → cancel.
    Short words (≤ 3 letters) are left alone so "us", "war", "aid" stay themselves.
    """
    t = token
    if len(t) <= 3 or not t.isalpha() or t in _KEEP:
        return t
    if t.endswith("ies") and len(t) > 4:
        t = t[:-3] + "y"
    elif t.endswith("ied") and len(t) > 4:
        t = t[:-3] + "y"
    elif t.endswith("eed") and len(t) > 4:
        t = t[:-1]  # agreed → agree (not agr)
    elif t.endswith("ing") and len(t) > 5:
        t = t[:-3]
    elif t.endswith("ed") and len(t) > 4:
        t = t[:-2]
    elif t.endswith(("sses", "shes", "ches", "xes", "zes")):
        t = t[:-2]
    elif t.endswith("s") and not t.endswith(("ss", "us", "is")):
        t = t[:-1]
    if t.endswith("e") and len(t) > 3:
        t = t[:-1]
    return _undouble(t)


def _undouble(t: str) -> str:
    """A final doubled consonant becomes single, for every form alike: stopped/stop → stop,
    cancelled/cancel → cancel, rebuffed/rebuff → rebuf, kill/killed → kil."""
    if len(t) > 3 and t[-1] == t[-2] and t[-1] not in _VOWELS:
        return t[:-1]
    return t
