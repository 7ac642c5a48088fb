"""Undoing an import: `runs list` and `runs remove`, on real SQLite files through the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from tension.cli import main
from tension.pipeline.ingest import ingest
from tension.store import annotations as ann
from tension.store import schema
from tension.store.engine import Store
from tension.store.runs import RunError, list_runs, remove_run


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def rows(store: Store) -> list[tuple]:
    a = schema.articles.c
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(a.id, a.date, a.title, a.copy_of, a.copy_kind, a.run_id)
                                               .order_by(a.id))]


def test_a_file_read_with_the_wrong_date_order_is_undone_and_imported_again(tmp_path: Path) -> None:
    """The QA case: a day-first file whose first dates are ambiguous. The first import reads
    them month-first and quarantines the date that proves otherwise; ingest says how to undo it;
    after `runs remove`, the import with --date-order dmy stores the right days."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    path = tmp_path / "eu.csv"
    path.write_text("date,title\n01/02/2018,talks resume\n05/03/2018,missile test\n13/03/2018,summit\n")
    first = run("ingest", str(path), "--db", db, "--quiet")
    assert first.exit_code == 1  # a row was quarantined
    store = Store(db)
    assert [(r[1].isoformat(), r[2]) for r in rows(store)] == [("2018-01-02", "talks resume"),
                                                               ("2018-05-03", "missile test")]
    refused = run("ingest", str(path), "--db", db, "--quiet", "--date-order", "dmy")
    assert "python -m tension runs remove 1" in refused.stderr
    listed = run("runs", "list", "--db", db)
    assert listed.output.startswith("run 1  ") and "done_with_problems" in listed.output
    assert "read 3, stored 2, quarantined 1" in listed.output
    removed = run("runs", "remove", "1", "--db", db, "--yes")
    assert removed.exit_code == 0, removed.output
    assert removed.output.splitlines()[0] == ("run 1 removed: 2 articles, 1 quarantine rows; "
                                              "0 copies elsewhere became originals")
    again = run("ingest", str(path), "--db", db, "--quiet", "--date-order", "dmy")
    assert again.exit_code == 0, again.output
    assert [(r[1].isoformat(), r[2]) for r in rows(store)] == [
        ("2018-02-01", "talks resume"), ("2018-03-05", "missile test"), ("2018-03-13", "summit")]
    assert run("quarantine", "list", "--db", db).output == "quarantine is empty\n"
    assert [r["status"] for r in list_runs(store)][:1] == ["removed"]
    assert store.integrity_check() == []


def test_copies_elsewhere_become_originals_and_annotations_stay(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("date,title,source\n2018-01-03,Hotline reopened,Yonhap\n")
    b.write_text("date,title,source\n2018-01-03,Hotline reopened,KCNA\n2018-01-03,Hotline reopened,AP\n")
    first, second = ingest(store, [a]), ingest(store, [b])
    assert [r[3:] for r in rows(store)] == [(None, None, first.run_id), (1, "exact", second.run_id),
                                            (1, "exact", second.run_id)]
    ann.create(store, {"date": "2018-01-03", "title": "Hotline"})
    assert remove_run(store, first.run_id) == {"articles": 1, "quarantined": 0, "promoted": 1}
    assert [r[3:] for r in rows(store)] == [(None, None, second.run_id), (2, "exact", second.run_id)]
    assert len(ann.list_annotations(store)) == 1
    assert store.integrity_check() == []
    for bad, message in ((first.run_id, "is removed"), (99, "no ingest run 99")):
        try:
            remove_run(store, bad)
        except RunError as exc:
            assert message in str(exc)
        else:
            raise AssertionError("removing it again should fail")
