"""The HTTP API through Flask's test client, on a real SQLite file and a real PostgreSQL
database (`db_url`), plus basic auth and the warning `python app.py --host 0.0.0.0` prints."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _servers import launch, stop, wait_for_health

from tension.analysis.options import IndexOptions
from tension.core.selection import Selection
from tension.dashboard.app import create_app
from tension.io.export import to_csv_text
from tension.pipeline.ingest import ingest
from tension.reports.export import build_export
from tension.store import annotations as ann
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2021, 3, 1)
HOSTILE = ["Army threatens nuclear war and merciless retaliation {n}",
           "Spokesman condemns hostile sanctions racket {n}"]
CALM = ["Leaders agree to resume talks {n}", "Farmers harvest rice in province {n}",
        "Factory workers increase output {n}"]


def write_corpus(path: Path) -> Path:
    """40 days, two of them empty, one day of threats only."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "source", "title", "url"])
        n = 0
        for i in range(40):
            if i in (7, 8):
                continue
            titles = [t.format(n=f"{i}-{k}") for k, t in enumerate(HOSTILE if i == 30 else CALM)]
            if i % 6 == 0:
                titles.append(HOSTILE[i % 2].format(n=i))
            for t in titles:
                w.writerow([(START + dt.timedelta(days=i)).isoformat(), "KCNA", t,
                            f"http://example.org/{n}"])
                n += 1
    return path


@pytest.fixture
def app_client(db_url: str, tmp_path: Path):
    store = Store(db_url)
    summary = ingest(store, [str(write_corpus(tmp_path / "articles.csv"))])
    assert summary.added > 0 and summary.quarantined == 0
    store.dispose()
    app = create_app(db_url, seed=False, upload_dir=tmp_path / "uploads")
    yield app, app.server.test_client()
    app.server.extensions["tension"]["service"].store.dispose()


def store_of(app) -> Store:
    return app.server.extensions["tension"]["service"].store


# =========================================================================== health + index
def test_health(app_client) -> None:
    app, client = app_client
    r = client.get("/api/health")
    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["database"] == store_of(app).engine.dialect.name
    assert body["counts"]["articles"] == store_of(app).counts()["articles"] > 0
    assert body["coverage"]["unscored"] == 0


@pytest.mark.parametrize("params,opts", [
    ({}, IndexOptions()),
    ({"from": "2021-03-05", "to": "2021-04-02", "freq": "D", "smooth": "3"},
     IndexOptions(start=dt.date(2021, 3, 5), end=dt.date(2021, 4, 2), smooth=3)),
    ({"from": "2021-03-01", "to": "2021-04-09", "freq": "W", "smooth": "2"},
     IndexOptions(start=dt.date(2021, 3, 1), end=dt.date(2021, 4, 9), freq="W", smooth=2)),
])
def test_index_csv_is_the_export(app_client, db_url: str, params: dict, opts: IndexOptions) -> None:
    app, client = app_client
    ann.create(store_of(app), {"date": "2021-03-31", "title": "=HYPERLINK(\"x\") threats"})
    r = client.get("/api/index.csv", query_string=params)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    body = r.get_data(as_text=True)
    assert body == to_csv_text(build_export(store_of(app), Selection(), opts))
    header, *rows = body.splitlines()
    assert header.split(",")[:4] == ["date", "tension", "tension_smoothed", "ci_low"]
    assert "spike" in header and "annotations" in header
    if params.get("freq", "D") == "D" and "from" in params:
        assert len(rows) == 29  # one row per calendar day, empty days included
    # ... and what the command line writes for the same parameters
    cli = ["--db", db_url]
    for key in ("from", "to", "freq", "smooth"):
        if key in params:
            cli += [f"--{key}", params[key]]
    out = subprocess.run([sys.executable, "-m", "tension", "export", "--out", "-", *cli],
                         cwd=ROOT, capture_output=True, text=True, timeout=180,
                         env={**os.environ, "TENSION_DB": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout == body


def test_index_csv_empty_days_are_blank(app_client) -> None:
    _, client = app_client
    body = client.get("/api/index.csv?from=2021-03-07&to=2021-03-10&smooth=1").get_data(as_text=True)
    rows = {line.split(",")[0]: line.split(",") for line in body.splitlines()[1:]}
    assert list(rows) == ["2021-03-07", "2021-03-08", "2021-03-09", "2021-03-10"]
    assert rows["2021-03-08"][1] == "" and rows["2021-03-09"][1] == ""  # gaps, not zeros
    assert rows["2021-03-07"][1] != ""


@pytest.mark.parametrize("query,needle", [
    ("from=2021-02-30", "'from' must be a date"),
    ("to=yesterday", "'to' must be a date"),
    ("freq=Y", "freq must be one of"),
    ("smooth=abc", "'smooth' and 'n_boot' must be whole numbers"),
    ("smooth=0", "smooth must be"),
    ("normalize=log", "normalize must be one of"),
    ("from=2021-04-01&to=2021-03-01", "is after end"),
    ("filter=Seoul%7C", "empty term"),
])
def test_index_csv_bad_parameters(app_client, query: str, needle: str) -> None:
    _, client = app_client
    r = client.get(f"/api/index.csv?{query}")
    assert r.status_code == 400 and r.is_json
    assert needle in r.get_json()["error"]


# =========================================================================== annotations CRUD
def test_annotation_crud(app_client) -> None:
    _, client = app_client
    r = client.post("/api/annotations", json={"date": "2021-03-31", "title": "Threat day",
                                              "note": "many threats", "tags": ["threat", "kcna"],
                                              "author": "ana"})
    assert r.status_code == 201
    made = r.get_json()
    assert isinstance(made["id"], int)
    assert made["created_at"] == made["updated_at"] and made["created_at"].endswith("Z")
    assert made["date"] == made["start"] == made["end"] == "2021-03-31"
    assert made["kind"] == "point" and made["tags"] == ["threat", "kcna"]
    r = client.post("/api/annotations", json={"start": "2021-03-10", "end": "2021-03-14",
                                              "title": "Talks", "tags": "talks, summit"})
    assert r.status_code == 201
    ranged = r.get_json()
    assert "date" not in ranged and ranged["kind"] == "range" and ranged["tags"] == ["talks", "summit"]

    listed = client.get("/api/annotations")
    assert listed.status_code == 200 and isinstance(listed.get_json(), list)
    assert [a["id"] for a in listed.get_json()] == [ranged["id"], made["id"]]  # by start date
    assert [a["id"] for a in client.get("/api/annotations?tag=threat").get_json()] == [made["id"]]
    assert [a["id"] for a in client.get("/api/annotations?from=2021-03-20").get_json()] == [made["id"]]
    assert [a["id"] for a in client.get("/api/annotations?to=2021-03-12").get_json()] == [ranged["id"]]

    assert client.get(f"/api/annotations/{made['id']}").get_json() == made

    r = client.patch(f"/api/annotations/{made['id']}",
                     json={"title": "Threat day (checked)", "updated_at": made["updated_at"]})
    assert r.status_code == 200
    patched = r.get_json()
    assert patched["title"] == "Threat day (checked)" and patched["note"] == "many threats"
    assert patched["created_at"] == made["created_at"] and patched["updated_at"] > made["updated_at"]
    # the If-Match header works as well as the body field
    r = client.patch(f"/api/annotations/{made['id']}", json={"end": "2021-04-01"},
                     headers={"If-Match": f'"{patched["updated_at"]}"'})
    assert r.status_code == 200 and r.get_json()["kind"] == "range"
    latest = r.get_json()

    assert client.delete(f"/api/annotations/{made['id']}?updated_at={latest['updated_at']}"
                         ).status_code == 204
    assert client.get(f"/api/annotations/{made['id']}").status_code == 404
    assert [a["id"] for a in client.get("/api/annotations").get_json()] == [ranged["id"]]
    assert client.delete(f"/api/annotations/{ranged['id']}").status_code == 204
    assert client.get("/api/annotations").get_json() == []


def test_patch_needs_the_version_and_refuses_stale_ones(app_client) -> None:
    _, client = app_client
    made = client.post("/api/annotations", json={"date": "2021-03-31", "title": "v1"}).get_json()
    r = client.patch(f"/api/annotations/{made['id']}", json={"title": "no version"})
    assert r.status_code == 400 and "'updated_at'" in r.get_json()["error"]
    bo = client.patch(f"/api/annotations/{made['id']}",
                      json={"title": "Bo's", "author": "bo", "updated_at": made["updated_at"]}).get_json()
    r = client.patch(f"/api/annotations/{made['id']}",
                     json={"title": "Ana's stale edit", "updated_at": made["updated_at"]})
    assert r.status_code == 409
    body = r.get_json()
    assert body["current"] == bo and "reload it" in body["error"]
    assert client.get(f"/api/annotations/{made['id']}").get_json() == bo  # nothing overwritten
    r = client.delete(f"/api/annotations/{made['id']}", json={"updated_at": made["updated_at"]})
    assert r.status_code == 409 and r.get_json()["current"] == bo
    assert client.get(f"/api/annotations/{made['id']}").status_code == 200


def test_bad_bodies(app_client) -> None:
    _, client = app_client
    r = client.post("/api/annotations", data="{not json", content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]
    r = client.post("/api/annotations", json=[{"date": "2021-03-31", "title": "x"}])
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]
    r = client.post("/api/annotations", data="date=2021-03-31&title=x",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and "application/json" in r.get_json()["error"]
    r = client.post("/api/annotations", data='{"date": "2021-03-31", "title": "x"}')
    assert r.status_code == 415
    made = client.post("/api/annotations", json={"date": "2021-03-31", "title": "v1"}).get_json()
    r = client.patch(f"/api/annotations/{made['id']}", data="title=x", content_type="text/plain")
    assert r.status_code == 415
    assert client.get("/api/annotations").get_json() == [made]


def test_unknown_ids(app_client) -> None:
    _, client = app_client
    assert client.get("/api/annotations/999").status_code == 404
    assert "no annotation 999" in client.get("/api/annotations/999").get_json()["error"]
    r = client.patch("/api/annotations/999", json={"title": "x", "updated_at": "2021-01-01T00:00:00Z"})
    assert r.status_code == 404
    assert client.delete("/api/annotations/999").status_code == 404


@pytest.mark.parametrize("route", ["/api/annotations/abc", "/api/annotations/-1", "/api/nothing"])
def test_unknown_api_routes_are_json_404(app_client, route: str) -> None:
    _, client = app_client
    r = client.get(route)
    assert r.status_code == 404 and r.is_json


@pytest.mark.parametrize("payload,needle,patch_too", [
    ({"date": "2021-02-30", "title": "x"}, "'date' must be a date like 2018-01-03", True),
    ({"start": "31/03/2021", "end": "2021-04-01", "title": "x"}, "'start' must be a date", True),
    ({"start": "2021-03-31", "end": "2021-03-01", "title": "x"},
     "'end' 2021-03-01 is before 'start' 2021-03-31", True),
    ({"title": "x"}, "give 'date' for a day, or 'start' and 'end'", False),  # PATCH may omit dates
    ({"date": "2021-03-31"}, "'title' is required", False),  # PATCH may omit the title
    ({"date": "2021-03-31", "title": ""}, "'title' is required", True),
    ({"date": "2021-03-31", "title": "x" * 201}, "'title' is 201 characters; the limit is 200", True),
    ({"date": "2021-03-31", "title": "x", "tags": [1, 2]}, "'tags' must be a list of strings", True),
    ({"date": "2021-03-31", "title": "x", "note": 5}, "'note' must be text", True),
])
def test_invalid_annotations(app_client, payload: dict, needle: str, patch_too: bool) -> None:
    _, client = app_client
    r = client.post("/api/annotations", json=payload)
    assert r.status_code == 400, r.get_json()
    assert needle in r.get_json()["error"]
    assert client.get("/api/annotations").get_json() == []
    if not patch_too:
        return
    made = client.post("/api/annotations", json={"date": "2021-03-31", "title": "ok"}).get_json()
    r = client.patch(f"/api/annotations/{made['id']}", json={**payload,
                                                              "updated_at": made["updated_at"]})
    assert r.status_code == 400 and needle in r.get_json()["error"]
    assert client.get(f"/api/annotations/{made['id']}").get_json() == made


def test_list_bad_date(app_client) -> None:
    _, client = app_client
    r = client.get("/api/annotations?from=March")
    assert r.status_code == 400 and "'from' must be a date" in r.get_json()["error"]


# =========================================================================== CSV export/import
CONTENT = ["start", "end", "kind", "title", "note", "tags", "author", "created_at", "updated_at"]


def test_annotations_csv_round_trip(app_client, tmp_path: Path) -> None:
    app, client = app_client
    payloads = [
        {"date": "2021-03-31", "title": "Fire, \"fury\" and threats", "note": "line 1\nline 2,  with comma",
         "tags": ["threat", "kcna"], "author": "ana"},
        {"start": "2021-03-10", "end": "2021-03-14", "title": "=SUM(A1:A9)", "note": "+1 -1 @x",
         "tags": ["talks"], "author": "Bö Ünïcode 한국"},
        {"date": "2021-03-02", "title": "-minus first", "note": "", "tags": [], "author": ""},
    ]
    for p in payloads:
        assert client.post("/api/annotations", json=p).status_code == 201
    before = client.get("/api/annotations").get_json()
    text = ann.to_csv(before)
    assert "'=SUM(A1:A9)" in text  # spreadsheet formulas neutralised in the file
    # into a fresh store: nothing lost
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    result = ann.import_csv(other, text)
    assert result == {"added": 3, "skipped": 0, "errors": []}
    after = ann.list_annotations(other)
    assert [{k: a[k] for k in CONTENT} for a in after] == [{k: a[k] for k in CONTENT} for a in before]
    # re-importing adds nothing, here and into the original store
    assert ann.import_csv(other, text) == {"added": 0, "skipped": 3, "errors": []}
    assert ann.import_csv(store_of(app), text) == {"added": 0, "skipped": 3, "errors": []}
    assert len(client.get("/api/annotations").get_json()) == 3
    other.dispose()


@pytest.mark.parametrize("payload", [
    {"date": "2021-03-31", "title": "'=quoted formula'"},
    {"date": "2021-03-31", "title": "tagged", "tags": ["Korea, North"]},
])
def test_annotations_csv_round_trip_edge_cases(app_client, tmp_path: Path, payload: dict) -> None:
    _, client = app_client
    response = client.post("/api/annotations", json=payload)
    if "tags" in payload:  # a separator inside a tag is refused up front, so CSV cannot split it
        assert response.status_code == 400
        assert "cannot contain ','" in response.get_json()["error"]
        return
    assert response.status_code == 201
    before = client.get("/api/annotations").get_json()
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    ann.import_csv(other, ann.to_csv(before))
    after = ann.list_annotations(other)
    other.dispose()
    assert [{k: a[k] for k in CONTENT} for a in after] == [{k: a[k] for k in CONTENT} for a in before]


def test_import_csv_reports_bad_rows(app_client) -> None:
    app, _ = app_client
    text = ("start,end,title,note,tags,author\n"
            "2021-03-01,,Good one,,a;b,ana\n"
            "2021-03-05,2021-03-01,Backwards,,,\n"
            "someday,,No date,,,\n")
    result = ann.import_csv(store_of(app), text)
    assert result["added"] == 1 and result["skipped"] == 0
    assert result["errors"][0].startswith("row 3: 'end' 2021-03-01 is before")
    assert result["errors"][1].startswith("row 4: 'start' must be a date")
    (good,) = ann.list_annotations(store_of(app))
    assert good["tags"] == ["a", "b"] and good["kind"] == "point"


# =========================================================================== basic auth
ROUTES = ["/", "/api/health", "/_dash-layout", "/_dash-dependencies", "/api/annotations",
          "/api/index.csv?from=2021-03-01&to=2021-03-05"]


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_guards_every_route(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'auth.db'}"
    Store(db).dispose()
    app = create_app(db, seed=False, credentials={"ana": "pw"}, upload_dir=tmp_path / "up")
    client = app.server.test_client()
    for route in ROUTES:
        r = client.get(route)
        assert r.status_code == 401, route
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        assert client.get(route, headers=_basic("ana", "wrong")).status_code == 401, route
        assert client.get(route, headers=_basic("bo", "pw")).status_code == 401, route
        assert client.get(route, headers=_basic("ana", "pw")).status_code == 200, route
    # writes too, including Dash's callback endpoint
    body = {"date": "2021-03-31", "title": "x"}
    assert client.post("/api/annotations", json=body).status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.post("/api/annotations", json=body, headers=_basic("ana", "pw")).status_code == 201
    # and without credentials configured there is no login at all
    open_app = create_app(db, seed=False, upload_dir=tmp_path / "up")
    assert open_app.server.test_client().get("/api/health").status_code == 200


def _serve(tmp_path: Path, host: str, env_extra: dict | None = None) -> tuple[subprocess.Popen, int, Path]:
    """`python app.py --host HOST` on a free port; its output goes to a file we read afterwards."""
    log = tmp_path / "server.log"
    proc, port = launch(f"sqlite:///{tmp_path / 'served.db'}", log, "--host", host,
                        env_extra=env_extra)
    return proc, port, log


@pytest.mark.slow
def test_public_host_without_login_warns_loudly(tmp_path: Path) -> None:
    proc, port, log = _serve(tmp_path, "0.0.0.0")
    try:
        wait_for_health(proc, port, log)  # it still serves: the warning is loud, not fatal
    finally:
        stop(proc)
    err = log.read_text()
    assert "!" * 78 in err
    assert "WARNING: serving on 0.0.0.0, reachable from other machines, WITHOUT a login." in err
    assert "TENSION_AUTH=user:password" in err


@pytest.mark.slow
def test_loopback_or_login_does_not_warn(tmp_path: Path) -> None:
    proc, port, log = _serve(tmp_path, "127.0.0.1")
    try:
        wait_for_health(proc, port, log)
    finally:
        stop(proc)
    assert "WITHOUT a login" not in log.read_text()
    proc, port, log = _serve(tmp_path, "0.0.0.0", {"TENSION_AUTH": "ana:pw"})
    try:
        wait_for_health(proc, port, log, headers=_basic("ana", "pw"))
    finally:
        stop(proc)
    assert "WITHOUT a login" not in log.read_text()


def test_unknown_category_is_a_400_not_a_flat_zero_series(app_client) -> None:
    _, client = app_client
    r = client.get("/api/index.csv?category=nope")
    assert r.status_code == 400 and "unknown lexicon category 'nope'" in r.get_json()["error"]
    assert client.get("/api/index.csv?category=threats").status_code == 200


def test_annotation_tag_filter_ignores_case_and_matches_part_of_a_tag(app_client) -> None:
    """`?tag=` finds the annotations with a tag containing it, whatever the case: "NUCLEAR"
    and "nuc" found nothing for the tag "nuclear"."""
    _, client = app_client
    ids = {}
    for title, tags in (("Test", ["nuclear", "DPRK"]), ("Talks", ["Talks", "summit"]), ("Bare", [])):
        r = client.post("/api/annotations", json={"date": "2021-03-31", "title": title, "tags": tags})
        assert r.status_code == 201
        ids[title] = r.get_json()["id"]

    def found(tag: str) -> list[int]:
        return [a["id"] for a in client.get("/api/annotations", query_string={"tag": tag}).get_json()]

    for tag in ("nuclear", "NUCLEAR", "nuc", " Nuc ", "clea", "dprk"):
        assert found(tag) == [ids["Test"]], tag
    assert found("talks") == found("TALK") == [ids["Talks"]]
    assert found("mmi") == [ids["Talks"]]
    assert found("nuclear test") == found("x") == []
    assert found("") == list(ids.values())
