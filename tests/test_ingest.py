"""Tests for tension.ingest (and the ingest, rescore, quarantine and events commands) on a real
SQLite file and a real PostgreSQL 15 database: idempotency, copies, scoring cache, the bad-input
corpus end to end, reference events, a SIGKILL half-way, and the real corpora."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from indicators.combine import Scorer
from indicators.lexicon import default_lexicon_bytes, load_lexicon
from tension.pipeline.events import import_events
from tension.pipeline.ingest import Summary, Watcher, ingest
from tension.pipeline.rescore import rescore
from tension.store import schema
from tension.store.articles import stale_hashes
from tension.store.engine import Store
from tension.store.events import list_events

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
VERSION = Scorer().version  # the shipped lexicon's scorer version
HEADLINES = "kcna_headlines_1997_2014.csv.gz"
STORIES = "kcna_stories_2011_2012.jsonl.gz"
WEAPONS = "nk_weapons_tests_1984_2025.csv"


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'tension.db'}")
    yield s
    s.dispose()


# ------------------------------------------------------------------------ helpers


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def articles(store: Store) -> list[dict]:
    """Stored articles in input order (file, row): ids follow write order, and a batch writes
    its originals before its copies."""
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(select(schema.articles)).mappings()]
    for r in rows:
        r["date"] = _day(r["date"])
    return sorted(rows, key=lambda r: (r["origin"], r["row"], r["id"]))


def scores(store: Store, version: str | None = None) -> dict[str, dict]:
    sc = schema.article_scores.c
    q = select(schema.article_scores)
    if version:
        q = q.where(sc.scorer_version == version)
    with store.read() as conn:
        return {r["content_hash"]: dict(r) for r in conn.execute(q).mappings()}


def quarantine(store: Store) -> list[tuple]:
    q = schema.quarantine.c
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(q.origin, q.row, q.field, q.reason).order_by(q.id))]


def runs(store: Store) -> list[dict]:
    r = schema.ingest_runs.c
    with store.read() as conn:
        return [dict(x) for x in conn.execute(select(schema.ingest_runs).order_by(r.id)).mappings()]


def n_rows(store: Store, table) -> int:  # noqa: ANN001
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def assert_consistent(store: Store, version: str = VERSION) -> None:
    """The store's invariants: healthy database, unique keys, every original scored (and no
    score that belongs to no stored original), terms only for stored scores, copies point
    at originals."""
    assert store.integrity_check() == []
    rows = articles(store)
    assert len({r["key"] for r in rows}) == len(rows)
    by_id = {r["id"]: r for r in rows}
    originals = {r["content_hash"] for r in rows if r["copy_of"] is None}
    assert set(scores(store, version)) == originals
    for r in rows:
        if r["copy_of"] is not None:
            assert r["copy_kind"] in ("exact", "near")
            assert by_id[r["copy_of"]]["copy_of"] is None, "a copy must point at an original"
            assert by_id[r["copy_of"]]["id"] < r["id"]
            if r["copy_kind"] == "exact":
                assert by_id[r["copy_of"]]["content_hash"] == r["content_hash"]
        else:
            assert r["copy_kind"] is None


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TENSION_DB"}
    return subprocess.run([sys.executable, "-m", "tension", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def good_paths() -> list[str]:
    return [str(p) for p in sorted(GOOD.iterdir())]


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
    assert evidence and {m["term"] for e in evidence for m in e["matches"]} == {"hotline"}
    st = schema.score_terms.c
    with store.read() as conn:
        terms = conn.execute(select(st.term, st.pole, st.contribution).where(
            st.content_hash == first["content_hash"])).all()
    assert [(t, p) for t, p, _ in terms] == [("hotline", "conciliation")]
    assert sum(c for _, _, c in terms) == pytest.approx(hotline["tension"], abs=1e-6)

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


def test_ingest_collects_cycles_every_few_batches(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
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
        scorer = Scorer()
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


# ------------------------------------------------------------------------ copies

_VOCAB = ("army navy talks summit missile launch border village harvest factory railway bridge "
          "delegation minister council statement press agency report river mountain province "
          "city workers farmers students soldiers engineers scientists teachers doctors drivers "
          "steel coal rice maize cotton power station dam road school hospital theatre museum "
          "concert festival exhibition meeting congress session plenum anniversary birthday "
          "victory parade review visit tour inspection guidance field site unit company "
          "regiment division corps command headquarters hotline channel letter message reply "
          "proposal offer plan programme project campaign drive movement effort struggle work "
          "january february march april spring summer autumn winter morning evening week "
          "year month day north south east west central coastal inland capital region").split()


def _story(seed: int, n_words: int = 300) -> str:
    rng = random.Random(seed)
    words = [rng.choice(_VOCAB) for _ in range(n_words)]
    sentences = [" ".join(words[i:i + 15]).capitalize() + "." for i in range(0, n_words, 15)]
    return " ".join(sentences)


def _edit(text: str, positions: tuple[int, ...] = (40, 150, 260)) -> str:
    words = text.split(" ")
    for p in positions:
        words[p] = "syndicated"
    return " ".join(words)


def _copies_corpus(tmp_path: Path) -> Path:
    story, other = _story(1), _story(2)
    rows = [
        {"date": "2018-01-03", "title": "Border talks", "text": story, "source": "Wire A", "url": "http://a/1"},
        {"date": "2018-01-03", "title": "Border talks", "text": _edit(story), "source": "Wire B",
         "url": "http://b/1"},
        {"date": "2018-01-03", "title": "Border talks", "text": story, "source": "Wire C", "url": "http://c/1"},
        {"date": "2018-01-04", "title": "Border talks", "text": story, "source": "Wire D", "url": "http://d/1"},
        {"date": "2018-01-03", "title": "Harvest report", "text": other, "source": "Wire A",
         "url": "http://a/2"},
        {"date": "2018-01-03", "title": "Short", "text": "Talks were proposed.", "source": "Wire A",
         "url": "http://a/3"},
        {"date": "2018-01-03", "title": "short", "text": "  Talks were\nproposed. ", "source": "Wire B",
         "url": "http://b/3"},
    ]
    return write_jsonl(tmp_path / "wire.jsonl", rows)


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_exact_and_near_copies_same_day(store: Store, tmp_path: Path, batch_size: int) -> None:
    summary = ingest(store, [str(_copies_corpus(tmp_path))], batch_size=batch_size)
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
    summary = ingest(store, [str(_copies_corpus(tmp_path))], window_days=1)
    rows = articles(store)
    assert [(r["source"], r["copy_kind"]) for r in rows] == [
        ("Wire A", None), ("Wire B", "near"), ("Wire C", "exact"), ("Wire D", "exact"),
        ("Wire A", None), ("Wire A", None), ("Wire B", "exact")]
    assert rows[3]["copy_of"] == rows[0]["id"]
    assert summary.copies == 4
    assert_consistent(store)


def test_window_option_reaches_the_command_line(tmp_path: Path) -> None:
    corpus = _copies_corpus(tmp_path)
    db = f"sqlite:///{tmp_path / 'w.db'}"
    result = run_cli("ingest", str(corpus), "--db", db, "--dedupe-window", "1", "--quiet", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["copies"], summary["scored"]) == (7, 4, 3)


def test_near_copy_on_another_day_needs_the_window(sqlite_store: Store, tmp_path: Path) -> None:
    story = _story(3)
    path = write_jsonl(tmp_path / "days.jsonl", [
        {"date": "2018-01-03", "title": "Story", "text": story},
        {"date": "2018-01-05", "title": "Story", "text": _edit(story)},
        {"date": "2018-01-06", "title": "Story", "text": _edit(story, (10, 20))},
    ])
    ingest(sqlite_store, [str(path)], window_days=2)
    rows = articles(sqlite_store)
    assert [(r["copy_kind"], r["copy_of"]) for r in rows] == [
        (None, None), ("near", rows[0]["id"]), (None, None)]  # 3 days from the first: too far


def test_copies_found_across_runs_and_files(store: Store, tmp_path: Path) -> None:
    story = _story(4)
    a = write_jsonl(tmp_path / "a.jsonl", [{"date": "2018-01-03", "title": "Story", "text": story}])
    b = write_jsonl(tmp_path / "b.jsonl", [
        {"date": "2018-01-03", "title": "Story", "text": _edit(story)},
        {"date": "2018-01-03", "title": "Story", "text": story, "source": "Other"}])
    ingest(store, [str(a)])
    summary = ingest(store, [str(b)])
    rows = articles(store)
    assert [(r["copy_kind"], r["copy_of"]) for r in rows] == [
        (None, None), ("near", rows[0]["id"]), ("exact", rows[0]["id"])]
    assert (summary.copies, summary.scored) == (2, 0)
    assert_consistent(store)


@pytest.mark.parametrize("lookup", ["pairs", "scan"])
def test_stored_originals_are_found_on_the_days_of_the_window(store: Store, tmp_path: Path, monkeypatch,  # noqa: ANN001
                                                              lookup: str) -> None:
    """Originals already in the store, looked up by (day, hash) pairs, or by a scan of the batch's
    days when a wide window would make too many pairs: the same copies either way."""
    if lookup == "scan":
        monkeypatch.setattr("tension.pipeline.ingest.writer.MAX_PAIRS", 0)
    story, short = _story(5), "Talks were proposed at the border."
    first = write_jsonl(tmp_path / "first.jsonl", [
        {"date": "2018-01-03", "title": "Story", "text": story},
        {"date": "2018-01-03", "title": "Brief", "text": short},
        {"date": "2018-01-20", "title": "Brief", "text": short}])
    later = write_jsonl(tmp_path / "later.jsonl", [
        {"date": "2018-01-05", "title": "Story", "text": story, "source": "B"},  # 2 days on: exact
        {"date": "2018-01-04", "title": "Story", "text": _edit(story), "source": "B"},  # near
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


# ---------------------------------------------------------------------- rescore


def _modified_lexicon() -> bytes:
    data = default_lexicon_bytes()
    changed = data.replace(b"weight = 0.9\n", b"weight = 0.85\n", 1)
    assert changed != data
    return changed


def test_rescore_scores_only_what_a_lexicon_change_made_stale(store: Store, tmp_path: Path) -> None:
    ingest(store, [*good_paths(), str(_copies_corpus(tmp_path))])
    rows = articles(store)
    originals = {r["content_hash"] for r in rows if r["copy_of"] is None}
    assert len(originals) < len({r["content_hash"] for r in rows})  # near copies have their own hash
    assert stale_hashes(store, VERSION) == []
    assert rescore(store)["scored"] == 0  # nothing is stale for the current lexicon

    lexicon = _modified_lexicon()
    new = Scorer(load_lexicon(lexicon)).version
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
    new = Scorer(load_lexicon(lexicon.read_bytes())).version
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
    story = _story(1)
    rows = [{"date": "2018-01-03", "title": "Border talks", "text": story, "source": "Wire A",
             "url": "http://a/1"},
            {"date": "2018-01-03", "title": "Border talks", "text": _edit(story), "source": "Wire B",
             "url": "http://b/1"},
            {"date": "2018-01-10", "title": "Border talks", "text": _edit(story), "source": "Wire E",
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


# ------------------------------------------------------------ the bad-input corpus

TRUNCATED = ("truncated gzip stream: the compressed data ends early (Compressed file ended "
             "before the end-of-stream marker was reached); the rows before it were read")
HEADER = "wrong number of fields: expected 3 (as in the header), found"
NO_DATE_FEED = "feed entry has no date (no published or updated element)"

# file (or folder) → ([(origin relative to bad/, row, field, reason)], [(row, title)] kept)
BAD_STORE_CASES: dict[str, tuple[list[tuple], list[tuple]]] = {
    "truncated.csv.gz": ([("truncated.csv.gz", None, None, TRUNCATED)],
                         [(r, f"Headline number {r - 1}") for r in range(2, 17)]),
    "corrupt.jsonl.gz": ([("corrupt.jsonl.gz", None, None,
                           "corrupt gzip stream: data after the end of the compressed stream is not "
                           "gzip; the lines before it were read")],
                         [(r, f"Story {r}") for r in range(1, 6)]),
    "latin1.csv": ([], [(2, "Café talks in Panmunjom"), (3, "Naïve résumé")]),
    "utf16.csv": ([], [(2, "Hotline reopened")]),
    "bom.csv": ([], [(2, "Hotline reopened"), (3, "Talks proposed")]),
    "missing_date_column.csv": ([("missing_date_column.csv", None, "date",
                                  "no date column found; columns found: id, headline, body; "
                                  "use --map date=COLUMN")], []),
    "renamed_columns.csv": ([("renamed_columns.csv", None, "date",
                              "no date column found; columns found: day, head, words, outlet_name; "
                              "use --map date=COLUMN"),
                             ("renamed_columns.csv", None, "text",
                              "no title or text column found; columns found: day, head, words, "
                              "outlet_name; use --map title=COLUMN or --map text=COLUMN")], []),
    "empty.csv": ([("empty.csv", None, None, "empty file")], []),
    "whitespace_only.jsonl": ([("whitespace_only.jsonl", None, None, "empty file")], []),
    "header_only.csv": ([("header_only.csv", None, None, "no data rows")], []),
    "unparseable_dates.csv": ([("unparseable_dates.csv", 3, "date", "unparseable date 'yesterday'"),
                               ("unparseable_dates.csv", 4, "date",
                                "incomplete date '2018' (needs a year, a month and a day)"),
                               ("unparseable_dates.csv", 5, "date",
                                "unknown time zone name in date 'Wed 03 Jan 2018 10:00:00 XYZ'")],
                              [(2, "Good row"), (6, "Good row with a month name")]),
    "impossible_dates.csv": ([("impossible_dates.csv", 2, "date",
                               "impossible date '2018-02-30' (day is out of range for month)"),
                              ("impossible_dates.csv", 3, "date",
                               "impossible date '2018-13-01' (month must be in 1..12)"),
                              ("impossible_dates.csv", 4, "date",
                               "date '1700-01-01' is outside the years 1800..2100"),
                              ("impossible_dates.csv", 5, "date",
                               "date '2150-06-01' is outside the years 1800..2100")],
                             [(6, "Good row")]),
    "missing_values.csv": ([("missing_values.csv", 2, "date", "missing date"),
                            ("missing_values.csv", 3, "text", "empty title and text"),
                            ("missing_values.csv", 4, "text", "empty title and text")],
                           [(5, "")]),
    "duplicates.csv": ([], [(2, "Hotline reopened"), (3, "Hotline reopened"), (4, "Hotline reopened"),
                            (5, "Talks")]),
    "ragged.csv": ([("ragged.csv", 3, None, f"{HEADER} 4"), ("ragged.csv", 4, None, f"{HEADER} 2")],
                   [(2, "Good row"), (6, "Quoted, with comma")]),
    "semicolon.csv": ([("semicolon.csv", 3, None, f"{HEADER} 4")], [(2, "Hotline reopened"), (4, "Third")]),
    "pipe.csv": ([], [(2, "Hotline, reopened"), (3, "Talks")]),
    "crlf_controls.csv": ([], [(2, "Tab\there and bell gone")]),
    "not_gzip.csv.gz": ([], [(2, "Plain text behind a .gz name")]),
    "trailing_garbage.json": ([("trailing_garbage.json", None, None,
                                "trailing garbage after the JSON array at line 5, column 1; the data "
                                "before it was read")],
                              [(1, "Hotline reopened"), (2, "Talks proposed")]),
    "broken_array.json": ([("broken_array.json", None, None,
                            "invalid JSON at line 4, column 35: Unterminated string starting at; the 2 "
                            "elements before it were read")], [(1, "First"), (2, "Second")]),
    "not_a_list.json": ([("not_a_list.json", None, None,
                          "the JSON top level is a string, not an array or an object")], []),
    "wrapper_without_list.json": ([("wrapper_without_list.json", None, None,
                                    "no list of articles in the JSON object (keys: status, count)")], []),
    "bad_lines.jsonl": ([("bad_lines.jsonl", 2, None, "invalid JSON: Expecting ',' delimiter at column 48"),
                         ("bad_lines.jsonl", 4, None, "line is an array, not a JSON object"),
                         ("bad_lines.jsonl", 5, None, "line is a number, not a JSON object")],
                        [(1, "Good line"), (6, "Another good line")]),
    "epoch_dates.jsonl": ([("epoch_dates.jsonl", 4, "date",
                            "date '99999999999999999999999' is outside the years 1800..2100"),
                           ("epoch_dates.jsonl", 5, "date", "unparseable date True")],
                          [(1, "Epoch seconds"), (2, "Epoch milliseconds"), (3, "Epoch seconds as text")]),
    "feed_no_dates.rss": ([("feed_no_dates.rss", 2, "date", NO_DATE_FEED)],
                          [(1, "Hotline reopened"), (3, "Talks proposed")]),
    "atom_no_dates.atom": ([("atom_no_dates.atom", 2, "date", NO_DATE_FEED)], [(1, "Dated entry")]),
    "corrupt.parquet": ([("corrupt.parquet", None, None,
                          "not a readable Parquet file: Parquet file size is 47 bytes, smaller than the "
                          "size reported by footer's (543976545bytes)")], []),
    "txt_missing_date": ([("txt_missing_date/20180230-impossible.txt", None, "date",
                           "impossible date '2018-02-30' (day is out of range for month)"),
                          ("txt_missing_date/undated.txt", None, "date",
                           "no date: add front matter, a sidecar .json or a date in the file name")],
                         [(1, "Hotline reopened"), (1, "Seoul replies"), (1, "Kim Jong Un's New Year message")]),
}


def _expected_quarantine(name: str) -> list[tuple]:
    return [(str(BAD / origin), row, field, reason) for origin, row, field, reason in BAD_STORE_CASES[name][0]]


def test_every_bad_file_has_an_end_to_end_case() -> None:
    inputs = {p.name for p in BAD.iterdir() if p.name != "README.md"}
    assert len(inputs) >= 20
    assert inputs == set(BAD_STORE_CASES)


@pytest.mark.parametrize("name", sorted(BAD_STORE_CASES))
def test_bad_file_end_to_end(sqlite_store: Store, name: str) -> None:
    problems, kept = BAD_STORE_CASES[name]
    summary = ingest(sqlite_store, [str(BAD / name)])
    assert quarantine(sqlite_store) == _expected_quarantine(name)
    rows = articles(sqlite_store)
    assert [(r["row"], r["title"]) for r in rows] == kept
    assert (summary.added, summary.quarantined, summary.ok) == (len(kept), len(problems), not problems)
    assert summary.read == len(kept) + len(problems)
    assert runs(sqlite_store)[-1]["status"] == ("done_with_problems" if problems else "done")
    assert_consistent(sqlite_store)
    # Again: nothing new, and the quarantine does not grow.
    again = ingest(sqlite_store, [str(BAD / name)])
    assert (again.added, again.quarantined) == (0, len(problems))
    assert len(quarantine(sqlite_store)) == len(problems) and len(articles(sqlite_store)) == len(kept)


def _all_bad_paths() -> list[str]:
    return [str(p) for p in sorted(BAD.iterdir()) if p.name != "README.md"]


def _all_expected() -> tuple[list[tuple], Counter]:
    problems = [q for name in sorted(BAD_STORE_CASES) for q in _expected_quarantine(name)]
    kept: Counter = Counter()
    for name, (_, rows) in BAD_STORE_CASES.items():
        kept[name] += len(rows)
    return problems, kept


def _kept_by_input(store: Store) -> Counter:
    got: Counter = Counter()
    for r in articles(store):
        rel = Path(r["origin"]).relative_to(BAD).parts[0]
        got[rel] += 1
    return got


def test_whole_bad_corpus_in_one_run(store: Store) -> None:
    paths = _all_bad_paths()
    summary = ingest(store, paths)
    problems, kept = _all_expected()
    assert sorted(quarantine(store), key=repr) == sorted(problems, key=repr)
    assert _kept_by_input(store) == +kept
    assert summary.quarantined == len(problems) == 35
    assert summary.added == sum(kept.values()) == 56
    assert summary.read == summary.added + summary.quarantined
    assert not summary.ok and summary.errors == []
    assert_consistent(store)
    again = ingest(store, paths)
    assert (again.added, again.scored) == (0, 0)
    assert len(quarantine(store)) == 35 and n_rows(store, schema.articles) == 56


def test_generated_bad_inputs(store: Store, tmp_path: Path) -> None:
    """Inputs too big to commit, and characters a database refuses (PostgreSQL takes no NUL in
    text; neither database takes a lone surrogate from a JSON escape)."""
    big = tmp_path / "big.csv"
    big.write_text(f"date,title,text\n2018-01-03,Small,ok\n2018-01-04,Huge,{'x' * 5_000_001}\n"
                   "2018-01-05,After,ok\n")
    rows = "".join(f"2018-01-{d % 28 + 1:02d},Title {d} {'w' * 40}\n" for d in range(5000))
    data = gzip.compress(("date,title\n" + rows).encode(), mtime=0)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"date,title\n2018-01-03,ok\n2018-01-04,a,b\x00c\nyester\x00day,nul date\n"
                    b"2018-01-06,t\x00itle\n")
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"date": "2018-01-03", "title": "lone \\ud800 surrogate"}\n'
                         '{"date": "2018-01-04", "title": "fine"}\n'
                         '{"date": "2018-01-05", "ti\\udc00tle": "x", "text": 5}\n'
                         '["\\ud800"]\n', encoding="ascii")
    summary = ingest(store, [str(big), str(cut), str(nul), str(surrogate)])
    got = [(Path(o).name, r, f, reason) for o, r, f, reason in quarantine(store)]
    assert got[:2] == [
        ("big.csv", 3, "text", "field 'text' is 5,000,001 characters, over the 2,000,000 limit"),
        ("cut.csv.gz", None, None, TRUNCATED)]
    assert got[2:4] == [("nul.csv", 3, None, "wrong number of fields: expected 2 (as in the header), found 3"),
                        ("nul.csv", 4, "date", "unparseable date 'yester\ufffdday'")]
    assert got[4:] == [("surrogate.jsonl", 4, None, "line is an array, not a JSON object")]
    by_file = Counter(Path(r["origin"]).name for r in articles(store))
    assert by_file["big.csv"] == 2 and by_file["nul.csv"] == 2 and by_file["surrogate.jsonl"] == 3
    assert by_file["cut.csv.gz"] > 1000
    titles = {r["title"] for r in articles(store)}
    assert {"title", "lone \ufffd surrogate", "fine"} <= titles
    with store.read() as conn:
        raws = conn.execute(select(schema.quarantine.c.raw)).scalars().all()
    assert all("\x00" not in r and len(r) <= 500 for r in raws)
    assert summary.quarantined == 5
    assert_consistent(store)


def test_file_with_a_non_utf8_name(sqlite_store: Store, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.csv"  # a Latin-1 name from an old archive
    with open(raw, "wb") as fh:
        fh.write(b"date,title\n2018-01-03,ok\n2018-01-04,a,b\n")
    summary = ingest(sqlite_store, [os.fsdecode(raw)])
    assert (summary.added, summary.quarantined) == (1, 1)
    (article,) = articles(sqlite_store)
    assert article["title"] == "ok" and article["source"] == "caf\ufffd"


def test_bad_corpus_through_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    paths = _all_bad_paths()
    result = run_cli("ingest", *paths, "--db", db, "--quiet")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert ("read 91 rows: added 56, of which 8 duplicates of earlier articles (kept as copies, not "
            "counted twice); 0 duplicates already in the store (skipped); quarantined 35; "
            "scored 47 new texts") in lines
    assert lines[-1] == f"see the bad rows with: python -m tension quarantine list --db {db}"
    assert f"{BAD / 'semicolon.csv'}: read as csv" in lines
    assert f"{BAD / 'txt_missing_date'}: read as txt" in lines
    assert result.stderr == ""  # --quiet: no progress bar

    listed = run_cli("quarantine", "list", "--db", db)
    assert listed.returncode == 0
    problems, _ = _all_expected()
    shown = listed.stdout.splitlines()
    assert len(shown) == len(problems) == 35
    for origin, row, field, reason in problems:
        where = origin + (f", row {row}" if row is not None else "")
        where += f", field '{field}'" if field else ""
        assert any(line.endswith(f"] {where}: {reason}") for line in shown), (where, reason)
    only = run_cli("quarantine", "list", "--db", db, "--file", str(BAD / "ragged.csv"), "--json")
    assert [(r["row"], r["reason"]) for r in json.loads(only.stdout)] == [
        (3, f"{HEADER} 4"), (4, f"{HEADER} 2")]

    s = Store(db)
    try:
        assert sorted(quarantine(s), key=repr) == sorted(problems, key=repr)
        assert n_rows(s, schema.articles) == 56
        assert_consistent(s)
    finally:
        s.dispose()

    again = run_cli("ingest", *paths, "--db", db, "--quiet", "--json")
    assert again.returncode == 1
    summary = json.loads(again.stdout)
    assert (summary["added"], summary["quarantined"], summary["scored"]) == (0, 35, 0)
    assert summary["unchanged"] == [p for p in paths if Path(p).is_file()]


def test_command_line_good_run_and_missing_path(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    ok = run_cli("ingest", str(GOOD / "articles.csv"), "--db", db)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == (
        "read 2 rows: added 2, of which 0 duplicates of earlier articles (kept as copies, not counted "
        "twice); 0 duplicates already in the store (skipped); quarantined 0; scored 2 new texts")
    missing = run_cli("ingest", str(tmp_path / "nope.csv"), str(GOOD / "articles.tsv"), "--db", db, "--quiet")
    assert missing.returncode == 1
    assert f"error: {tmp_path / 'nope.csv'}: no such file or folder" in missing.stderr
    assert "added 2," in missing.stdout  # the readable file still got in
    bad_map = run_cli("ingest", str(GOOD / "articles.csv"), "--db", db, "--map", "author=x")
    assert bad_map.returncode == 2 and "unknown field 'author'" in bad_map.stderr


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


# ----------------------------------------------------------------- crash safety

_KILL_SCRIPT = """
import sys
from tension.pipeline.ingest import ingest
from tension.store.engine import Store
ingest(Store(sys.argv[1]), [sys.argv[2]], batch_size=500)
"""


def _count_articles(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
@pytest.mark.corpus
def test_sigkill_half_way_leaves_a_consistent_store_and_a_rerun_finishes(tmp_path: Path,
                                                                         shared_data) -> None:
    corpus = shared_data(STORIES)
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, url, str(corpus)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while _count_articles(db) < 2000:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the ingest stored nothing in time"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 1.5))  # land anywhere: reading, scoring or mid-transaction
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    store = Store(url)
    try:
        (run,) = runs(store)
        assert run["status"] == "running" and run["finished_at"] is None
        rows = articles(store)
        n = len(rows)
        assert 2000 <= n < 20_305, "killed too late to test anything"
        # Whole batches only: a prefix of the file in multiples of the batch size, and the run's
        # counters (updated in each batch's transaction) agree with what is stored.
        assert n % 500 == 0
        assert sorted(r["row"] for r in rows) == list(range(1, n + 1))
        assert run["n_added"] == n and run["n_read"] == n
        assert run["n_copies"] == sum(r["copy_of"] is not None for r in rows)
        assert n_rows(store, schema.ingest_files) == 0  # the file is not marked done
        assert_consistent(store, run["scorer_version"])

        summary = ingest(store, [str(corpus)], jobs=2)
        assert (summary.read, summary.already, summary.added) == (20_305, n, 20_305 - n)
        rows = articles(store)
        assert len(rows) == 20_305
        assert len({r["key"] for r in rows}) == len({(r["origin"], r["row"]) for r in rows}) == 20_305
        assert_consistent(store)
        resumed = [(r["row"], r["copy_kind"]) for r in rows]
    finally:
        store.dispose()

    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    try:
        ingest(clean, [str(corpus)], jobs=2)
        assert sorted(resumed) == sorted((r["row"], r["copy_kind"]) for r in articles(clean))
    finally:
        clean.dispose()


def _headlines_csv(path: Path, n: int) -> Path:
    lines = ["date,title"] + [f"2018-01-{1 + i % 28:02d},Headline number {i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _committed(path: Path) -> int:
    """Articles another connection sees: only what is committed."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def test_a_transaction_spans_whole_batches_up_to_commit_rows(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Fewer, larger commits (each writes every index page its rows touched): batches of 100
    are committed three at a time, and the batches written meanwhile see each other."""
    import tension.pipeline.ingest.window as window_mod

    monkeypatch.setattr(window_mod, "COMMIT_ROWS", 300)
    monkeypatch.setattr(window_mod, "COMMIT_SECONDS", 3600.0)
    db = tmp_path / "group.db"
    store = Store(f"sqlite:///{db}")
    seen: list[int] = []

    class Seen(Watcher):
        def writing(self, rows: int, held: int):  # noqa: ANN202
            seen.append(_committed(db))
            return super().writing(rows, held)

    path = _headlines_csv(tmp_path / "h.csv", 1000)
    summary = ingest(store, [str(path)], batch_size=100, watcher=Seen())
    assert seen == [0, 0, 0, 300, 300, 300, 600, 600, 600, 900]
    assert (summary.read, summary.added) == (1000, 1000)
    assert _committed(db) == 1000
    assert runs(store)[0]["n_added"] == 1000
    again = ingest(store, [str(_headlines_csv(tmp_path / "h2.csv", 1000))], batch_size=100)
    assert (again.already, again.added) == (1000, 0)  # seen through the open transaction too
    assert_consistent(store)


def test_the_write_lock_is_let_go_while_the_driver_waits_for_workers(tmp_path: Path,
                                                                     monkeypatch) -> None:  # noqa: ANN001
    """Other writers (an annotation being saved) wait at most COMMIT_SECONDS: a transaction is
    committed before the driver waits for scores that are not ready."""
    from concurrent.futures import Executor, Future

    import tension.pipeline.ingest.window as window_mod

    monkeypatch.setattr(window_mod, "COMMIT_SECONDS", 0.2)
    db = tmp_path / "lock.db"
    lock_free: list[bool] = []

    def can_write() -> bool:
        conn = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:  # database is locked
            return False
        finally:
            conn.close()

    class Later(Future):
        """Not ready until asked for: the worker is still busy when the driver gets to it."""

        def __init__(self, fn, args) -> None:  # noqa: ANN001
            super().__init__()
            self._call = (fn, args)

        def result(self, timeout=None):  # noqa: ANN001, ANN202
            if not self.done():
                lock_free.append(can_write())
                fn, args = self._call
                self.set_result(fn(*args))
            return super().result(timeout)

    class SlowWorkers(Executor):
        def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN202
            return Later(fn, args)

    store = Store(f"sqlite:///{db}")
    path = _headlines_csv(tmp_path / "h.csv", 600)
    summary = ingest(store, [str(path)], batch_size=100, executor=SlowWorkers())
    assert summary.added == 600
    assert len(lock_free) == 6 and all(lock_free)
    assert_consistent(store)


def test_a_failure_rolls_back_the_open_transaction_and_keeps_what_was_committed(
        tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import tension.pipeline.ingest.window as window_mod

    monkeypatch.setattr(window_mod, "COMMIT_ROWS", 300)
    monkeypatch.setattr(window_mod, "COMMIT_SECONDS", 3600.0)
    calls = []

    class DiskFull(Watcher):
        def writing(self, rows: int, held: int):  # noqa: ANN202
            calls.append(1)
            if len(calls) == 5:
                raise OSError("disk full")
            return super().writing(rows, held)

    db = tmp_path / "fail.db"
    store = Store(f"sqlite:///{db}")
    with pytest.raises(OSError, match="disk full"):
        ingest(store, [str(_headlines_csv(tmp_path / "h.csv", 1000))], batch_size=100,
               watcher=DiskFull())
    (run,) = runs(store)
    assert run["status"] == "failed" and "disk full" in run["message"]
    assert _committed(db) == 300  # the first three batches; the fourth was rolled back
    assert (run["n_read"], run["n_added"]) == (300, 300)
    assert_consistent(store)
    rerun = ingest(store, [str(tmp_path / "h.csv")], batch_size=100)
    assert (rerun.already, rerun.added) == (300, 700)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ingest_streams_through_a_bounded_window(tmp_path: Path, sqlite_store: Store, window_probe,  # noqa: ANN001
                                                 jobs: int) -> None:
    """Out of core: the rows read ahead of the store never exceed the batches in flight
    (2 in one process, workers + 1 with a pool), however long the file; bad rows included."""
    path = tmp_path / "long.csv"
    lines = ["date,title"] + [f"2018-01-{1 + i % 28:02d},Headline number {i}" if i % 97 else
                              f"not a date,Headline number {i}" for i in range(3000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = ingest(sqlite_store, [str(path)], jobs=jobs, batch_size=250, watcher=window_probe)
    assert summary.read == window_probe.written == 3000
    assert summary.quarantined == 31 and summary.added == 2969
    assert len(window_probe.writes) == 12
    assert window_probe.ahead() == (2 if jobs == 1 else 3) * 250
    assert all(produced - written == held for produced, written, held in window_probe.writes)


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
