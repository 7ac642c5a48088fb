"""The `Reader` every format subclasses, and the row builder they share.

A format's reader overrides `probe()` (the cheap, up-front work: encoding, delimiter,
columns) and `rows()` (the stream); what `probe()` learns for `rows()` lives in typed
attributes of the subclass. `Reader.__iter__` wraps `rows()` so bad content never raises.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tension.core.dates import DateError, parse_date, parse_text_cached
from tension.core.records import MAX_FIELD_CHARS, Article, Problem
from tension.io.readers.columns import FIELDS, resolve_columns
from tension.io.readers.streams import errors_for, gzip_error, stream_encoding
from tension.io.readers.text import (
    as_text,
    clean,
    json_kind,
    json_raw,
    short,
    size_phrase,
    stem,
    storable_problem,
)

# A numeric date with the year last (25/12/2017, 12.25.2017, 1-2-2018 10:00): day or month first?
_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?=$|[\sT,])")
DATE_ORDERS = ("auto", "mdy", "dmy")


class DateOrder:
    """Whether a file writes numeric dates day-first or month-first, learnt from its rows.

    Why: 01/02/2018 is 1 February in Europe and 2 January in the US, and a file keeps
    one convention. The first date that can only be read one way (25/12/2017: day-first)
    settles it for the rest of the file; until then, ambiguous dates are read month-first.
    A date that contradicts the file's order is a Problem, never a silent swap.
    `fixed` ("mdy" or "dmy") is the analyst's --date-order: nothing is learnt then."""

    __slots__ = ("order", "fixed", "example")

    def __init__(self, fixed: str = "auto") -> None:
        self.fixed = fixed if fixed != "auto" else None
        self.order = self.fixed
        self.example: str | None = None  # the date that settled the order, or the first read mdy

    def apply(self, text: str) -> str:
        """The date as the month-first parser should see it; raises DateError on a contradiction."""
        m = _NUMERIC_DATE.match(text)
        if not m:
            return text
        a, b = int(m.group(1)), int(m.group(3))
        only = "dmy" if a > 12 >= b else "mdy" if b > 12 >= a else None
        if only and self.order is None:
            if only == "dmy" and self.example is not None:
                raise DateError(f"date '{text.strip()}' is day-first, but this file's earlier date "
                                f"'{self.example}' was read month-first; undo this import (python -m "
                                "tension runs list, runs remove) and import the file with --date-order "
                                "dmy (or mdy)")
            self.order, self.example = only, text.strip()
        elif only and only != self.order:
            why = f"as --date-order {self.fixed} says" if self.fixed else f"as '{self.example}' shows"
            first = "day" if self.order == "dmy" else "month"
            raise DateError(f"date '{text.strip()}' cannot be {first}-first, and this file writes dates "
                            f"{first}-first ({why})")
        elif self.order is None and a != b and self.example is None:
            self.example = text.strip()  # read month-first until the file says otherwise
        if self.order == "dmy":
            return f"{m.group(3)}{m.group(2)}{m.group(1)}{m.group(2)}{m.group(4)}{text[m.end():]}"
        return text


class Builder:
    """Turns one row's raw values into an Article or a Problem (shared by every format)."""

    __slots__ = ("origin", "tz", "source", "default_source", "limit", "dates", "default_date")

    def __init__(self, origin: str, tz: str, source: str | None, default_source: str, limit: int,
                 date_order: str = "auto", default_date: dt.date | None = None):
        self.origin = origin
        self.tz = tz
        self.source = source
        self.default_source = default_source
        self.limit = limit
        self.dates = DateOrder(date_order)
        # The analyst's --date: the day of a row whose date is missing (None, blank, NaN);
        # a row's own date, even a bad one, is never replaced by it.
        self.default_date = default_date

    def make(self, row: int, values: tuple[Any, ...], raw: Callable[[], str],
             origin: str | None = None, check_size: bool = True) -> Article | Problem:
        """values are in FIELDS order: date, title, text, source, url, ext_id.

        `check_size=False` lets a caller that knows the whole row is under the limit
        skip the per-field length check (the hot path of the real corpora).
        """
        where = origin or self.origin
        if check_size:
            limit = self.limit
            for name, value in zip(FIELDS, values, strict=True):
                if isinstance(value, str) and len(value) > limit:
                    return Problem(where, row, name,
                                   f"field '{name}' {size_phrase(len(value), limit)}", short(raw()))
        date_value = values[0]
        if date_value.__class__ is str:
            if date_value[1:2] in "/.-" or date_value[2:3] in "/.-":  # 1/2/… or 25/12/…, not ISO
                try:
                    date_value = self.dates.apply(date_value)
                except DateError as exc:
                    return Problem(where, row, "date", str(exc), short(raw()))
            parsed = parse_text_cached(date_value, self.tz)
            if parsed.__class__ is str:
                if self.default_date is None or date_value.strip():
                    return Problem(where, row, "date", parsed, short(raw()))
                parsed = (self.default_date, None)
            day, instant = parsed
        elif date_value is None:
            if self.default_date is None:
                return Problem(where, row, "date", "missing date", short(raw()))
            day, instant = self.default_date, None
        else:
            try:
                day, instant = parse_date(date_value, self.tz)
            except DateError as exc:
                if self.default_date is None or str(exc) != "missing date":  # NaN is missing
                    return Problem(where, row, "date", str(exc), short(raw()))
                day, instant = self.default_date, None
        title = values[1]
        title = clean(title) if title.__class__ is str else as_text(title)
        text = values[2]
        text = clean(text) if text.__class__ is str else as_text(text)
        if not title and not text:
            return Problem(where, row, "text", "empty title and text", short(raw()))
        source = self.source or as_text(values[3]) or self.default_source
        url = values[4]
        url = clean(url) if url.__class__ is str else as_text(url)
        ext_id = as_text(values[5]) or None
        return Article(day, title, text, source, url, ext_id, instant, where, row)


@dataclass
class Reader:
    """One input (file, folder or URL) ready to stream Articles and Problems.

    `format` and `mapping` say what was detected (or forced), so the caller can tell
    the user "csv, delimiter ';', date=pubDate" before reading, as sqlite-utils does.
    Row numbers in Problems and Articles: for CSV/TSV the data row counting the header
    as row 1 (so the first data row is row 2; a quoted field spanning several lines is
    still one row); JSONL the 1-based line number; JSON arrays and Parquet the 1-based
    element index; feeds the 1-based entry index; txt folders row=None in Problems
    (the origin is the file) and row=1 in Articles.

    A format subclasses it and overrides `probe()` and `rows()`; what the probe learns for
    the rows goes in typed fields of the subclass (a dataclass with `repr=False, eq=False`,
    so that state stays out of the repr and of comparisons).
    """

    origin: str
    format: str
    mapping: dict[str, str]
    source: str | None = None
    tz: str = "UTC"
    date_order: str = "auto"
    encoding: str | None = None
    delimiter: str | None = None
    detected: str = "forced"
    max_field: int = MAX_FIELD_CHARS
    # The day of the articles that have no date of their own (--date, the upload box's date).
    default_date: dt.date | None = None
    # The input's own file name when `origin` is a stored copy of it (an upload saved as
    # STAMP_RANDOM_NAME): the default source and a date in the name come from it, never
    # from the copy's stamp (which would make an undated article the upload day's news).
    name: str | None = None
    _setup: list[Problem] = field(default_factory=list, repr=False, compare=False)
    _fatal: bool = field(default=False, repr=False, compare=False)
    # The columns the analyst named (--map), field aliases resolved.
    _forced: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def probe(self) -> None:
        """Find what `rows()` needs (encoding, delimiter, columns) before any row is read.

        Problems that stop the whole input go through `_file_problem` with `_fatal` set;
        an OSError means the input cannot be read at all (open_reader raises ReadError).
        """

    def rows(self) -> Iterator[Article | Problem]:
        """The input's items in order; called only when `probe()` found nothing fatal."""
        return iter(())

    def describe(self) -> str:
        """One line for the user: what was detected and which columns are used."""
        parts = [f"{self.format} ({self.detected})"]
        if self.delimiter is not None:
            parts.append(f"delimiter {self.delimiter!r}")
        if self.encoding is not None:
            parts.append(f"encoding {self.encoding}")
        if self.mapping:
            parts.append("columns " + ", ".join(f"{k}={v}" for k, v in self.mapping.items()))
        return f"{self.origin}: " + "; ".join(parts)

    def __iter__(self) -> Iterator[Article | Problem]:
        """Stream the items; bad content yields Problems, it never raises."""
        for problem in self._setup:
            yield storable_problem(problem)
        if self._fatal:
            return
        try:
            for item in self.rows():
                yield storable_problem(item) if item.__class__ is Problem else item
        except Exception as exc:  # a reader bug or an I/O failure must not kill the ingest
            yield storable_problem(Problem(self.origin, None, None,
                                   f"reading stopped early: {type(exc).__name__}: {exc}"))

    def batches(self, size: int = 5000) -> Iterator[list[Article | Problem]]:
        """The same items in lists of `size`, for bulk inserts."""
        if size < 1:
            raise ValueError("batch size must be at least 1")
        batch: list[Article | Problem] = []
        for item in self:
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    # ---------------------------------------------------------- for the format subclasses

    def _builder(self) -> Builder:
        return Builder(self.origin, self.tz, self.source, stem(self.name or self.origin), self.max_field,
                       self.date_order, self.default_date)

    def _file_problem(self, reason: str, field_name: str | None = None, raw: str = "") -> None:
        self._setup.append(Problem(self.origin, None, field_name, reason, short(raw)))

    def _mapping_problems(self, columns: list[str], raw: str = "") -> None:
        self.mapping, problems = resolve_columns(columns, self._forced,
                                                 need_date=self.default_date is None)
        for field_name, reason in problems:
            self._file_problem(reason, field_name, raw)
        if problems:
            self._fatal = True

    def _open_sample(self) -> tuple[str, bytes, str | None, bool] | None:
        """The start of a streamed text file, decoded (its encoding set on the reader), with
        the raw sample, any gzip error and whether it was cut mid-character; None for an
        empty file, recorded as a fatal problem."""
        encoding, sample, gz_error, cut = stream_encoding(self.origin)
        self.encoding = encoding
        text = sample.decode(encoding, errors=errors_for(encoding))
        if not text.strip("\ufeff \t\r\n"):
            self._fatal = True
            self._file_problem(gz_error if gz_error else "empty file")
            return None
        return text, sample, gz_error, cut

    def _fatal_gzip_note(self, gz_error: str | None, what: str) -> None:
        """A reader made fatal by its columns still reports a broken gzip (its rows are not read)."""
        error = gzip_error(self.origin, gz_error)
        if error is not None:
            self._file_problem(f"{error}; {what}")

    def _object_rows(self, objects: Iterable[Any]) -> Iterator[Article | Problem]:
        """Rows that are already Python objects (JSON elements, Parquet rows), numbered from 1."""
        origin = self.origin
        build = self._builder().make
        keys = tuple(self.mapping.get(name) for name in FIELDS)
        for number, value in enumerate(objects, start=1):
            if not isinstance(value, dict):
                yield Problem(origin, number, None, f"element is {json_kind(value)}, not a JSON object",
                              json_raw(value))
                continue
            get = value.get
            values = tuple(None if k is None else get(k) for k in keys)
            yield build(number, values, lambda v=value: json_raw(v))
