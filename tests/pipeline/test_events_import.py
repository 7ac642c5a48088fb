"""Reference events: import (idempotent), bad rows, the events commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ingest_support import WEAPONS, n_rows, run_cli

from tension.pipeline.events import import_events
from tension.store import schema
from tension.store.engine import Store
from tension.store.events import list_events

# ------------------------------------------------------------------------- events


def test_reference_events_import_is_idempotent(store: Store, shared_data) -> None:
    path = shared_data(WEAPONS)
    first = import_events(store, path)
    assert (first.read, first.added, first.problems) == (165, 165, [])
    again = import_events(store, path)
    assert (again.read, again.added, again.problems) == (165, 0, [])
    df = list_events(store)
    assert len(df) == 165 and n_rows(store, schema.events) == 165
    assert df["start"].min() == dt.datetime(1984, 4, 9)
    assert df.iloc[0]["label"] == "Missile launch: Scud-B (3 missiles)"
    assert set(df["category"]) >= {"missile_test", "nuclear_test"}
    nuclear = list_events(store, categories=["nuclear_test"])
    assert len(nuclear) == 6 and (nuclear["start"] == dt.datetime(2006, 10, 9)).any()
    window = list_events(store, start=dt.date(2017, 9, 1), end=dt.date(2017, 9, 30))
    assert (window["start"] == dt.datetime(2017, 9, 3)).any()


def test_events_with_bad_rows(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("start,end,label,category\n2018-04-27,,Panmunjom summit,summit\n"
                    "2018-02-30,,Impossible,x\n2018-06-12,2018-06-11,Backwards,summit\n"
                    "2018-06-12,,,summit\n2018-02-09,2018-02-25,Winter Olympics,\n")
    result = import_events(store, path)
    assert (result.read, result.added) == (5, 2)
    assert [(p.row, p.field, p.reason) for p in result.problems] == [
        (3, "start", "not a date like 2018-01-03: '2018-02-30'"),
        (4, "end", "end 2018-06-11 is before start 2018-06-12"),
        (5, "label", "missing label")]
    df = list_events(store)
    assert list(df["label"]) == ["Winter Olympics", "Panmunjom summit"]
    assert list(df["category"]) == ["event", "summit"]
    assert df.iloc[0]["end"] == dt.datetime(2018, 2, 25)
    missing = tmp_path / "nolabel.csv"
    missing.write_text("date,name\n2018-01-01,x\n")
    result = import_events(store, missing)
    assert result.added == 0 and [p.reason for p in result.problems] == [
        "needs columns 'date' (or 'start' and 'end') and 'label'; found: date, name"]


@pytest.mark.slow
def test_events_commands(tmp_path: Path, shared_data) -> None:
    db = f"sqlite:///{tmp_path / 'ev.db'}"
    weapons = shared_data(WEAPONS)
    first = run_cli("events", "import", str(weapons), "--db", db)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "read 165 events: added 165, 0 already known, 0 with problems"
    again = run_cli("events", "import", str(weapons), "--db", db)
    assert again.stdout.strip() == "read 165 events: added 0, 165 already known, 0 with problems"
    bad = tmp_path / "bad_events.csv"
    bad.write_text("date,label,category\n2017-09-03,Nuclear test (6th),nuclear_test\n"
                   "03/09/2017x,Broken,nuclear_test\n")
    result = run_cli("events", "import", str(bad), "--db", db)
    assert result.returncode == 1
    assert f"problem: {bad}, row 3, field 'date': not a date like 2018-01-03: '03/09/2017x'" in result.stderr
    assert result.stdout.strip() == "read 2 events: added 0, 1 already known, 1 with problems"
    listed = run_cli("events", "list", "--db", db, "--category", "nuclear_test")
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) == 6
    assert "2017-09-03  [nuclear_test]" in listed.stdout
