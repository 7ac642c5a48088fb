"""The one article schema every reader produces, and the problem record for bad rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

# The longest text field accepted (characters), on ingest and on score-text's stdin: no real
# article is longer, and scoring and storing beyond it costs minutes and gigabytes.
MAX_FIELD_CHARS = 2_000_000


class Article(NamedTuple):
    """One parsed article, before it reaches the store.

    `date` is the calendar day in the analysis time zone; `published_at` keeps the
    original instant (ISO 8601, UTC) when the source had a time, else None.
    `origin` and `row` say where it came from so every later message can name them.
    """

    date: dt.date
    title: str
    text: str
    source: str
    url: str
    ext_id: str | None
    published_at: str | None
    origin: str
    row: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A row (or a whole file, row=None) that could not be read, and why."""

    origin: str
    row: int | None
    field: str | None
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        where = self.origin if self.row is None else f"{self.origin}, row {self.row}"
        field = f", field '{self.field}'" if self.field else ""
        return f"{where}{field}: {self.reason}"


def storable(path: str) -> str:
    """A file name as text any database accepts (undecodable bytes become \\x escapes)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
