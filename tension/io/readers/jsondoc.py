"""JSON documents: an array of articles, an object holding one, or a single article object.

The document is loaded whole (up to MAX_LOAD_BYTES); a broken array still gives the
elements before the break.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from tension.core.records import Article, Problem
from tension.io.readers.base import Reader
from tension.io.readers.columns import CANDIDATES
from tension.io.readers.registry import register
from tension.io.readers.streams import TooLarge, decode, read_all
from tension.io.readers.text import json_kind, json_raw, listing, norm

# Keys under which an object commonly holds its list of articles (a news API's answer).
_LIST_KEYS = ("articles", "items", "data", "results", "entries", "records", "docs", "stories",
              "news", "rows", "documents", "posts")
_WS = re.compile(r"[ \t\r\n]*")


def articles_in(obj: dict[str, Any]) -> tuple[list[Any] | None, str | None]:
    """The list of articles inside a JSON object and its key, or (None, None)."""
    for key in obj:
        if key.lower() in _LIST_KEYS and isinstance(obj[key], list):
            return obj[key], key
    for key, value in obj.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value, key
    return None, None


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def _salvage_array(text: str, start: int) -> tuple[list[Any], str]:
    """Read the elements of a broken JSON array one by one until the first error."""
    decoder = json.JSONDecoder()
    elements: list[Any] = []
    pos = _WS.match(text, start + 1).end()
    if text.startswith("]", pos):
        return elements, "unexpected text after the end of the array"
    while True:
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return elements, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        except RecursionError:
            return elements, f"invalid JSON at {_line_col(text, pos)}: nested too deeply"
        elements.append(value)
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
            continue
        if text.startswith("]", pos):
            return elements, "unexpected text after the end of the array"
        if pos >= len(text):
            return elements, "the JSON array is not closed (the file ends inside it)"
        return elements, f"invalid JSON at {_line_col(text, pos)}: expected ',' or ']'"


@register("json", extensions=(".json",), upload=True, upload_gzip=True)
@dataclass(repr=False, eq=False)
class JsonReader(Reader):
    """A JSON document; row numbers are 1-based element indexes."""

    elements: list[Any] = field(default_factory=list, init=False)  # loaded by the probe

    def probe(self) -> None:
        try:
            data, gz_error = read_all(self.origin)
        except TooLarge as exc:  # a JSON array is loaded whole (a gzip bomb would exhaust memory)
            self._fatal = True
            self._file_problem(f"{exc}; split it or use JSONL, which is streamed")
            return
        text, self.encoding, _ = decode(data, cut=gz_error is not None)
        del data
        start = _WS.match(text.lstrip("\ufeff")).end() + (1 if text.startswith("\ufeff") else 0)
        if start >= len(text):
            self._fatal = True
            self._file_problem(gz_error if gz_error else "empty file")
            return
        elements: list[Any] | None = None
        notes: list[tuple[str, str]] = []
        try:
            try:
                top, end = json.JSONDecoder().raw_decode(text, start)
            except RecursionError:
                raise json.JSONDecodeError("nested too deeply", text, start) from None
        except json.JSONDecodeError as exc:
            if text.startswith("[", start):
                elements, reason = _salvage_array(text, start)
                count = len(elements)
                noun = "element" if count == 1 else "elements"
                notes.append((f"{reason}; the {count} {noun} before it were read",
                              text[exc.pos:exc.pos + 200]))
            else:
                notes.append((f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                              text[exc.pos:exc.pos + 200]))
        else:
            rest_start = _WS.match(text, end).end()
            if rest_start < len(text):
                kind = "array" if isinstance(top, list) else "value"
                notes.append((f"trailing garbage after the JSON {kind} at {_line_col(text, rest_start)}; "
                              "the data before it was read", text[rest_start:rest_start + 200]))
            if isinstance(top, list):
                elements = top
            elif isinstance(top, dict):
                elements, _ = articles_in(top)
                if elements is None:
                    if any(norm(k) in CANDIDATES["date"] for k in top):
                        elements = [top]  # a single article object
                    else:
                        notes.append((f"no list of articles in the JSON object (keys: {listing(top)})",
                                      json_raw(top)))
            else:
                notes.append((f"the JSON top level is {json_kind(top)}, not an array or an object",
                              json_raw(top)))
        if gz_error:
            notes.append((f"{gz_error}; the data before it was read", ""))
        for reason, raw in notes:
            self._file_problem(reason, None, raw)
        if elements is None:
            self._fatal = True
            return
        if not elements:
            if not notes:
                self._file_problem("no data rows")
            self._fatal = True
            return
        keys: dict[str, None] = {}
        for element in islice((e for e in elements if isinstance(e, dict)), 1000):
            keys.update(dict.fromkeys(element))
        self.elements = elements
        if keys:
            self._mapping_problems(list(keys))

    def rows(self) -> Iterator[Article | Problem]:
        yield from self._object_rows(self.elements)
