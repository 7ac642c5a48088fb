"""Keyword / actor filter expressions, e.g. `Seoul|South Korea` or `missile & (launch | -test)`.

Grammar (case-insensitive, no regular expressions, nothing reaches SQL):
    expr  := group ('|' group)*        any group may match (OR)
    group := term ('&' term)*          every term must match (AND; binds tighter than '|')
    term  := ('-' | '!' | 'NOT ') term | '(' expr ')' | phrase
A phrase matches as whole words ("ROK" does not match "Rokkasho"). Quotes around a
phrase make it literal: `"not guilty"` is a phrase, not a negation, and `"(KCNA)"` or
`"fire & fury"` keep their brackets and ampersand.

Bad syntax is an error naming the problem and its position (1 = the first character),
never a filter that silently matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce

import pandas as pd

MAX_LENGTH = 500
MAX_TERMS = 30
MAX_DEPTH = 20  # nested brackets and negations; keeps the recursive parser far from Python's limit

OPERATORS = "&|()"
DOUBLE_QUOTES, SINGLE_QUOTES = "\"“”", "'‘’"
QUOTES = DOUBLE_QUOTES + SINGLE_QUOTES


class FilterError(ValueError):
    """A filter expression that cannot be understood; the message says why and where."""


@dataclass(frozen=True)
class Term:
    phrase: str
    negated: bool = False

    @property
    def pattern(self) -> str:
        body = r"\s+".join(re.escape(w) for w in self.phrase.split())
        left = r"(?<!\w)" if re.match(r"\w", self.phrase) else ""
        right = r"(?!\w)" if re.search(r"\w$", self.phrase) else ""
        return left + body + right


@dataclass(frozen=True)
class AllOf:
    """Every part must match ('&')."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part must match ('|')."""

    parts: tuple[Node, ...]


Node = Term | AllOf | AnyOf


@dataclass(frozen=True)
class _Token:
    kind: str  # "phrase", "&", "|", "(", ")", "not", "end"
    pos: int  # 1-based column in the expression as typed
    text: str = ""


def _quote_closes(expr: str, i: int) -> bool:
    """A quote closes a quoted phrase only before a space, an operator or the end, so an
    apostrophe inside it ('Kim Jong Un's visit') stays part of the phrase."""
    return i + 1 == len(expr) or expr[i + 1].isspace() or expr[i + 1] in OPERATORS


def _tokens(expr: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
        elif c in OPERATORS:
            out.append(_Token(c, i + 1))
            i += 1
        elif c in "-!":
            out.append(_Token("not", i + 1, c))
            i += 1
        elif (expr[i:i + 3].upper() == "NOT" and i + 3 < n
              and (expr[i + 3].isspace() or expr[i + 3] == "(")):
            out.append(_Token("not", i + 1, expr[i:i + 3]))
            i += 3
        elif c in QUOTES:
            family = DOUBLE_QUOTES if c in DOUBLE_QUOTES else SINGLE_QUOTES
            j = i + 1
            while j < n and not (expr[j] in family and _quote_closes(expr, j)):
                j += 1
            if j == n:
                raise FilterError(f"filter: the quote at position {i + 1} is never closed")
            phrase = expr[i + 1:j].strip()
            if not phrase:
                raise FilterError(f"filter: empty term, the quotes at position {i + 1} hold nothing")
            out.append(_Token("phrase", i + 1, phrase))
            i = j + 1
        else:  # a bare phrase runs to the next operator; '-' and 'NOT' inside it are words
            j = i
            while j < n and expr[j] not in OPERATORS:
                j += 1
            out.append(_Token("phrase", i + 1, expr[i:j].strip()))
            i = j
    out.append(_Token("end", n + 1))
    return out


def _describe(tok: _Token) -> str:
    if tok.kind == "end":
        return "the end of the filter"
    if tok.kind == "phrase":
        return f"{tok.text!r} at position {tok.pos}"
    return f"'{tok.text or tok.kind}' at position {tok.pos}"


class _Parser:
    def __init__(self, expr: str) -> None:
        self.tokens = _tokens(expr)
        self.i = 0
        self.terms = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.any(0)
        tok = self.peek()
        if tok.kind == ")":
            raise FilterError(f"filter: ')' at position {tok.pos} has no matching '('")
        if tok.kind != "end":  # a term right after a term or a ')'
            raise FilterError(f"filter: '&' or '|' missing before {_describe(tok)}")
        return node

    def any(self, depth: int) -> Node:
        parts = [self.all(depth)]
        while self.peek().kind == "|":
            self.take()
            parts.append(self.all(depth))
        return _join(AnyOf, parts)

    def all(self, depth: int) -> Node:
        parts = [self.term(depth)]
        while self.peek().kind == "&":
            self.take()
            parts.append(self.term(depth))
        return _join(AllOf, parts)

    def term(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError(f"filter nests brackets and negations more than {MAX_DEPTH} deep")
        before = self.tokens[self.i - 1] if self.i else None
        tok = self.take()
        if tok.kind == "phrase":
            self.terms += 1
            if self.terms > MAX_TERMS:
                raise FilterError(f"filter has more than {MAX_TERMS} terms")
            return Term(tok.text)
        if tok.kind == "not":
            return _negate(self.term(depth + 1))
        if tok.kind == "(":
            if self.peek().kind == ")":
                raise FilterError(f"filter: empty brackets '()' at position {tok.pos}")
            if self.peek().kind == "end":
                raise FilterError(f"filter: '(' at position {tok.pos} is never closed")
            node = self.any(depth + 1)
            close = self.peek()
            if close.kind == "end":
                raise FilterError(f"filter: '(' at position {tok.pos} is never closed")
            if close.kind != ")":  # a term right after a term inside the brackets
                raise FilterError(f"filter: '&' or '|' missing before {_describe(close)}")
            self.take()
            return node
        # no term where one must be: name the operator that wants it
        if before is None:
            if tok.kind == ")":
                raise FilterError(f"filter: ')' at position {tok.pos} has no matching '('")
            raise FilterError(f"filter: empty term before '{tok.kind}' at position {tok.pos} "
                              "(a filter cannot start with it)")
        raise FilterError(f"filter: empty term after {_describe(before)}, before {_describe(tok)}")


def _join(kind: type[AllOf] | type[AnyOf], parts: list[Node]) -> Node:
    """One node for parts joined by one operator; `a | (b | c)` flattens to `a | b | c`."""
    if len(parts) == 1:
        return parts[0]
    flat: list[Node] = []
    for p in parts:
        flat.extend(p.parts if isinstance(p, kind) else (p,))
    return kind(tuple(flat))


def _negate(node: Node) -> Node:
    """NOT pushed down to the terms (De Morgan): the tree stays as small as the expression."""
    if isinstance(node, Term):
        return Term(node.phrase, not node.negated)
    if isinstance(node, AllOf):
        return _join(AnyOf, [_negate(p) for p in node.parts])
    return _join(AllOf, [_negate(p) for p in node.parts])


def parse_filter(expr: str | None) -> Node | None:
    """The expression as a tree of terms (None for an empty filter); raises FilterError
    naming the problem and its position."""
    if not (expr or "").strip():
        return None
    if len(expr) > MAX_LENGTH:
        raise FilterError(f"filter is {len(expr)} characters; the limit is {MAX_LENGTH}")
    return _Parser(expr).parse()


def terms(node: Node | None) -> list[Term]:
    """The terms of a parsed filter, left to right."""
    if node is None:
        return []
    if isinstance(node, Term):
        return [node]
    return [t for p in node.parts for t in terms(p)]


def filter_mask(text: pd.Series, expr: str) -> pd.Series:
    """Boolean mask of rows of `text` that satisfy `expr` (all True for an empty filter)."""
    node = parse_filter(expr)
    if node is None:
        return pd.Series(True, index=text.index)
    text = text.fillna("")
    found: dict[str, pd.Series] = {}  # a phrase used twice is searched once

    def mask(n: Node) -> pd.Series:
        if isinstance(n, Term):
            if n.phrase not in found:
                found[n.phrase] = text.str.contains(n.pattern, case=False, regex=True).astype(bool)
            return ~found[n.phrase] if n.negated else found[n.phrase]
        parts = [mask(p) for p in n.parts]
        return reduce(lambda a, b: a & b, parts) if isinstance(n, AllOf) else reduce(lambda a, b: a | b, parts)

    return mask(node)
