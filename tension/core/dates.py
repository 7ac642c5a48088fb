"""Date parsing for the readers: one calendar day per article, in the analysis time zone.

Why a module of its own: the real corpora repeat a few thousand date strings over
100,000 rows, so parses are cached per (string, zone) and the common ISO shapes go
through `date.fromisoformat` before the slow general parser (dateutil) is tried.
Every failure is a `DateError` whose message is meant for a human reading the
quarantine list, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as _du

UTC = dt.UTC
MIN_YEAR = 1800
MAX_YEAR = 2100

# Abbreviations dateutil cannot resolve on its own: RFC 822's zones plus the ones a
# Korea-focused corpus meets. Anything else is reported, not silently taken as naive.
_H = 3600
_TZINFOS = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0,
    "EST": -5 * _H, "EDT": -4 * _H, "CST": -6 * _H, "CDT": -5 * _H,
    "MST": -7 * _H, "MDT": -6 * _H, "PST": -8 * _H, "PDT": -7 * _H,
    "KST": 9 * _H, "JST": 9 * _H, "CET": 1 * _H, "CEST": 2 * _H,
}
# Two defaults that differ in every component: a component that comes out different
# in the two parses was not in the string (dateutil would otherwise fill in today).
_DEFAULT_A = dt.datetime(1904, 1, 1, 0, 0, 0)
_DEFAULT_B = dt.datetime(1908, 2, 2, 1, 1, 1)
_DIGITS = re.compile(r"-?\d+(\.\d+)?\Z")
_MAX_DATE_CHARS = 100  # no real date is longer; keeps dateutil away from huge cells


class DateError(ValueError):
    """A date value that cannot become a calendar day; str() is the human reason."""


@lru_cache(maxsize=64)
def zone(tz: str) -> dt.tzinfo:
    """The tzinfo for an IANA name (cached: ZoneInfo lookups read files)."""
    if tz.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DateError(f"unknown time zone '{tz}' (use an IANA name such as Asia/Seoul)") from exc


def _finish(value: dt.datetime | dt.date, tz: str, shown: str) -> tuple[dt.date, str | None]:
    """Take the calendar day in `tz` and the UTC instant (None for a plain date)."""
    if isinstance(value, dt.datetime):
        try:
            offset = None if value.tzinfo is None else value.utcoffset()
        except (ValueError, OverflowError):  # an offset of 24 h or more ('+25:00', '+9900')
            raise DateError(f"impossible time zone offset in date '{shown}' "
                            "(an offset must be less than 24 hours)") from None
        where = zone(tz)
        out_of_range = f"date '{shown}' is outside the years {MIN_YEAR}..{MAX_YEAR}"
        try:
            if offset is None:
                aware = value.replace(tzinfo=where)
                local = value
            else:
                aware = value
                local = value.astimezone(where)
            instant = aware.astimezone(UTC)
        except (ValueError, OverflowError):  # near year 1 or 9999 a shift leaves datetime's range
            raise DateError(out_of_range) from None
        day = local.date()
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise DateError(out_of_range)
        return day, instant.replace(tzinfo=None).isoformat() + "Z"
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise DateError(f"date '{shown}' is outside the years {MIN_YEAR}..{MAX_YEAR}")
    return value, None


def _epoch(number: float, tz: str, shown: str) -> tuple[dt.date, str | None]:
    """Seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by size.

    1e11 seconds is the year 5138, so anything that large must be a finer unit.
    """
    size = abs(number)
    if size >= 1e17:
        seconds = number / 1e9
    elif size >= 1e14:
        seconds = number / 1e6
    elif size >= 1e11:
        seconds = number / 1e3
    else:
        seconds = number
    try:
        instant = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=seconds)
    except (OverflowError, ValueError) as exc:
        raise DateError(f"date '{shown}' is outside the years {MIN_YEAR}..{MAX_YEAR}") from exc
    return _finish(instant, tz, shown)


def _out_of_range(message: str) -> bool:
    return "out of range" in message or "must be in" in message


def _shorten(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


@lru_cache(maxsize=65536)
def parse_text_cached(text: str, tz: str) -> tuple[dt.date, str | None] | str:
    """Parse one date string; returns (day, instant) or the error reason (errors are cached too)."""
    try:
        return _parse_text_uncached(text, tz)
    except DateError as exc:
        return str(exc)


def _parse_text_uncached(raw: str, tz: str) -> tuple[dt.date, str | None]:
    text = raw.strip()
    shown = _shorten(text)
    if not text:
        raise DateError("missing date")
    if len(text) > _MAX_DATE_CHARS:
        raise DateError(f"unparseable date '{shown}' ({len(text):,} characters)")
    # Fast path 1: a plain ISO day, the shape of nearly every real row.
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return _finish(dt.date.fromisoformat(text), tz, text)
        except ValueError as exc:
            if _out_of_range(str(exc)):
                raise DateError(f"impossible date '{text}' ({exc})") from None
    # Fast path 2: numbers are epochs, except an 8-digit YYYYMMDD that is a real day.
    if _DIGITS.match(text):
        digits = len(text.lstrip("-").split(".")[0])
        if len(text) == 8 and text.isdigit():
            try:
                return _finish(dt.date(int(text[:4]), int(text[4:6]), int(text[6:])), tz, text)
            except ValueError as exc:
                raise DateError(f"impossible date '{text}' ({exc})") from None
        if digits >= 9:  # 100,000,000 seconds is 1973: shorter numbers in text are not epochs
            return _epoch(float(text), tz, text)
        if len(text) == 4:
            raise DateError(f"incomplete date '{text}' (needs a year, a month and a day)")
        raise DateError(f"unparseable date '{text}'")
    # Fast path 3: ISO datetimes (with offsets or Z).
    if len(text) > 10 and text[4:5] == "-" and text[10] in "T ":
        try:
            return _finish(dt.datetime.fromisoformat(text), tz, text)
        except ValueError as exc:
            if _out_of_range(str(exc)):
                raise DateError(f"impossible date '{shown}' ({exc})") from None
    return _parse_general(text, tz, shown)


def _parse_general(text: str, tz: str, shown: str) -> tuple[dt.date, str | None]:
    """The slow path: dateutil, month-first for ambiguous numeric dates (01/03/2018 is 3 Jan)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", _du.UnknownTimezoneWarning)
        try:
            first = _du.parse(text, default=_DEFAULT_A, tzinfos=_TZINFOS)
            second = _du.parse(text, default=_DEFAULT_B, tzinfos=_TZINFOS)
        except _du.UnknownTimezoneWarning:
            raise DateError(f"unknown time zone name in date '{shown}'") from None
        except (ValueError, OverflowError, TypeError, IndexError, KeyError) as exc:
            message = str(exc)
            if _out_of_range(message):
                reason = message.split(":")[0]
                raise DateError(f"impossible date '{shown}' ({reason})") from None
            raise DateError(f"unparseable date '{shown}'") from None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        raise DateError(f"incomplete date '{shown}' (needs a year, a month and a day)")
    has_time = first.hour == second.hour  # an hour was in the string (minutes may default to 0)
    if has_time or first.tzinfo is not None:
        return _finish(first, tz, shown)
    return _finish(first.date(), tz, shown)


def parse_date(value: object, tz: str = "UTC") -> tuple[dt.date, str | None]:
    """Turn a date cell of any reader into (calendar day in `tz`, UTC instant or None).

    Strings, numbers (epochs), `date` and `datetime` objects are accepted. Aware times are
    converted to `tz` before the day is taken; naive ones are taken as already in `tz`;
    plain dates stay as they are. Raises DateError with a human reason.
    """
    if value is None:
        raise DateError("missing date")
    if isinstance(value, str):
        result = parse_text_cached(value, tz)
        if isinstance(result, str):
            raise DateError(result)
        return result
    if isinstance(value, bool):
        raise DateError(f"unparseable date {value!r}")
    if isinstance(value, dt.datetime):
        try:
            shown = value.isoformat()
        except (ValueError, OverflowError):  # isoformat() asks a broken tzinfo for its offset
            shown = value.replace(tzinfo=None).isoformat()
        return _finish(value, tz, shown)
    if isinstance(value, dt.date):
        return _finish(value, tz, value.isoformat())
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise DateError("missing date" if math.isnan(value) else f"unparseable date '{value}'")
        if MIN_YEAR <= value <= MAX_YEAR and value == int(value):
            raise DateError(f"incomplete date '{int(value)}' (needs a year, a month and a day)")
        return _epoch(value, tz, str(value))
    raise DateError(f"unparseable date (a {type(value).__name__}, not text or a number)")


# The days the product supports, at every door (articles, annotations, events, view dates):
# well inside pandas' timestamp range (1677-09-21 to 2262-04-11), so no computation on a
# supported day can overflow, and a typo such as 9999 or 0001 is refused where it is typed.
FIRST_DAY = dt.date(MIN_YEAR, 1, 1)
LAST_DAY = dt.date(MAX_YEAR, 12, 31)


class UnsupportedDate(ValueError):
    """A day outside FIRST_DAY..LAST_DAY; the message names the field and the range."""


def check_day(day: dt.date, name: str = "date") -> dt.date:
    """`day`, if supported; else UnsupportedDate."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UnsupportedDate(f"'{name}' {day.isoformat()} is outside the supported dates "
                              f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return day


def iso_day(value: str, name: str = "date") -> dt.date:
    """A supported day written in ISO 8601 (2018-01-03, or a timestamp whose date part is
    taken).

    For annotations, reference events and view dates, typed or exported by people: a typo
    such as 2018-01-031 is an error, never a shorter date; so is a day outside the supported
    range (ValueError, UnsupportedDate)."""
    v = value.strip()[:64]  # no real day is longer; a huge value is not parsed at length
    day = dt.date.fromisoformat(v) if len(v) <= 10 else dt.datetime.fromisoformat(v).date()
    return check_day(day, name)


def now_iso() -> str:
    """The current UTC time as ISO 8601 text, to the millisecond (run and job stamps)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
