"""The store remembers the lexicon it scores with, and everything reads that lexicon's scores.

QA found that `ingest --lexicon FILE` (or `rescore --lexicon FILE`) stored scores that export,
spikes, explain and the dashboard never read: they read the shipped lexicon's version, so a
custom lexicon gave blank exports. Real SQLite files, the CLI in-process.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from indicators.lexicon import default_lexicon_bytes
from indicators.scorers import scorer_for
from tension.cli import main
from tension.core.selection import Selection
from tension.dashboard.service import Service
from tension.store import schema
from tension.store.engine import Store
from tension.store.queries import coverage, load_articles
from tension.store.scoring import store_lexicon

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "good"
HOTLINE = b'''

[[category]]
name = "hotline_contacts"
pole = "conciliation"
weight = 0.5
terms = ["reopened"]
'''


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def versions(store: Store) -> set[str]:
    with store.read() as conn:
        return set(conn.execute(select(schema.article_scores.c.scorer_version).distinct()).scalars())


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    path = tmp_path / "custom.toml"
    path.write_bytes(default_lexicon_bytes() + HOTLINE)
    return path


def test_a_custom_lexicon_is_the_one_every_command_reads(tmp_path: Path, custom: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert run("ingest", str(GOOD / "articles.csv"), "--db", db, "--quiet", "--lexicon", str(custom)).exit_code == 0
    store = Store(db)
    mine = scorer_for(custom.read_bytes()).version
    assert store_lexicon(store) == custom.read_bytes() and versions(store) == {mine}
    # the export reads those scores (it was all blank), with no "run rescore" warning
    export = run("export", "--db", db, "--out", "-", "--n-boot", "0")
    assert export.exit_code == 0 and "warning" not in export.stderr
    first = next(csv.DictReader(io.StringIO(export.output)))
    assert (first["date"], first["n_articles"]) == ("2018-01-03", "2")
    # the new category is a sub-index like any other; "Hotline reopened" is conciliatory in it
    arts = load_articles(store, Selection(categories=("hotline_contacts",)))
    hot = arts[arts["title"] == "Hotline reopened"].iloc[0]
    assert hot["conciliation"] > 0 and hot["tension"] < 0
    assert "hotline_contacts" in Service(store).categories()
    assert run("explain", "2018-01-03", "--db", db, "--category", "hotline_contacts").exit_code == 0
    # a later import without --lexicon scores with the store's lexicon, not the shipped one
    assert run("ingest", str(GOOD / "articles.tsv"), "--db", db, "--quiet").exit_code == 0
    assert versions(store) == {mine}
    assert coverage(store)["unscored"] == 0


def test_switching_back_rescoring_and_pruning(tmp_path: Path, custom: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    run("ingest", str(GOOD / "articles.csv"), "--db", db, "--quiet", "--lexicon", str(custom))
    store = Store(db)
    shipped = tmp_path / "shipped.toml"
    shipped.write_bytes(default_lexicon_bytes())
    # switching: the summary warns that earlier articles need a rescore; rescore does them
    switched = run("ingest", str(GOOD / "articles.tsv"), "--db", db, "--quiet", "--lexicon", str(shipped))
    assert "articles are not scored by the store's current scorer (its lexicon, model and actors file); " \
        "run: python -m tension rescore" in switched.stderr
    assert store_lexicon(store) is None  # the shipped lexicon is stored as "no setting"
    result = run("rescore", "--db", db, "--prune", "--quiet")
    assert result.exit_code == 0, result.output
    assert versions(store) == {scorer_for(None).version}
    assert coverage(store)["unscored"] == 0
    # and its categories are the shipped ones again
    bad = run("export", "--db", db, "--out", "-", "--category", "hotline_contacts")
    assert bad.exit_code == 2 and "unknown lexicon category 'hotline_contacts'" in bad.stderr


def test_a_broken_lexicon_changes_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    run("ingest", str(GOOD / "articles.csv"), "--db", db, "--quiet")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[category]\n")
    result = run("rescore", "--db", db, "--lexicon", str(broken))
    assert result.exit_code == 1 and "Error: lexicon is not valid UTF-8 TOML" in result.stderr
    assert store_lexicon(Store(db)) is None


def test_backup_and_restore_keep_the_store_lexicon(tmp_path: Path, custom: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    run("ingest", str(GOOD / "articles.csv"), "--db", db, "--quiet", "--lexicon", str(custom))
    assert run("backup", str(tmp_path / "b.db"), "--db", db).exit_code == 0
    other = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("restore", str(tmp_path / "b.db"), "--db", other).exit_code == 0
    assert store_lexicon(Store(other)) == custom.read_bytes()
    assert coverage(Store(other))["unscored"] == 0


def test_a_store_with_nothing_scored_by_its_current_scorer_still_answers(tmp_path: Path, custom: Path) -> None:
    """Switching the lexicon (or editing the actors file: both change the scorer version) left
    no score of the current version until `rescore`; a merge of empty frames then failed
    ("merge on str and float64 columns") and every export, the API and the page went down."""
    from tension.dashboard.app import create_app

    db = f"sqlite:///{tmp_path / 's.db'}"
    assert run("ingest", str(GOOD / "articles.csv"), "--db", db, "--quiet", "--lexicon", str(custom)).exit_code == 0
    shipped = tmp_path / "shipped.toml"
    shipped.write_bytes(default_lexicon_bytes())
    # an unchanged file is not re-read, so the switch leaves every article stale
    assert run("ingest", str(GOOD / "articles.csv"), "--db", db, "--quiet", "--lexicon", str(shipped)).exit_code == 0
    assert coverage(Store(db))["unscored"] == 2
    for args in (["export", "--out", "-"], ["export", "--out", "-", "--dyads"],
                 ["export", "--out", "-", "--dyad", "PRK-USA"], ["spikes"]):
        got = run(*args, "--db", db)
        assert got.exit_code == 0, (args, got.output, got.stderr)
        assert "run: python -m tension rescore" in got.stderr, args
    app = create_app(db, seed=False, upload_dir=tmp_path / "uploads")
    client = app.server.test_client()
    for path in ("/", "/api/index.csv", "/api/index.csv?dyad=PRK-USA", "/api/dyads.csv", "/api/spikes"):
        assert client.get(path).status_code == 200, path
    layout = app.layout() if callable(app.layout) else app.layout
    assert layout is not None  # the page's layout lists the store's dyads: none, without failing
    from tension.dashboard.panels import chart
    from tension.dashboard.view import parse_query

    _, status, _ = chart.render_view(app.server.extensions["tension"]["service"], parse_query(""))
    assert "2 articles await rescoring by the current scorer" in str(status)
    app.server.extensions["tension"]["service"].store.dispose()
