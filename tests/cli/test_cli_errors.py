"""Bad values and failing files on the command line end in one clear line, never a traceback.

Each case comes from an exploratory QA pass over the CLI. Runs in-process (click's
CliRunner) against real SQLite files.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tension.cli import hide_passwords, main
from tension.pipeline.events import import_events
from tension.pipeline.ingest import ingest
from tension.store import annotations as ann
from tension.store.engine import Store

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "good"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    ingest(store, [GOOD / "articles.csv"])
    store.dispose()
    return url


def run(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(
        result.exception, SystemExit), result.output
    for f in fragments:
        assert f in result.stderr, result.stderr


def test_export_range_outside_the_data(db: str) -> None:
    one_line_error(run("export", "--db", db, "--out", "-", "--from", "2019-01-01"),
                   "Error: start 2019-01-01 is after end 2018-01-03")


def test_export_to_a_folder_or_an_unwritable_place(db: str, tmp_path: Path) -> None:
    one_line_error(run("export", "--db", db, "--out", str(tmp_path)), "Error:", "Is a directory")
    one_line_error(run("export", "--db", db, "--out", "/proc/nope/x.csv"), "Error:")


def test_annotations_export_makes_the_folder_and_counts_rows_not_lines(db: str, tmp_path: Path) -> None:
    store = Store(db)
    ann.create(store, {"start": "2018-01-03", "title": "Hotline", "note": "line one\nline two"})
    out = tmp_path / "new" / "folder" / "a.csv"
    result = run("annotations", "export", "--db", db, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote 1 annotations to {out}"
    assert ann.import_csv(Store(f"sqlite:///{tmp_path / 'other.db'}"), out.read_text())["added"] == 1


def test_a_lexicon_that_is_not_valid_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[category]\nname = 'x'\n")
    one_line_error(run("score-text", "--lexicon", str(bad), stdin=b"threat\n"),
                   "Error: lexicon is not valid UTF-8 TOML")


def test_restore_refuses_files_that_are_not_backups_and_leaves_them_alone(db: str, tmp_path: Path) -> None:
    text_file = tmp_path / "a.csv"
    text_file.write_text("date,title\n2018-01-01,x\n")
    one_line_error(run("restore", "--db", f"sqlite:///{tmp_path / 'r.db'}", str(text_file)),
                   "is not a backup (not a SQLite database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x)")
    one_line_error(run("restore", "--db", f"sqlite:///{tmp_path / 'r2.db'}", str(other)),
                   "is not a backup made by `tension backup` (no table 'schema_migrations')")
    with sqlite3.connect(other) as con:  # and nothing was added to it
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["t"]


def test_out_of_range_numbers_are_usage_errors(db: str) -> None:
    for args, option in [(("spikes", "--window", "-5"), "--window"), (("spikes", "--top", "-1"), "--top"),
                         (("spikes", "--window", "0"), "--window"),
                         (("explain", "2018-01-03", "--baseline-days", "0"), "--baseline-days"),
                         (("explain", "2018-01-03", "--top", "-1"), "--top"),
                         (("quarantine", "list", "--limit", "0"), "--limit")]:
        result = run(*args, "--db", db)
        assert result.exit_code == 2, (args, result.output)
        assert f"Invalid value for '{option}'" in result.stderr, result.stderr


def test_unknown_time_zone_is_a_usage_error(db: str) -> None:
    result = run("ingest", str(GOOD / "articles.csv"), "--db", db, "--tz", "Mars/Olympus")
    assert result.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'; use an IANA name like UTC or Asia/Seoul" in result.stderr


def test_passwords_never_printed() -> None:
    assert hide_passwords("postgresql://ana:s3cret@127.0.0.1:1/x failed") == \
        "postgresql://ana:***@127.0.0.1:1/x failed"
    assert hide_passwords("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    result = run("export", "--db", "postgresql+psycopg://ana:s3cret@127.0.0.1:1/x", "--out", "-")
    assert result.exit_code == 1
    assert "s3cret" not in result.output and "ana:***@" in result.stderr


def test_explain_on_an_empty_day_says_so_and_json_has_no_nan(db: str) -> None:
    result = run("explain", "2017-06-01", "--db", db)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2017-06-01..2017-06-01: no articles; baseline 2017-05-04..2017-05-31: no articles"]
    as_json = run("explain", "2018-01-05", "--db", db, "--json")
    why = json.loads(as_json.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert (why["mean_target"], why["delta"], why["terms"]) == (None, None, [])
    assert why["n_baseline"] > 0 and why["mean_baseline"] is not None
    one_line_error(run("explain", "2018-01-03..", "--db", db), "give the range's last day too")


def test_annotation_and_event_dates_are_exact(db: str, tmp_path: Path) -> None:
    one_line_error(run("annotations", "add", "2013-03-019", "typo", "--db", db),
                   "'start' must be a date like 2018-01-03, not '2013-03-019'")
    one_line_error(run("annotations", "add", "2013-03-01xyz", "typo", "--db", db), "not '2013-03-01xyz'")
    ok = run("annotations", "add", "2013-03-01T09:00:00", "a timestamp's day", "--db", db)
    assert ok.exit_code == 0, ok.output
    events = tmp_path / "events.csv"
    events.write_text("start,end,label\n2013-03-019,,typo\n2013-03-01,2013-03-0x,bad end\n"
                      "2013-02-12,,third test\n")
    result = import_events(Store(db), events)
    assert result.added == 1
    assert [(p.row, p.field, p.reason) for p in result.problems] == [
        (2, "start", "not a date like 2018-01-03: '2013-03-019'"),
        (3, "end", "not a date like 2018-01-03: '2013-03-0x'")]


def test_annotations_import_of_something_else_is_an_error(db: str, tmp_path: Path) -> None:
    not_csv = tmp_path / "a.json"
    not_csv.write_text(json.dumps([{"start": "2018-01-01", "title": "x"}]))
    result = run("annotations", "import", str(not_csv), "--db", db)
    assert result.exit_code == 1
    assert "problem: not an annotations CSV: needs columns 'start' (or 'date') and 'title'" in result.stderr


def test_quarantine_list_says_when_there_is_more_and_finds_relative_paths(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text("date,title\n" + "".join(f"not-a-date-{i},t{i}\n" for i in range(5)))
    ingest(Store(url), [bad])
    shown = run("quarantine", "list", "--db", url, "--limit", "3")
    assert shown.exit_code == 0
    assert shown.output.splitlines()[-1] == "… and 2 more (of 5); raise --limit to see them"
    monkeypatch.chdir(tmp_path)
    assert len(run("quarantine", "list", "--db", url, "--file", "bad.csv").output.splitlines()) == 5
    assert run("quarantine", "list", "--db", url, "--file", "other.csv").output == "no quarantined rows match\n"


def test_score_text_drops_a_byte_order_mark() -> None:
    result = run("score-text", stdin="\ufeffthreat of war\nthreat of war\n".encode())
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first == second


def test_unknown_category_is_a_usage_error(db: str) -> None:
    result = run("export", "--db", db, "--out", "-", "--category", "nosuch")
    assert result.exit_code == 2
    assert "unknown lexicon category 'nosuch'; known: agreements_summits" in result.stderr


def test_date_order_reaches_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("date,title\n01/02/2018,a\n")
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run("ingest", str(path), "--db", url, "--date-order", "dmy", "--quiet").exit_code == 0
    assert run("export", "--db", url, "--out", "-", "--n-boot", "0").output.splitlines()[1].startswith(
        "2018-02-01,")


def test_reading_commands_refuse_a_store_that_does_not_exist(tmp_path: Path) -> None:
    """QA: a mistyped --db quietly created an empty store (and its folders) and listed nothing."""
    missing = tmp_path / "nonexist" / "dir" / "x.db"
    for args in (["events", "list"], ["export", "--out", "-"], ["spikes"], ["annotations", "list"],
                 ["quarantine", "list"], ["explain", "2018-01-01"], ["backup", str(tmp_path / "b.db")]):
        one_line_error(run(*args, "--db", str(missing)), f"Error: no store at {missing}: check --db")
    assert not missing.parent.exists()
    ok = run("annotations", "add", "2018-01-01", "first note", "--db", str(tmp_path / "new.db"))
    assert ok.exit_code == 0 and (tmp_path / "new.db").exists()  # writing commands create it


def test_empty_lists_say_so(db: str) -> None:
    assert run("events", "list", "--db", db).output == "no events yet; add some with: events import FILE.csv\n"
    assert run("events", "list", "--db", db, "--category", "x").output == "no events match\n"
    assert run("annotations", "list", "--db", db).output == "no annotations yet\n"
    assert run("annotations", "list", "--db", db, "--tag", "x").output == "no annotations match\n"
