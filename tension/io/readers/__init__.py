"""Article readers: the "ingest: parse, validate" step.

Every supported input (CSV/TSV, JSON, JSONL, Parquet, a folder of .txt/.md files,
RSS/Atom files or URLs, each optionally gzip-compressed) becomes a stream of
`Article` records, and every row that cannot become one becomes a `Problem` that
names the file, the row, the field and the reason. Why a stream of both instead of
exceptions: an analyst's corpus always has a few bad rows, and the good rows of the
same file must still get in while the bad ones go to a quarantine the user can read.

`open_reader` does the cheap, up-front work (find the format, the encoding, the
delimiter and the columns) so the caller can tell the user what was detected before
reading; iterating the `Reader` does the rest and never raises for bad content.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import datetime as dt
import html
import io
import json
import operator
import os
import re
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from tension.core.dates import DateError, parse_date, parse_text_cached, zone
from tension.core.records import MAX_FIELD_CHARS, Article, Problem

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "txt", "rss")
FIELDS = ("date", "title", "text", "source", "url", "ext_id")
RAW_CHARS = 500
NO_DATE_TXT = "no date: add front matter, a sidecar .json or a date in the file name"

# Column names we recognise, compared after lower-casing and dropping everything but
# letters and digits (so "pubDate", "publish_date" and "Published At" all match).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "date": ("date", "published", "pubdate", "publishdate", "publishedat", "datetime", "time",
             "timestamp", "publicationdate", "pubdatetime", "createdat", "created", "updated"),
    "title": ("title", "headline", "heading"),
    "text": ("text", "body", "content", "story", "storytext", "article", "summary",
             "description", "articletext", "fulltext"),
    "source": ("source", "domain", "outlet", "publisher", "sourcename", "site"),
    "url": ("url", "link", "href", "permalink", "uri"),
    "ext_id": ("id", "articleid", "guid", "uid", "docid"),
}
_FIELD_ALIASES = {"id": "ext_id", "extid": "ext_id", "ext_id": "ext_id", "link": "url",
                  "body": "text", "headline": "title"}

_EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".jsonlines": "jsonl", ".parquet": "parquet", ".pq": "parquet",
    ".txt": "txt", ".md": "txt", ".markdown": "txt", ".rss": "rss", ".atom": "rss",
    ".xml": "rss",
}
_TEXT_EXTENSIONS = (".txt", ".md", ".markdown")
_CHUNK = 1 << 20
_SAMPLE = 1 << 20
_DELIMITERS = (",", ";", "\t", "|")
_LIST_KEYS = ("articles", "items", "data", "results", "entries", "records", "docs", "stories",
              "news", "rows", "documents", "posts")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What a database refuses in text: NUL (PostgreSQL) and lone surrogates, which JSON escapes
# such as "\ud800" produce and no UTF-8 encoder takes (SQLite and PostgreSQL alike).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_NAME_DATE = (re.compile(r"(?<!\d)(\d{4})([-_.])(\d{2})\2(\d{2})(?!\d)"),
              re.compile(r"(?<!\d)(\d{4})()(\d{2})(\d{2})(?!\d)"))
_FEED_TIMEOUT = 30
_FEED_MAX_BYTES = 64 * 1024 * 1024
# Inputs that are loaded whole (a JSON array, a feed, a text article, a gzipped Parquet file)
# stop at this many decompressed bytes: a small .gz can expand to gigabytes. CSV, TSV and
# JSONL are streamed and have no such cap.
MAX_LOAD_BYTES = 512 * 1024 * 1024
CUT_UTF8 = "the file ends inside a multi-byte UTF-8 character (it was cut short)"
CUT_UTF16 = "the file ends inside a UTF-16 character (it was cut short)"


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """Decode a byte cp1252 leaves undefined (0x81, 0x8d, ...) as Latin-1, so decoding never fails."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start:err.end].decode("latin-1"), err.end


codecs.register_error("tension-latin1", _latin1_fallback)


class ReadError(Exception):
    """The whole input cannot be read at all (missing path, unknown format, bad option).

    Bad *content* never raises: it becomes `Problem` records while iterating.
    """


# ----------------------------------------------------------------------------- helpers


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _clean(value: str) -> str:
    """Strip, normalise line ends, drop ASCII control characters except \\n and \\t."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not value.isprintable():  # rare: only then look for controls and lone surrogates
        if _CONTROL.search(value):
            value = _CONTROL.sub("", value)
        if _SURROGATE.search(value):
            value = _SURROGATE.sub("\ufffd", value)
    return value.strip()


def _as_text(value: Any) -> str:
    """Any cell (str, number, list of paragraphs, {"name": ...} object) as clean text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        for key in ("name", "title", "value", "text", "id"):
            if isinstance(value.get(key), str):
                return _clean(value[key])
        return _clean(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, list | tuple):
        return "\n".join(part for part in (_as_text(v) for v in value) if part)
    if isinstance(value, float) and value != value:  # NaN from a dataframe export
        return ""
    return _clean(str(value))


def _short(value: str, limit: int = RAW_CHARS) -> str:
    return value[:limit]


def _listing(columns: Iterable[str], limit: int = 30) -> str:
    cols = [c if len(c) <= 40 else c[:37] + "..." for c in columns]
    shown = ", ".join(c if c else "''" for c in cols[:limit])
    if len(cols) > limit:
        shown += f", ... ({len(cols)} in all)"
    return shown or "(none)"


def _json_kind(value: Any) -> str:
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


def _is_url(path: str) -> bool:
    return path.lower().startswith(("http://", "https://"))


def _stem(path: str) -> str:
    """The file name without .gz and extension: the default `source` of its articles."""
    if _is_url(path):
        return urllib.parse.urlparse(path).netloc or path
    name = Path(path.rstrip("/\\")).name or path
    if name.lower().endswith(".gz"):
        name = name[:-3]
    stem = Path(name).stem
    return _clean(stem or name)  # a non-UTF-8 file name decodes to lone surrogates


def _ext(path: str) -> str:
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return os.path.splitext(name)[1]


def _json_raw(value: Any) -> str:
    try:
        return _short(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return _short(repr(value))


def _size_phrase(n: int, limit: int) -> str:
    return f"is {n:,} characters, over the {limit:,} limit"


# ------------------------------------------------------------------ bytes and encodings


class _Gunzip:
    """Incremental gunzip in small input steps, so a broken stream loses as little as possible.

    Why not gzip.GzipFile: it decompresses large blocks and raises before returning
    the data it already had, so a truncated file could lose every row before the cut.
    Handles multi-member files and zero padding like gzip does.
    """

    _STEP = 16 * 1024

    def __init__(self, handle: Any) -> None:
        self._file = handle
        self._inflate = zlib.decompressobj(31)
        self._tail = b""
        self._fresh = True  # before the first byte of a member

    def read(self, size: int) -> bytes:
        """Up to `size` decompressed bytes; b"" at the clean end; raises EOFError or zlib.error."""
        while True:
            if self._tail:
                data, self._tail = self._tail, b""
            else:
                data = self._file.read(self._STEP)
            if not data:
                if self._fresh:
                    return b""
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            if self._fresh:
                data = data.lstrip(b"\x00")
                if not data:
                    continue
                if len(data) < 2 and not self._tail:
                    data += self._file.read(1)
                if not data.startswith(b"\x1f\x8b"):
                    raise zlib.error("data after the end of the compressed stream is not gzip")
                self._fresh = False
            out = self._inflate.decompress(data, size)
            self._tail = self._inflate.unconsumed_tail
            if self._inflate.eof:
                self._tail = self._inflate.unused_data
                self._inflate = zlib.decompressobj(31)
                self._fresh = True
            if out:
                return out


class _SafeStream(io.RawIOBase):
    """A binary stream (plain or gunzipped) that ends, instead of raising, at a broken gzip.

    The first error is kept in `error` so the reader can report it after the rows that
    were read before it. Gzip is detected by its magic bytes, not by the file name.
    `source` is a path or an open binary file (which is then closed with the stream).
    """

    def __init__(self, source: str | io.BufferedIOBase | io.BytesIO) -> None:
        super().__init__()
        self._file = open(source, "rb") if isinstance(source, str) else source
        self.compressed = self._file.read(2) == b"\x1f\x8b"
        self._file.seek(0)
        self._gunzip = _Gunzip(self._file) if self.compressed else None
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.error is not None:
            return 0
        if self._gunzip is None:
            try:
                return self._file.readinto(buffer)
            except OSError as exc:
                self.error = f"read error: {exc}"
                return 0
        try:
            data = self._gunzip.read(len(buffer))
        except EOFError as exc:
            self.error = f"truncated gzip stream: the compressed data ends early ({exc})"
            return 0
        except zlib.error as exc:
            self.error = f"corrupt gzip stream: {exc}"
            return 0
        except OSError as exc:
            self.error = f"read error: {exc}"
            return 0
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        parts: list[bytes] = []
        while True:
            chunk = self.read(_CHUNK)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def read_up_to(self, size: int) -> bytes:
        """Read until `size` bytes or the end (RawIOBase.read stops after one chunk)."""
        parts: list[bytes] = []
        got = 0
        while got < size:
            chunk = self.read(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            super().close()


class _TooLarge(Exception):
    """An input to be loaded whole is over MAX_LOAD_BYTES; str() is the start of the reason."""


def _load_limit() -> str:
    limit = MAX_LOAD_BYTES
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit:,} bytes"


def _read_all(source: str | io.BytesIO) -> tuple[bytes, str | None]:
    """All (decompressed) bytes of a file, and the gzip error that cut them short, if any.

    Raises _TooLarge past MAX_LOAD_BYTES, having read no more than that: a gzip bomb must
    not exhaust the memory before anything can be said about it.
    """
    limit = MAX_LOAD_BYTES
    with _SafeStream(source) as stream:
        if not stream.compressed:
            file = stream._file
            size = os.fstat(file.fileno()).st_size if isinstance(source, str) else len(file.getvalue())
            if size > limit:
                raise _TooLarge(f"the file is larger than {_load_limit()}")
        data = stream.read_up_to(limit + 1)
        if len(data) > limit:
            raise _TooLarge(f"the file decompresses to more than {_load_limit()}")
        return data, stream.error


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _cut_utf8(exc: UnicodeDecodeError, size: int) -> bool:
    """The first (so only) UTF-8 error is an incomplete character in the last 3 bytes."""
    return exc.reason == "unexpected end of data" and exc.end == size and size - exc.start <= 3


def _decode(data: bytes, cut: bool = False) -> tuple[str, str, bool]:
    """Decode a whole file: BOM, else strict UTF-8, else cp1252 with Latin-1 for its holes.

    Returns (text, encoding, whether the file ends inside a UTF-8 character). A file that is
    valid UTF-8 up to an incomplete character at its very end was cut short (a download that
    stopped, a truncated gzip: `cut`); it stays UTF-8 and the broken tail becomes U+FFFD.
    Only when everything before that tail is ASCII, and nothing says the file was cut, is
    the last byte taken as a cp1252 letter (the text before it is the same in both).
    """
    encoding = _bom_encoding(data[:4])
    if encoding is not None:
        return (data.decode(encoding, errors="tension-latin1" if encoding != "utf-16" else "replace"),
                encoding, False)
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError as exc:
        if _cut_utf8(exc, len(data)) and (cut or not data[:exc.start].isascii()):
            return data.decode("utf-8", errors="replace"), "utf-8", True
        return data.decode("cp1252", errors="tension-latin1"), "cp1252", False


def _stream_encoding(path: str) -> tuple[str, bytes, str | None, bool]:
    """Decide one encoding for a whole file by validating it as UTF-8 in chunks.

    Returns (encoding, the first bytes as a sample, the gzip error met on the way, whether
    the file ends inside a UTF-8 character). Why a full pass: a Latin-1 byte at row 90,000
    must not turn the file into mojibake after 89,999 rows were already decoded as UTF-8
    (or crash the read). A file cut inside its last character stays UTF-8 (see _decode).
    """
    with _SafeStream(path) as stream:
        sample = stream.read_up_to(_SAMPLE)
        encoding = _bom_encoding(sample[:4])
        if encoding is not None:
            return encoding, sample, stream.error, False
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        chunk = sample
        valid = True
        ascii_only = True
        while chunk:
            try:
                ascii_only = decoder.decode(chunk).isascii() and ascii_only
            except UnicodeDecodeError:
                valid = False
                break
            chunk = stream.read(_CHUNK) or b""
        cut = False
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                # An incomplete character at the very end (the decoder holds at most 3 bytes):
                # the file was cut short, which is not an encoding problem.
                valid = cut = stream.error is not None or not ascii_only
        if valid:
            return "utf-8", sample, stream.error, cut
        # Not UTF-8: stop here; a broken gzip further on is reported by the row stream.
        return "cp1252", sample, stream.error, False


def _gzip_error(path: str, known: str | None) -> str | None:
    """The gzip error of a file, reading it through if `known` is None and it is gzip.

    For an input that is fatal before its rows are read (so the row stream cannot report it).
    """
    if known is not None:
        return known
    with _SafeStream(path) as stream:
        if not stream.compressed:
            return None
        while stream.read(_CHUNK):
            pass
        return stream.error


def _text_stream(path: str, encoding: str, newline: str | None) -> tuple[io.TextIOWrapper, _SafeStream]:
    raw = _SafeStream(path)
    errors = "replace" if encoding in ("utf-8", "utf-16") else "tension-latin1"
    text = io.TextIOWrapper(io.BufferedReader(raw, _CHUNK), encoding=encoding, errors=errors,
                            newline=newline)
    return text, raw


# ----------------------------------------------------------------------------- mapping


def parse_mapping(spec: str) -> dict[str, str]:
    """Parse `--map` text: "date=pub,text=body" -> {"date": "pub", "text": "body"}.

    Why strict: a typo in a field name would otherwise silently fall back to
    auto-detection and read the wrong column. Raises ValueError with a clear message.
    """
    if spec is None or not spec.strip():
        raise ValueError("empty --map: use FIELD=COLUMN pairs separated by commas, e.g. date=pubDate")
    result: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"bad --map item '{part}': use FIELD=COLUMN, e.g. date=pubDate")
        key, _, column = part.partition("=")
        key, column = key.strip(), column.strip()
        if not key or not column:
            raise ValueError(f"bad --map item '{part}': both FIELD and COLUMN are needed")
        name = _FIELD_ALIASES.get(key.lower(), key.lower())
        if name not in FIELDS:
            raise ValueError(f"unknown field '{key}' in --map: fields are {', '.join(FIELDS)}")
        if name in result:
            raise ValueError(f"field '{name}' given twice in --map")
        result[name] = column
    if not result:
        raise ValueError("empty --map: use FIELD=COLUMN pairs separated by commas, e.g. date=pubDate")
    return result


def _check_mapping(mapping: dict[str, str] | None, origin: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, column in (mapping or {}).items():
        name = _FIELD_ALIASES.get(str(key).lower(), str(key).lower())
        if name not in FIELDS:
            raise ReadError(f"{origin}: unknown field '{key}' in the mapping: fields are {', '.join(FIELDS)}")
        out[name] = str(column)
    return out


def _resolve_columns(columns: list[str], forced: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Choose a source column for each of our fields; returns (mapping, [(field, reason)])."""
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(_norm(column), column)
    present = set(columns)
    mapping: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for name, column in forced.items():
        if column in present:
            mapping[name] = column
        elif _norm(column) in by_norm:
            mapping[name] = by_norm[_norm(column)]
        else:
            problems.append((name, f"column '{column}' (from --map {name}={column}) not found; "
                                   f"columns found: {_listing(columns)}"))
    for name, candidates in CANDIDATES.items():
        if name in mapping or name in forced:
            continue
        used = set(mapping.values())
        for candidate in candidates:
            column = by_norm.get(candidate)
            if column is not None and column not in used:
                mapping[name] = column
                break
    if "date" not in mapping and "date" not in forced:
        problems.append(("date", f"no date column found; columns found: {_listing(columns)}; "
                                 "use --map date=COLUMN"))
    if "title" not in mapping and "text" not in mapping and "title" not in forced and "text" not in forced:
        problems.append(("text", f"no title or text column found; columns found: {_listing(columns)}; "
                                 "use --map title=COLUMN or --map text=COLUMN"))
    ordered = {name: mapping[name] for name in FIELDS if name in mapping}
    return ordered, problems


def _storable(problem: Problem) -> Problem:
    """A Problem a database can store: its reason and raw text quote the bad input, which
    may hold NUL or lone surrogates; those become U+FFFD so the quarantine insert cannot fail."""
    texts = (problem.reason, problem.raw, problem.field or "")
    if not any(_UNSTORABLE.search(t) for t in texts):
        return problem
    field = _UNSTORABLE.sub("\ufffd", problem.field) if problem.field else problem.field
    return Problem(problem.origin, problem.row, field, _UNSTORABLE.sub("\ufffd", problem.reason),
                   _UNSTORABLE.sub("\ufffd", problem.raw))


# ----------------------------------------------------------------------- row building


# A numeric date with the year last (25/12/2017, 12.25.2017, 1-2-2018 10:00): day or month first?
_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?=$|[\sT,])")
DATE_ORDERS = ("auto", "mdy", "dmy")


class _DateOrder:
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


class _Builder:
    """Turns one row's raw values into an Article or a Problem (shared by every format)."""

    __slots__ = ("origin", "tz", "source", "default_source", "limit", "dates")

    def __init__(self, origin: str, tz: str, source: str | None, default_source: str, limit: int,
                 date_order: str = "auto"):
        self.origin = origin
        self.tz = tz
        self.source = source
        self.default_source = default_source
        self.limit = limit
        self.dates = _DateOrder(date_order)

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
                                   f"field '{name}' {_size_phrase(len(value), limit)}", _short(raw()))
        date_value = values[0]
        if date_value.__class__ is str:
            if date_value[1:2] in "/.-" or date_value[2:3] in "/.-":  # 1/2/… or 25/12/…, not ISO
                try:
                    date_value = self.dates.apply(date_value)
                except DateError as exc:
                    return Problem(where, row, "date", str(exc), _short(raw()))
            parsed = parse_text_cached(date_value, self.tz)
            if parsed.__class__ is str:
                return Problem(where, row, "date", parsed, _short(raw()))
            day, instant = parsed
        elif date_value is None:
            return Problem(where, row, "date", "missing date", _short(raw()))
        else:
            try:
                day, instant = parse_date(date_value, self.tz)
            except DateError as exc:
                return Problem(where, row, "date", str(exc), _short(raw()))
        title = values[1]
        title = _clean(title) if title.__class__ is str else _as_text(title)
        text = values[2]
        text = _clean(text) if text.__class__ is str else _as_text(text)
        if not title and not text:
            return Problem(where, row, "text", "empty title and text", _short(raw()))
        source = self.source or _as_text(values[3]) or self.default_source
        url = values[4]
        url = _clean(url) if url.__class__ is str else _as_text(url)
        ext_id = _as_text(values[5]) or None
        return Article(day, title, text, source, url, ext_id, instant, where, row)


# ------------------------------------------------------------------------- the Reader


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
    _setup: list[Problem] = field(default_factory=list, repr=False, compare=False)
    _fatal: bool = field(default=False, repr=False, compare=False)
    _rows: Callable[[Reader], Iterator[Article | Problem]] | None = field(default=None, repr=False,
                                                                          compare=False)
    _state: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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
            yield _storable(problem)
        if self._fatal or self._rows is None:
            return
        try:
            for item in self._rows(self):
                yield _storable(item) if item.__class__ is Problem else item
        except Exception as exc:  # a reader bug or an I/O failure must not kill the ingest
            yield _storable(Problem(self.origin, None, None,
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

    def _builder(self) -> _Builder:
        return _Builder(self.origin, self.tz, self.source, _stem(self.origin), self.max_field,
                        self.date_order)

    def _file_problem(self, reason: str, field_name: str | None = None, raw: str = "") -> None:
        self._setup.append(Problem(self.origin, None, field_name, reason, _short(raw)))

    def _mapping_problems(self, columns: list[str], raw: str = "") -> None:
        self.mapping, problems = _resolve_columns(columns, self._state.get("forced", {}))
        for field_name, reason in problems:
            self._file_problem(reason, field_name, raw)
        if problems:
            self._fatal = True


# ------------------------------------------------------------------------ CSV and TSV


def _sniff_delimiter(sample: str, preferred: str) -> str:
    """Pick among , ; TAB | the delimiter that splits the header widest and rows evenly."""
    best, best_score = preferred, (-1.0, 0)
    order = (preferred,) + tuple(d for d in _DELIMITERS if d != preferred)
    for delimiter in order:
        try:
            records = [r for r in islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 50) if r]
        except csv.Error:
            continue
        if len(records) > 2:
            records = records[:-1]  # the sample may cut the last record
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistency = round(sum(len(r) == width for r in records) / len(records), 1)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _open_sample(reader: Reader, path: str) -> tuple[str, bytes, str | None, bool] | None:
    """The start of a text file, decoded (its encoding set on the reader), with the raw
    sample, any gzip error and whether it was cut mid-character; None for an empty file,
    recorded as a fatal problem."""
    encoding, sample, gz_error, cut = _stream_encoding(path)
    reader.encoding = encoding
    text = sample.decode(encoding, errors="replace" if encoding in ("utf-8", "utf-16") else "tension-latin1")
    if not text.strip("\ufeff \t\r\n"):
        reader._fatal = True
        reader._file_problem(gz_error if gz_error else "empty file")
        return None
    return text, sample, gz_error, cut


def _probe_delimited(reader: Reader, path: str) -> None:
    opened = _open_sample(reader, path)
    if opened is None:
        return
    text, sample, gz_error, cut = opened
    if (gz_error or cut) and len(sample) < _SAMPLE and "\n" not in text and "\r" not in text:
        # The data ends inside the header line: its column names are cut, so the real
        # cause is reported instead of "no date column found".
        reader._fatal = True
        reason = (f"{gz_error}; the file ends inside its header" if gz_error else
                  "the file ends inside its header, in the middle of a UTF-8 character (it was cut short)")
        reader._file_problem(reason, raw=text)
        return
    reader._state["cut"] = CUT_UTF8 if cut else None
    preferred = "\t" if reader.format == "tsv" else ","
    reader.delimiter = _sniff_delimiter(text, preferred)
    if reader.delimiter == "\t" and "content" in reader.detected:
        reader.format = "tsv"
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=reader.delimiter), [])
    except csv.Error:
        header = []
    header = [_clean(h.lstrip("\ufeff")) for h in header]
    reader._state["path"] = path
    reader._state["header"] = header
    reader._mapping_problems(header, raw=reader.delimiter.join(header))
    if reader._fatal:
        _fatal_gzip_note(reader, path, gz_error, "no rows were read")


def _fatal_gzip_note(reader: Reader, path: str, gz_error: str | None, what: str) -> None:
    """A reader made fatal by its columns still reports a broken gzip (its rows are not read)."""
    error = _gzip_error(path, gz_error)
    if error is not None:
        reader._file_problem(f"{error}; {what}")


def _rows_delimited(reader: Reader) -> Iterator[Article | Problem]:
    """Stream a CSV/TSV: one Python loop over csv.reader, dates parsed once per distinct string."""
    csv.field_size_limit(2**31 - 1)  # our own per-field limit gives the message, not csv's
    path = reader._state["path"]
    header: list[str] = reader._state["header"]
    index = {name: header.index(col) for name, col in reader.mapping.items()}
    # Each record gets a None appended, so a field without a column reads index -1.
    pick = operator.itemgetter(*(index.get(name, -1) for name in FIELDS))
    width = len(header)
    limit = reader.max_field
    build = reader._builder().make
    origin = reader.origin
    text, raw_stream = _text_stream(path, reader.encoding or "utf-8", newline="")
    buffer: list[str] = []
    partial: list[str] = []

    cut = reader._state.get("cut")  # the file ends inside a UTF-8 character
    ended: list[bool] = []  # csv.reader asked for a line after the last one

    def lines() -> Iterator[str]:
        for line in text:
            if (raw_stream.error is not None or cut) and not line.endswith(("\n", "\r")):
                partial.append(line)  # the cut-off last line of a broken gzip or file: not a row
                break
            buffer.append(line)
            yield line
        ended.append(True)

    def raw() -> str:
        return "".join(buffer).rstrip("\r\n")

    row = 0
    data_rows = 0
    with text:
        records = csv.reader(lines(), delimiter=reader.delimiter or ",")
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except csv.Error as exc:
                row += 1
                yield Problem(origin, row, None, f"unreadable CSV row: {exc}", _short(raw()))
                buffer.clear()
                continue
            row += 1
            if row == 1:  # the header
                buffer.clear()
                continue
            if ended and (raw_stream.error is not None or cut):
                # A record that csv.reader closed at the end of the data was inside a quoted
                # field when the file was cut: its end is lost.
                data_rows += 1
                yield Problem(origin, row, None, "the file ends inside this row (it was cut short)",
                              _short(raw()))
                buffer.clear()
                continue
            if len(record) != width:
                if not record or (len(record) == 1 and not record[0].strip()):
                    buffer.clear()  # a blank line
                    continue
                data_rows += 1
                yield Problem(origin, row, None,
                              f"wrong number of fields: expected {width} (as in the header), "
                              f"found {len(record)}", _short(raw()))
                buffer.clear()
                continue
            data_rows += 1
            record.append(None)
            big = len(buffer) > 1 or len(buffer[0]) > limit if buffer else True
            yield build(row, pick(record), raw, None, big)
            buffer.clear()
    if raw_stream.error is not None or cut:
        yield Problem(origin, None, None, f"{raw_stream.error or cut}; the rows before it were read",
                      _short("".join(partial)))
    elif data_rows == 0:
        yield Problem(origin, None, None, "no data rows", _short((reader.delimiter or ",").join(header)))


# ------------------------------------------------------------------------------- JSONL


def _probe_jsonl(reader: Reader, path: str) -> None:
    """Find the encoding, and the columns from the keys of the first 1,000 objects."""
    opened = _open_sample(reader, path)
    if opened is None:
        return
    _, _, gz_error, cut = opened
    reader._state["cut"] = CUT_UTF8 if cut else None
    reader._state["gz_error"] = gz_error
    keys: dict[str, None] = {}
    seen = 0
    read = 0
    stream, _ = _text_stream(path, reader.encoding or "utf-8", newline=None)
    with stream:
        for line in stream:  # whole lines: a key that only a long line has must still be seen
            read += len(line)
            line = line.strip().lstrip("\ufeff")
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except (ValueError, RecursionError):
                    value = None
                if isinstance(value, dict):
                    keys.update(dict.fromkeys(value))
                    seen += 1
            if seen >= 1000 or read >= 64 * _SAMPLE:
                break
    reader._state["path"] = path
    if keys:
        reader._mapping_problems(list(keys))
        reader._state["resolved"] = True
        if reader._fatal:
            _fatal_gzip_note(reader, path, gz_error, "no lines were read")
    # else: no object near the start; the columns are taken from the first object found.


def _rows_jsonl(reader: Reader) -> Iterator[Article | Problem]:
    path = reader._state["path"]
    origin = reader.origin
    build = reader._builder().make
    limit = reader.max_field
    text, raw_stream = _text_stream(path, reader.encoding or "utf-8", newline=None)
    keys: tuple[str | None, ...] | None = None
    if reader._state.get("resolved"):
        keys = tuple(reader.mapping.get(name) for name in FIELDS)
    number = 0
    cut = reader._state.get("cut")  # the file ends inside a UTF-8 character
    with text:
        for line in text:
            number += 1
            if (raw_stream.error is not None or cut) and not line.endswith("\n"):
                yield Problem(origin, None, None,
                              f"{raw_stream.error or cut}; the lines before it were read (line {number} "
                              "was cut off)", _short(line))
                return
            stripped = line.strip()
            if number == 1:
                stripped = stripped.lstrip("\ufeff")
            if not stripped:
                continue
            try:
                value = json.loads(stripped)
            except (ValueError, RecursionError) as exc:
                message = getattr(exc, "msg", None) or "nested too deeply"
                column = getattr(exc, "colno", None)
                where = f" at column {column}" if column else ""
                yield Problem(origin, number, None, f"invalid JSON: {message}{where}", _short(stripped))
                continue
            if not isinstance(value, dict):
                yield Problem(origin, number, None,
                              f"line is {_json_kind(value)}, not a JSON object", _short(stripped))
                continue
            if keys is None:
                known = len(reader._setup)
                reader._mapping_problems(list(value))
                if reader._fatal:
                    _fatal_gzip_note(reader, path, reader._state.get("gz_error"), "no lines were read")
                    yield from reader._setup[known:]
                    return
                keys = tuple(reader.mapping.get(name) for name in FIELDS)
            get = value.get
            values = tuple(None if k is None else get(k) for k in keys)
            yield build(number, values, lambda s=stripped: s, None, len(stripped) > limit)
    if raw_stream.error is not None or cut:
        yield Problem(origin, None, None, f"{raw_stream.error or cut}; the lines before it were read")


# -------------------------------------------------------------------------------- JSON


_WS = re.compile(r"[ \t\r\n]*")


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
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return elements, f"invalid JSON at line {line}, column {column}: expected ',' or ']'"


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def _articles_in(obj: dict[str, Any]) -> tuple[list[Any] | None, str | None]:
    for key in obj:
        if key.lower() in _LIST_KEYS and isinstance(obj[key], list):
            return obj[key], key
    for key, value in obj.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value, key
    return None, None


def _probe_json(reader: Reader, path: str) -> None:
    try:
        data, gz_error = _read_all(path)
    except _TooLarge as exc:  # a JSON array is loaded whole (a gzip bomb would exhaust memory)
        reader._fatal = True
        reader._file_problem(f"{exc}; split it or use JSONL, which is streamed")
        return
    text, reader.encoding, _ = _decode(data, cut=gz_error is not None)
    del data
    start = _WS.match(text.lstrip("\ufeff")).end() + (1 if text.startswith("\ufeff") else 0)
    if start >= len(text):
        reader._fatal = True
        reader._file_problem(gz_error if gz_error else "empty file")
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
            notes.append((f"{reason}; the {count} {noun} before it were read", text[exc.pos:exc.pos + 200]))
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
            elements, key = _articles_in(top)
            if elements is None:
                if any(_norm(k) in CANDIDATES["date"] for k in top):
                    elements = [top]  # a single article object
                else:
                    notes.append((f"no list of articles in the JSON object (keys: {_listing(top)})",
                                  _json_raw(top)))
            else:
                reader._state["key"] = key
        else:
            notes.append((f"the JSON top level is {_json_kind(top)}, not an array or an object",
                          _json_raw(top)))
    if gz_error:
        notes.append((f"{gz_error}; the data before it was read", ""))
    for reason, raw in notes:
        reader._file_problem(reason, None, raw)
    if elements is None:
        reader._fatal = True
        return
    if not elements:
        if not notes:
            reader._file_problem("no data rows")
        reader._fatal = True
        return
    keys: dict[str, None] = {}
    for element in islice((e for e in elements if isinstance(e, dict)), 1000):
        keys.update(dict.fromkeys(element))
    reader._state["elements"] = elements
    if keys:
        reader._mapping_problems(list(keys))


def _rows_objects(reader: Reader, objects: Iterable[Any]) -> Iterator[Article | Problem]:
    """Rows that are already Python objects (JSON elements, Parquet rows), numbered from 1."""
    origin = reader.origin
    build = reader._builder().make
    keys = tuple(reader.mapping.get(name) for name in FIELDS)
    for number, value in enumerate(objects, start=1):
        if not isinstance(value, dict):
            yield Problem(origin, number, None, f"element is {_json_kind(value)}, not a JSON object",
                          _json_raw(value))
            continue
        get = value.get
        values = tuple(None if k is None else get(k) for k in keys)
        yield build(number, values, lambda v=value: _json_raw(v))


def _rows_json(reader: Reader) -> Iterator[Article | Problem]:
    yield from _rows_objects(reader, reader._state.get("elements", []))


# ----------------------------------------------------------------------------- Parquet


def _parquet_file(path: str) -> Any:
    import pyarrow.parquet as pq

    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    if compressed:  # loaded whole: Parquet needs random access
        data, error = _read_all(path)
        if error:
            raise ValueError(error)
        return pq.ParquetFile(io.BytesIO(data))
    return pq.ParquetFile(path)


def _probe_parquet(reader: Reader, path: str) -> None:
    if os.path.getsize(path) == 0:
        reader._fatal = True
        reader._file_problem("empty file")
        return
    try:
        parquet = _parquet_file(path)
        columns = list(parquet.schema_arrow.names)
        rows = parquet.metadata.num_rows
    except _TooLarge as exc:
        reader._fatal = True
        reader._file_problem(f"{exc}; gunzip it first: a plain Parquet file is read in batches")
        return
    except Exception as exc:  # pyarrow raises several types for a bad file
        reader._fatal = True
        reader._file_problem(f"not a readable Parquet file: {exc}")
        return
    reader._state["path"] = path
    reader._mapping_problems(columns, raw=", ".join(columns))
    if not reader._fatal and rows == 0:
        reader._fatal = True
        reader._file_problem("no data rows")


def _rows_parquet(reader: Reader) -> Iterator[Article | Problem]:
    parquet = _parquet_file(reader._state["path"])
    columns = list(dict.fromkeys(reader.mapping.values()))

    def records() -> Iterator[dict[str, Any]]:
        for batch in parquet.iter_batches(batch_size=10_000, columns=columns):
            yield from batch.to_pylist()

    yield from _rows_objects(reader, records())


# ------------------------------------------------------------------------- txt folders


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split `---\\nkey: value\\n---` front matter from the body (simple YAML-like lines)."""
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    meta: dict[str, str] = {}
    for i in range(1, len(lines)):
        line = lines[i]
        if line.strip() in ("---", "..."):
            return meta, "\n".join(lines[i + 1:])
        key, sep, value = line.partition(":")
        if sep and key.strip():
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            meta[key.strip()] = value
    return {}, text  # never closed: not front matter


def _name_date(name: str) -> str | None:
    for pattern in _NAME_DATE:
        match = pattern.search(name)
        if match:
            return f"{match.group(1)}-{match.group(3)}-{match.group(4)}"
    return None


def _txt_files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    names = sorted(n for n in os.listdir(path)
                   if n.lower().endswith(_TEXT_EXTENSIONS) and not n.startswith(".")
                   and os.path.isfile(os.path.join(path, n)))
    return [os.path.join(path, n) for n in names]


def _probe_txt(reader: Reader, path: str) -> None:
    reader._state["path"] = path
    reader.mapping = {"date": "front matter / sidecar .json / file name",
                      "title": "front matter / first line", "text": "file body"}
    if os.path.isdir(path) and not _txt_files(path):
        reader._fatal = True
        reader._file_problem("no .txt or .md files in the folder")


def _sidecar(file_path: str) -> str | None:
    base = os.path.splitext(file_path)[0]
    for candidate in (base + ".json", file_path + ".json"):
        if os.path.isfile(candidate):
            return candidate
    return None


def _txt_article(reader: Reader, build: _Builder, file_path: str) -> Article | Problem:
    try:
        data, gz_error = _read_all(file_path)
    except _TooLarge as exc:
        return Problem(file_path, None, None,
                       f"{exc}; a text file is one article, of at most {reader.max_field:,} characters")
    text, _, cut = _decode(data, cut=gz_error is not None)
    broken = gz_error or (CUT_UTF8 if cut else None)  # the file was cut short: not stored
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    raw = _short(text)
    if not text.strip():
        return Problem(file_path, None, None, broken or "empty file", raw)
    meta, body = _front_matter(text)
    forced = reader._state.get("forced", {})
    info: dict[str, Any] = {}
    if meta:
        columns, _ = _resolve_columns(list(meta), forced)
        info = {name: meta[col] for name, col in columns.items()}
    sidecar = _sidecar(file_path)
    if sidecar is not None:
        try:
            side_text = _decode(_read_all(sidecar)[0])[0]
            side = json.loads(side_text.lstrip("\ufeff"))
        except _TooLarge as exc:
            return Problem(file_path, None, None, f"sidecar {os.path.basename(sidecar)}: {exc}", raw)
        except (ValueError, RecursionError) as exc:
            return Problem(file_path, None, None,
                           f"sidecar {os.path.basename(sidecar)} is not valid JSON: {exc}", raw)
        if not isinstance(side, dict):
            return Problem(file_path, None, None,
                           f"sidecar {os.path.basename(sidecar)} is {_json_kind(side)}, not a JSON object",
                           raw)
        columns, _ = _resolve_columns(list(side), forced)
        for name, col in columns.items():
            if name not in info or info[name] in ("", None):
                info[name] = side[col]
    if info.get("date") in (None, ""):
        name_date = _name_date(os.path.basename(file_path))
        if name_date is None:
            return Problem(file_path, None, "date", NO_DATE_TXT, raw)
        info["date"] = name_date
    title = _as_text(info.get("title"))
    body = body.strip("\n")
    if not title:
        lines = body.split("\n")
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is not None:
            title = lines[first].strip().lstrip("#").strip()
            body = "\n".join(lines[first + 1:])
    folder = os.path.basename(os.path.normpath(reader.origin))
    source = info.get("source") or (_stem(reader.origin) if os.path.isfile(reader.origin) else folder)
    values = (info.get("date"), title, body, source, info.get("url"), info.get("ext_id"))
    item = build.make(1, values, lambda: raw, origin=file_path)
    if isinstance(item, Problem):
        return Problem(file_path, None, item.field, item.reason, raw)
    if broken:
        return Problem(file_path, None, None, broken, raw)
    return item


def _rows_txt(reader: Reader) -> Iterator[Article | Problem]:
    build = reader._builder()
    for file_path in _txt_files(reader._state["path"]):
        try:
            yield _txt_article(reader, build, file_path)
        except OSError as exc:
            yield Problem(file_path, None, None, f"cannot read the file: {exc}")


# ------------------------------------------------------------------------------- feeds


# The shape of the RFC 822 dates (day, month name, year) feedparser's own parse is trusted for.
_RFC822_SHAPE = re.compile(r"\s*(?:[A-Za-z]{3,9}\.?,?\s*)?\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{2,4}\b")
_BLOCK_TAGS = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_SPACES = re.compile(r"[ \t]{2,}")


def _html_text(value: str) -> str:
    """Feed summaries are HTML: keep the words, paragraph breaks as new lines."""
    if "<" not in value and "&" not in value:
        return value
    value = _BLOCK_TAGS.sub("\n", value)
    value = _TAGS.sub("", value)
    value = html.unescape(value)
    value = _SPACES.sub(" ", value)
    return _BLANKS.sub("\n\n", value)


def _struct_time_utc(parsed: Any) -> dt.datetime:
    """feedparser's *_parsed values are UTC struct_times."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=calendar.timegm(parsed))


def _feed_bytes(origin: str) -> tuple[bytes, str | None]:
    """The (decompressed) bytes of a feed file or URL, and the gzip error that cut them short.

    Raises _TooLarge past MAX_LOAD_BYTES (a feed is parsed whole) and OSError/ValueError
    when it cannot be fetched at all.
    """
    if _is_url(origin):
        request = urllib.request.Request(origin, headers={"User-Agent": "tension-index/0.1 (+feed reader)"})
        with urllib.request.urlopen(request, timeout=_FEED_TIMEOUT) as response:  # http(s) only
            data = response.read(_FEED_MAX_BYTES + 1)
        if len(data) > _FEED_MAX_BYTES:
            raise ValueError(f"the feed is larger than {_FEED_MAX_BYTES:,} bytes")
        if data[:2] != b"\x1f\x8b":
            return data, None
        return _read_all(io.BytesIO(data))
    return _read_all(origin)


def _trim_cut_character(data: bytes) -> tuple[bytes, str | None]:
    """Drop the half character at the end of a feed that was cut short, and say so.

    Why: feedparser cannot decode such bytes in their declared encoding and falls back to
    another one, so a UTF-16 feed loses every entry and a UTF-8 feed becomes windows-1252
    mojibake. A well-formed feed ends with '>' and white space, so nothing of value is lost.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(
            codecs.BOM_UTF32_LE):
        end = len(data) - len(data) % 2
        if end >= 4:  # a lead surrogate without its trail surrogate
            unit = int.from_bytes(data[end - 2:end], "big" if data.startswith(codecs.BOM_UTF16_BE)
                                  else "little")
            if 0xD800 <= unit <= 0xDBFF:
                end -= 2
        return (data, None) if end == len(data) else (data[:end], CUT_UTF16)
    if _bom_encoding(data[:4]) is None or data.startswith(codecs.BOM_UTF8):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if _cut_utf8(exc, len(data)):
                return data[:exc.start], CUT_UTF8
    return data, None


_ENTRY_OPEN = re.compile(r"<(?:[\w.-]+:)?(?:item|entry)\b[^<>]*(?<!/)>", re.IGNORECASE)
_ENTRY_CLOSE = re.compile(r"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)


def _last_entry_open(data: bytes) -> bool:
    """Whether the last <item>/<entry> of a broken feed is never closed (the feed ends inside it).

    Tags are ASCII, so any ASCII-compatible encoding is scanned as Latin-1.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("latin-1")
    last_close = max((m.end() for m in _ENTRY_CLOSE.finditer(text)), default=0)
    return _ENTRY_OPEN.search(text, last_close) is not None


def _xml_error(exc: Any, data: bytes) -> str:
    """feedparser's bozo exception in words: 'line 42, column 0: no element found'.

    feedparser puts an XML declaration line in front of a feed that has none, so the
    parser's line numbers are then one too high.
    """
    if hasattr(exc, "getLineNumber") and hasattr(exc, "getMessage"):
        line = exc.getLineNumber()
        if not _decode(data[:400])[0].lstrip("\ufeff").startswith("<?xml") and line > 1:
            line -= 1
        return f"line {line}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    return str(exc) or type(exc).__name__


def _entries_phrase(count: int) -> str:
    return "the 1 entry found in it was read" if count == 1 else f"the {count:,} entries found in it were read"


def _probe_rss(reader: Reader, path: str) -> None:
    reader._state["path"] = path
    forced = reader._state.get("forced", {})
    reader.mapping = {"date": forced.get("date", "published|updated"),
                      "title": forced.get("title", "title"),
                      "text": forced.get("text", "content|summary"),
                      "source": forced.get("source", "source.title|feed.title"),
                      "url": forced.get("url", "link"), "ext_id": forced.get("ext_id", "id")}
    if not _is_url(path) and os.path.getsize(path) == 0:
        reader._fatal = True
        reader._file_problem("empty file")


def _rows_rss(reader: Reader) -> Iterator[Article | Problem]:
    import feedparser

    origin = reader.origin
    try:
        data, cut = _feed_bytes(origin)
    except _TooLarge as exc:  # a feed is parsed whole (a gzip bomb would exhaust memory)
        yield Problem(origin, None, None, f"{exc}; a feed is read whole: split it into smaller files")
        return
    except Exception as exc:  # network errors, HTTP errors
        yield Problem(origin, None, None, f"could not fetch the feed: {exc}")
        return
    data, cut_character = _trim_cut_character(data)
    cut = cut or cut_character  # why the feed is short (a broken gzip first: it is the cause)
    if not data.strip():
        yield Problem(origin, None, None, cut or "empty file")
        return
    feed = feedparser.parse(data)
    entries = feed.get("entries") or []
    bozo = feed.get("bozo_exception") if feed.get("bozo") else None
    if isinstance(bozo, feedparser.ThingsNobodyCaresAboutButMe):
        bozo = None  # an encoding override, a content type: not broken XML
    if not entries:
        if cut:
            yield Problem(origin, None, None, f"{cut}; no complete feed entry came before it",
                          _decode(data[:4 * RAW_CHARS])[0])
        elif feed.get("bozo"):
            yield Problem(origin, None, None,
                          f"not a readable RSS/Atom feed: {_xml_error(feed.get('bozo_exception'), data)}",
                          _decode(data[:4 * RAW_CHARS])[0])
        else:
            yield Problem(origin, None, None, "no data rows (the feed has no entries)")
        return
    # A cut or broken feed whose last entry is never closed: that entry lost its end.
    last_cut = len(entries) if (cut or bozo is not None) and _last_entry_open(data) else 0
    forced = reader._state.get("forced", {})
    build = reader._builder()
    feed_title = _as_text((feed.get("feed") or {}).get("title"))
    if feed_title and not reader.source:
        build.default_source = feed_title
    for number, entry in enumerate(entries, start=1):
        raw = _json_raw({k: dict.get(entry, k) for k in ("title", "link", "published", "updated", "id")})
        if number == last_cut:
            yield Problem(origin, number, None, "the feed ends inside this entry (it was cut off)", raw)
            continue
        # dict.get: FeedParserDict.get("updated") falls back to "published" with a warning.
        if "date" in forced:
            date_value: Any = entry.get(forced["date"])
        else:
            date_value = (dict.get(entry, "published") or dict.get(entry, "updated")
                          or dict.get(entry, "created"))
        parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        if date_value in (None, ""):
            if parsed is None:
                yield Problem(origin, number, "date",
                              "feed entry has no date (no published or updated element)", raw)
                continue
            date_value = _struct_time_utc(parsed)
        if "text" in forced:
            text = entry.get(forced["text"])
        else:
            contents = entry.get("content") or []
            text = contents[0].get("value", "") if contents else entry.get("summary", "")
        source_info = entry.get("source") or {}
        source = entry.get(forced["source"]) if "source" in forced else source_info.get("title")
        values = (date_value, _html_text(_as_text(entry.get(forced.get("title", "title")))),
                  _html_text(_as_text(text)), _as_text(source),
                  entry.get(forced.get("url", "link")), entry.get(forced.get("ext_id", "id")))
        item = build.make(number, values, lambda r=raw: r)
        if (item.__class__ is Problem and item.field == "date" and parsed is not None
                and item.reason.startswith("unparseable date") and isinstance(date_value, str)
                and _RFC822_SHAPE.match(date_value)):
            # feedparser understood an odd RFC 822 variant our parser did not. Only then:
            # feedparser also "repairs" impossible dates (2018-02-30 -> 2018-03-02), and
            # reads a bare time as today.
            item = build.make(number, (_struct_time_utc(parsed),) + values[1:], lambda r=raw: r)
        yield item
    if cut:
        yield Problem(origin, None, None, f"{cut}; the entries before it were read")
    elif bozo is not None:
        read = len(entries) - (1 if last_cut else 0)
        yield Problem(origin, None, None,
                      f"the feed is not well-formed XML ({_xml_error(bozo, data)}); {_entries_phrase(read)}")


# ------------------------------------------------------------------- format detection


def _sniff_format(path: str) -> str:
    """Guess the format from the first bytes (after gunzip) when the extension says nothing."""
    try:
        with _SafeStream(path) as stream:
            head = stream.read_up_to(64 * 1024)
    except OSError:
        return "csv"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "rss"
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        first = text.split("\n", 1)[0].strip()
        try:
            value = json.loads(first)
        except (ValueError, RecursionError):
            return "json"
        if isinstance(value, dict) and _articles_in(value)[0] is None:
            return "jsonl"
        return "json"
    return "csv"


def _looks_like_jsonl(path: str) -> bool:
    """A .json file holding one object a line (a common mislabel) is read as JSONL."""
    try:
        with _SafeStream(path) as stream:
            head = stream.read_up_to(64 * 1024)
    except OSError:
        return False
    lines = [line.strip() for line in head.decode("utf-8", "replace").lstrip("\ufeff").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) < 2 or not lines[0].startswith("{") or not lines[1].startswith("{"):
        return False
    try:
        first = json.loads(lines[0])
    except (ValueError, RecursionError):
        return False
    return isinstance(first, dict) and _articles_in(first)[0] is None


_PROBES: dict[str, Callable[[Reader, str], None]] = {
    "csv": _probe_delimited, "tsv": _probe_delimited, "json": _probe_json,
    "jsonl": _probe_jsonl, "parquet": _probe_parquet, "txt": _probe_txt, "rss": _probe_rss,
}
_ROWS: dict[str, Callable[[Reader], Iterator[Article | Problem]]] = {
    "csv": _rows_delimited, "tsv": _rows_delimited, "json": _rows_json,
    "jsonl": _rows_jsonl, "parquet": _rows_parquet, "txt": _rows_txt, "rss": _rows_rss,
}


def open_reader(path: str, *, fmt: str = "auto", mapping: dict[str, str] | None = None,
                source: str | None = None, tz: str = "UTC", date_order: str = "auto") -> Reader:
    """Open one input and detect its format, encoding, delimiter and columns.

    Why up front: the CLI prints what was detected (and a wrong guess can be fixed with
    --format / --map) before anything is stored. Raises ReadError only when the input
    cannot be read at all: a missing path, an unknown forced format, a bad option.
    """
    path = str(path)
    fmt = (fmt or "auto").lower()
    if fmt != "auto" and fmt not in FORMATS:
        raise ReadError(f"{path}: unknown format '{fmt}': use auto or one of {', '.join(FORMATS)}")
    try:
        zone(tz)
    except DateError as exc:
        raise ReadError(f"{path}: {exc}") from None
    if date_order not in DATE_ORDERS:
        raise ReadError(f"{path}: date order must be one of {', '.join(DATE_ORDERS)}, not {date_order!r}")
    forced = _check_mapping(mapping, path)
    if _is_url(path):
        if fmt not in ("auto", "rss"):
            raise ReadError(f"{path}: a URL can only be read as a feed (rss), not as {fmt}")
        chosen, how = "rss", "URL" if fmt == "auto" else "forced"
    elif not os.path.exists(path):
        raise ReadError(f"{path}: no such file or folder")
    elif os.path.isdir(path):
        if fmt not in ("auto", "txt"):
            raise ReadError(f"{path}: is a folder; only the txt format reads folders "
                            "(expand_paths lists the files inside it)")
        chosen, how = "txt", "folder" if fmt == "auto" else "forced"
    elif fmt != "auto":
        chosen, how = fmt, "forced"
    elif _ext(path) in _EXTENSIONS:
        chosen, how = _EXTENSIONS[_ext(path)], f"detected from the {_ext(path)} extension"
        if chosen == "json" and _looks_like_jsonl(path):
            chosen, how = "jsonl", "detected from the content (one JSON object a line)"
    else:
        try:
            chosen, how = _sniff_format(path), "detected from the content"
        except OSError as exc:
            raise ReadError(f"{path}: cannot read: {exc}") from None
    reader = Reader(origin=path, format=chosen, mapping={}, source=source or None, tz=tz,
                    date_order=date_order, detected=how)
    reader._state["forced"] = forced
    reader._rows = _ROWS[chosen]
    try:
        _PROBES[chosen](reader, path)
    except OSError as exc:
        raise ReadError(f"{path}: cannot read: {exc}") from None
    except Exception as exc:  # bad content must become a Problem, never an exception
        reader._fatal = True
        reader._file_problem(f"cannot read the file: {type(exc).__name__}: {exc}")
    return reader


# ------------------------------------------------------------------------ expand_paths


def _data_file(name: str) -> bool:
    ext = _ext(name)
    return ext in _EXTENSIONS and ext not in _TEXT_EXTENSIONS


def expand_paths(paths: list[str]) -> list[str]:
    """Turn the command line's paths into inputs, one reader each.

    A folder of .txt/.md files is one "txt" input, so it stays one path; any other
    folder expands (recursively, sorted, hidden files skipped) to the supported data
    files inside it, and sidecar NAME.json files of text articles are not data files.
    Files (supported or not: the reader sniffs them) and URLs pass through unchanged.
    """
    out: list[str] = []
    for path in paths:
        path = str(path)
        if _is_url(path) or not os.path.isdir(path):
            out.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files = sorted(f for f in files if not f.startswith("."))
            texts = [f for f in files if f.lower().endswith(_TEXT_EXTENSIONS)]
            stems = {os.path.splitext(f)[0] for f in texts} | set(texts)
            data = [f for f in files if _data_file(f)
                    and not (f.lower().endswith(".json") and os.path.splitext(f)[0] in stems)]
            if texts:
                out.append(folder)
            out.extend(os.path.join(folder, f) for f in data)
    return out
