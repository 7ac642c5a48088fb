"""Small text helpers every reader shares: cleaning cells, quoting raw input, naming inputs."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tension.core.records import Problem

# How much of a bad row a Problem quotes.
RAW_CHARS = 500

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What a database refuses in text: NUL (PostgreSQL) and lone surrogates, which JSON escapes
# such as "\ud800" produce and no UTF-8 encoder takes (SQLite and PostgreSQL alike).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def norm(name: str) -> str:
    """A column name compared loosely: lower case, letters and digits only."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def clean(value: str) -> str:
    """Strip, normalise line ends, drop ASCII control characters except \\n and \\t."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not value.isprintable():  # rare: only then look for controls and lone surrogates
        if _CONTROL.search(value):
            value = _CONTROL.sub("", value)
        if _SURROGATE.search(value):
            value = _SURROGATE.sub("\ufffd", value)
    return value.strip()


def as_text(value: Any) -> str:
    """Any cell (str, number, list of paragraphs, {"name": ...} object) as clean text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        for key in ("name", "title", "value", "text", "id"):
            if isinstance(value.get(key), str):
                return clean(value[key])
        return clean(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, list | tuple):
        return "\n".join(part for part in (as_text(v) for v in value) if part)
    if isinstance(value, float) and value != value:  # NaN from a dataframe export
        return ""
    return clean(str(value))


def short(value: str, limit: int = RAW_CHARS) -> str:
    return value[:limit]


def listing(columns: Iterable[str], limit: int = 30) -> str:
    """Column names for a message: long ones shortened, at most `limit` of them."""
    cols = [c if len(c) <= 40 else c[:37] + "..." for c in columns]
    shown = ", ".join(c if c else "''" for c in cols[:limit])
    if len(cols) > limit:
        shown += f", ... ({len(cols)} in all)"
    return shown or "(none)"


def json_kind(value: Any) -> str:
    """What a JSON value is, in words ("an array", "a number"), for a message."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__


def json_raw(value: Any) -> str:
    """A parsed value quoted as the raw text of a Problem."""
    try:
        return short(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return short(repr(value))


def size_phrase(n: int, limit: int) -> str:
    return f"is {n:,} characters, over the {limit:,} limit"


def storable_problem(problem: Problem) -> Problem:
    """A Problem a database can store: its reason and raw text quote the bad input, which
    may hold NUL or lone surrogates; those become U+FFFD so the quarantine insert cannot fail."""
    texts = (problem.reason, problem.raw, problem.field or "")
    if not any(_UNSTORABLE.search(t) for t in texts):
        return problem
    field = _UNSTORABLE.sub("\ufffd", problem.field) if problem.field else problem.field
    return Problem(problem.origin, problem.row, field, _UNSTORABLE.sub("\ufffd", problem.reason),
                   _UNSTORABLE.sub("\ufffd", problem.raw))


# ------------------------------------------------------------------------ input names


def is_url(path: str) -> bool:
    return path.lower().startswith(("http://", "https://"))


def stem(path: str) -> str:
    """The file name without .gz and extension: the default `source` of its articles."""
    if is_url(path):
        return urllib.parse.urlparse(path).netloc or path
    name = Path(path.rstrip("/\\")).name or path
    if name.lower().endswith(".gz"):
        name = name[:-3]
    base = Path(name).stem
    return clean(base or name)  # a non-UTF-8 file name decodes to lone surrogates


def ext(path: str) -> str:
    """The extension that names the format: lower case, a trailing .gz ignored."""
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return os.path.splitext(name)[1]
