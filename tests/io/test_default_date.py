"""An article without a date is bad input, never today's news (issue 21, item 3).

The readers quarantine it with the file, row and field "date", unless the analyst gives
the day (`default_date`: the CLI's --date, the date beside the upload box), which dates
only the articles that have no date of their own. An upload's stored copy is read under
the file's own name (`name`), so the upload time in the copy's name is never a date.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tension.core.records import Article, Problem
from tension.io.readers import NO_DATE_TXT, ReadError, open_reader

DAY = dt.date(2013, 3, 7)
STAMPED = "20261204T165722_530b79_"  # how the upload box names its copy of a file


def read(path: Path, **kw) -> tuple[list[Article], list[Problem]]:
    items = list(open_reader(str(path), **kw))
    return [x for x in items if isinstance(x, Article)], [x for x in items if isinstance(x, Problem)]


def where(problems: list[Problem]) -> list[tuple]:
    return [(Path(p.origin).name, p.row, p.field, p.reason) for p in problems]


# ------------------------------------------------------------------ an upload's stored copy


def test_an_uploaded_copy_is_not_dated_by_its_upload_stamp(tmp_path: Path) -> None:
    """QA: an undated .txt uploaded on 2026-12-04 was 'added 1' on 2026-12-04: the stamp of
    its stored copy was read as a date in the file name."""
    copy = tmp_path / f"{STAMPED}test_articles.txt"
    copy.write_text("Undated headline\nA body without any date.\n", encoding="utf-8")
    articles, problems = read(copy, name="test_articles.txt")
    assert articles == []
    assert where(problems) == [(copy.name, None, "date", NO_DATE_TXT)]
    assert "--date" in NO_DATE_TXT  # the message says how to give the day


def test_an_uploaded_copy_takes_date_and_source_from_its_own_name(tmp_path: Path) -> None:
    copy = tmp_path / f"{STAMPED}2013-03-05 statement.txt"
    copy.write_text("Spokesman statement\nBody.\n", encoding="utf-8")
    (article,), problems = read(copy, name="2013-03-05 statement.txt")
    assert problems == []
    assert (article.date, article.source, article.title) == (dt.date(2013, 3, 5), "2013-03-05 statement",
                                                             "Spokesman statement")
    assert article.origin == str(copy)  # the quarantine and the run log name the stored file


def test_an_uploaded_csv_is_its_own_names_source(tmp_path: Path) -> None:
    copy = tmp_path / f"{STAMPED}new_articles.csv"
    copy.write_text("date,title\n2013-03-05,Talks resume\n", encoding="utf-8")
    (article,), _ = read(copy, name="new_articles.csv")
    assert article.source == "new_articles"
    # without a name (the command line), the file name is the source, as it always was
    (article,), _ = read(copy)
    assert article.source == f"{STAMPED}new_articles"


# ------------------------------------------------------------------------- default_date


def test_text_files_without_a_date_take_the_given_day_and_their_own_date_wins(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "undated.txt").write_text("Undated\nbody\n", encoding="utf-8")
    (folder / "2013-03-01 named.txt").write_text("Named\nbody\n", encoding="utf-8")
    (folder / "front.txt").write_text("---\ndate: 2013-02-01\n---\nFront\nbody\n", encoding="utf-8")
    (folder / "side.txt").write_text("Side\nbody\n", encoding="utf-8")
    (folder / "side.json").write_text(json.dumps({"date": "2013-01-01"}), encoding="utf-8")
    (folder / "bad.txt").write_text("---\ndate: 2013-02-30\n---\nBad\nbody\n", encoding="utf-8")
    articles, problems = read(folder, default_date=DAY)
    assert {a.title: a.date for a in articles} == {
        "Undated": DAY, "Named": dt.date(2013, 3, 1), "Front": dt.date(2013, 2, 1),
        "Side": dt.date(2013, 1, 1)}
    # a bad date of its own is not replaced by the given day
    assert where(problems) == [("bad.txt", None, "date",
                                "impossible date '2013-02-30' (day is out of range for month)")]
    assert all(a.published_at is None for a in articles if a.title == "Undated")


def test_csv_rows_with_an_empty_date_take_the_given_day(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text("date,title\n2013-03-01,own\n,empty\n   ,blank\nnope,bad\n", encoding="utf-8")
    articles, problems = read(path)
    assert [a.title for a in articles] == ["own"]
    assert where(problems) == [("cells.csv", 3, "date", "missing date"), ("cells.csv", 4, "date", "missing date"),
                               ("cells.csv", 5, "date", "unparseable date 'nope'")]
    articles, problems = read(path, default_date=DAY)
    assert [(a.title, a.date) for a in articles] == [("own", dt.date(2013, 3, 1)), ("empty", DAY),
                                                     ("blank", DAY)]
    assert where(problems) == [("cells.csv", 5, "date", "unparseable date 'nope'")]


def test_a_file_without_a_date_column_needs_the_given_day(tmp_path: Path) -> None:
    path = tmp_path / "nodates.csv"
    path.write_text("title,text\nOne,body\nTwo,body\n", encoding="utf-8")
    articles, problems = read(path)
    assert articles == [] and where(problems) == [
        ("nodates.csv", None, "date", "no date column found; columns found: title, text; use --map date=COLUMN")]
    articles, problems = read(path, default_date=DAY)
    assert problems == [] and [(a.title, a.date) for a in articles] == [("One", DAY), ("Two", DAY)]


def test_json_and_jsonl_rows_without_a_date_take_the_given_day(tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps([{"date": "2013-03-01", "title": "own"}, {"date": None, "title": "null"},
                               {"title": "absent"}]), encoding="utf-8")
    articles, problems = read(doc, default_date=DAY)
    assert problems == [] and [(a.title, a.date) for a in articles] == [
        ("own", dt.date(2013, 3, 1)), ("null", DAY), ("absent", DAY)]
    lines = tmp_path / "lines.jsonl"
    lines.write_text('{"title": "no date key at all"}\n', encoding="utf-8")
    assert where(read(lines)[1])[0][2] == "date"
    (article,), problems = read(lines, default_date=DAY)
    assert problems == [] and article.date == DAY


def test_a_feed_entry_without_a_date_takes_the_given_day(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Dated</title><pubDate>Tue, 05 Mar 2013 10:00:00 GMT</pubDate></item>
<item><title>Undated</title></item></channel></rss>""", encoding="utf-8")
    articles, problems = read(feed)
    assert [a.title for a in articles] == ["Dated"] and [p.field for p in problems] == ["date"]
    articles, problems = read(feed, default_date=DAY)
    assert problems == [] and [(a.title, a.date) for a in articles] == [("Dated", dt.date(2013, 3, 5)),
                                                                        ("Undated", DAY)]


def test_the_given_day_must_be_a_day(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("date,title\n,x\n", encoding="utf-8")
    with pytest.raises(ReadError, match="must be a day"):
        open_reader(str(path), default_date=dt.datetime(2013, 3, 7, 12))  # its time would be dropped
