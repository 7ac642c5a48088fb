"""`tension ingest` says which rows it quarantined and why, and takes the day of undated
articles (issue 21, items 3 and 7). In-process (click's CliRunner), on real SQLite files.

QA: the command printed "quarantined 1" and a command to look it up, nothing about the row;
and a .txt without any date had no way in but a renamed file or front matter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tension.cli import main
from tension.io.readers import NO_DATE_TXT


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_ingest_prints_the_quarantined_rows_with_file_row_field_and_reason(url: str, tmp_path: Path) -> None:
    csv = tmp_path / "wire.csv"
    csv.write_text("date,title\n2013-03-01,ok\nnope,bad date\n2013-03-02,\n", encoding="utf-8")
    txt = tmp_path / "note.txt"
    txt.write_text("Undated headline\nbody\n", encoding="utf-8")
    result = run("ingest", str(csv), str(txt), "--db", url, "--quiet")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    at = lines.index("quarantined rows (file, row, field: reason):")
    assert lines[at + 1:] == [
        f"  {csv}, row 3, field 'date': unparseable date 'nope'",
        f"  {csv}, row 4, field 'text': empty title and text",
        f"  {txt}, field 'date': {NO_DATE_TXT}",
    ]  # all three shown: no lookup needed


def test_more_rows_than_shown_end_with_the_command_that_lists_them_all(url: str, tmp_path: Path) -> None:
    csv = tmp_path / "many.csv"
    csv.write_text("date,title\n" + "".join(f"bad{i},t{i}\n" for i in range(12)), encoding="utf-8")
    result = run("ingest", str(csv), "--db", url, "--quiet")
    lines = result.stdout.splitlines()
    at = lines.index("the first 5 of 12 quarantined rows (file, row, field: reason):")
    assert lines[at + 1:at + 6] == [f"  {csv}, row {i + 2}, field 'date': unparseable date 'bad{i}'"
                                    for i in range(5)]
    assert lines[-1] == f"see all 12 with: python -m tension quarantine list --run 1 --db {url}"
    listed = run("quarantine", "list", "--run", "1", "--db", url)
    assert len(listed.stdout.splitlines()) == 12
    # the summary as JSON carries them too
    summary = json.loads(run("ingest", str(csv), "--db", url, "--quiet", "--json").stdout)
    assert summary["unchanged"] == [str(csv)] and len(summary["problems"]) == 5
    assert summary["problems"][0] == {"file": str(csv), "row": 2, "field": "date",
                                      "reason": "unparseable date 'bad0'"}
    assert summary["quarantine_in"] == [{"run": 1, "file": str(csv), "n": 12, "listed": 12}]


def test_a_file_not_read_again_still_shows_its_quarantined_rows(url: str, tmp_path: Path) -> None:
    csv = tmp_path / "wire.csv"
    csv.write_text("date,title\nnope,x\n", encoding="utf-8")
    run("ingest", str(csv), "--db", url, "--quiet")
    again = run("ingest", str(csv), "--db", url, "--quiet")
    assert f"{csv}: read as csv (unchanged since an earlier import: not re-read)" in again.stdout
    assert again.stdout.splitlines()[-1] == f"  {csv}, row 2, field 'date': unparseable date 'nope'"


def test_date_gives_undated_articles_their_day_and_their_own_date_wins(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "undated.txt").write_text("Undated headline\nbody\n", encoding="utf-8")
    (folder / "2013-03-01 named.txt").write_text("Named headline\nbody\n", encoding="utf-8")
    result = run("ingest", str(folder), "--db", url, "--quiet", "--date", "2013-03-07")
    assert result.exit_code == 0, result.output
    assert "added 2" in result.stdout and "quarantined 0" in result.stdout
    export = run("export", "--db", url, "--out", "-", "--n-boot", "0").stdout.splitlines()
    days = {line.split(",")[0]: line for line in export[1:]}
    assert set(days) == {f"2013-03-{d:02d}" for d in range(1, 8)}  # 1 March to 7 March, not today


def test_without_date_an_undated_text_is_quarantined_not_todays_news(url: str, tmp_path: Path) -> None:
    txt = tmp_path / "note.txt"
    txt.write_text("Undated headline\nbody\n", encoding="utf-8")
    result = run("ingest", str(txt), "--db", url, "--quiet")
    assert result.exit_code == 1 and "added 0" in result.stdout
    assert f"  {txt}, field 'date': {NO_DATE_TXT}" in result.stdout.splitlines()
    # the day given afterwards brings it in (the first import stored nothing to double)
    again = run("ingest", str(txt), "--db", url, "--quiet", "--date", "2013-03-07")
    assert again.exit_code == 0 and "added 1" in again.stdout, again.output


@pytest.mark.parametrize("value", ["2013-13-01", "yesterday", "2013-03-071"])
def test_a_bad_date_is_a_usage_error(url: str, tmp_path: Path, value: str) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("date,title\n,x\n", encoding="utf-8")
    result = run("ingest", str(csv), "--db", url, "--date", value)
    assert result.exit_code == 2
    assert f"Invalid value for --date: '{value}' is not a date like 2018-01-03" in result.stderr
