"""CSV and TSV: streamed row by row, the delimiter sniffed from the start of the file."""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from tension.core.records import Article, Problem
from tension.io.readers.base import Reader
from tension.io.readers.columns import FIELDS
from tension.io.readers.registry import register
from tension.io.readers.streams import CUT_UTF8, SAMPLE, text_stream
from tension.io.readers.text import clean, short

_DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(sample: str, preferred: str) -> str:
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


# Applied bottom-up: csv is registered before tsv.
@register("tsv", extensions=(".tsv", ".tab"), upload=True, upload_gzip=True)
@register("csv", extensions=(".csv",), upload=True, upload_gzip=True)
@dataclass(repr=False, eq=False)
class DelimitedReader(Reader):
    """A CSV or TSV file; `delimiter` is the one sniffed (any of , ; TAB | for either)."""

    header: list[str] = field(default_factory=list, init=False)
    cut: str | None = field(default=None, init=False)  # why the file ends inside a character

    def probe(self) -> None:
        opened = self._open_sample()
        if opened is None:
            return
        text, sample, gz_error, cut = opened
        if (gz_error or cut) and len(sample) < SAMPLE and "\n" not in text and "\r" not in text:
            # The data ends inside the header line: its column names are cut, so the real
            # cause is reported instead of "no date column found".
            self._fatal = True
            reason = (f"{gz_error}; the file ends inside its header" if gz_error else
                      "the file ends inside its header, in the middle of a UTF-8 character (it was cut short)")
            self._file_problem(reason, raw=text)
            return
        self.cut = CUT_UTF8 if cut else None
        preferred = "\t" if self.format == "tsv" else ","
        self.delimiter = sniff_delimiter(text, preferred)
        if self.delimiter == "\t" and "content" in self.detected:
            self.format = "tsv"
        try:
            header = next(csv.reader(io.StringIO(text), delimiter=self.delimiter), [])
        except csv.Error:
            header = []
        self.header = [clean(h.lstrip("\ufeff")) for h in header]
        self._mapping_problems(self.header, raw=self.delimiter.join(self.header))
        if self._fatal:
            self._fatal_gzip_note(gz_error, "no rows were read")

    def rows(self) -> Iterator[Article | Problem]:
        """Stream the file: one Python loop over csv.reader, dates parsed once per distinct string."""
        csv.field_size_limit(2**31 - 1)  # our own per-field limit gives the message, not csv's
        header = self.header
        index = {name: header.index(col) for name, col in self.mapping.items()}
        # Each record gets a None appended, so a field without a column reads index -1.
        pick = operator.itemgetter(*(index.get(name, -1) for name in FIELDS))
        width = len(header)
        limit = self.max_field
        build = self._builder().make
        origin = self.origin
        text, raw_stream = text_stream(self.origin, self.encoding or "utf-8", newline="")
        buffer: list[str] = []
        partial: list[str] = []

        cut = self.cut  # the file ends inside a UTF-8 character
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
            records = csv.reader(lines(), delimiter=self.delimiter or ",")
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row += 1
                    yield Problem(origin, row, None, f"unreadable CSV row: {exc}", short(raw()))
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
                                  short(raw()))
                    buffer.clear()
                    continue
                if len(record) != width:
                    if not record or (len(record) == 1 and not record[0].strip()):
                        buffer.clear()  # a blank line
                        continue
                    data_rows += 1
                    yield Problem(origin, row, None,
                                  f"wrong number of fields: expected {width} (as in the header), "
                                  f"found {len(record)}", short(raw()))
                    buffer.clear()
                    continue
                data_rows += 1
                record.append(None)
                big = len(buffer) > 1 or len(buffer[0]) > limit if buffer else True
                yield build(row, pick(record), raw, None, big)
                buffer.clear()
        if raw_stream.error is not None or cut:
            yield Problem(origin, None, None, f"{raw_stream.error or cut}; the rows before it were read",
                          short("".join(partial)))
        elif data_rows == 0:
            yield Problem(origin, None, None, "no data rows", short((self.delimiter or ",").join(header)))
