"""The bad-input corpus end to end: every bad row quarantined with file, row, field and reason,
the good rows kept, through the library and the command line."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from ingest_support import BAD, GOOD, articles, assert_consistent, n_rows, quarantine, run_cli, runs
from sqlalchemy import select

from tension.pipeline.ingest import ingest
from tension.store import schema
from tension.store.engine import Store

# ------------------------------------------------------------ the bad-input corpus

TRUNCATED = ("truncated gzip stream: the compressed data ends early (Compressed file ended "
             "before the end-of-stream marker was reached); the rows before it were read")
HEADER = "wrong number of fields: expected 3 (as in the header), found"
NO_DATE_FEED = "feed entry has no date (no published or updated element)"

# file (or folder) → ([(origin relative to bad/, row, field, reason)], [(row, title)] kept)
BAD_STORE_CASES: dict[str, tuple[list[tuple], list[tuple]]] = {
    "truncated.csv.gz": ([("truncated.csv.gz", None, None, TRUNCATED)],
                         [(r, f"Headline number {r - 1}") for r in range(2, 17)]),
    "corrupt.jsonl.gz": ([("corrupt.jsonl.gz", None, None,
                           "corrupt gzip stream: data after the end of the compressed stream is not "
                           "gzip; the lines before it were read")],
                         [(r, f"Story {r}") for r in range(1, 6)]),
    "latin1.csv": ([], [(2, "Café talks in Panmunjom"), (3, "Naïve résumé")]),
    "utf16.csv": ([], [(2, "Hotline reopened")]),
    "bom.csv": ([], [(2, "Hotline reopened"), (3, "Talks proposed")]),
    "missing_date_column.csv": ([("missing_date_column.csv", None, "date",
                                  "no date column found; columns found: id, headline, body; "
                                  "use --map date=COLUMN")], []),
    "renamed_columns.csv": ([("renamed_columns.csv", None, "date",
                              "no date column found; columns found: day, head, words, outlet_name; "
                              "use --map date=COLUMN"),
                             ("renamed_columns.csv", None, "text",
                              "no title or text column found; columns found: day, head, words, "
                              "outlet_name; use --map title=COLUMN or --map text=COLUMN")], []),
    "empty.csv": ([("empty.csv", None, None, "empty file")], []),
    "whitespace_only.jsonl": ([("whitespace_only.jsonl", None, None, "empty file")], []),
    "header_only.csv": ([("header_only.csv", None, None, "no data rows")], []),
    "unparseable_dates.csv": ([("unparseable_dates.csv", 3, "date", "unparseable date 'yesterday'"),
                               ("unparseable_dates.csv", 4, "date",
                                "incomplete date '2018' (needs a year, a month and a day)"),
                               ("unparseable_dates.csv", 5, "date",
                                "unknown time zone name in date 'Wed 03 Jan 2018 10:00:00 XYZ'")],
                              [(2, "Good row"), (6, "Good row with a month name")]),
    "impossible_dates.csv": ([("impossible_dates.csv", 2, "date",
                               "impossible date '2018-02-30' (day is out of range for month)"),
                              ("impossible_dates.csv", 3, "date",
                               "impossible date '2018-13-01' (month must be in 1..12)"),
                              ("impossible_dates.csv", 4, "date",
                               "date '1700-01-01' is outside the years 1800..2100"),
                              ("impossible_dates.csv", 5, "date",
                               "date '2150-06-01' is outside the years 1800..2100")],
                             [(6, "Good row")]),
    "missing_values.csv": ([("missing_values.csv", 2, "date", "missing date"),
                            ("missing_values.csv", 3, "text", "empty title and text"),
                            ("missing_values.csv", 4, "text", "empty title and text")],
                           [(5, "")]),
    "duplicates.csv": ([], [(2, "Hotline reopened"), (3, "Hotline reopened"), (4, "Hotline reopened"),
                            (5, "Talks")]),
    "ragged.csv": ([("ragged.csv", 3, None, f"{HEADER} 4"), ("ragged.csv", 4, None, f"{HEADER} 2")],
                   [(2, "Good row"), (6, "Quoted, with comma")]),
    "semicolon.csv": ([("semicolon.csv", 3, None, f"{HEADER} 4")], [(2, "Hotline reopened"), (4, "Third")]),
    "pipe.csv": ([], [(2, "Hotline, reopened"), (3, "Talks")]),
    "crlf_controls.csv": ([], [(2, "Tab\there and bell gone")]),
    "not_gzip.csv.gz": ([], [(2, "Plain text behind a .gz name")]),
    "trailing_garbage.json": ([("trailing_garbage.json", None, None,
                                "trailing garbage after the JSON array at line 5, column 1; the data "
                                "before it was read")],
                              [(1, "Hotline reopened"), (2, "Talks proposed")]),
    "broken_array.json": ([("broken_array.json", None, None,
                            "invalid JSON at line 4, column 35: Unterminated string starting at; the 2 "
                            "elements before it were read")], [(1, "First"), (2, "Second")]),
    "not_a_list.json": ([("not_a_list.json", None, None,
                          "the JSON top level is a string, not an array or an object")], []),
    "wrapper_without_list.json": ([("wrapper_without_list.json", None, None,
                                    "no list of articles in the JSON object (keys: status, count)")], []),
    "bad_lines.jsonl": ([("bad_lines.jsonl", 2, None, "invalid JSON: Expecting ',' delimiter at column 48"),
                         ("bad_lines.jsonl", 4, None, "line is an array, not a JSON object"),
                         ("bad_lines.jsonl", 5, None, "line is a number, not a JSON object")],
                        [(1, "Good line"), (6, "Another good line")]),
    "epoch_dates.jsonl": ([("epoch_dates.jsonl", 4, "date",
                            "date '99999999999999999999999' is outside the years 1800..2100"),
                           ("epoch_dates.jsonl", 5, "date", "unparseable date True")],
                          [(1, "Epoch seconds"), (2, "Epoch milliseconds"), (3, "Epoch seconds as text")]),
    "feed_no_dates.rss": ([("feed_no_dates.rss", 2, "date", NO_DATE_FEED)],
                          [(1, "Hotline reopened"), (3, "Talks proposed")]),
    "atom_no_dates.atom": ([("atom_no_dates.atom", 2, "date", NO_DATE_FEED)], [(1, "Dated entry")]),
    "corrupt.parquet": ([("corrupt.parquet", None, None,
                          "not a readable Parquet file: Parquet file size is 47 bytes, smaller than the "
                          "size reported by footer's (543976545bytes)")], []),
    "txt_missing_date": ([("txt_missing_date/20180230-impossible.txt", None, "date",
                           "impossible date '2018-02-30' (day is out of range for month)"),
                          ("txt_missing_date/undated.txt", None, "date",
                           "no date: add front matter, a sidecar .json or a date in the file name, or give "
                           "the day with --date YYYY-MM-DD (on the page: the date beside the upload box)")],
                         [(1, "Hotline reopened"), (1, "Seoul replies"), (1, "Kim Jong Un's New Year message")]),
}


def _expected_quarantine(name: str) -> list[tuple]:
    return [(str(BAD / origin), row, field, reason) for origin, row, field, reason in BAD_STORE_CASES[name][0]]


def test_every_bad_file_has_an_end_to_end_case() -> None:
    inputs = {p.name for p in BAD.iterdir() if p.name != "README.md"}
    assert len(inputs) >= 20
    assert inputs == set(BAD_STORE_CASES)


@pytest.mark.parametrize("name", sorted(BAD_STORE_CASES))
def test_bad_file_end_to_end(sqlite_store: Store, name: str) -> None:
    problems, kept = BAD_STORE_CASES[name]
    summary = ingest(sqlite_store, [str(BAD / name)])
    assert quarantine(sqlite_store) == _expected_quarantine(name)
    rows = articles(sqlite_store)
    assert [(r["row"], r["title"]) for r in rows] == kept
    assert (summary.added, summary.quarantined, summary.ok) == (len(kept), len(problems), not problems)
    assert summary.read == len(kept) + len(problems)
    assert runs(sqlite_store)[-1]["status"] == ("done_with_problems" if problems else "done")
    assert_consistent(sqlite_store)
    # Again: nothing new, and the quarantine does not grow.
    again = ingest(sqlite_store, [str(BAD / name)])
    assert (again.added, again.quarantined) == (0, len(problems))
    assert len(quarantine(sqlite_store)) == len(problems) and len(articles(sqlite_store)) == len(kept)


def _all_bad_paths() -> list[str]:
    return [str(p) for p in sorted(BAD.iterdir()) if p.name != "README.md"]


def _all_expected() -> tuple[list[tuple], Counter]:
    problems = [q for name in sorted(BAD_STORE_CASES) for q in _expected_quarantine(name)]
    kept: Counter = Counter()
    for name, (_, rows) in BAD_STORE_CASES.items():
        kept[name] += len(rows)
    return problems, kept


def _kept_by_input(store: Store) -> Counter:
    got: Counter = Counter()
    for r in articles(store):
        rel = Path(r["origin"]).relative_to(BAD).parts[0]
        got[rel] += 1
    return got


def test_whole_bad_corpus_in_one_run(store: Store) -> None:
    paths = _all_bad_paths()
    summary = ingest(store, paths)
    problems, kept = _all_expected()
    assert sorted(quarantine(store), key=repr) == sorted(problems, key=repr)
    assert _kept_by_input(store) == +kept
    assert summary.quarantined == len(problems) == 35
    assert summary.added == sum(kept.values()) == 56
    assert summary.read == summary.added + summary.quarantined
    assert not summary.ok and summary.errors == []
    assert_consistent(store)
    again = ingest(store, paths)
    assert (again.added, again.scored) == (0, 0)
    assert len(quarantine(store)) == 35 and n_rows(store, schema.articles) == 56


def test_generated_bad_inputs(store: Store, tmp_path: Path) -> None:
    """Inputs too big to commit, and characters a database refuses (PostgreSQL takes no NUL in
    text; neither database takes a lone surrogate from a JSON escape)."""
    big = tmp_path / "big.csv"
    big.write_text(f"date,title,text\n2018-01-03,Small,ok\n2018-01-04,Huge,{'x' * 5_000_001}\n"
                   "2018-01-05,After,ok\n")
    rows = "".join(f"2018-01-{d % 28 + 1:02d},Title {d} {'w' * 40}\n" for d in range(5000))
    data = gzip.compress(("date,title\n" + rows).encode(), mtime=0)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"date,title\n2018-01-03,ok\n2018-01-04,a,b\x00c\nyester\x00day,nul date\n"
                    b"2018-01-06,t\x00itle\n")
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"date": "2018-01-03", "title": "lone \\ud800 surrogate"}\n'
                         '{"date": "2018-01-04", "title": "fine"}\n'
                         '{"date": "2018-01-05", "ti\\udc00tle": "x", "text": 5}\n'
                         '["\\ud800"]\n', encoding="ascii")
    summary = ingest(store, [str(big), str(cut), str(nul), str(surrogate)])
    got = [(Path(o).name, r, f, reason) for o, r, f, reason in quarantine(store)]
    assert got[:2] == [
        ("big.csv", 3, "text", "field 'text' is 5,000,001 characters, over the 2,000,000 limit"),
        ("cut.csv.gz", None, None, TRUNCATED)]
    assert got[2:4] == [("nul.csv", 3, None, "wrong number of fields: expected 2 (as in the header), found 3"),
                        ("nul.csv", 4, "date", "unparseable date 'yester\ufffdday'")]
    assert got[4:] == [("surrogate.jsonl", 4, None, "line is an array, not a JSON object")]
    by_file = Counter(Path(r["origin"]).name for r in articles(store))
    assert by_file["big.csv"] == 2 and by_file["nul.csv"] == 2 and by_file["surrogate.jsonl"] == 3
    assert by_file["cut.csv.gz"] > 1000
    titles = {r["title"] for r in articles(store)}
    assert {"title", "lone \ufffd surrogate", "fine"} <= titles
    with store.read() as conn:
        raws = conn.execute(select(schema.quarantine.c.raw)).scalars().all()
    assert all("\x00" not in r and len(r) <= 500 for r in raws)
    assert summary.quarantined == 5
    assert_consistent(store)


def test_file_with_a_non_utf8_name(sqlite_store: Store, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.csv"  # a Latin-1 name from an old archive
    with open(raw, "wb") as fh:
        fh.write(b"date,title\n2018-01-03,ok\n2018-01-04,a,b\n")
    summary = ingest(sqlite_store, [os.fsdecode(raw)])
    assert (summary.added, summary.quarantined) == (1, 1)
    (article,) = articles(sqlite_store)
    assert article["title"] == "ok" and article["source"] == "caf\ufffd"


def test_bad_corpus_through_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    paths = _all_bad_paths()
    result = run_cli("ingest", *paths, "--db", db, "--quiet")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert ("read 91 rows: added 56, of which 8 duplicates of earlier articles (kept as copies, not "
            "counted twice); 0 duplicates already in the store (skipped); quarantined 35; "
            "scored 47 new texts") in lines
    # the first five quarantined rows right there (file, row, field: reason), then the lookup
    # of all of them (issue 21, item 7)
    head = lines.index("the first 5 of 35 quarantined rows (file, row, field: reason):")
    assert lines[-1] == f"see all 35 with: python -m tension quarantine list --run 1 --db {db}"
    first_five = lines[head + 1:-1]
    assert len(first_five) == 5 and all(line.startswith(f"  {BAD}") for line in first_five)
    assert f"{BAD / 'semicolon.csv'}: read as csv" in lines
    assert f"{BAD / 'txt_missing_date'}: read as txt" in lines
    assert result.stderr == ""  # --quiet: no progress bar

    listed = run_cli("quarantine", "list", "--db", db)
    assert listed.returncode == 0
    problems, _ = _all_expected()
    shown = listed.stdout.splitlines()
    assert len(shown) == len(problems) == 35
    # ingest printed the first five as `quarantine list` writes them (less the [id])
    assert [line.split("] ", 1)[1] for line in shown[:5]] == [line.strip() for line in first_five]
    for origin, row, field, reason in problems:
        where = origin + (f", row {row}" if row is not None else "")
        where += f", field '{field}'" if field else ""
        assert any(line.endswith(f"] {where}: {reason}") for line in shown), (where, reason)
    only = run_cli("quarantine", "list", "--db", db, "--file", str(BAD / "ragged.csv"), "--json")
    assert [(r["row"], r["reason"]) for r in json.loads(only.stdout)] == [
        (3, f"{HEADER} 4"), (4, f"{HEADER} 2")]

    s = Store(db)
    try:
        assert sorted(quarantine(s), key=repr) == sorted(problems, key=repr)
        assert n_rows(s, schema.articles) == 56
        assert_consistent(s)
    finally:
        s.dispose()

    again = run_cli("ingest", *paths, "--db", db, "--quiet", "--json")
    assert again.returncode == 1
    summary = json.loads(again.stdout)
    assert (summary["added"], summary["quarantined"], summary["scored"]) == (0, 35, 0)
    assert summary["unchanged"] == [p for p in paths if Path(p).is_file()]


def test_command_line_good_run_and_missing_path(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    ok = run_cli("ingest", str(GOOD / "articles.csv"), "--db", db)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == (
        "read 2 rows: added 2, of which 0 duplicates of earlier articles (kept as copies, not counted "
        "twice); 0 duplicates already in the store (skipped); quarantined 0; scored 2 new texts")
    missing = run_cli("ingest", str(tmp_path / "nope.csv"), str(GOOD / "articles.tsv"), "--db", db, "--quiet")
    assert missing.returncode == 1
    assert f"error: {tmp_path / 'nope.csv'}: no such file or folder" in missing.stderr
    assert "added 2," in missing.stdout  # the readable file still got in
    bad_map = run_cli("ingest", str(GOOD / "articles.csv"), "--db", db, "--map", "author=x")
    assert bad_map.returncode == 2 and "unknown field 'author'" in bad_map.stderr
