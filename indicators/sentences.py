"""Sentence splitting for news text, with character spans into the original.

Spans matter more than elegance here: evidence is shown by highlighting the
original text, so every sentence keeps (start, end) offsets into what was given.
Rules, in order of importance for wire copy:
- a line break ends a sentence, unless the next line starts with a comma
  (KCNA texts carry stray commas where HTML once broke a line mid-sentence);
- `.`, `!`, `?` (with any closing quotes or brackets) end a sentence when
  whitespace and a capital, digit or opening quote follow;
- a period after a known abbreviation (Mr., Jan., U.S., Gen., Mt., Secy.), a single
  letter (S. Korea, J. Smith, KCNA's "s. Korea") or initials (G.S., D.P.R.K.) does not,
  also as the last part of a hyphenated word ("U.S.-S. Korea", "anti-U.S. struggle").
"""

from __future__ import annotations

import re
from typing import NamedTuple

ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen lt col maj capt cpt sgt adm cmdr gov sen rep rev hon pres
    st jr sr inc ltd co corp bros dept univ assn est approx no nos vol vols fig pp
    mt mts secy sec org prep eq min govt comm del
    vs etc al cf ca jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n e.u u.s.a d.c a.m p.m e.g i.e ph.d c.c
    """.split()
)

SENTENCE_OPENERS = frozenset(
    "the it its this that these those he she they we i but however meanwhile in on at as a an "
    "if when after before also there such".split()
)

_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«(["
# A candidate boundary: terminal punctuation, optional closers, then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
_WORD_BEFORE = re.compile(r"([^\s" + re.escape(_OPENERS) + r"]+)$")
_STRIP_LEAD = " \t\r\n,;:"
_ALNUM = re.compile(r"[^\W_]")
_INITIALS = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")  # "G.S", "D.P.R.K" before their last period


class Sentence(NamedTuple):
    """A sentence and where it sits in the original text."""

    text: str
    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial, not a sentence."""
    match = _WORD_BEFORE.search(text, max(0, dot - 40), dot)  # a bounded look-back: linear time
    if not match:
        return False
    word = match.group(1).rsplit("-", 1)[-1]  # "U.S.-S. Korea": the part after the hyphen
    if len(word) == 1 and word.isalpha() or _INITIALS.match(word):
        return True  # an initial: "S. Korea", "J. Smith", KCNA's "s. Korea"; "G.S. Kim Jong Il"
    return word.lower().rstrip(".") in ABBREVIATIONS


def _starter_follows(text: str, pos: int) -> bool:
    """After an abbreviation, only a typical sentence opener ("The", "It") starts a new one.

    This keeps "the U.S. imperialists" and "S. Korean" whole while splitting
    "... policy of the U.S. The DPRK will ...".
    """
    m = re.match(r"\s+([A-Z][a-z]*)\b", text[pos : pos + 24])
    return m is not None and m.group(1).lower() in SENTENCE_OPENERS


def _next_starts_sentence(text: str, pos: int) -> bool:
    """After whitespace at `pos`, does what follows look like a new sentence?"""
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    if pos >= n:
        return True
    ch = text[pos]
    return ch.isupper() or ch.isdigit() or ch in _OPENERS or not ch.isalpha()


def _lines(text: str) -> list[tuple[int, int]]:
    """Line spans, with a line that starts with a comma glued to the one before."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"\n", text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and text[s:e].lstrip().startswith(","):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start] in _STRIP_LEAD or text[start].isspace()):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[Sentence]:
    """Split `text` into sentences; empty or punctuation-only pieces are dropped."""
    if "\n" not in text and not _BOUNDARY.search(text):
        return _piece(text, 0, len(text))  # the common case for titles: one sentence
    out: list[Sentence] = []
    for line_start, line_end in _lines(text):
        piece_start = line_start
        for m in _BOUNDARY.finditer(text, line_start, line_end):
            dot = m.start()
            if text[dot] == "." and m.end() - dot == 1 and _is_abbreviation(text, dot):
                if not _starter_follows(text, m.end()):
                    continue
            if not _next_starts_sentence(text, m.end()):
                continue
            out.extend(_piece(text, piece_start, m.end()))
            piece_start = m.end()
        out.extend(_piece(text, piece_start, line_end))
    return out


def _piece(text: str, start: int, end: int) -> list[Sentence]:
    start, end = _trim(text, start, end)
    if start >= end or not _ALNUM.search(text, start, end):
        return []
    return [Sentence(text[start:end], start, end)]
