"""The real corpora into SQLite and PostgreSQL, and a file refused when its options would store
it twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from ingest_support import HEADLINES, STORIES, articles, assert_consistent, n_rows

from tension.pipeline.ingest import ingest
from tension.store import schema
from tension.store.engine import Store

# ------------------------------------------------------------------ real corpora


@pytest.mark.slow
@pytest.mark.corpus
def test_real_headlines_into_sqlite(sqlite_store: Store, shared_data, record_property) -> None:
    path = str(shared_data(HEADLINES))
    summary = ingest(sqlite_store, [path], jobs=2)
    assert (summary.read, summary.added, summary.quarantined, summary.errors) == (99_841, 99_841, 0, [])
    assert n_rows(sqlite_store, schema.articles) == 99_841
    copies = sum(r["copy_of"] is not None for r in articles(sqlite_store))
    assert copies == summary.copies
    record_property("headline_copies", copies)
    print(f"\nheadlines: {copies} copies of 99,841")
    assert_consistent(sqlite_store)

    again = ingest(sqlite_store, [path])
    assert (again.added, again.scored, again.unchanged) == (0, 0, [path])
    with sqlite_store.write() as conn:  # forget the fingerprint: every row is read and recognised
        conn.execute(schema.ingest_files.delete())
    reread = ingest(sqlite_store, [path])
    assert (reread.read, reread.already, reread.added, reread.scored) == (99_841, 99_841, 0, 0)
    assert n_rows(sqlite_store, schema.articles) == 99_841


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.pg
def test_real_stories_into_postgresql(pg_url: str, shared_data, record_property) -> None:
    path = str(shared_data(STORIES))
    store = Store(pg_url)
    try:
        summary = ingest(store, [path], jobs=2)
        assert (summary.read, summary.added, summary.quarantined) == (20_305, 20_305, 0)
        assert n_rows(store, schema.articles) == 20_305
        rows = articles(store)
        copies = Counter(r["copy_kind"] for r in rows if r["copy_of"] is not None)
        record_property("story_copies", dict(copies))
        print(f"\nstories: {sum(copies.values())} copies of 20,305 ({dict(copies)})")
        assert sum(copies.values()) == summary.copies
        assert sum(not r["title"] for r in rows) == 688
        assert_consistent(store)
        again = ingest(store, [path])
        assert (again.added, again.scored) == (0, 0)
    finally:
        store.dispose()


def test_the_same_file_with_other_date_options_is_refused_not_stored_twice(
        sqlite_store: Store, tmp_path: Path) -> None:
    """QA: importing b.tsv with --tz America/New_York, then with --tz Asia/Seoul, stored 3 rows
    as 5 articles (the dates, and so the row keys, differed). Now the second import is refused,
    naming the earlier run and options; the same options still re-import as a no-op."""
    path = tmp_path / "b.csv"
    path.write_text("date,title\n2018-01-02T20:00:00-05:00,a\n2018-01-02T23:30:00+00:00,b\n")
    first = ingest(sqlite_store, [path], tz="America/New_York")
    assert first.added == 2 and first.ok
    again = ingest(sqlite_store, [path], tz="Asia/Seoul")
    assert again.added == 0 and not again.ok
    assert again.errors == [f"{path}: not imported: the same file was imported before (run "
                            f"{first.run_id}) with --tz America/New_York; with --tz Asia/Seoul its "
                            "rows would be stored a second time. Import it with the same options, "
                            f"or first undo that import: python -m tension runs remove {first.run_id}"]
    day = ingest(sqlite_store, [path], tz="America/New_York", date_order="dmy")
    assert "with no --date-order; with --date-order dmy" in day.errors[0]
    assert len(articles(sqlite_store)) == 2
    same = ingest(sqlite_store, [path, str(path)], tz="America/New_York")  # and a path twice: once
    assert (same.added, same.already, same.files, same.ok) == (0, 2, [str(path)], True)
    copy = tmp_path / "copy.csv"  # other bytes (one more row): read as usual, rows deduplicated
    copy.write_text(path.read_text() + "2018-01-05,c\n")
    assert ingest(sqlite_store, [copy], tz="Asia/Seoul").added == 3  # its dates differ: new keys
    assert_consistent(sqlite_store)
