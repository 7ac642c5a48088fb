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

One module per format (`delimited`, `jsondoc`, `jsonl`, `parquet`, `textfiles`, `feeds`),
each registering its `Reader` subclass in `registry`; `streams` (gzip, encodings, the load
limit), `columns` (column choice, --map), `text` (cell cleaning) and `sniff` (content
detection) are shared.
"""

from __future__ import annotations

import datetime as dt
import os

from tension.core.dates import DateError, zone

# Each format module registers its Reader when imported, and FORMATS keeps that order (the
# CLI's --format choices, the formats listed in messages): a new format is imported here.
# isort: off
from tension.io.readers import delimited, jsondoc, jsonl, parquet, textfiles, feeds  # noqa: F401
# isort: on
from tension.io.readers.base import DATE_ORDERS, Reader
from tension.io.readers.columns import CANDIDATES, FIELDS, check_mapping, parse_mapping
from tension.io.readers.registry import (
    Format,
    extension_map,
    format_of,
    formats,
    get_format,
    register,
    upload_suffixes,
)
from tension.io.readers.sniff import detect
from tension.io.readers.text import RAW_CHARS, ext, is_url
from tension.io.readers.textfiles import NO_DATE_TXT, TEXT_EXTENSIONS

__all__ = [
    "CANDIDATES", "DATE_ORDERS", "FIELDS", "FORMATS", "NO_DATE_TXT", "RAW_CHARS", "Format",
    "ReadError", "Reader", "expand_paths", "extension_map", "formats", "open_reader",
    "parse_mapping", "register", "upload_suffixes",
]

FORMATS = tuple(f.name for f in formats())


class ReadError(Exception):
    """The whole input cannot be read at all (missing path, unknown format, bad option).

    Bad *content* never raises: it becomes `Problem` records while iterating.
    """


def open_reader(path: str, *, fmt: str = "auto", mapping: dict[str, str] | None = None,
                source: str | None = None, tz: str = "UTC", date_order: str = "auto",
                default_date: dt.date | None = None, name: str | None = None) -> Reader:
    """Open one input and detect its format, encoding, delimiter and columns.

    `default_date` is the day of the articles that have none of their own (an article's
    own date wins); `name` is the input's own file name when `path` is a stored copy of it
    (an upload), for the default source and a date written in the name.

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
    if default_date is not None and (type(default_date) is not dt.date):
        raise ReadError(f"{path}: the default date must be a day (datetime.date), not {default_date!r}")
    try:
        forced = check_mapping(mapping)
    except ValueError as exc:
        raise ReadError(f"{path}: {exc}") from None
    if is_url(path):
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
    else:
        try:
            chosen, how = detect(path)
        except OSError as exc:
            raise ReadError(f"{path}: cannot read: {exc}") from None
    reader = get_format(chosen).reader(origin=path, format=chosen, mapping={}, source=source or None, tz=tz,
                                       date_order=date_order, detected=how, _forced=forced,
                                       default_date=default_date, name=name or None)
    try:
        reader.probe()
    except OSError as exc:
        raise ReadError(f"{path}: cannot read: {exc}") from None
    except Exception as exc:  # bad content must become a Problem, never an exception
        reader._fatal = True
        reader._file_problem(f"cannot read the file: {type(exc).__name__}: {exc}")
    return reader


def _data_file(name: str) -> bool:
    extension = ext(name)
    return format_of(extension) is not None and extension not in TEXT_EXTENSIONS


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
        if is_url(path) or not os.path.isdir(path):
            out.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files = sorted(f for f in files if not f.startswith("."))
            texts = [f for f in files if f.lower().endswith(TEXT_EXTENSIONS)]
            stems = {os.path.splitext(f)[0] for f in texts} | set(texts)
            data = [f for f in files if _data_file(f)
                    and not (f.lower().endswith(".json") and os.path.splitext(f)[0] in stems)]
            if texts:
                out.append(folder)
            out.extend(os.path.join(folder, f) for f in data)
    return out
