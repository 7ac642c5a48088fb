"""The store bumps its own revision on every write path, so caches keyed on it never serve
what was written over; reads and rolled-back writes do not move it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from indicators.lexicon import default_lexicon_bytes
from tension.core.selection import Selection
from tension.dashboard.service import Service
from tension.pipeline.events import import_events
from tension.pipeline.ingest import ingest
from tension.pipeline.rescore import rescore
from tension.store import annotations, schema
from tension.store.engine import Store
from tension.store.queries import load_articles
from tension.store.runs import remove_run
from tension.store.scoring import use_lexicon

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "good"
TOPICS = ("data", "annotations", "events")


def moved(store: Store, before: tuple[int, ...]) -> set[str]:
    return {t for t, b, a in zip(TOPICS, before, store.revision(*TOPICS), strict=True) if a != b}


def test_every_write_path_bumps_its_topic(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    before = store.revision(*TOPICS)
    summary = ingest(store, [GOOD / "articles.csv"])
    assert summary.added and moved(store, before) == {"data"}

    before = store.revision(*TOPICS)
    made = annotations.create(store, {"date": "2018-01-03", "title": "talks"})
    assert moved(store, before) == {"annotations"}
    before = store.revision(*TOPICS)
    annotations.delete(store, made["id"], made["updated_at"])
    assert moved(store, before) == {"annotations"}

    events = tmp_path / "events.csv"
    events.write_text("date,label,category\n2018-01-01,test,missile_test\n", encoding="utf-8")
    before = store.revision(*TOPICS)
    import_events(store, events)
    assert moved(store, before) == {"events"}

    before = store.revision(*TOPICS)
    lexicon = default_lexicon_bytes() + b"\n# another lexicon\n"
    use_lexicon(store, lexicon)
    assert moved(store, before) == {"data"}  # a setting: what the index reads changed
    before = store.revision(*TOPICS)
    rescore(store, lexicon=lexicon)
    assert moved(store, before) == {"data"}

    before = store.revision(*TOPICS)
    remove_run(store, summary.run_id)
    assert moved(store, before) == {"data"}


def test_reads_and_rolled_back_writes_leave_it_alone(db_url: str) -> None:
    store = Store(db_url)
    ingest(store, [GOOD / "articles.csv"])
    before = store.revision(*TOPICS)
    load_articles(store, Selection())
    store.counts()
    with pytest.raises(RuntimeError), store.write() as conn:
        conn.execute(insert(schema.events).values(start_date=dt.date(2018, 1, 1), end_date=dt.date(2018, 1, 1),
                                                  label="x", category="y", origin="z"))
        raise RuntimeError("changed my mind")
    assert store.revision(*TOPICS) == before


def test_hand_written_sql_counts_too(db_url: str) -> None:
    """The tables come from the statements themselves, not from a list each writer keeps."""
    store = Store(db_url)
    before = store.revision(*TOPICS)
    with store.write() as conn:
        conn.execute(text("DELETE FROM articles WHERE id < 0"))
    assert moved(store, before) == {"data"}


def test_the_dashboard_sees_a_removed_run_at_once(tmp_path: Path) -> None:
    """No run row is written for the cache's sake: removing a run moves the revision."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    summary = ingest(store, [GOOD / "articles.csv"])
    service = Service(store)
    assert len(service.articles(Selection()))
    remove_run(store, summary.run_id)
    assert len(service.articles(Selection())) == 0
