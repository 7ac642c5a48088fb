"""Tests for tension.readers: every format, the bad-input corpus, dates, and the real corpora."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import json
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tension.core.dates import DateError, parse_date
from tension.core.records import Article, Problem
from tension.io import readers
from tension.io.readers import (
    FORMATS,
    NO_DATE_TXT,
    Reader,
    ReadError,
    expand_paths,
    open_reader,
    parse_mapping,
    streams,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BAD = FIXTURES / "bad"
GOOD = FIXTURES / "good"


def read(path: Path | str, **kwargs) -> tuple[Reader, list[Article], list[Problem]]:
    reader = open_reader(str(path), **kwargs)
    items = list(reader)
    assert all(isinstance(item, Article | Problem) for item in items)
    articles = [item for item in items if isinstance(item, Article)]
    problems = [item for item in items if isinstance(item, Problem)]
    return reader, articles, problems


def triples(problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.field, p.reason) for p in problems]


TRUNCATED = ("truncated gzip stream: the compressed data ends early (Compressed file ended "
             "before the end-of-stream marker was reached)")

# name, open_reader kwargs, [(row, field, reason)], number of articles, a check on the articles
BAD_CASES: list[tuple[str, dict, list, int, Callable[[list[Article]], bool]]] = [
    ("truncated.csv.gz", {},
     [(None, None, TRUNCATED + "; the rows before it were read")],
     15, lambda a: a[-1].title == "Headline number 15" and a[-1].row == 16),
    ("corrupt.jsonl.gz", {},
     [(None, None, "corrupt gzip stream: data after the end of the compressed stream is not gzip; "
                   "the lines before it were read")],
     5, lambda a: a[4].title == "Story 5"),
    ("latin1.csv", {}, [], 2,
     lambda a: a[0].title == "Café talks in Panmunjom" and a[0].text == "Seoul’s reply"
     and a[1].text == "£ and €"),
    ("missing_date_column.csv", {},
     [(None, "date", "no date column found; columns found: id, headline, body; use --map date=COLUMN")],
     0, lambda a: True),
    ("renamed_columns.csv", {},
     [(None, "date", "no date column found; columns found: day, head, words, outlet_name; "
                     "use --map date=COLUMN"),
      (None, "text", "no title or text column found; columns found: day, head, words, outlet_name; "
                     "use --map title=COLUMN or --map text=COLUMN")],
     0, lambda a: True),
    ("empty.csv", {}, [(None, None, "empty file")], 0, lambda a: True),
    ("whitespace_only.jsonl", {}, [(None, None, "empty file")], 0, lambda a: True),
    ("header_only.csv", {}, [(None, None, "no data rows")], 0, lambda a: True),
    ("unparseable_dates.csv", {},
     [(3, "date", "unparseable date 'yesterday'"),
      (4, "date", "incomplete date '2018' (needs a year, a month and a day)"),
      (5, "date", "unknown time zone name in date 'Wed 03 Jan 2018 10:00:00 XYZ'")],
     2, lambda a: [x.date for x in a] == [dt.date(2018, 1, 3)] * 2 and a[1].row == 6),
    ("impossible_dates.csv", {},
     [(2, "date", "impossible date '2018-02-30' (day is out of range for month)"),
      (3, "date", "impossible date '2018-13-01' (month must be in 1..12)"),
      (4, "date", "date '1700-01-01' is outside the years 1800..2100"),
      (5, "date", "date '2150-06-01' is outside the years 1800..2100")],
     1, lambda a: a[0].date == dt.date(2018, 2, 28) and a[0].row == 6),
    ("duplicates.csv", {}, [], 4,
     lambda a: [x.row for x in a] == [2, 3, 4, 5] and a[0].url == a[1].url == a[2].url == "http://a/1"),
    ("bom.csv", {}, [], 2, lambda a: a[0].title == "Hotline reopened"),
    ("utf16.csv", {}, [], 1, lambda a: a[0].title == "Hotline reopened"),
    ("ragged.csv", {},
     [(3, None, "wrong number of fields: expected 3 (as in the header), found 4"),
      (4, None, "wrong number of fields: expected 3 (as in the header), found 2")],
     2, lambda a: a[1].title == "Quoted, with comma" and a[1].row == 6),
    ("trailing_garbage.json", {},
     [(None, None, "trailing garbage after the JSON array at line 5, column 1; "
                   "the data before it was read")],
     2, lambda a: [x.title for x in a] == ["Hotline reopened", "Talks proposed"]),
    ("broken_array.json", {},
     [(None, None, "invalid JSON at line 4, column 35: Unterminated string starting at; "
                   "the 2 elements before it were read")],
     2, lambda a: [x.row for x in a] == [1, 2] and a[1].title == "Second"),
    ("not_a_list.json", {},
     [(None, None, "the JSON top level is a string, not an array or an object")], 0, lambda a: True),
    ("wrapper_without_list.json", {},
     [(None, None, "no list of articles in the JSON object (keys: status, count)")], 0, lambda a: True),
    ("bad_lines.jsonl", {},
     [(2, None, "invalid JSON: Expecting ',' delimiter at column 48"),
      (4, None, "line is an array, not a JSON object"),
      (5, None, "line is a number, not a JSON object")],
     2, lambda a: [x.row for x in a] == [1, 6] and a[1].title == "Another good line"),
    ("missing_values.csv", {},
     [(2, "date", "missing date"),
      (3, "text", "empty title and text"),
      (4, "text", "empty title and text")],
     1, lambda a: a[0].title == "" and a[0].text == "Text only is fine"),
    ("feed_no_dates.rss", {},
     [(2, "date", "feed entry has no date (no published or updated element)")],
     2, lambda a: a[0].text == "The inter-Korean hotline was reopened."
     and a[0].source == "Peninsula Wire" and a[0].ext_id == "id-1"
     and a[1].published_at == "2018-01-03T04:30:00Z" and a[1].row == 3),
    ("atom_no_dates.atom", {},
     [(2, "date", "feed entry has no date (no published or updated element)")],
     1, lambda a: a[0].url == "http://example.org/a" and a[0].text == "Summary A"),
    ("epoch_dates.jsonl", {},
     [(4, "date", "date '99999999999999999999999' is outside the years 1800..2100"),
      (5, "date", "unparseable date True")],
     3, lambda a: [x.date for x in a] == [dt.date(2018, 1, 3)] * 3
     and a[1].published_at == "2018-01-03T00:00:00Z" and a[2].published_at == "2018-01-03T08:00:00Z"),
    ("semicolon.csv", {},
     [(3, None, "wrong number of fields: expected 3 (as in the header), found 4")],
     2, lambda a: a[0].text == "North, South and the hotline"),
    ("pipe.csv", {}, [], 2, lambda a: a[0].title == "Hotline, reopened"),
    ("not_gzip.csv.gz", {}, [], 1, lambda a: a[0].title == "Plain text behind a .gz name"),
    ("corrupt.parquet", {},
     [(None, None, "not a readable Parquet file: Parquet file size is 47 bytes, smaller than the "
                   "size reported by footer's (543976545bytes)")],
     0, lambda a: True),
    ("crlf_controls.csv", {}, [], 1,
     lambda a: a[0].title == "Tab\there and bell gone" and a[0].text == "line one\nline two"),
]


@pytest.mark.parametrize(("name", "kwargs", "expected", "count", "check"), BAD_CASES,
                         ids=[case[0] for case in BAD_CASES])
def test_bad_corpus(name, kwargs, expected, count, check) -> None:
    path = BAD / name
    _, articles, problems = read(path, **kwargs)
    assert triples(problems) == expected
    assert all(p.origin == str(path) for p in problems)
    assert len(articles) == count
    assert check(articles)


def test_bad_corpus_is_big_enough_and_small() -> None:
    entries = sorted(BAD.iterdir())
    inputs = [e for e in entries if e.name != "README.md"]
    assert len(inputs) >= 20
    for path in BAD.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 100_000, path
    covered = {case[0] for case in BAD_CASES} | {"txt_missing_date"}
    assert {e.name for e in inputs} <= covered, "every bad fixture needs a test"


def test_problem_raw_is_the_row_text() -> None:
    _, _, problems = read(BAD / "ragged.csv")
    assert problems[0].raw == "2018-01-04,Too many,fields,http://a/2"
    _, _, problems = read(BAD / "truncated.csv.gz")
    assert problems[0].raw == "2018-01-16,KCNA,Headline number "  # the cut-off line, not read as a row
    _, _, problems = read(BAD / "bad_lines.jsonl")
    assert problems[0].raw == '{"date": "2018-01-04", "title": "Missing brace"'


def test_renamed_columns_read_with_map() -> None:
    mapping = parse_mapping("date=day,title=head,text=words,source=outlet_name")
    reader, articles, problems = read(BAD / "renamed_columns.csv", mapping=mapping)
    assert problems == []
    assert reader.mapping == {"date": "day", "title": "head", "text": "words", "source": "outlet_name"}
    assert [a.date for a in articles] == [dt.date(2018, 3, 1), dt.date(2018, 4, 1)]  # US: month first
    assert articles[0].source == "Yonhap"


def test_map_to_a_missing_column_is_one_file_problem() -> None:
    _, articles, problems = read(BAD / "renamed_columns.csv", mapping={"date": "when", "title": "head"})
    assert articles == []
    assert triples(problems) == [
        (None, "date", "column 'when' (from --map date=when) not found; "
                       "columns found: day, head, words, outlet_name")]


def test_txt_folder_with_one_file_lacking_a_date() -> None:
    folder = BAD / "txt_missing_date"
    reader, articles, problems = read(folder)
    assert reader.format == "txt"
    assert [(Path(p.origin).name, p.row, p.field, p.reason) for p in problems] == [
        ("20180230-impossible.txt", None, "date", "impossible date '2018-02-30' (day is out of range for month)"),
        ("undated.txt", None, "date", NO_DATE_TXT),
    ]
    assert NO_DATE_TXT == ("no date: add front matter, a sidecar .json or a date in the file name, or give "
                           "the day with --date YYYY-MM-DD (on the page: the date beside the upload box)")
    by_name = {Path(a.origin).name: a for a in articles}
    assert set(by_name) == {"2018-01-03_hotline.txt", "front.md", "sidecar.txt"}
    hotline = by_name["2018-01-03_hotline.txt"]
    assert (hotline.date, hotline.title, hotline.text) == (
        dt.date(2018, 1, 3), "Hotline reopened", "The inter-Korean hotline was reopened on Wednesday.")
    assert hotline.source == "txt_missing_date"
    front = by_name["front.md"]
    assert (front.date, front.title, front.source, front.text) == (
        dt.date(2018, 1, 2), "Seoul replies", "Yonhap", "Seoul proposed high-level talks.")
    side = by_name["sidecar.txt"]
    assert (side.date, side.title, side.url, side.source) == (
        dt.date(2018, 1, 1), "Kim Jong Un's New Year message", "http://example.org/ny", "KCNA")


def test_five_megabyte_field_is_a_problem_and_other_rows_are_kept(tmp_path: Path) -> None:
    big = "x" * 5_000_001
    csv_path = tmp_path / "big.csv"
    csv_path.write_text(f"date,title,text\n2018-01-03,Small,ok\n2018-01-04,Huge,{big}\n2018-01-05,After,ok\n")
    _, articles, problems = read(csv_path)
    assert triples(problems) == [(3, "text", "field 'text' is 5,000,001 characters, over the 2,000,000 limit")]
    assert len(problems[0].raw) == 500
    assert [a.title for a in articles] == ["Small", "After"]

    jsonl_path = tmp_path / "big.jsonl"
    lines = [{"date": "2018-01-03", "title": "Small"}, {"date": "2018-01-04", "text": big},
             {"date": "2018-01-05", "title": "After"}]
    jsonl_path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    _, articles, problems = read(jsonl_path)
    assert triples(problems) == [(2, "text", "field 'text' is 5,000,001 characters, over the 2,000,000 limit")]
    assert len(articles) == 2


def test_truncated_gzip_keeps_every_row_before_the_cut(tmp_path: Path) -> None:
    rows = "".join(f"2018-01-{d % 28 + 1:02d},Title {d} {'w' * 40}\n" for d in range(5000))
    data = gzip.compress(("date,title\n" + rows).encode(), mtime=0)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    _, articles, problems = read(path)
    assert triples(problems) == [(None, None, TRUNCATED + "; the rows before it were read")]
    assert len(articles) > 1000
    assert [a.row for a in articles] == list(range(2, len(articles) + 2))
    assert articles[-1].title.startswith(f"Title {len(articles) - 1} ")


def test_latin1_decided_per_file_even_late_in_the_file(tmp_path: Path) -> None:
    rows = "".join(f"2018-01-03,Plain ascii row {i}\n" for i in range(20_000))
    path = tmp_path / "late.csv"
    path.write_bytes(("date,title\n" + rows).encode() + "2018-01-04,Café\n".encode("cp1252"))
    reader, articles, problems = read(path)
    assert reader.encoding == "cp1252"
    assert problems == []
    assert len(articles) == 20_001 and articles[-1].title == "Café"


CUT_UTF8 = "the file ends inside a multi-byte UTF-8 character (it was cut short)"


def _gzip_cut(data: bytes) -> bytes:
    """A gzip stream that stops right after `data` (no end-of-stream marker)."""
    deflate = zlib.compressobj(wbits=31)
    return deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH)


def test_cp1252_letter_at_the_very_end_of_an_ascii_file_stays_cp1252(tmp_path: Path) -> None:
    # Also an incomplete UTF-8 character: only non-ASCII text before it tells a cut UTF-8 file.
    path = tmp_path / "last.csv"
    path.write_bytes("date,title\n2018-01-03,Café".encode("cp1252"))
    reader, articles, problems = read(path)
    assert (reader.encoding, problems, [a.title for a in articles]) == ("cp1252", [], ["Café"])


def test_cut_utf8_csv_and_jsonl_report_the_cut_row(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes("date,title\n2018-01-03,Café\n2018-01-04,평양".encode()[:-2])
    reader, articles, problems = read(path)
    assert reader.encoding == "utf-8" and [a.title for a in articles] == ["Café"]
    assert [(p.row, p.field, p.reason, p.raw) for p in problems] == [
        (None, None, CUT_UTF8 + "; the rows before it were read", "2018-01-04,평\ufffd")]
    path = tmp_path / "cut.jsonl"
    path.write_bytes('{"date": "2018-01-03", "title": "Café"}\n{"date": "2018-01-04", "title": "평양"}'
                     .encode()[:-3])
    reader, articles, problems = read(path)
    assert reader.encoding == "utf-8" and [a.title for a in articles] == ["Café"]
    assert triples(problems) == [(None, None, CUT_UTF8 + "; the lines before it were read "
                                                         "(line 2 was cut off)")]


@pytest.mark.parametrize("how", ["gzip", "utf-8"])
def test_row_cut_inside_a_quoted_field_is_not_stored(tmp_path: Path, how: str) -> None:
    data = 'date,title,text\n2018-01-03,Whole,"one\ntwo"\n2018-01-04,Cut,"first line\nsecond 평양'.encode()
    path = tmp_path / "quoted.csv"
    if how == "gzip":
        path = tmp_path / "quoted.csv.gz"
        path.write_bytes(_gzip_cut(data))
    else:
        path.write_bytes(data[:-2])
    _, articles, problems = read(path)
    assert [(a.title, a.text) for a in articles] == [("Whole", "one\ntwo")]
    assert triples(problems) == [
        (3, None, "the file ends inside this row (it was cut short)"),
        (None, None, (TRUNCATED if how == "gzip" else CUT_UTF8) + "; the rows before it were read")]
    assert problems[0].raw == '2018-01-04,Cut,"first line'


def test_cut_utf8_text_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "20180103-note.txt"
    path.write_bytes("Café talks\n\nThe talks in 평양".encode()[:-1])
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [(None, None, CUT_UTF8)]


def test_cut_utf8_header_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes("date,titré,평".encode()[:-1])
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, None, "the file ends inside its header, in the middle of a UTF-8 character (it was cut short)")]


def test_gzip_cut_in_a_file_fatal_for_its_columns_is_still_reported(tmp_path: Path) -> None:
    path = tmp_path / "nodate.csv.gz"
    path.write_bytes(_gzip_cut(b"day,title\n2018-01-01,x\n2018-01-02,y\n"))
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, "date", "no date column found; columns found: day, title; use --map date=COLUMN"),
        (None, None, TRUNCATED + "; no rows were read")]
    path = tmp_path / "nodate.jsonl.gz"
    path.write_bytes(_gzip_cut(b'{"day": "2018-01-01", "title": "x"}\n'))
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, "date", "no date column found; columns found: day, title; use --map date=COLUMN"),
        (None, None, TRUNCATED + "; no lines were read")]


# ------------------------------------------------------------------ decompression bombs


def _bomb(tmp_path: Path, name: str, text: str) -> Path:
    """A small .gz that expands to `text` (highly compressible, 8 times the cap or more)."""
    data = gzip.compress(text.encode(), compresslevel=9, mtime=0)
    assert len(data) * 100 < len(text) and len(text) > 8 * streams.MAX_LOAD_BYTES
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """MAX_LOAD_BYTES at 1 MiB, and the decompressed bytes the readers pull out, counted."""
    monkeypatch.setattr(streams, "MAX_LOAD_BYTES", 1 << 20)
    pulled = [0]
    read_gzip = streams._Gunzip.read

    def counting(self, size: int) -> bytes:
        data = read_gzip(self, size)
        pulled[0] += len(data)
        return data

    monkeypatch.setattr(streams._Gunzip, "read", counting)
    return pulled


ROW = {"date": "2018-01-03", "title": "Bomb", "text": "calm " * 200}


def test_gzip_bomb_json_is_one_file_problem_not_a_memory_blowup(tmp_path: Path, small_cap) -> None:
    assert streams.MAX_LOAD_BYTES == 1 << 20  # 512 MiB outside this test
    path = _bomb(tmp_path, "bomb.json.gz", json.dumps([ROW] * 9000))
    _, articles, problems = read(path)
    assert articles == []
    assert triples(problems) == [
        (None, None, "the file decompresses to more than 1 MiB; split it or use JSONL, which is streamed")]
    # It stopped at the cap (plus the byte that tells, and the 64 KiB head format detection reads).
    assert small_cap[0] <= (1 << 20) + 1 + (64 << 10)


def test_json_larger_than_the_cap_without_gzip(tmp_path: Path, small_cap) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([ROW] * 1200))
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, None, "the file is larger than 1 MiB; split it or use JSONL, which is streamed")]


def test_jsonl_of_the_same_size_is_streamed_not_capped(tmp_path: Path, small_cap) -> None:
    path = _bomb(tmp_path, "bomb.jsonl.gz", (json.dumps(ROW) + "\n") * 9000)
    _, articles, problems = read(path)
    assert problems == [] and len(articles) == 9000
    path = _bomb(tmp_path, "bomb.csv.gz", "date,title,text\n" + f"2018-01-03,Bomb,{'calm ' * 200}\n" * 9000)
    _, articles, problems = read(path)
    assert problems == [] and len(articles) == 9000


def test_gzip_bombs_of_other_inputs_loaded_whole(tmp_path: Path, small_cap) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    item = f"<item><title>Bomb</title><pubDate>2018-01-03</pubDate><description>{'calm ' * 200}</description></item>"
    path = _bomb(tmp_path, "bomb.rss.gz", f'<rss version="2.0"><channel>{item * 9000}</channel></rss>')
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, None, "the file decompresses to more than 1 MiB; a feed is read whole: split it into smaller files")]

    path = _bomb(tmp_path, "20180103-bomb.txt.gz", "calm " * 2_000_000)
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, None, "the file decompresses to more than 1 MiB; a text file is one article, "
                     "of at most 2,000,000 characters")]

    table = pa.table({"date": ["2018-01-03"] * 9000, "text": ["calm " * 200] * 9000})
    plain = tmp_path / "bomb.parquet"
    pq.write_table(table, plain, compression="NONE", use_dictionary=False)
    path = tmp_path / "bomb.parquet.gz"
    path.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, None, "the file decompresses to more than 1 MiB; gunzip it first: a plain Parquet file "
                     "is read in batches")]
    assert small_cap[0] <= 4 * ((1 << 20) + 1)


# ----------------------------------------------------------------------- good formats


def test_good_csv_with_offsets_ids_and_source_fallback() -> None:
    reader, articles, problems = read(GOOD / "articles.csv")
    assert problems == []
    assert (reader.format, reader.delimiter, reader.encoding) == ("csv", ",", "utf-8")
    assert reader.mapping == {"date": "date", "title": "title", "text": "text", "source": "source",
                              "url": "url", "ext_id": "id"}
    first, second = articles
    assert (first.source, first.ext_id, first.published_at, first.row) == ("Yonhap", "a1", None, 2)
    # 20:00 at -05:00 is 01:00 UTC the next day; an empty source cell falls back to the file stem.
    assert (second.date, second.published_at, second.source) == (
        dt.date(2018, 1, 3), "2018-01-03T01:00:00Z", "articles")


def test_good_tsv_with_usual_column_names() -> None:
    reader, articles, problems = read(GOOD / "articles.tsv")
    assert problems == []
    assert (reader.format, reader.delimiter) == ("tsv", "\t")
    assert reader.mapping == {"date": "pubDate", "title": "headline", "text": "story_text"}
    assert [a.date for a in articles] == [dt.date(2018, 1, 3), dt.date(2018, 1, 3)]
    assert articles[0].published_at == "2018-01-03T01:00:00Z"
    assert articles[0].text == "The hotline, reopened."


def test_good_newsapi_json_object_with_articles_list() -> None:
    reader, articles, problems = read(GOOD / "newsapi.json")
    assert problems == []
    assert reader.format == "json"
    assert reader.mapping["date"] == "publishedAt" and reader.mapping["text"] == "content"
    assert [(a.row, a.source, a.date) for a in articles] == [
        (1, "Reuters", dt.date(2018, 1, 3)), (2, "AP", dt.date(2018, 1, 2))]


def test_good_gzipped_jsonl_and_content_sniffing() -> None:
    reader, articles, problems = read(GOOD / "stories.jsonl.gz")
    assert problems == [] and reader.format == "jsonl"
    assert reader.mapping == {"date": "published", "title": "title", "text": "body"}
    assert [a.date for a in articles] == [dt.date(2018, 1, 3)] * 2
    reader, articles, problems = read(GOOD / "stories.data")
    assert (reader.format, reader.detected) == ("jsonl", "detected from the content")
    assert problems == [] and articles[0].date == dt.date(2018, 1, 3)


def test_format_detection_is_reported() -> None:
    reader = open_reader(str(BAD / "semicolon.csv"))
    assert reader.format == "csv" and reader.delimiter == ";"
    assert reader.detected == "detected from the .csv extension"
    assert reader.describe() == (
        f"{BAD / 'semicolon.csv'}: csv (detected from the .csv extension); delimiter ';'; "
        "encoding utf-8; columns date=date, title=title, text=text")
    forced = open_reader(str(BAD / "semicolon.csv"), fmt="csv")
    assert forced.detected == "forced"
    assert open_reader(str(BAD / "feed_no_dates.rss")).format == "rss"
    assert open_reader(str(BAD / "txt_missing_date")).detected == "folder"


def test_tab_separated_content_without_a_telling_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_text("Date\tHeadline\tBody\n2018-01-03\tHotline, reopened\tText; more\n")
    reader, articles, problems = read(path)
    assert (reader.format, reader.detected, reader.delimiter) == ("tsv", "detected from the content", "\t")
    assert reader.mapping == {"date": "Date", "title": "Headline", "text": "Body"}
    assert problems == [] and articles[0].title == "Hotline, reopened"


def test_jsonl_in_a_json_file_is_read_as_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text('{"date": "2018-01-03", "title": "a"}\n{"date": "2018-01-04", "title": "b"}\n')
    reader, articles, problems = read(path)
    assert reader.format == "jsonl" and problems == [] and len(articles) == 2


def test_parquet_with_timestamps_and_gzip(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "published_at": pa.array([dt.datetime(2018, 1, 2, 20, 0, tzinfo=dt.UTC),
                                  dt.datetime(2018, 1, 3, 12, 0, tzinfo=dt.UTC), None],
                                 type=pa.timestamp("us", tz="UTC")),
        "headline": ["Evening in UTC", "Noon", "No date"],
        "Body": ["a", "b", "c"],
    })
    path = tmp_path / "articles.parquet"
    pq.write_table(table, path)
    reader, articles, problems = read(path, tz="Asia/Seoul")
    assert reader.format == "parquet"
    assert reader.mapping == {"date": "published_at", "title": "headline", "text": "Body"}
    assert [a.date for a in articles] == [dt.date(2018, 1, 3), dt.date(2018, 1, 3)]
    assert articles[0].published_at == "2018-01-02T20:00:00Z"
    assert triples(problems) == [(3, "date", "missing date")]

    gz_path = tmp_path / "articles.parquet.gz"
    gz_path.write_bytes(gzip.compress(path.read_bytes()))
    reader, articles, problems = read(gz_path)
    assert reader.format == "parquet" and len(articles) == 2


def test_single_txt_file_and_markdown_heading(tmp_path: Path) -> None:
    path = tmp_path / "20180103-note.md"
    path.write_text("# Hotline reopened\n\nThe hotline\r\nwas reopened.\n")
    reader, articles, problems = read(path)
    assert reader.format == "txt" and problems == []
    (article,) = articles
    assert (article.date, article.title, article.text, article.source) == (
        dt.date(2018, 1, 3), "Hotline reopened", "The hotline\nwas reopened.", "20180103-note")


def test_source_argument_overrides_the_column() -> None:
    _, articles, _ = read(GOOD / "articles.csv", source="Analyst set")
    assert {a.source for a in articles} == {"Analyst set"}


@contextmanager
def serve(respond: Callable[[str], bytes], content_type: str | None = None) -> Iterator[str]:
    """A local HTTP server answering GET path with respond(path); yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            self.send_response(200)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(respond(self.path))

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_feed_from_a_url(tmp_path: Path) -> None:
    body = (BAD / "feed_no_dates.rss").read_bytes()
    with serve(lambda _path: body, "application/rss+xml") as base:
        url = f"{base}/feed.xml"
        reader, articles, problems = read(url)
        assert (reader.format, reader.detected) == ("rss", "URL")
        assert len(articles) == 2 and triples(problems) == [
            (2, "date", "feed entry has no date (no published or updated element)")]
        assert articles[0].origin == url


def test_cut_gzipped_feed_from_a_url_keeps_its_entries(tmp_path: Path) -> None:
    items = "".join(f"<item><title>Entry {i}</title><pubDate>Wed, 03 Jan 2018 10:00:00 GMT</pubDate>"
                    f"<description>{'text ' * 50}</description></item>\n" for i in range(30))
    feed = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{items}</channel></rss>'
    whole = gzip.compress(feed.encode(), mtime=0)
    body = _gzip_cut(feed.encode()[: len(feed) // 2])
    with serve(lambda path: whole if path == "/whole.xml" else body) as base:
        _, articles, problems = read(f"{base}/whole.xml")
        assert len(articles) == 30 and problems == []
        _, articles, problems = read(f"{base}/cut.xml")
        assert [a.title for a in articles] == [f"Entry {i}" for i in range(len(articles))]
        assert 5 < len(articles) < 30
        assert triples(problems) == [
            (len(articles) + 1, None, "the feed ends inside this entry (it was cut off)"),
            (None, None, TRUNCATED + "; the entries before it were read")]


def test_broken_feed_reasons_give_the_line_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.rss"
    path.write_text("not a feed at all")
    _, articles, problems = read(path)
    assert articles == [] and triples(problems) == [
        (None, None, "not a readable RSS/Atom feed: line 1, column 0: syntax error")]
    # No XML declaration: feedparser adds one line in front, which the line number leaves out.
    path.write_text('<rss version="2.0"><channel>\n<item><title>a &amp b</title>'
                    "<pubDate>2018-01-03</pubDate></item>\n</channel></rss>")
    _, articles, problems = read(path)
    assert [a.title for a in articles] == ["a & b"]
    assert triples(problems) == [
        (None, None, "the feed is not well-formed XML (line 2, column 19: not well-formed (invalid "
                     "token)); the 1 entry found in it was read")]


def test_unreachable_url_is_a_problem_not_an_exception() -> None:
    _, articles, problems = read("http://127.0.0.1:9/feed.xml")
    assert articles == []
    assert len(problems) == 1 and problems[0].reason.startswith("could not fetch the feed: ")


# ------------------------------------------------------------------------ errors, API


def test_read_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(ReadError, match="nope.csv: no such file or folder"):
        open_reader(str(missing))
    with pytest.raises(ReadError, match="unknown format 'xls'"):
        open_reader(str(GOOD / "articles.csv"), fmt="xls")
    with pytest.raises(ReadError, match="unknown time zone 'Mars/Base'"):
        open_reader(str(GOOD / "articles.csv"), tz="Mars/Base")
    with pytest.raises(ReadError, match="only the txt format reads folders"):
        open_reader(str(BAD / "txt_missing_date"), fmt="csv")
    with pytest.raises(ReadError, match="unknown field 'body_text'"):
        open_reader(str(GOOD / "articles.csv"), mapping={"body_text": "x"})
    assert str(ReadError("x")) == "x"


def test_parse_mapping() -> None:
    assert parse_mapping("date=pub,text=body") == {"date": "pub", "text": "body"}
    assert parse_mapping(" date = pubDate , id=guid ,") == {"date": "pubDate", "ext_id": "guid"}
    with pytest.raises(ValueError, match="unknown field 'author' in --map: fields are date, title"):
        parse_mapping("author=by")
    with pytest.raises(ValueError, match="bad --map item 'date': use FIELD=COLUMN"):
        parse_mapping("date")
    with pytest.raises(ValueError, match="both FIELD and COLUMN are needed"):
        parse_mapping("date=")
    with pytest.raises(ValueError, match="field 'date' given twice"):
        parse_mapping("date=a,date=b")
    with pytest.raises(ValueError, match="empty --map"):
        parse_mapping("  ")


def test_expand_paths(tmp_path: Path) -> None:
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("x")
    (tmp_path / "texts" / "a.json").write_text("{}")  # a sidecar, not a data file
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "b.csv").write_text("x")
    (tmp_path / "data" / "a.jsonl.gz").write_bytes(b"")
    (tmp_path / "data" / "notes.pdf").write_bytes(b"")
    (tmp_path / "data" / ".hidden.csv").write_text("x")
    (tmp_path / "data" / "sub").mkdir()
    (tmp_path / "data" / "sub" / "c.parquet").write_bytes(b"")
    single = tmp_path / "data" / "b.csv"
    url = "https://example.org/feed.xml"
    assert expand_paths([str(tmp_path / "texts"), str(tmp_path / "data"), str(single), url]) == [
        str(tmp_path / "texts"),
        str(tmp_path / "data" / "a.jsonl.gz"),
        str(tmp_path / "data" / "b.csv"),
        str(tmp_path / "data" / "sub" / "c.parquet"),
        str(single),
        url,
    ]


def test_batches_give_the_same_items() -> None:
    reader = open_reader(str(BAD / "truncated.csv.gz"))
    batches = list(reader.batches(4))
    assert [len(b) for b in batches] == [4, 4, 4, 4]
    assert [i for b in batches for i in b] == list(reader)
    assert FORMATS == ("csv", "tsv", "json", "jsonl", "parquet", "txt", "rss")


# ------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(("text", "tz", "day", "instant"), [
    ("2018-01-02T20:00:00-05:00", "UTC", dt.date(2018, 1, 3), "2018-01-03T01:00:00Z"),
    ("2018-01-02T20:00:00Z", "Asia/Seoul", dt.date(2018, 1, 3), "2018-01-02T20:00:00Z"),
    ("2018-01-02T20:00:00Z", "UTC", dt.date(2018, 1, 2), "2018-01-02T20:00:00Z"),
    ("2018-01-03T08:00:00", "Asia/Seoul", dt.date(2018, 1, 3), "2018-01-02T23:00:00Z"),  # naive: in tz
    ("2018-01-03", "America/New_York", dt.date(2018, 1, 3), None),  # plain dates stay
    ("Wed, 03 Jan 2018 10:00:00 +0900", "UTC", dt.date(2018, 1, 3), "2018-01-03T01:00:00Z"),
    ("Tue, 02 Jan 2018 23:30:00 EST", "UTC", dt.date(2018, 1, 3), "2018-01-03T04:30:00Z"),
    ("Jan 3, 2018", "UTC", dt.date(2018, 1, 3), None),
    ("3 January 2018", "UTC", dt.date(2018, 1, 3), None),
    ("01/03/2018", "UTC", dt.date(2018, 1, 3), None),
    ("2018/01/03", "UTC", dt.date(2018, 1, 3), None),
    ("20180103", "UTC", dt.date(2018, 1, 3), None),
    ("2018-1-3", "UTC", dt.date(2018, 1, 3), None),
    ("  2018-01-03 ", "UTC", dt.date(2018, 1, 3), None),
    ("1514937600", "UTC", dt.date(2018, 1, 3), "2018-01-03T00:00:00Z"),
    ("1514937600000", "Asia/Seoul", dt.date(2018, 1, 3), "2018-01-03T00:00:00Z"),
])
def test_parse_date_text(text, tz, day, instant) -> None:
    assert parse_date(text, tz) == (day, instant)


def test_parse_date_numbers_and_objects() -> None:
    assert parse_date(1514937600) == (dt.date(2018, 1, 3), "2018-01-03T00:00:00Z")
    assert parse_date(1514937600000) == (dt.date(2018, 1, 3), "2018-01-03T00:00:00Z")
    assert parse_date(1514937600.5)[1] == "2018-01-03T00:00:00.500000Z"
    assert parse_date(1514991600, "America/New_York") == (dt.date(2018, 1, 3), "2018-01-03T15:00:00Z")
    assert parse_date(dt.date(2018, 1, 3)) == (dt.date(2018, 1, 3), None)
    seoul_evening = dt.datetime(2018, 1, 3, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert parse_date(seoul_evening) == (dt.date(2018, 1, 3), "2018-01-03T13:00:00Z")


@pytest.mark.parametrize(("value", "reason"), [
    ("2018-02-30", "impossible date '2018-02-30' (day is out of range for month)"),
    ("Feb 30, 2018", "impossible date 'Feb 30, 2018' (day is out of range for month)"),
    ("20180230", "impossible date '20180230' (day is out of range for month)"),
    ("1799-12-31", "date '1799-12-31' is outside the years 1800..2100"),
    ("not a date", "unparseable date 'not a date'"),
    ("January 2018", "incomplete date 'January 2018' (needs a year, a month and a day)"),
    ("", "missing date"),
    (None, "missing date"),
    (float("nan"), "missing date"),
    (2018, "incomplete date '2018' (needs a year, a month and a day)"),
    ("x" * 500, f"unparseable date '{'x' * 57}...' (500 characters)"),
    # An offset of a day or more is one bad date, not a ValueError that stops the file.
    ("2018-01-03T10:00:00+25:00",
     "impossible time zone offset in date '2018-01-03T10:00:00+25:00' (an offset must be less than 24 hours)"),
    ("Wed, 03 Jan 2018 10:00:00 -9900",
     "impossible time zone offset in date 'Wed, 03 Jan 2018 10:00:00 -9900' "
     "(an offset must be less than 24 hours)"),
    # Moving these to UTC leaves datetime's years 1..9999 (an OverflowError once).
    ("9999-12-31T23:00:00-05:00", "date '9999-12-31T23:00:00-05:00' is outside the years 1800..2100"),
    ("0001-01-01T00:00:00+05:00", "date '0001-01-01T00:00:00+05:00' is outside the years 1800..2100"),
])
def test_parse_date_errors(value, reason) -> None:
    with pytest.raises(DateError) as info:
        parse_date(value)
    assert str(info.value) == reason


def test_parse_date_of_a_datetime_with_a_broken_zone() -> None:
    class DayAndAHalf(dt.tzinfo):
        def utcoffset(self, when):
            return dt.timedelta(hours=36)

        def dst(self, when):
            return None

    with pytest.raises(DateError, match=r"^impossible time zone offset in date '2018-01-03T00:00:00'"):
        parse_date(dt.datetime(2018, 1, 3, tzinfo=DayAndAHalf()))
    with pytest.raises(DateError, match="outside the years"):
        parse_date(dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC), "Asia/Seoul")


def test_reader_timezone_option(tmp_path: Path) -> None:
    path = tmp_path / "tz.csv"
    path.write_text("date,title\n2018-01-02T20:00:00Z,Evening UTC\n2018-01-02T20:00:00-05:00,Evening NY\n"
                    "2018-01-02,Plain day\n")
    _, utc, _ = read(path)
    _, seoul, _ = read(path, tz="Asia/Seoul")
    assert [a.date.day for a in utc] == [2, 3, 2]
    assert [a.date.day for a in seoul] == [3, 3, 2]
    assert [a.published_at for a in seoul] == ["2018-01-02T20:00:00Z", "2018-01-03T01:00:00Z", None]


# ------------------------------------------------------------------- property tests


_WRITE_LOCK = threading.Lock()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=300),
        st.lists(st.sampled_from(['{"date": "2018-01-03", "title": "a"}', '{"date": 1}', "[1,", "date,title",
                                  "2018-01-03,x", '"unclosed', "\x00", "\r", ";", "\t", "{}", "é", "\ufeff"]),
                 max_size=12).map("\n".join),
    ),
    suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".json", ".dat", ".txt", ".rss"]),
    compress=st.booleans(),
    cut=st.integers(min_value=0, max_value=100),
)
def test_random_input_never_raises(tmp_path: Path, content, suffix, compress, cut) -> None:
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    if compress:
        data = gzip.compress(data, mtime=0)
        data = data[: max(1, len(data) * cut // 100)]
    with _WRITE_LOCK:
        path = tmp_path / f"random{suffix}{'.gz' if compress else ''}"
        path.write_bytes(data)
        reader = open_reader(str(path))
        items = list(reader)
    assert reader.format in FORMATS
    assert all(isinstance(item, Article | Problem) for item in items)
    for item in items:
        if isinstance(item, Problem):
            assert item.reason and len(item.raw) <= 500


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans()))
def test_parse_date_never_raises_anything_but_date_error(value) -> None:
    try:
        day, instant = parse_date(value)
    except DateError as exc:
        assert str(exc)
    else:
        assert 1800 <= day.year <= 2100
        assert instant is None or instant.endswith("Z")


# ------------------------------------------------------------------------ real corpora


@pytest.mark.corpus
def test_real_headlines(shared_data) -> None:
    path = shared_data("kcna_headlines_1997_2014.csv.gz")
    reader, articles, problems = read(path)  # its speed: bench/bench_ingest.py ("reading")
    assert problems == []
    assert len(articles) == 99_841
    assert reader.mapping == {"date": "date", "title": "title", "source": "source", "url": "url"}
    assert articles[0].date == dt.date(1997, 1, 1) and articles[0].source == "KCNA"
    assert articles[0].row == 2


@pytest.mark.corpus
def test_real_stories(shared_data) -> None:
    path = shared_data("kcna_stories_2011_2012.jsonl.gz")
    reader, articles, problems = read(path)
    assert problems == []
    assert len(articles) == 20_305
    assert sum(1 for a in articles if not a.title) == 688
    assert all(a.text for a in articles)
    assert reader.format == "jsonl"


def test_shared_data_fails_under_ci_and_skips_elsewhere(shared_data, monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no_such_corpus.csv is missing"):
        shared_data("no_such_corpus.csv")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no_such_corpus.csv is missing"):
        shared_data("no_such_corpus.csv")


# ------------------------------------------------------------------- day-first or month-first
def _dated(tmp_path: Path, *dates: str, **kwargs) -> tuple[list[tuple[int, str]], list[tuple]]:
    path = tmp_path / "dates.csv"
    path.write_text("date,title\n" + "".join(f"{d},t{i}\n" for i, d in enumerate(dates)))
    _, arts, problems = read(path, **kwargs)
    return [(a.row, a.date.isoformat()) for a in arts], triples(problems)


def test_a_day_first_file_is_read_day_first(tmp_path: Path) -> None:
    """QA: 25/12/2017, 01/02/2018, 05/03/2018, 13/03/2018 stored 01/02 as 2 January and 05/03 as
    3 May. The first date that can only be day-first settles the file."""
    got, problems = _dated(tmp_path, "25/12/2017", "01/02/2018", "05/03/2018 10:00", "13.03.2018")
    assert got == [(2, "2017-12-25"), (3, "2018-02-01"), (4, "2018-03-05"), (5, "2018-03-13")]
    assert problems == []


def test_a_month_first_file_and_iso_dates_are_unchanged(tmp_path: Path) -> None:
    got, problems = _dated(tmp_path, "12/25/2017", "01/02/2018", "2018-01-03", "1-2-2018")
    assert got == [(2, "2017-12-25"), (3, "2018-01-02"), (4, "2018-01-03"), (5, "2018-01-02")]
    assert problems == []


def test_a_contradiction_is_a_problem_naming_the_evidence(tmp_path: Path) -> None:
    got, problems = _dated(tmp_path, "25/12/2017", "12/25/2017", "02/01/2018")
    assert got == [(2, "2017-12-25"), (4, "2018-01-02")]
    assert problems == [(3, "date", "date '12/25/2017' cannot be day-first, and this file writes dates "
                                    "day-first (as '25/12/2017' shows)")]
    # ambiguous dates came first (read month-first), then one that is only day-first
    got, problems = _dated(tmp_path, "01/02/2018", "13/03/2018")
    assert got == [(2, "2018-01-02")]
    assert problems == [(3, "date", "date '13/03/2018' is day-first, but this file's earlier date "
                                    "'01/02/2018' was read month-first; undo this import (python -m "
                                    "tension runs list, runs remove) and import the file with "
                                    "--date-order dmy (or mdy)")]


def test_the_analyst_can_say_which(tmp_path: Path) -> None:
    got, problems = _dated(tmp_path, "01/02/2018", "13/03/2018", "12/25/2017", date_order="dmy")
    assert got == [(2, "2018-02-01"), (3, "2018-03-13")]
    assert problems == [(4, "date", "date '12/25/2017' cannot be day-first, and this file writes dates "
                                    "day-first (as --date-order dmy says)")]
    got, _ = _dated(tmp_path, "01/02/2018", date_order="mdy")
    assert got == [(2, "2018-01-02")]
    with pytest.raises(readers.ReadError, match="date order must be one of auto, mdy, dmy"):
        readers.open_reader(str(tmp_path / "dates.csv"), date_order="ymd")


# ---------------------------------------------------------------------------- registry


def test_the_registry_gives_formats_extensions_and_upload_suffixes() -> None:
    from tension.io.readers import extension_map, formats, register, upload_suffixes

    assert FORMATS == ("csv", "tsv", "json", "jsonl", "parquet", "txt", "rss")
    assert [f.name for f in formats()] == list(FORMATS)
    assert extension_map() == {
        ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl",
        ".ndjson": "jsonl", ".jsonlines": "jsonl", ".parquet": "parquet", ".pq": "parquet",
        ".txt": "txt", ".md": "txt", ".markdown": "txt", ".rss": "rss", ".atom": "rss",
        ".xml": "rss"}
    assert upload_suffixes() == (".csv", ".tsv", ".json", ".jsonl", ".txt", ".csv.gz", ".tsv.gz",
                                 ".json.gz", ".jsonl.gz")
    # A name or an extension cannot be claimed twice.
    with pytest.raises(ValueError, match="registered twice"):
        register("csv", extensions=(".csv2",))(Reader)
    with pytest.raises(ValueError, match="extension .csv already belongs to csv"):
        register("csv2", extensions=(".csv",))(Reader)
    assert FORMATS == tuple(f.name for f in formats())


def test_each_format_opens_its_registered_reader(tmp_path: Path) -> None:
    from tension.io.readers import formats

    path = tmp_path / "a.csv"
    path.write_text("date,title\n2018-01-02,x\n")
    for spec in formats():  # a CSV read as anything else is a Problem, but by that reader
        reader = open_reader(str(path), fmt=spec.name)
        assert type(reader) is spec.reader and reader.format == spec.name


def test_the_cli_and_the_upload_box_read_the_registry() -> None:
    from tension.cli.ingest import ingest
    from tension.dashboard.panels.files import upload_accept
    from tension.dashboard.uploads import ALLOWED_SUFFIXES
    from tension.io.readers import upload_suffixes

    choices = next(p.type.choices for p in ingest.params if p.name == "fmt")
    assert list(choices) == ["auto", *FORMATS]
    assert ALLOWED_SUFFIXES == upload_suffixes()
    assert upload_accept() == ".csv,.tsv,.json,.jsonl,.txt,.gz"
