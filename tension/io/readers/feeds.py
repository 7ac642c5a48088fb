"""RSS and Atom feeds, from a file or an http(s) URL, parsed whole by feedparser.

A feed cut short (a broken gzip, a download that stopped) still gives the entries
before the cut; the entry it ends inside is a Problem, not a half article.
"""

from __future__ import annotations

import calendar
import codecs
import datetime as dt
import html
import io
import os
import re
from collections.abc import Iterator
from typing import Any

from tension.core.records import Article, Problem
from tension.io.readers.base import Reader
from tension.io.readers.registry import register
from tension.io.readers.streams import (
    CUT_UTF8,
    CUT_UTF16,
    TooLarge,
    bom_encoding,
    cut_utf8,
    decode,
    read_all,
)
from tension.io.readers.text import RAW_CHARS, as_text, is_url, json_raw

_FEED_TIMEOUT = 30
_FEED_MAX_BYTES = 64 * 1024 * 1024


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

    Raises TooLarge past MAX_LOAD_BYTES (a feed is parsed whole) and OSError/ValueError
    when it cannot be fetched at all.
    """
    if is_url(origin):
        import urllib.request  # only for URLs: it costs the command line's start-up otherwise

        request = urllib.request.Request(origin, headers={"User-Agent": "tension-index/0.1 (+feed reader)"})
        # Only http(s): open_reader takes nothing else as a URL, so no file:// is opened here.
        with urllib.request.urlopen(request, timeout=_FEED_TIMEOUT) as response:
            data = response.read(_FEED_MAX_BYTES + 1)
        if len(data) > _FEED_MAX_BYTES:
            raise ValueError(f"the feed is larger than {_FEED_MAX_BYTES:,} bytes")
        if data[:2] != b"\x1f\x8b":
            return data, None
        return read_all(io.BytesIO(data))
    return read_all(origin)


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
    if bom_encoding(data[:4]) is None or data.startswith(codecs.BOM_UTF8):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if cut_utf8(exc, len(data)):
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
        if not decode(data[:400])[0].lstrip("\ufeff").startswith("<?xml") and line > 1:
            line -= 1
        return f"line {line}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    return str(exc) or type(exc).__name__


def _entries_phrase(count: int) -> str:
    return "the 1 entry found in it was read" if count == 1 else f"the {count:,} entries found in it were read"


@register("rss", extensions=(".rss", ".atom", ".xml"))
class FeedReader(Reader):
    """An RSS/Atom feed; row numbers are 1-based entry indexes. It needs no state of its
    own: the feed is fetched and parsed whole when the rows are read."""

    def probe(self) -> None:
        forced = self._forced
        self.mapping = {"date": forced.get("date", "published|updated"),
                        "title": forced.get("title", "title"),
                        "text": forced.get("text", "content|summary"),
                        "source": forced.get("source", "source.title|feed.title"),
                        "url": forced.get("url", "link"), "ext_id": forced.get("ext_id", "id")}
        if not is_url(self.origin) and os.path.getsize(self.origin) == 0:
            self._fatal = True
            self._file_problem("empty file")

    def rows(self) -> Iterator[Article | Problem]:
        import feedparser

        origin = self.origin
        try:
            data, cut = _feed_bytes(origin)
        except TooLarge as exc:  # a feed is parsed whole (a gzip bomb would exhaust memory)
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
                              decode(data[:4 * RAW_CHARS])[0])
            elif feed.get("bozo"):
                yield Problem(origin, None, None,
                              f"not a readable RSS/Atom feed: {_xml_error(feed.get('bozo_exception'), data)}",
                              decode(data[:4 * RAW_CHARS])[0])
            else:
                yield Problem(origin, None, None, "no data rows (the feed has no entries)")
            return
        # A cut or broken feed whose last entry is never closed: that entry lost its end.
        last_cut = len(entries) if (cut or bozo is not None) and _last_entry_open(data) else 0
        forced = self._forced
        build = self._builder()
        feed_title = as_text((feed.get("feed") or {}).get("title"))
        if feed_title and not self.source:
            build.default_source = feed_title
        seen: set[str] = set()  # an item's GUID names it: the same GUID twice in one feed is one item
        for number, entry in enumerate(entries, start=1):
            guid = dict.get(entry, "id")
            if guid:
                if guid in seen:
                    continue
                seen.add(guid)
            raw = json_raw({k: dict.get(entry, k) for k in ("title", "link", "published", "updated", "id")})
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
                if parsed is None and self.default_date is not None:
                    date_value = self.default_date  # the analyst's --date
                elif parsed is None:
                    yield Problem(origin, number, "date",
                                  "feed entry has no date (no published or updated element)", raw)
                    continue
                else:
                    date_value = _struct_time_utc(parsed)
            if "text" in forced:
                text = entry.get(forced["text"])
            else:
                contents = entry.get("content") or []
                text = contents[0].get("value", "") if contents else entry.get("summary", "")
            source_info = entry.get("source") or {}
            source = entry.get(forced["source"]) if "source" in forced else source_info.get("title")
            values = (date_value, _html_text(as_text(entry.get(forced.get("title", "title")))),
                      _html_text(as_text(text)), as_text(source),
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
