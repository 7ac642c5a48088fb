"""What an ingest reports of its bad rows, and the day given for undated articles (issue 21,
items 3 and 7), on real SQLite files.

- `ingest(date=...)` dates only the articles without a date of their own; importing a file
  again with a date it lacked the first time adds its undated articles (nothing is stored
  twice), another date is refused.
- `names` reads a stored copy (an upload) under its own name.
- The summary holds the first quarantined rows (file, row, field, reason) and where all of
  them are (`quarantine_in`), also for a file not re-read because it was imported before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ingest_support import articles, quarantine

from tension.io.readers import NO_DATE_TXT
from tension.pipeline.ingest import ingest
from tension.pipeline.ingest.summary import SHOWN, earlier_note, lookup_command, problem_text
from tension.store import runs
from tension.store.engine import Store

DAY = dt.date(2013, 3, 7)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------------- the given day


def test_undated_articles_are_quarantined_never_dated_today(sqlite_store: Store, tmp_path: Path) -> None:
    txt = write(tmp_path / "note.txt", "Undated headline\nbody\n")
    s = ingest(sqlite_store, [txt])
    assert (s.added, s.quarantined) == (0, 1)
    assert quarantine(sqlite_store) == [(txt, None, "date", NO_DATE_TXT)]
    assert s.problems == [{"file": txt, "row": None, "field": "date", "reason": NO_DATE_TXT}]


def test_the_given_day_dates_only_articles_without_one(sqlite_store: Store, tmp_path: Path) -> None:
    csv = write(tmp_path / "mixed.csv", "date,title\n2013-03-01,own date\n,no date\n")
    s = ingest(sqlite_store, [csv], date=DAY)
    assert (s.added, s.quarantined) == (2, 0)
    assert {a["title"]: a["date"] for a in articles(sqlite_store)} == {
        "own date": dt.date(2013, 3, 1), "no date": DAY}


def test_a_file_imported_again_with_the_day_it_lacked_adds_its_undated_rows(
        sqlite_store: Store, tmp_path: Path) -> None:
    csv = write(tmp_path / "mixed.csv", "date,title\n2013-03-01,own date\n,no date\n")
    first = ingest(sqlite_store, [csv])
    assert (first.added, first.quarantined) == (1, 1)
    again = ingest(sqlite_store, [csv], date=DAY)  # not refused: nothing would be stored twice
    assert (again.added, again.already, again.quarantined, again.errors) == (1, 1, 0, [])
    assert sorted(a["title"] for a in articles(sqlite_store)) == ["no date", "own date"]
    # the same file with another day would date its undated row twice: refused, as --tz is
    other = ingest(sqlite_store, [csv], date=dt.date(2013, 3, 8))
    assert other.added == 0 and len(other.errors) == 1
    assert "with --date 2013-03-07; with --date 2013-03-08 its rows would be stored a second time" \
        in other.errors[0]
    # with the same day, or with none (its undated row quarantined, not stored): nothing new
    assert ingest(sqlite_store, [csv], date=DAY).unchanged == [csv]
    assert ingest(sqlite_store, [csv]).unchanged == [csv]
    assert len(articles(sqlite_store)) == 2


def test_a_file_whose_rows_were_all_quarantined_may_come_again_with_other_options(
        sqlite_store: Store, tmp_path: Path) -> None:
    """Nothing of it is stored, so nothing can be stored twice: another --source is not refused."""
    txt = write(tmp_path / "note.txt", "Undated headline\nbody\n")
    assert ingest(sqlite_store, [txt]).quarantined == 1
    s = ingest(sqlite_store, [txt], source="Field Notes", date=DAY)
    assert (s.added, s.errors) == (1, [])
    (article,) = articles(sqlite_store)
    assert (article["source"], article["date"]) == ("Field Notes", DAY)
    # now that it is stored, another source would store it twice: refused
    again = ingest(sqlite_store, [txt], source="Other", date=DAY)
    assert again.added == 0 and "with --source Field Notes" in again.errors[0]


def test_a_datetime_is_not_a_day(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="datetime.date"):
        ingest(sqlite_store, [write(tmp_path / "a.csv", "date,title\n,x\n")], date=dt.datetime(2013, 3, 7, 9))


def test_a_stored_copy_is_read_under_its_own_name(sqlite_store: Store, tmp_path: Path) -> None:
    copy = write(tmp_path / "20261204T165722_530b79_2013-03-05 wire.txt", "Headline\nbody\n")
    s = ingest(sqlite_store, [copy], names={copy: "2013-03-05 wire.txt"})
    assert (s.added, s.quarantined) == (1, 0)
    (article,) = articles(sqlite_store)
    assert (article["date"], article["source"], article["origin"]) == (dt.date(2013, 3, 5), "2013-03-05 wire",
                                                                       copy)


# ---------------------------------------------------------------- what is reported


def test_the_first_quarantined_rows_are_in_the_summary(sqlite_store: Store, tmp_path: Path) -> None:
    body = "date,title\n" + "".join(f"bad{i},t{i}\n" for i in range(8)) + "2013-03-01,good\n"
    csv = write(tmp_path / "many.csv", body)
    s = ingest(sqlite_store, [csv])
    assert (s.added, s.quarantined) == (1, 8)
    assert s.problems == [{"file": csv, "row": i + 2, "field": "date", "reason": f"unparseable date 'bad{i}'"}
                          for i in range(SHOWN)]
    assert problem_text(s.problems[0]) == f"{csv}, row 2, field 'date': unparseable date 'bad0'"
    assert s.quarantine_in == [{"run": s.run_id, "file": None, "n": 8, "listed": 8}]
    assert lookup_command(s.quarantine_in[0]) == f"python -m tension quarantine list --run {s.run_id}"
    rows, total = runs.quarantined(sqlite_store, run_id=s.run_id, limit=100)
    assert total == 8 and [r["row"] for r in rows] == list(range(2, 10))
    assert s.as_dict()["problems"] == s.problems  # the --json summary and the page's job carry them


def test_a_file_not_read_again_reports_the_rows_its_import_quarantined(sqlite_store: Store,
                                                                       tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "date,title\nnope,x\n2013-03-01,ok\n")
    first = ingest(sqlite_store, [bad])
    fresh = write(tmp_path / "fresh.csv", "date,title\n2013-03-02,new\n")
    s = ingest(sqlite_store, [fresh, bad])
    assert s.unchanged == [bad] and s.quarantined == 1
    assert s.problems == [{"file": bad, "row": 2, "field": "date", "reason": "unparseable date 'nope'"}]
    assert s.quarantine_in == [{"run": first.run_id, "file": bad, "n": 1, "listed": 1}]
    assert lookup_command(s.quarantine_in[0]) == \
        f"python -m tension quarantine list --run {first.run_id} --file {bad}"


def test_rows_quarantined_by_an_earlier_import_are_said_to_be_there(sqlite_store: Store,
                                                                    tmp_path: Path) -> None:
    """A quarantine row is kept once, under the first run that met it: an edited file imported
    again meets the same bad row, which `quarantine list --run` of the new run does not show."""
    path = tmp_path / "edited.csv"
    write(path, "date,title\nnope,x\n2013-03-01,ok\n")
    ingest(sqlite_store, [str(path)])
    write(path, "date,title\nnope,x\n2013-03-01,ok\n2013-03-02,added later\n")
    s = ingest(sqlite_store, [str(path)])
    assert (s.added, s.quarantined) == (1, 1)
    assert s.problems == [{"file": str(path), "row": 2, "field": "date", "reason": "unparseable date 'nope'"}]
    (entry,) = s.quarantine_in
    assert (entry["n"], entry["listed"]) == (1, 0)
    note = earlier_note({**entry, "file": str(path)})
    assert note.startswith("1 of the 1 was quarantined before, by an earlier import of the same file")
    assert note.endswith(f"quarantine list --file {path}")
    assert len(quarantine(sqlite_store)) == 1


def test_the_lookup_asks_for_every_row(sqlite_store: Store, tmp_path: Path) -> None:
    body = "date,title\n" + "".join(f"bad{i},t{i}\n" for i in range(250))
    s = ingest(sqlite_store, [write(tmp_path / "worse.csv", body)])
    (entry,) = s.quarantine_in
    assert lookup_command(entry).endswith(f"--run {s.run_id} --limit 250")  # the default --limit is 200
