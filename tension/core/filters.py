"""Keyword / actor filter expressions, e.g. `Seoul|South Korea` or `missile & -test`.

Grammar (case-insensitive, no regular expressions, nothing reaches SQL):
    expr  := group ('|' group)*        any group may match (OR)
    group := term ('&' term)*          every term must match (AND)
    term  := ['-' | '!' | 'NOT '] phrase
A phrase matches as whole words ("ROK" does not match "Rokkasho"); quotes
around a phrase are allowed and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

MAX_LENGTH = 500
MAX_TERMS = 30


class FilterError(ValueError):
    """A filter expression that cannot be understood; the message says why."""


@dataclass(frozen=True)
class Term:
    phrase: str
    negated: bool

    @property
    def pattern(self) -> str:
        body = r"\s+".join(re.escape(w) for w in self.phrase.split())
        left = r"(?<!\w)" if re.match(r"\w", self.phrase) else ""
        right = r"(?!\w)" if re.search(r"\w$", self.phrase) else ""
        return left + body + right


def parse_filter(expr: str) -> list[list[Term]]:
    """OR-list of AND-groups of terms; raises FilterError with a clear message."""
    expr = (expr or "").strip()
    if not expr:
        return []
    if len(expr) > MAX_LENGTH:
        raise FilterError(f"filter is {len(expr)} characters; the limit is {MAX_LENGTH}")
    groups = []
    for part in expr.split("|"):
        terms = []
        for raw in part.split("&"):
            t = raw.strip()
            negated = False
            if t.startswith(("-", "!")):
                negated, t = True, t[1:].strip()
            elif t.upper().startswith("NOT "):
                negated, t = True, t[4:].strip()
            t = t.strip("\"'“”‘’").strip()
            if not t:
                raise FilterError(f"empty term in filter {expr!r} (check '|', '&' and '-')")
            terms.append(Term(t, negated))
        if all(t.negated for t in terms):
            terms.insert(0, Term("", False))  # "-x" alone means: everything without x
        groups.append(terms)
    if sum(len(g) for g in groups) > MAX_TERMS:
        raise FilterError(f"filter has more than {MAX_TERMS} terms")
    return groups


def filter_mask(text: pd.Series, expr: str) -> pd.Series:
    """Boolean mask of rows of `text` that satisfy `expr` (all True for an empty filter)."""
    groups = parse_filter(expr)
    if not groups:
        return pd.Series(True, index=text.index)
    text = text.fillna("")
    out = pd.Series(False, index=text.index)
    for group in groups:
        hit = pd.Series(True, index=text.index)
        for term in group:
            if not term.phrase:
                continue
            found = text.str.contains(term.pattern, case=False, regex=True)
            hit &= ~found if term.negated else found
        out |= hit
    return out
