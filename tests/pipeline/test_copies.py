"""Exact and near copies: stored, marked, not scored twice, found across batches, runs and files
within the dedupe window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_support import (
    articles,
    assert_consistent,
    run_cli,
    scores,
    wire_corpus,
    wire_edit,
    wire_story,
    write_jsonl,
)
from sqlalchemy import select

from tension.pipeline.ingest import ingest
from tension.store import schema
from tension.store.engine import Store


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_exact_and_near_copies_same_day(store: Store, tmp_path: Path, batch_size: int) -> None:
    summary = ingest(store, [str(wire_corpus(tmp_path))], batch_size=batch_size)
    rows = articles(store)
    kinds = [(r["source"], r["date"].day, r["copy_kind"], r["copy_of"]) for r in rows]
    first, harvest, short = rows[0]["id"], rows[4]["id"], rows[5]["id"]
    assert kinds == [
        ("Wire A", 3, None, None),
        ("Wire B", 3, "near", first),  # three words changed in 300
        ("Wire C", 3, "exact", first),
        ("Wire D", 4, None, None),  # same text, next day, window 0: a new article
        ("Wire A", 3, None, None),
        ("Wire A", 3, None, None),
        ("Wire B", 3, "exact", short),  # case and white space do not make a new text
    ]
    assert harvest != first
    assert summary.copies == 3 and summary.added == 7
    # Copies are not scored: only the originals' texts are.
    stored = scores(store)
    assert rows[1]["content_hash"] not in stored
    assert set(stored) == {r["content_hash"] for r in rows if r["copy_of"] is None}
    assert len(stored) == 3  # the story (twice as an original, one hash), harvest, short
    assert_consistent(store)



def test_copy_window_of_one_day(store: Store, tmp_path: Path) -> None:
    summary = ingest(store, [str(wire_corpus(tmp_path))], window_days=1)
    rows = articles(store)
    assert [(r["source"], r["copy_kind"]) for r in rows] == [
        ("Wire A", None), ("Wire B", "near"), ("Wire C", "exact"), ("Wire D", "exact"),
        ("Wire A", None), ("Wire A", None), ("Wire B", "exact")]
    assert rows[3]["copy_of"] == rows[0]["id"]
    assert summary.copies == 4
    assert_consistent(store)


def test_window_option_reaches_the_command_line(tmp_path: Path) -> None:
    corpus = wire_corpus(tmp_path)
    db = f"sqlite:///{tmp_path / 'w.db'}"
    result = run_cli("ingest", str(corpus), "--db", db, "--dedupe-window", "1", "--quiet", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["copies"], summary["scored"]) == (7, 4, 3)


def test_near_copy_on_another_day_needs_the_window(sqlite_store: Store, tmp_path: Path) -> None:
    story = wire_story(3)
    path = write_jsonl(tmp_path / "days.jsonl", [
        {"date": "2018-01-03", "title": "Story", "text": story},
        {"date": "2018-01-05", "title": "Story", "text": wire_edit(story)},
        {"date": "2018-01-06", "title": "Story", "text": wire_edit(story, (10, 20))},
    ])
    ingest(sqlite_store, [str(path)], window_days=2)
    rows = articles(sqlite_store)
    assert [(r["copy_kind"], r["copy_of"]) for r in rows] == [
        (None, None), ("near", rows[0]["id"]), (None, None)]  # 3 days from the first: too far


def test_copies_found_across_runs_and_files(store: Store, tmp_path: Path) -> None:
    story = wire_story(4)
    a = write_jsonl(tmp_path / "a.jsonl", [{"date": "2018-01-03", "title": "Story", "text": story}])
    b = write_jsonl(tmp_path / "b.jsonl", [
        {"date": "2018-01-03", "title": "Story", "text": wire_edit(story)},
        {"date": "2018-01-03", "title": "Story", "text": story, "source": "Other"}])
    ingest(store, [str(a)])
    summary = ingest(store, [str(b)])
    rows = articles(store)
    assert [(r["copy_kind"], r["copy_of"]) for r in rows] == [
        (None, None), ("near", rows[0]["id"]), ("exact", rows[0]["id"])]
    assert (summary.copies, summary.scored) == (2, 0)
    assert_consistent(store)


@pytest.mark.parametrize("lookup", ["pairs", "scan"])
def test_stored_originals_are_found_on_the_days_of_the_window(store: Store, tmp_path: Path, monkeypatch,
                                                              lookup: str) -> None:
    """Originals already in the store, looked up by (day, hash) pairs, or by a scan of the batch's
    days when a wide window would make too many pairs: the same copies either way."""
    if lookup == "scan":
        monkeypatch.setattr("tension.pipeline.ingest.writer.MAX_PAIRS", 0)
    story, short = wire_story(5), "Talks were proposed at the border."
    first = write_jsonl(tmp_path / "first.jsonl", [
        {"date": "2018-01-03", "title": "Story", "text": story},
        {"date": "2018-01-03", "title": "Brief", "text": short},
        {"date": "2018-01-20", "title": "Brief", "text": short}])
    later = write_jsonl(tmp_path / "later.jsonl", [
        {"date": "2018-01-05", "title": "Story", "text": story, "source": "B"},  # 2 days on: exact
        {"date": "2018-01-04", "title": "Story", "text": wire_edit(story), "source": "B"},  # near
        {"date": "2018-01-02", "title": "brief", "text": short, "source": "B"},  # 1 day before
        {"date": "2018-01-09", "title": "Brief", "text": short, "source": "B"},  # 6 days: too far
        {"date": "2018-01-22", "title": "Brief", "text": short, "source": "B"}])  # the 20th's
    ingest(store, [str(first)], window_days=2)
    summary = ingest(store, [str(later)], window_days=2)
    rows = articles(store)
    assert [(r["date"].day, r["copy_kind"], r["copy_of"]) for r in rows[3:]] == [
        (5, "exact", rows[0]["id"]), (4, "near", rows[0]["id"]), (2, "exact", rows[1]["id"]),
        (9, None, None), (22, "exact", rows[2]["id"])]
    assert (summary.copies, summary.scored) == (4, 0)
    assert_consistent(store)


def test_a_sentence_repeated_inside_an_article_is_scored_once(store: Store, tmp_path: Path) -> None:
    once = "The army fired artillery shells at the border. Seoul proposed talks."
    twice = ("The army fired artillery shells at the border. The army fired artillery shells at the "
             "border. Seoul proposed talks.  The army  fired artillery shells at the border.")
    path = write_jsonl(tmp_path / "repeat.jsonl", [
        {"date": "2018-01-03", "title": "Border report", "text": once},
        {"date": "2018-01-04", "title": "Border report", "text": twice}])
    ingest(store, [str(path)])
    rows = articles(store)
    assert rows[0]["content_hash"] != rows[1]["content_hash"]
    stored = scores(store)
    a, b = stored[rows[0]["content_hash"]], stored[rows[1]["content_hash"]]
    assert a["n_sentences"] == b["n_sentences"] == 3  # title + two distinct sentences
    assert (a["hostility"], a["conciliation"], a["tension"]) == (b["hostility"], b["conciliation"], b["tension"])
    assert a["hostility"] > 0 and a["conciliation"] > 0
    sentences = [e["sentence"] for e in json.loads(b["evidence"])]
    assert len(sentences) == len(set(sentences))
    st = schema.score_terms.c
    with store.read() as conn:
        def terms(h: str) -> dict:
            return dict(conn.execute(select(st.term, st.contribution).where(st.content_hash == h)).all())
        assert terms(rows[0]["content_hash"]) == terms(rows[1]["content_hash"])
