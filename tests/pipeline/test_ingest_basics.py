"""Ingest of the good fixtures on SQLite and PostgreSQL: what is stored and scored, the cycle
collector, worker processes, and idempotency (re-imports add and score nothing)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from ingest_support import (
    BAD,
    GOOD,
    VERSION,
    articles,
    assert_consistent,
    good_paths,
    n_rows,
    quarantine,
    runs,
    scores,
)
from sqlalchemy import select

from indicators.scorers import scorer_for
from tension.pipeline.ingest import Summary, ingest
from tension.store import schema
from tension.store.engine import Store

# ------------------------------------------------------------------- good fixtures


def test_good_fixtures_are_stored_and_scored(store: Store) -> None:
    summary = ingest(store, good_paths())
    assert isinstance(summary, Summary)
    assert (summary.read, summary.added, summary.already, summary.copies, summary.quarantined) == (
        9, 9, 0, 1, 0)
    assert summary.ok and summary.errors == [] and summary.unchanged == []
    assert summary.formats == {str(GOOD / "articles.csv"): "csv", str(GOOD / "articles.tsv"): "tsv",
                               str(GOOD / "newsapi.json"): "json", str(GOOD / "stories.data"): "jsonl",
                               str(GOOD / "stories.jsonl.gz"): "jsonl"}
    rows = articles(store)
    assert len(rows) == 9
    first, second = rows[0], rows[1]
    assert {k: first[k] for k in ("date", "source", "title", "text", "url", "ext_id", "published_at",
                                  "origin", "row")} == {
        "date": dt.date(2018, 1, 3), "source": "Yonhap", "title": "Hotline reopened",
        "text": "The hotline was reopened.", "url": "http://a/1", "ext_id": "a1",
        "published_at": None, "origin": str(GOOD / "articles.csv"), "row": 2}
    # 20:00 at -05:00 is the next day in UTC; an empty source falls back to the file stem.
    assert (second["date"], second["published_at"], second["source"], second["url"]) == (
        dt.date(2018, 1, 3), "2018-01-03T01:00:00Z", "articles", "http://a/2")
    # newsapi.json's Reuters story is the same text on the same day as articles.csv row 2.
    copies = [r for r in rows if r["copy_of"] is not None]
    assert [(c["source"], c["copy_of"], c["copy_kind"]) for c in copies] == [("Reuters", first["id"], "exact")]
    assert {r["run_id"] for r in rows} == {summary.run_id}

    stored = scores(store)
    assert {s["scorer_version"] for s in stored.values()} == {VERSION}
    assert summary.scored == len(stored) == 8
    assert_consistent(store)
    hotline = stored[first["content_hash"]]
    assert hotline["label"] == "conciliatory" and hotline["tension"] < 0
    evidence = json.loads(hotline["evidence"])
    lexicon = {m["term"] for e in evidence for m in e["matches"] if m["kind"] == "lexicon"}
    assert evidence and lexicon == {"hotline"}
    st = schema.score_terms.c
    with store.read() as conn:
        terms = conn.execute(select(st.term, st.pole, st.category, st.contribution).where(
            st.content_hash == first["content_hash"])).all()
    assert ("hotline", "conciliation") in [(t, p) for t, p, c, _ in terms if c != "words"]
    assert sum(c for *_, c in terms) == pytest.approx(hotline["tension"], abs=1e-6)

    (run,) = runs(store)
    assert (run["status"], run["scorer_version"], run["n_read"], run["n_added"], run["n_copies"],
            run["n_scored"], run["n_quarantined"]) == ("done", VERSION, 9, 9, 1, 8, 0)
    assert run["finished_at"] and json.loads(run["paths"]) == good_paths()


def test_ingest_pauses_the_cycle_collector_and_gives_it_back(tmp_path: Path) -> None:
    import gc

    from tension.pipeline.scoring import young_gc_only

    seen: list[bool] = []
    store = Store(f"sqlite:///{tmp_path / 'gc.db'}")
    ingest(store, good_paths(), progress=lambda _p, _n: seen.append(gc.isenabled()))
    assert seen and not any(seen)  # paused while batches were read and written
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that had it off keeps it off
        with young_gc_only():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_ingest_collects_cycles_every_few_batches(tmp_path: Path, monkeypatch) -> None:
    import gc

    import tension.pipeline.ingest.run as ingest_mod

    starts: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            starts.append(info["generation"])

    every_store, once_store = (Store(f"sqlite:///{tmp_path / name}") for name in ("every.db", "once.db"))
    gc.callbacks.append(seen)
    try:
        monkeypatch.setattr(ingest_mod, "GC_BATCHES", 1)
        ingest(every_store, good_paths(), batch_size=2)
        every = len(starts)
        monkeypatch.setattr(ingest_mod, "GC_BATCHES", 10**9)
        starts.clear()
        ingest(once_store, good_paths(), batch_size=2)
    finally:
        gc.callbacks.remove(seen)
    assert starts.count(1) == 1 and 2 not in starts  # the young generations once, at the end
    assert every >= 5  # after the batches too


def test_worker_processes_run_below_the_driver(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from tension.pipeline.scoring import yield_to_driver

    with ProcessPoolExecutor(1, initializer=yield_to_driver) as pool:
        worker = pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result()
    assert worker == 19  # the lowest priority: the driver's serial work goes first


def test_stored_scores_are_those_of_the_scorer_also_in_worker_processes(tmp_path: Path) -> None:
    one = Store(f"sqlite:///{tmp_path / 'one.db'}")
    two = Store(f"sqlite:///{tmp_path / 'two.db'}")
    try:
        ingest(one, good_paths())
        ingest(two, good_paths(), jobs=2, batch_size=2)
        scorer = scorer_for()  # the store's scorer: the shipped model and lexicon
        got = scores(one)
        for r in articles(one):
            if r["copy_of"] is None:
                want = scorer.score_article(r["title"], r["text"])
                s = got[r["content_hash"]]
                assert (s["hostility"], s["conciliation"], s["tension"], s["label"], s["n_sentences"]) == (
                    want.hostility, want.conciliation, want.tension, want.label, want.n_sentences)
        strip = ("id", "run_id", "copy_of")
        assert [{k: v for k, v in r.items() if k not in strip} for r in articles(one)] == [
            {k: v for k, v in r.items() if k not in strip} for r in articles(two)]
        assert scores(one) == scores(two)
        assert_consistent(two)
    finally:
        one.dispose()
        two.dispose()


def test_a_text_in_two_spellings_is_scored_as_its_first_row_whatever_the_split(tmp_path: Path) -> None:
    """Rows sharing a content hash may differ in case: the first row's spelling is the one
    scored and shown as evidence, in one process and with two workers alike."""
    path = tmp_path / "spellings.csv"
    path.write_text("date,title\n2018-01-03,Army commits military provocation\n"
                    "2018-01-04,ARMY COMMITS MILITARY PROVOCATION\n")
    evidence = []
    for jobs in (1, 2):
        store = Store(f"sqlite:///{tmp_path / f'jobs{jobs}.db'}")
        try:
            assert ingest(store, [str(path)], jobs=jobs).scored == 1
            (row,) = scores(store).values()
            evidence.append(json.loads(row["evidence"])[0]["sentence"])
        finally:
            store.dispose()
    assert evidence == ["Army commits military provocation"] * 2


def test_summary_line_and_dict() -> None:
    s = Summary(read=10, added=6, already=2, copies=1, quarantined=2, scored=5)
    assert s.duplicates == 3 and not s.ok
    assert s.line() == ("read 10 rows: added 6, of which 1 duplicates of earlier articles (kept as "
                        "copies, not counted twice); 2 duplicates already in the store (skipped); "
                        "quarantined 2; scored 5 new texts")
    assert s.as_dict()["duplicates"] == 3
    assert Summary(errors=["x"]).ok is False and Summary().ok is True


# ------------------------------------------------------------------- idempotency


def test_reingest_same_files_adds_and_scores_nothing(store: Store) -> None:
    paths = [*good_paths(), str(BAD / "duplicates.csv")]
    ingest(store, paths)
    counts = store.counts()
    before = articles(store)
    again = ingest(store, paths)
    assert (again.read, again.added, again.already, again.copies, again.scored) == (13, 0, 13, 0, 0)
    assert again.unchanged == paths  # recognised by fingerprint, not re-read
    assert store.counts() == {**counts, "ingest_runs": counts["ingest_runs"] + 1}
    assert articles(store) == before
    assert runs(store)[-1]["n_added"] == 0


def _bypass(kind: str, store: Store, tmp_path: Path, paths: list[str]) -> tuple[list[str], dict]:
    """Ways to make the same rows come in again without the file-fingerprint shortcut."""
    if kind == "copied_to_new_folder":  # same bytes elsewhere: same fingerprint, still a no-op
        folder = tmp_path / "elsewhere"
        folder.mkdir()
        return [str(shutil.copy(p, folder / Path(p).name)) for p in paths], {}
    if kind == "other_option":  # a different dedupe window changes the fingerprint
        return paths, {"window_days": 3}
    if kind == "rewritten_bytes":  # CRLF line ends and a trailing blank line: other bytes, same rows
        folder = tmp_path / "rewritten"
        folder.mkdir()
        out = []
        for p in paths:
            target = folder / Path(p).name
            target.write_bytes(Path(p).read_bytes().replace(b"\n", b"\r\n") + b"\r\n")
            out.append(str(target))
        return out, {}
    if kind == "forgotten_fingerprints":
        with store.write() as conn:
            conn.execute(schema.ingest_files.delete())
        return paths, {}
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["copied_to_new_folder", "other_option", "rewritten_bytes",
                                  "forgotten_fingerprints"])
def test_reingest_without_the_fingerprint_shortcut_adds_nothing(store: Store, tmp_path: Path,
                                                                kind: str) -> None:
    paths = [str(GOOD / "articles.csv"), str(GOOD / "newsapi.json"), str(BAD / "duplicates.csv"),
             str(BAD / "ragged.csv")]
    first = ingest(store, paths)
    assert (first.added, first.quarantined) == (10, 2)
    before, quarantined, n_scores = articles(store), quarantine(store), n_rows(store, schema.article_scores)
    again_paths, options = _bypass(kind, store, tmp_path, paths)
    again = ingest(store, again_paths, **options)
    assert (again.added, again.copies, again.scored) == (0, 0, 0)
    assert again.already == 10 and again.read == 12
    if kind == "copied_to_new_folder":
        assert again.unchanged == again_paths
    else:
        assert again.unchanged == []
    assert articles(store) == before
    assert n_rows(store, schema.article_scores) == n_scores
    if kind in ("other_option", "forgotten_fingerprints"):
        assert quarantine(store) == quarantined  # the same problems are not stored twice
    assert_consistent(store)


def test_identical_rows_in_one_file_are_all_kept_once(store: Store, tmp_path: Path) -> None:
    """duplicates.csv: three identical rows are three articles (two exact copies of the first);
    read again, they are recognised by their occurrence number, not added a second time."""
    summary = ingest(store, [BAD / "duplicates.csv"])  # a Path works as well as a str
    assert (summary.added, summary.copies, summary.scored) == (4, 2, 2)
    rows = articles(store)
    assert [(r["row"], r["copy_kind"]) for r in rows] == [(2, None), (3, "exact"), (4, "exact"), (5, None)]
    assert rows[1]["copy_of"] == rows[2]["copy_of"] == rows[0]["id"]
    # The same rows twice in one file (a second copy appended): only the new occurrences are new.
    doubled = tmp_path / "duplicates.csv"
    text = (BAD / "duplicates.csv").read_text()
    doubled.write_text(text + "".join(text.splitlines(keepends=True)[1:]))
    more = ingest(store, [str(doubled)])
    assert (more.already, more.added, more.copies, more.scored) == (4, 4, 4, 0)
    assert len(articles(store)) == 8
    assert_consistent(store)
