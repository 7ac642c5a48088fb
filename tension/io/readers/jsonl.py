"""JSONL: one JSON object a line, streamed; the columns come from the keys of the objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from tension.core.records import Article, Problem
from tension.io.readers.base import Reader
from tension.io.readers.columns import FIELDS
from tension.io.readers.registry import register
from tension.io.readers.streams import CUT_UTF8, SAMPLE, text_stream
from tension.io.readers.text import json_kind, short


@register("jsonl", extensions=(".jsonl", ".ndjson", ".jsonlines"), upload=True, upload_gzip=True)
@dataclass(repr=False, eq=False)
class JsonlReader(Reader):
    """A JSONL file; row numbers are 1-based line numbers."""

    cut: str | None = field(default=None, init=False)  # why the file ends inside a character
    gz_error: str | None = field(default=None, init=False)  # the broken gzip the probe met
    # Whether the probe found the columns; if not, the first object of the stream gives them.
    resolved: bool = field(default=False, init=False)

    def probe(self) -> None:
        """Find the encoding, and the columns from the keys of the first 1,000 objects."""
        opened = self._open_sample()
        if opened is None:
            return
        _, _, gz_error, cut = opened
        self.cut = CUT_UTF8 if cut else None
        self.gz_error = gz_error
        keys: dict[str, None] = {}
        seen = 0
        read = 0
        stream, _ = text_stream(self.origin, self.encoding or "utf-8", newline=None)
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
                if seen >= 1000 or read >= 64 * SAMPLE:
                    break
        if keys:
            self._mapping_problems(list(keys))
            self.resolved = True
            if self._fatal:
                self._fatal_gzip_note(gz_error, "no lines were read")
        # else: no object near the start; the columns are taken from the first object found.

    def rows(self) -> Iterator[Article | Problem]:
        origin = self.origin
        build = self._builder().make
        limit = self.max_field
        text, raw_stream = text_stream(self.origin, self.encoding or "utf-8", newline=None)
        keys: tuple[str | None, ...] | None = None
        if self.resolved:
            keys = tuple(self.mapping.get(name) for name in FIELDS)
        number = 0
        cut = self.cut  # the file ends inside a UTF-8 character
        with text:
            for line in text:
                number += 1
                if (raw_stream.error is not None or cut) and not line.endswith("\n"):
                    yield Problem(origin, None, None,
                                  f"{raw_stream.error or cut}; the lines before it were read (line {number} "
                                  "was cut off)", short(line))
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
                    yield Problem(origin, number, None, f"invalid JSON: {message}{where}", short(stripped))
                    continue
                if not isinstance(value, dict):
                    yield Problem(origin, number, None,
                                  f"line is {json_kind(value)}, not a JSON object", short(stripped))
                    continue
                if keys is None:
                    known = len(self._setup)
                    self._mapping_problems(list(value))
                    if self._fatal:
                        self._fatal_gzip_note(self.gz_error, "no lines were read")
                        yield from self._setup[known:]
                        return
                    keys = tuple(self.mapping.get(name) for name in FIELDS)
                get = value.get
                values = tuple(None if k is None else get(k) for k in keys)
                yield build(number, values, lambda s=stripped: s, None, len(stripped) > limit)
        if raw_stream.error is not None or cut:
            yield Problem(origin, None, None, f"{raw_stream.error or cut}; the lines before it were read")
