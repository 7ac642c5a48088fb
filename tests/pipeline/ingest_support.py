"""What the ingest tests share: readers of the store's tables, its invariants, the command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from indicators.scorers import scorer_for
from tension.store import schema
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
VERSION = scorer_for().version  # the shipped scorer (model and lexicon)
HEADLINES = "kcna_headlines_1997_2014.csv.gz"
STORIES = "kcna_stories_2011_2012.jsonl.gz"
WEAPONS = "nk_weapons_tests_1984_2025.csv"



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


def n_rows(store: Store, table) -> int:
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


# Long wire stories and their copies, for the dedupe tests.
VOCAB = ("army navy talks summit missile launch border village harvest factory railway bridge "
          "delegation minister council statement press agency report river mountain province "
          "city workers farmers students soldiers engineers scientists teachers doctors drivers "
          "steel coal rice maize cotton power station dam road school hospital theatre museum "
          "concert festival exhibition meeting congress session plenum anniversary birthday "
          "victory parade review visit tour inspection guidance field site unit company "
          "regiment division corps command headquarters hotline channel letter message reply "
          "proposal offer plan programme project campaign drive movement effort struggle work "
          "january february march april spring summer autumn winter morning evening week "
          "year month day north south east west central coastal inland capital region").split()


def wire_story(seed: int, n_words: int = 300) -> str:
    rng = random.Random(seed)
    words = [rng.choice(VOCAB) for _ in range(n_words)]
    sentences = [" ".join(words[i:i + 15]).capitalize() + "." for i in range(0, n_words, 15)]
    return " ".join(sentences)


def wire_edit(text: str, positions: tuple[int, ...] = (40, 150, 260)) -> str:
    words = text.split(" ")
    for p in positions:
        words[p] = "syndicated"
    return " ".join(words)


def wire_corpus(tmp_path: Path) -> Path:
    story, other = wire_story(1), wire_story(2)
    rows = [
        {"date": "2018-01-03", "title": "Border talks", "text": story, "source": "Wire A", "url": "http://a/1"},
        {"date": "2018-01-03", "title": "Border talks", "text": wire_edit(story), "source": "Wire B",
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
