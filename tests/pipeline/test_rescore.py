"""Rescore after a lexicon change: only what became stale is scored; the scored counts are true."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_support import (
    VERSION,
    articles,
    assert_consistent,
    good_paths,
    n_rows,
    run_cli,
    runs,
    scores,
    wire_corpus,
    wire_edit,
    wire_story,
    write_jsonl,
)
from sqlalchemy import select

from indicators.lexicon import default_lexicon_bytes
from indicators.scorers import scorer_for
from tension.pipeline.ingest import ingest
from tension.pipeline.rescore import rescore
from tension.store import schema
from tension.store.articles import stale_hashes
from tension.store.engine import Store

# ---------------------------------------------------------------------- rescore



def _modified_lexicon() -> bytes:
    data = default_lexicon_bytes()
    changed = data.replace(b"weight = 0.9\n", b"weight = 0.85\n", 1)
    assert changed != data
    return changed


def test_rescore_scores_only_what_a_lexicon_change_made_stale(store: Store, tmp_path: Path) -> None:
    ingest(store, [*good_paths(), str(wire_corpus(tmp_path))])
    rows = articles(store)
    originals = {r["content_hash"] for r in rows if r["copy_of"] is None}
    assert len(originals) < len({r["content_hash"] for r in rows})  # near copies have their own hash
    assert stale_hashes(store, VERSION) == []
    assert rescore(store)["scored"] == 0  # nothing is stale for the current lexicon

    lexicon = _modified_lexicon()
    new = scorer_for(lexicon).version
    assert new != VERSION
    assert stale_hashes(store, new) == sorted(originals)
    result = rescore(store, lexicon=lexicon, batch_size=3)
    assert result == {"stale": len(originals), "scored": len(originals), "pruned": 0, "version": new}
    assert set(scores(store, new)) == originals and set(scores(store, VERSION)) == originals
    assert rescore(store, lexicon=lexicon) == {"stale": 0, "scored": 0, "pruned": 0, "version": new}

    pruned = rescore(store, lexicon=lexicon, prune=True)
    assert pruned == {"stale": 0, "scored": 0, "pruned": len(originals), "version": new}
    st = schema.score_terms.c
    with store.read() as conn:
        term_versions = set(conn.execute(select(st.scorer_version).distinct()).scalars())
    assert set(scores(store)) == originals and term_versions == {new}
    assert {s["scorer_version"] for s in scores(store).values()} == {new}
    assert_consistent(store, new)
    # A new file ingested with the new lexicon is scored with it, and only its new text.
    extra = write_jsonl(tmp_path / "extra.jsonl", [
        {"date": "2018-01-09", "title": "Missile launch condemned", "text": "x"},
        {"date": "2018-01-09", "title": "Hotline reopened", "text": "The hotline was reopened."}])
    summary = ingest(store, [str(extra)], lexicon=lexicon)
    assert (summary.added, summary.copies, summary.scored) == (2, 0, 1)
    assert_consistent(store, new)


def test_rescore_command(sqlite_store: Store, tmp_path: Path) -> None:
    ingest(sqlite_store, good_paths())
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_bytes(_modified_lexicon())
    db = sqlite_store.url
    first = run_cli("rescore", "--db", db, "--lexicon", str(lexicon))
    assert first.returncode == 0, first.stderr
    new = scorer_for(lexicon.read_bytes()).version
    assert first.stdout.strip() == f"scorer {new}: 8 texts were stale, 8 scored, 0 old scores pruned"
    second = run_cli("rescore", "--db", db, "--lexicon", str(lexicon), "--prune")
    assert second.stdout.strip() == f"scorer {new}: 0 texts were stale, 0 scored, 8 old scores pruned"
    assert set(s["scorer_version"] for s in scores(sqlite_store).values()) == {new}


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_a_text_first_seen_as_a_copy_is_scored_when_it_comes_again_as_an_original(
        store: Store, tmp_path: Path, batch_size: int) -> None:
    """The edited story is a near copy on the 3rd (not scored: its score is dropped) and an
    original on the 10th. With one row a batch, the 10th is prepared while the copy's batch,
    which was sent to be scored with it, is still in flight: it must get its score anyway."""
    story = wire_story(1)
    rows = [{"date": "2018-01-03", "title": "Border talks", "text": story, "source": "Wire A",
             "url": "http://a/1"},
            {"date": "2018-01-03", "title": "Border talks", "text": wire_edit(story), "source": "Wire B",
             "url": "http://b/1"},
            {"date": "2018-01-10", "title": "Border talks", "text": wire_edit(story), "source": "Wire E",
             "url": "http://e/1"}]
    summary = ingest(store, [str(write_jsonl(tmp_path / "late.jsonl", rows))], batch_size=batch_size)
    stored = articles(store)
    assert [(r["source"], r["copy_kind"]) for r in stored] == [
        ("Wire A", None), ("Wire B", "near"), ("Wire E", None)]
    assert stored[1]["content_hash"] == stored[2]["content_hash"]
    assert stored[2]["content_hash"] in scores(store)
    assert summary.scored == 2 and runs(store)[-1]["n_scored"] == 2
    assert_consistent(store)


def test_scored_count_is_the_number_of_texts_scored(sqlite_store: Store, tmp_path: Path) -> None:
    """The same headline on three days (window 0) is three originals sharing one text: one score."""
    path = tmp_path / "repeat.csv"
    path.write_text("date,title\n2018-01-03,Talks proposed\n2018-01-04,Talks proposed\n"
                    "2018-01-05,Talks proposed\n")
    summary = ingest(sqlite_store, [str(path)], batch_size=1)
    assert n_rows(sqlite_store, schema.article_scores) == 1
    assert summary.scored == 1
    assert runs(sqlite_store)[-1]["n_scored"] == 1
