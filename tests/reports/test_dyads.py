"""The dyadic index end to end on real stores (SQLite and PostgreSQL): ingest with an actor,
measures and dyads, the long and wide exports, the CLI and the HTTP API; Dask gives what
pandas gives."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tension.analysis.options import IndexOptions
from tension.cli import main
from tension.core.selection import Selection
from tension.pipeline.ingest import ingest
from tension.reports.export import (
    DYADS_EXPORT_COLUMNS,
    EXPORT_COLUMNS,
    MEASURE_COLUMNS,
    build_dyads_export,
    build_export,
)
from tension.store.actors import source_actors
from tension.store.engine import Store
from tension.store.queries import SelectionError, load_articles

# Two days of a source that speaks for nobody until `--actor PRK` says it does.
ROWS = [
    ("2018-01-01", "DPRK warmongers' threat of nuclear war on the U.S. condemned"),
    ("2018-01-01", "U.S. imperialists' war drills denounced as provocation"),
    ("2018-01-01", "China and the DPRK pledge friendship and cooperation"),
    ("2018-01-01", "Harvest festival held in the capital"),
    ("2018-01-02", "Talks with south Korea welcomed, hotline reopened"),
    ("2018-01-02", "South Korean puppets' confrontation moves slammed"),
    ("2018-01-02", "Chinese paper praises Kim Jong Un"),
    ("2018-01-02", "Textile mill exceeds its plan"),
]


def write_rows(folder: Path) -> Path:
    path = folder / "wire.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "title", "text"])
        w.writerows([(d, t, "") for d, t in ROWS])
    return path


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Store:
    s = Store(db_url)
    summary = ingest(s, [write_rows(tmp_path)], source="Wire", actor="PRK")
    assert summary.ok and summary.added == len(ROWS)
    yield s
    s.dispose()


def test_ingest_actor_is_kept_and_unknown_codes_are_refused(store: Store, tmp_path: Path) -> None:
    assert source_actors(store) == {"wire": "PRK"}
    with pytest.raises(ValueError, match="unknown actor 'XXX'"):
        ingest(store, [write_rows(tmp_path)], source="Other", actor="XXX")
    assert source_actors(store) == {"wire": "PRK"}  # nothing changed by the refused import


def test_actor_for_a_file_read_before_names_its_sources_and_a_change_is_said(tmp_path: Path) -> None:
    """`ingest FILE --actor CODE` on a file imported before (not re-read: nothing to add) set
    no actor, silently; the file's sources are read again for it. A source that spoke for
    another actor until now is said to change, for its earlier articles too."""
    s = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        path = tmp_path / "named.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["date", "source", "title"])
            w.writerows([(d, "Wire", t) for d, t in ROWS[:4]] + [(d, "Other wire", t) for d, t in ROWS[4:]])
        assert ingest(s, [path]).added == len(ROWS)
        assert source_actors(s) == {}
        again = ingest(s, [path], actor="PRK")
        assert again.unchanged == [str(path)] and again.added == 0 and again.notes == []
        assert source_actors(s) == {"wire": "PRK", "other wire": "PRK"}
        res = CliRunner().invoke(main, ["ingest", str(path), "--actor", "kor", "--db", s.url])  # as --dyad: any case
        assert res.exit_code == 0, res.output
        assert source_actors(s) == {"wire": "KOR", "other wire": "KOR"}
        assert "note: source 'Other wire' spoke for PRK; now KOR, for its earlier articles too" in res.stderr
    finally:
        s.dispose()


def test_measures_and_dyads_read_who_is_aimed_at(store: Store) -> None:
    overall = load_articles(store, Selection())
    assert len(overall) == len(ROWS)
    intensity = load_articles(store, Selection(dyad="intensity"))
    assert len(intensity) == len(ROWS)  # every article counts, quiet ones as 0
    by_title = dict(zip(intensity["title"], intensity["tension"], strict=True))
    assert by_title["Harvest festival held in the capital"] == 0
    assert by_title["China and the DPRK pledge friendship and cooperation"] == 0  # CHN: no conflict dyad
    assert by_title["U.S. imperialists' war drills denounced as provocation"] > 0.3
    usa = load_articles(store, Selection(dyad="PRK-USA"))
    assert set(usa["title"]) == {"DPRK warmongers' threat of nuclear war on the U.S. condemned",
                                 "U.S. imperialists' war drills denounced as provocation"}
    assert (usa["tension"] > 0).all()
    chn = load_articles(store, Selection(dyad="PRK-CHN"))
    assert list(chn["title"]) == ["China and the DPRK pledge friendship and cooperation"]
    assert (chn["tension"] < 0).all()
    # reported speech: the Chinese paper speaks, the DPRK is its target
    assert list(load_articles(store, Selection(dyad="CHN-PRK"))["title"]) == ["Chinese paper praises Kim Jong Un"]
    conflict = load_articles(store, Selection(dyad="conflict"))
    assert "Chinese paper praises Kim Jong Un" not in set(conflict["title"])
    assert len(conflict) == 4
    with pytest.raises(SelectionError, match="unknown actor 'XXX'"):
        load_articles(store, Selection(dyad="PRK-XXX"))


THIRD_PARTY_ROWS = [
    ("2018-01-01", "North Korea threatens to strike the United States"),  # reported speech
    ("2018-01-01", "Tension rises between North Korea and the United States over missile test"),
    ("2018-01-01", "China and North Korea pledge friendship"),  # no conflict dyad
    ("2018-01-01", "Harvest festival held in Pyongyang"),
]


def test_a_source_for_nobody_reads_reported_speech_and_third_party_reporting(db_url: str,
                                                                            tmp_path: Path) -> None:
    """Wire copy speaks for nobody: a headline naming both sides of a conflict dyad in its own
    voice reports that conflict and counts for the intensity; the dyad list shows no third
    party as an actor."""
    from tension.reports.export import dyad_matrix

    path = tmp_path / "wire.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("date", "title", "text"), *[(d, t, "") for d, t in THIRD_PARTY_ROWS]])
    store = Store(db_url)
    assert ingest(store, [path], source="Wire").ok
    by_title = dict(load_articles(store, Selection(dyad="intensity"))[["title", "tension"]].to_numpy())
    assert by_title[THIRD_PARTY_ROWS[0][1]] > 0.2 and by_title[THIRD_PARTY_ROWS[1][1]] > 0.2
    overall = dict(load_articles(store, Selection(dyad="all"))[["title", "tension"]].to_numpy())
    # a headline is one unit aimed across one dyad: its intensity is its tone, counted once
    assert by_title[THIRD_PARTY_ROWS[1][1]] == pytest.approx(overall[THIRD_PARTY_ROWS[1][1]], abs=1e-5)
    assert by_title[THIRD_PARTY_ROWS[2][1]] == 0 and by_title[THIRD_PARTY_ROWS[3][1]] == 0
    assert set(load_articles(store, Selection(dyad="conflict"))["title"]) == {t for _, t in THIRD_PARTY_ROWS[:2]}
    matrix = dyad_matrix(store, Selection())
    assert set(matrix["source_actor"]) == {"", "PRK"}  # the third party is nobody's voice
    store.dispose()


def test_the_long_export_has_one_row_per_dyad_and_day_with_articles(store: Store) -> None:
    table = build_dyads_export(store, Selection(), IndexOptions(smooth=1))
    assert list(table.columns) == DYADS_EXPORT_COLUMNS
    keys = set(zip(table["date"].dt.date.astype(str), table["source_actor"], table["target_actor"],
                   strict=True))
    assert ("2018-01-01", "PRK", "USA") in keys and ("2018-01-02", "PRK", "KOR") in keys
    assert ("2018-01-02", "CHN", "PRK") in keys
    assert not any(s == t for _, s, t in keys)  # nobody is their own target
    usa = table[(table["source_actor"] == "PRK") & (table["target_actor"] == "USA")]
    assert usa["n_articles"].tolist() == [2]
    # the same numbers as the wide export of that dyad
    wide = build_export(store, Selection(dyad="PRK-USA"), IndexOptions(smooth=1))
    assert list(wide.columns) == EXPORT_COLUMNS
    day = wide[wide["date"] == pd.Timestamp("2018-01-01")].iloc[0]
    assert day["tension"] == pytest.approx(usa["tension"].iloc[0])
    assert day["n_articles"] == 2


@pytest.mark.parametrize(("opts", "filter_expr"), [
    (IndexOptions(), ""), (IndexOptions(freq="W", normalize="zscore"), "U.S.|DPRK"),
    (IndexOptions(freq="M", normalize="base100"), ""), (IndexOptions(normalize="seasonal"), ""),
    (IndexOptions(start=pd.Timestamp("2018-01-02").date()), "U.S.|DPRK")])
def test_the_named_measure_columns_are_each_measures_own_export(store: Store, opts: IndexOptions,
                                                               filter_expr: str) -> None:
    """tension_intensity, tension_conflict and tension_all of any export are the `tension`
    of that measure's own export (same periods, normalisation, range and filter)."""
    table = build_export(store, Selection(dyad="PRK-USA", filter=filter_expr), opts)
    for column, measure in MEASURE_COLUMNS.items():
        own = build_export(store, Selection(dyad=measure, filter=filter_expr), opts)
        pd.testing.assert_series_equal(table[column], own["tension"], check_names=False)
    headline = build_export(store, Selection(filter=filter_expr), opts)
    pd.testing.assert_series_equal(headline["tension"], headline["tension_intensity"], check_names=False)
    if opts.normalize == "raw" and headline["n_articles"].sum():  # (one week has no z-score)
        assert headline["tension_all"].notna().any() and headline["tension_conflict"].notna().any()


def test_cli_exports_dyads_and_one_dyad(store: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "dyads.csv"
    res = runner.invoke(main, ["export", "--dyads", "--out", str(out), "--db", store.url])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == DYADS_EXPORT_COLUMNS
    res = runner.invoke(main, ["export", "--dyad", "prk-usa", "--out", "-", "--db", store.url])
    assert res.exit_code == 0, res.output
    wide = list(csv.DictReader(io.StringIO(res.output)))
    assert [r["n_articles"] for r in wide] == ["2", "0"]
    res = runner.invoke(main, ["export", "--dyad", "PRK", "--out", "-", "--db", store.url])
    assert res.exit_code == 2 and "SOURCE-TARGET" in res.output
    res = runner.invoke(main, ["export", "--dyad", "intensity", "--category", "war_nuclear", "--out", "-",
                               "--db", store.url])
    assert res.exit_code == 2 and "overall tone" in res.output
    res = runner.invoke(main, ["ingest", "--actor", "NOPE", "--db", store.url, str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "unknown actor" in res.output
    # the long format lists every dyad of the overall tone: a dyad or category is refused, not ignored
    for extra in (["--category", "war_nuclear"], ["--dyad", "PRK-USA"]):
        res = runner.invoke(main, ["export", "--dyads", *extra, "--out", "-", "--db", store.url])
        assert res.exit_code == 2 and "takes no" in res.output, (extra, res.output)


def test_api_serves_dyads(store: Store) -> None:
    from tension.dashboard.app import create_app

    app = create_app(store.url)
    client = app.server.test_client()
    res = client.get("/api/dyads.csv")
    assert res.status_code == 200
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    assert {(r["source_actor"], r["target_actor"]) for r in rows} >= {("PRK", "USA"), ("PRK", "KOR")}
    res = client.get("/api/index.csv?dyad=PRK-USA")
    assert res.status_code == 200
    wide = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    assert [r["n_articles"] for r in wide] == ["2", "0"]
    matrix = client.get("/api/dyads.json").get_json()
    assert {"source_actor": "PRK", "target_actor": "USA"}.items() <= next(
        m for m in matrix if m["target_actor"] == "USA").items()
    res = client.get("/api/index.csv?dyad=PRK-")
    assert res.status_code == 400 and "dyad" in res.get_json()["error"]
    for query in ("category=war_nuclear", "dyad=PRK-USA", "min_articles=0"):
        res = client.get(f"/api/dyads.csv?{query}")
        assert res.status_code == 400 and res.get_json()["error"], query


def test_the_app_is_built_without_reading_the_store_and_its_page_lists_the_dyads(store: Store) -> None:
    from tension.dashboard.app import create_app
    from tension.dashboard.panels.controls import measure_options

    app = create_app(store.url, seed=False)
    service = app.server.extensions["tension"]["service"]
    assert not service._cache._data  # nothing read yet: the server listens at once
    page = app.server.test_client().get("/_dash-layout")
    assert page.status_code == 200 and service._cache._data  # the page read the store's dyads
    assert json.dumps(measure_options(service)) in json.dumps(page.get_json())


@pytest.fixture(scope="module")
def dask_cluster():
    """One local cluster for both stores (starting one took longer than the test)."""
    from tension.pipeline.dask import dask_client

    with dask_client(None) as client:
        yield client


@pytest.mark.slow
def test_dask_and_pandas_give_the_same_dyadic_index(store: Store, db_url: str, dask_cluster) -> None:
    # a measure over all articles on one store, a dyad of reported speech on the other: an
    # export on Dask runs five jobs on the cluster (its measure columns read every measure
    # either way), so both on both stores doubled the time for the same code paths
    dyad = "intensity" if db_url.startswith("sqlite") else "CHN-PRK"
    opts = IndexOptions(smooth=1)
    a = build_export(store, Selection(dyad=dyad), opts)
    b = build_export(store, Selection(dyad=dyad), opts, engine="dask")
    assert len(a) and a["n_articles"].sum() > 0
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


# Stories of several sentences aimed at several actors (and at none), with reported speech, on
# two days; the last repeats the first story with other spacing (one content hash, so its
# score is the first text's).
STORIES = [
    ("2018-01-01", "Army day marked", "The U.S. imperialists staged war drills against the DPRK. "
     "A harvest festival was held in the capital. China and the DPRK pledged friendship."),
    ("2018-01-01", "Textile mill exceeds its plan", "Workers met their plan ahead of time. "
     "The south Korean authorities were accused of obstructing reunification."),
    ("2018-01-02", "Talks proposed", "The DPRK proposed talks with south Korea to ease tension. "
     "Seoul said it welcomed the offer. Chinese paper praises the friendship between the two "
     "countries."),
    ("2018-01-02", "Puppets slammed", "South Korean puppets' confrontation moves were slammed. "
     "The U.S. warned of sanctions against Pyongyang."),
    ("2018-01-02", "Army  day marked", "The U.S. imperialists staged war  drills against the DPRK. "
     "A harvest festival was held in the capital. China and the DPRK pledged friendship."),
]


@pytest.mark.parametrize(("measure", "actor"), [("intensity", "PRK"), ("conflict", "PRK"), ("PRK-USA", "PRK"),
                                               ("PRK-KOR", "PRK"), ("all", "PRK"), ("intensity", ""),
                                               ("conflict", "")])
def test_the_word_shift_under_a_measure_adds_up_to_its_change(db_url: str, tmp_path: Path,
                                                              measure: str, actor: str) -> None:
    """What moved a day under a measure or dyad is that measure's own terms: they add up to the
    change in its mean (before, they added up to the overall tone's change). From a source
    that speaks for nobody ("" actor), the conflict measures read reported speech and
    third-party reporting."""
    import datetime as dt

    from tension.reports.explain import explain

    path = tmp_path / "stories.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("date", "title", "text"), *STORIES])
    store = Store(db_url)
    assert ingest(store, [path], source="Wire", actor=actor or None).ok
    why = explain(store, Selection(dyad=measure), dt.date(2018, 1, 2), baseline_days=1, top=500)
    assert why["n_target"] and why["n_baseline"] and why["terms_unavailable"] is None
    # exact for a measure (what the rescore leaves joins the baseline term); the overall tone's
    # stored terms are rounded to 8 decimals and its scores to 6
    assert sum(t["shift"] for t in why["terms"]) == pytest.approx(why["delta"],
                                                                 abs=1e-6 if measure == "all" else 1e-9)
    terms = {t["term"] for t in why["terms"]}
    # friendship is aimed at China in one story, and at no conflict dyad in the other
    assert ("friendship" in terms) == (measure == "all")
    if measure == "intensity":  # the article values the shift explains are the measure's
        arts = load_articles(store, Selection(dyad="intensity", start=dt.date(2018, 1, 2),
                                              end=dt.date(2018, 1, 2)))
        assert why["mean_target"] == pytest.approx(arts["tension"].mean())
    store.dispose()


def test_a_measure_too_long_to_rescore_says_so_and_lists_no_term(store: Store, monkeypatch) -> None:
    import datetime as dt

    from tension.reports.explain import explain
    from tension.store import queries

    monkeypatch.setattr(queries, "MAX_RESCORED", 1)
    why = explain(store, Selection(dyad="intensity"), dt.date(2018, 1, 2), baseline_days=1)
    assert why["terms"] == [] and "at most 1" in why["terms_unavailable"]
    assert why["delta"] is not None  # the numbers stay; only the word list is left out
    # the overall tone's terms are stored, not rescored
    assert explain(store, Selection(dyad="all"), dt.date(2018, 1, 2), baseline_days=1)["terms"]


def test_a_dyad_without_articles_in_the_range_is_an_empty_frame(store: Store) -> None:
    """It raised a KeyError (the columns of an empty measure frame were not there)."""
    import datetime as dt

    day = dt.date(2018, 1, 2)  # articles that day, none aimed at the U.S.
    empty = load_articles(store, Selection(dyad="PRK-USA", start=day, end=day))
    assert empty.empty and {"id", "date", "title", "tension"} <= set(empty.columns)
