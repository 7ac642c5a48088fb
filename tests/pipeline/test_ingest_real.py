"""The real corpora into SQLite and PostgreSQL, and a file refused when its options would store
it twice."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest
from _stores import copy_db
from ingest_support import HEADLINES, STORIES, articles, assert_consistent, n_rows

from tension.pipeline.ingest import ingest
from tension.store import schema
from tension.store.engine import Store

# ------------------------------------------------------------------ real corpora


@pytest.mark.slow
@pytest.mark.corpus
def test_real_headlines_into_sqlite(kcna_headlines_db: Path, shared_data, tmp_path: Path,
                                    record_property) -> None:
    """The run's shared KCNA store (conftest ingests all 99,841 headlines into it, checking the
    summary): consistent, and a second import recognises the file, then every row."""
    path = str(shared_data(HEADLINES))
    store = Store(f"sqlite:///{copy_db(kcna_headlines_db, tmp_path / 'heads.db')}")
    try:
        assert n_rows(store, schema.articles) == 99_841
        copies = sum(r["copy_of"] is not None for r in articles(store))
        record_property("headline_copies", copies)
        print(f"\nheadlines: {copies} copies of 99,841")
        assert copies == 106  # the corpus's repeated headlines (conftest checks the summary's count)
        assert_consistent(store)

        again = ingest(store, [path])
        assert (again.added, again.scored, again.unchanged) == (0, 0, [path])
        with store.write() as conn:  # forget the fingerprint: every row is read and recognised
            conn.execute(schema.ingest_files.delete())
        reread = ingest(store, [path])
        assert (reread.read, reread.already, reread.added, reread.scored) == (99_841, 99_841, 0, 0)
        assert n_rows(store, schema.articles) == 99_841
    finally:
        store.dispose()


N_STORIES = 5_000


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.pg
def test_real_stories_into_postgresql(pg_url: str, shared_data, tmp_path: Path, record_property) -> None:
    """The first 5,000 real stories (full texts) into PostgreSQL with two scoring processes.
    (All 20,305 are ingested into SQLite by the validation test; here they took 85 s.)"""
    with gzip.open(shared_data(STORIES), "rt", encoding="utf-8") as src:
        lines = [line for _, line in zip(range(N_STORIES), src, strict=False)]
    path = tmp_path / "stories_5000.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    untitled = sum(not (json.loads(line).get("title") or "").strip() for line in lines)
    store = Store(pg_url)
    try:
        summary = ingest(store, [str(path)], jobs=2)
        assert (summary.read, summary.added, summary.quarantined) == (N_STORIES, N_STORIES, 0)
        assert n_rows(store, schema.articles) == N_STORIES
        rows = articles(store)
        copies = Counter(r["copy_kind"] for r in rows if r["copy_of"] is not None)
        record_property("story_copies", dict(copies))
        print(f"\nstories: {sum(copies.values())} copies of {N_STORIES:,} ({dict(copies)})")
        assert sum(copies.values()) == summary.copies
        assert sum(not r["title"] for r in rows) == untitled > 0
        assert_consistent(store)
        again = ingest(store, [str(path)])
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
