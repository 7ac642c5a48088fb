"""Hostile input and exposure (issue 8, items 4 and 5), except the browser checks
(tests/test_browser.py) and the export unit tests (tests/test_export.py).

- Uploads: names that try to leave the upload folder or are odd are refused with a clear
  message, `Uploads.save` never writes outside its folder, `decode_upload` refuses over-size
  (configurable) and malformed data, and through Dash's real callback route an over-size upload
  is refused and nothing is ingested.
- Filters: SQL- and regex-looking filter expressions give literal, whole-word results and the
  articles table is intact (filters never reach SQL).
- CSV formulas: annotation titles and notes that a spreadsheet would run are neutralised in
  /api/index.csv, the annotations CSV and `python -m tension export`; importing our own
  annotations CSV restores the original text.
- Binding and login: `python app.py` listens on 127.0.0.1 only; `--host 0.0.0.0` without a
  login warns loudly and listens on all addresses; with TENSION_AUTH the API answers 401
  without credentials and 200/201 with them, for GET and POST.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from _servers import launch, stop
from sqlalchemy import func, inspect, select

from tension.core.csvsafe import FORMULA_START
from tension.core.filters import FilterError
from tension.core.selection import Selection
from tension.dashboard.app import create_app
from tension.dashboard.uploads import UploadError, Uploads, decode_upload, safe_name
from tension.pipeline.ingest import ingest
from tension.store import annotations as ann
from tension.store import schema
from tension.store.engine import Store
from tension.store.queries import load_articles

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def data_url(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def csv_bytes(rows: list[tuple[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "title", "text"])
    for date, title in rows:
        w.writerow([date, title, f"{title}."])
    return buf.getvalue().encode()


def n_articles(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.articles)).scalar_one()


# =========================================================================== upload names

HOSTILE_NAMES = ["../x.csv", "/etc/passwd", "a\\b.csv", "..", ".", "x\x00.csv", "\x00",
                 "..\\x.csv", "C:\\temp\\x.csv", "x/../../y.csv", "....//x.csv", "a..b.csv",
                 "/tmp/x.csv", "~/x.csv", "%2e%2e%2fx.csv", ".hidden.csv", "-rf.csv",
                 "x.csv\n.exe", "ｘ.csv", "x" * 200 + ".csv", "", "   ", None]
WRONG_SUFFIXES = ["evil.exe", "x.csv.exe", "x.sh", "x.py", "x.html", "x.svg", "x.parquet.exe",
                  "x.CSV.bat", "csv", "x.csv.zip", "x"]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_names_that_leave_the_folder_or_are_odd_are_refused(name: str | None) -> None:
    with pytest.raises(UploadError) as exc:
        safe_name(name)
    message = str(exc.value)
    assert message.startswith("refused")
    assert repr(name) in message or repr((name or "").strip()) in message
    assert "plain file name" in message or "use letters, digits" in message or "upload a .csv" in message


@pytest.mark.parametrize("name", WRONG_SUFFIXES)
def test_wrong_suffixes_are_refused(name: str) -> None:
    with pytest.raises(UploadError, match=r"upload a \.csv, \.tsv, \.json or \.jsonl file"):
        safe_name(name)


@pytest.mark.parametrize("name", ["news.csv", "KCNA 2017.jsonl.gz", "a.b-c_d.TSV", "x.json",
                                  "notes.txt", "1.csv.gz"])
def test_plain_names_are_kept(name: str) -> None:
    assert safe_name(name) == name


def test_save_never_writes_outside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox" / "uploads"
    store = Store(f"sqlite:///{tmp_path / 'u.db'}")
    uploads = Uploads(store, folder, MB)
    before = {p for p in tmp_path.rglob("*")}
    watched = [Path("/etc/passwd"), Path("/tmp/x.csv"), Path.home() / "x.csv", ROOT / "x.csv",
               ROOT / "escape.csv"]
    stat_before = {p: p.stat().st_mtime_ns if p.exists() else None for p in watched}
    payload = data_url(b"date,title\n2018-01-03,ok\n")
    saved = []
    for name in HOSTILE_NAMES + WRONG_SUFFIXES + ["ok.csv", "ok 2.csv"]:
        try:
            saved.append(uploads.save(name, payload))
        except UploadError:
            continue
    store.dispose()
    assert len(saved) == 2
    for path in saved:
        assert path.parent == folder.resolve()
        assert path.read_bytes() == b"date,title\n2018-01-03,ok\n"
    new = {p for p in tmp_path.rglob("*")} - before
    assert {p for p in new if p.is_file() and not p.name.startswith("u.db")} == set(saved)
    assert {p: p.stat().st_mtime_ns if p.exists() else None for p in watched} == stat_before


# =========================================================================== upload data


def test_decode_upload_size_limit_is_configurable() -> None:
    for limit_mb in (1, 3):
        limit = limit_mb * MB
        assert decode_upload(data_url(b"x" * limit), limit) == b"x" * limit
        for size in (limit + 1, limit + 4, 2 * limit):
            with pytest.raises(UploadError, match=f"over the {limit_mb} MB upload limit"):
                decode_upload(data_url(b"x" * size), limit)


def test_oversize_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 40 MB data URL against a 1 MB limit is refused from its length: never decoded."""
    huge = "data:text/csv;base64," + "A" * (40 * MB)

    def decode(*_a: object, **_k: object) -> bytes:
        raise AssertionError("the oversize upload was decoded")

    monkeypatch.setattr(base64, "b64decode", decode)
    with pytest.raises(UploadError, match="over the 1 MB upload limit"):
        decode_upload(huge, MB)


@pytest.mark.parametrize("contents", [
    "", "no comma here", "data:text/csv;base64,@@@@", "data:text/csv;base64,YWJj$", "data:text/csv;base64,YWJjZA=",
    "data:text/csv;base64,YW Jj", "data:text/csv;base64,\u00e9\u00e9\u00e9\u00e9",
])
def test_malformed_uploads_are_refused(contents: str) -> None:
    with pytest.raises(UploadError, match="could not be decoded"):
        decode_upload(contents, MB)


# --------------------------------------------------------------- through the Dash route


def _callback(client, deps: list[dict], input_id: str, contents: str, filename: str,
              extra_state: list[dict] | None = None) -> tuple[int, dict | None]:
    """POST what the browser sends when dcc.Upload `input_id` changes."""
    (dep,) = [d for d in deps if d["inputs"] == [{"id": input_id, "property": "contents"}]]
    outputs = []
    for part in dep["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outputs.append({"id": cid, "property": prop})
    # every State the callback declares (the upload's name, source and date fields), with
    # the values given here and None for the rest, as a browser sends them
    given = {(s["id"], s["property"]): s["value"]
             for s in [{"id": input_id, "property": "filename", "value": filename}] + (extra_state or [])}
    state = [{**s, "value": given.get((s["id"], s["property"]))} for s in dep["state"]]
    body = {"output": dep["output"], "outputs": outputs,
            "inputs": [{"id": input_id, "property": "contents", "value": contents}],
            "state": state, "changedPropIds": [f"{input_id}.contents"]}
    r = client.post("/_dash-update-component", json=body)
    return r.status_code, (r.get_json(silent=True) if r.status_code == 200 else None)


def test_oversize_upload_through_the_dash_route_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'dash.db'}"
    folder = tmp_path / "uploads"
    app = create_app(db, seed=False, upload_dir=folder, max_upload_mb=1)
    client = app.server.test_client()
    store = app.server.extensions["tension"]["service"].store
    uploads = app.server.extensions["tension"]["uploads"]
    deps = client.get("/_dash-dependencies").get_json()
    try:
        # 1.5 MB of valid articles: inside Flask's request limit, over the 1 MB upload limit
        big = csv_bytes([("2018-01-03", f"article {i} {'w' * 60}") for i in range(9_000)])
        assert MB < len(big) < 2 * MB
        status, out = _callback(client, deps, "upload", data_url(big), "big.csv")
        assert status == 200
        resp = out["response"]
        assert "over the 1 MB upload limit" in json.dumps(resp["upload-status"]["children"])
        assert resp["upload-job"]["data"] is None and resp["upload-poll"]["disabled"] is True
        # 5 MB: Flask refuses the request itself (MAX_CONTENT_LENGTH), 413
        status, _ = _callback(client, deps, "upload", data_url(b"x" * (5 * MB)), "huge.csv")
        assert status == 413
        # a name that escapes the folder
        status, out = _callback(client, deps, "upload", data_url(b"date,title\n2018-01-03,x\n"),
                                "../../escape.csv")
        assert status == 200 and "refused file name" in json.dumps(out["response"])
        # annotations import has the same limit
        status, out = _callback(client, deps, "ann-upload", data_url(b"x" * (MB + 10)), "a.csv",
                                [{"id": "ann-version", "property": "data", "value": 0}])
        assert status == 200
        assert "Not imported: file is over the 1 MB upload limit" in json.dumps(out["response"])
        time.sleep(0.5)
        assert n_articles(store) == 0 and ann.list_annotations(store) == []
        assert not folder.exists() or list(folder.iterdir()) == []
        assert not (tmp_path.parent / "escape.csv").exists()

        # control: a small file through the same route is ingested (so the refusals mean it)
        small = csv_bytes([("2018-01-03", "Talks resume"), ("2018-01-04", "Missile test")])
        status, out = _callback(client, deps, "upload", data_url(small), "small.csv")
        job_id = out["response"]["upload-job"]["data"]
        deadline = time.monotonic() + 60
        while uploads.get(job_id).status not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert uploads.get(job_id).status == "done"
        assert n_articles(store) == 2
        assert [p.name.endswith("_small.csv") for p in folder.iterdir()] == [True]
    finally:
        store.dispose()


# =========================================================================== filters vs SQL

FILTER_TITLES = ["Missile test condemned", "Talks resume in Panmunjom", "Discount: 100% off rice",
                 "Variable snake_case name", "Regex a.*b literally", "Choice (a|b) in text",
                 "Robert'); DROP TABLE students;-- said the headline"]


@pytest.fixture
def filter_store(db_url: str, tmp_path: Path) -> Store:
    path = tmp_path / "filters.csv"
    path.write_bytes(csv_bytes([(f"2018-01-{i + 3:02d}", t) for i, t in enumerate(FILTER_TITLES)]))
    store = Store(db_url)
    assert ingest(store, [str(path)]).added == len(FILTER_TITLES)
    yield store
    store.dispose()


@pytest.mark.parametrize("expr,expected", [
    ("'; DROP TABLE articles; --", None),  # None: refused (a quote never closed), never run
    ('" OR 1=1 --', None),
    ("' OR '1'='1", None),
    ("\"'; DROP TABLE articles; --\"", set()),  # quoted: a literal phrase no title has
    ("\"' OR '1'='1\"", set()),
    ("%", {2}),  # literal percent sign, not SQL's LIKE wildcard
    ("_", set()),  # a whole-word "_": not LIKE's any-character, and not inside snake_case
    ("snake_case", {3}),
    (".*", {4}),  # literal, not a regular expression
    ("a.*b", {4}),
    ("(a|b)", {4, 5}),  # brackets group: the whole word "a" or "b"
    ('"(a|b)"', {5}),  # quoted: literal brackets and bar
    ("[a-z]+", set()),
    ("\\d+", set()),
    ("DROP TABLE students", {6}),
    ("missile", {0}),
    ("-missile", {1, 2, 3, 4, 5, 6}),
    ("talks & panmunjom | rice", {1, 2}),
])
def test_filter_expressions_cannot_reach_sql(filter_store: Store, expr: str,
                                             expected: set[int] | None) -> None:
    if expected is None:
        with pytest.raises(FilterError, match="never closed"):
            load_articles(filter_store, Selection(filter=expr))
    else:
        got = load_articles(filter_store, Selection(filter=expr))
        assert set(got["title"]) == {FILTER_TITLES[i] for i in expected}
    with filter_store.read() as conn:
        assert inspect(conn).has_table("articles")
    assert n_articles(filter_store) == len(FILTER_TITLES)


def test_hostile_filters_through_the_api(filter_store: Store, tmp_path: Path) -> None:
    app = create_app(filter_store.url, seed=False, upload_dir=tmp_path / "up")
    client = app.server.test_client()
    try:
        for expr, n in [("\"'; DROP TABLE articles; --\"", 0), ("%", 1), ("_", 0),
                        ('"(a|b)"', 1), ("(a|b)", 2), ("-missile", 6)]:
            r = client.get("/api/index.csv", query_string={"filter": expr, "from": "2018-01-01",
                                                            "to": "2018-01-31"})
            assert r.status_code == 200, r.data[:200]
            rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
            assert sum(int(x["n_articles"]) for x in rows) == n, expr
        r = client.get("/api/index.csv", query_string={"filter": "x" * 501})
        assert r.status_code == 400 and "limit is 500" in r.get_json()["error"]
        r = client.get("/api/index.csv", query_string={"filter": "a | | b"})
        assert r.status_code == 400 and "empty term" in r.get_json()["error"]
        r = client.get("/api/index.csv", query_string={"filter": "'; DROP TABLE articles; --"})
        assert r.status_code == 400 and "quote at position 1 is never closed" in r.get_json()["error"]
        assert n_articles(filter_store) == len(FILTER_TITLES)
    finally:
        app.server.extensions["tension"]["service"].store.dispose()


# =========================================================================== CSV formulas

FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
            "\t=1", "\r=1"]


def _annotated(db: str, tmp_path: Path) -> tuple[Store, list[dict]]:
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes([(f"2018-01-{d:02d}", f"Talks day {d}") for d in range(1, 16)]))
    store = Store(db)
    ingest(store, [str(path)])
    saved = [ann.create(store, {"date": f"2018-01-{2 * i + 2:02d}", "title": f,
                                "note": FORMULAS[-1 - i], "author": FORMULAS[i]})
             for i, f in enumerate(FORMULAS)]
    return store, saved


def _text_cells(rows: list[list[str]]) -> list[str]:
    return [c for r in rows for c in r]


def test_formulas_neutralised_in_every_csv(db_url: str, tmp_path: Path) -> None:
    store, saved = _annotated(db_url, tmp_path)
    try:
        # the title of an annotation leads its day's cell in the index export
        app = create_app(db_url, seed=False, upload_dir=tmp_path / "up")
        r = app.server.test_client().get("/api/index.csv?from=2018-01-01&to=2018-01-15")
        assert r.status_code == 200
        api_rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
        app.server.extensions["tension"]["service"].store.dispose()
        by_day = {x["date"]: x["annotations"] for x in api_rows}
        for a in saved:
            assert by_day[a["date"]] == "'" + a["title"], (a["title"], by_day[a["date"]])
        assert all(not v.startswith(FORMULA_START) for v in by_day.values())

        # the command line's export
        out = tmp_path / "export.csv"
        env = {k: v for k, v in os.environ.items() if k != "TENSION_DB"}
        done = subprocess.run([sys.executable, "-m", "tension", "export", "--out", str(out),
                               "--db", db_url, "--from", "2018-01-01", "--to", "2018-01-15"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        cli_rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert {x["date"]: x["annotations"] for x in cli_rows} == by_day

        # the annotations CSV (dashboard download and `annotations export`): title, note, author
        text = ann.to_csv(ann.list_annotations(store))
        done = subprocess.run([sys.executable, "-m", "tension", "annotations", "export", "--out",
                               "-", "--db", db_url], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout == text
        records = list(csv.DictReader(io.StringIO(text)))
        assert len(records) == len(FORMULAS)
        for rec in records:
            for col in ("title", "note", "author"):
                assert rec[col].startswith("'") and rec[col][1:].startswith(FORMULA_START), rec
        rows = list(csv.reader(io.StringIO(text)))
        assert all(not c.startswith(FORMULA_START) for c in _text_cells(rows))

        # our own export imported into an empty store gives back the original text
        other = Store(f"sqlite:///{tmp_path / 'other.db'}")
        try:
            assert ann.import_csv(other, text) == {"added": len(FORMULAS), "skipped": 0,
                                                   "errors": []}
            back = ann.list_annotations(other)
        finally:
            other.dispose()
        fields = ("date", "title", "note", "author")
        assert [{k: a[k] for k in fields} for a in back] == [{k: a[k] for k in fields} for a in saved]
    finally:
        store.dispose()


# =========================================================================== binding and login


def serve(tmp_path: Path, *args: str, env_extra: dict | None = None) -> tuple[subprocess.Popen, int, Path]:
    """`python app.py` on a SQLite file; its output (the warning goes to stderr) in a file."""
    log = tmp_path / "server.log"
    proc, port = launch(f"sqlite:///{tmp_path / 'served.db'}", log, *args, env_extra=env_extra)
    return proc, port, log


def listening(proc: subprocess.Popen, port: int, timeout: float = 120) -> list[str]:
    """The addresses `proc` listens on for `port`, once it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        addrs = [c.laddr.ip for c in psutil.Process(proc.pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
        if addrs:
            return addrs
        time.sleep(0.2)
    raise AssertionError("the server never listened")


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses that are not loopback."""
    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


def connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


@pytest.mark.slow
def test_default_binding_is_loopback_only(tmp_path: Path) -> None:
    proc, port, err = serve(tmp_path)
    try:
        assert listening(proc, port) == ["127.0.0.1"]
        assert connects("127.0.0.1", port)
        for host in other_addresses():
            assert not connects(host, port), f"reachable on {host}"
    finally:
        stop(proc)
    assert "WITHOUT a login" not in err.read_text()


@pytest.mark.slow
def test_public_binding_without_login_warns_and_listens_everywhere(tmp_path: Path) -> None:
    proc, port, err = serve(tmp_path, "--host", "0.0.0.0")
    try:
        assert listening(proc, port) == ["0.0.0.0"]
        for host in other_addresses():
            assert connects(host, port)
    finally:
        stop(proc)
    text = err.read_text()
    assert "WARNING: serving on 0.0.0.0, reachable from other machines, WITHOUT a login." in text
    assert "!" * 78 in text


def _request(port: int, method: str, path: str, auth: tuple[str, str] | None = None,
             body: dict | None = None) -> int:
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_tension_auth_guards_the_api_of_a_real_server(tmp_path: Path) -> None:
    proc, port, err = serve(tmp_path, "--host", "0.0.0.0", env_extra={"TENSION_AUTH": "ana:s3cret"})
    try:
        listening(proc, port)
        good, bad = ("ana", "s3cret"), ("ana", "wrong")
        deadline = time.monotonic() + 60
        while _request(port, "GET", "/api/health", good) != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        body = {"date": "2018-01-03", "title": "shared note"}
        for method, path, payload in [("GET", "/api/health", None), ("GET", "/api/annotations", None),
                                      ("GET", "/api/index.csv", None), ("GET", "/", None),
                                      ("POST", "/api/annotations", body)]:
            assert _request(port, method, path, None, payload) == 401, (method, path)
            assert _request(port, method, path, bad, payload) == 401, (method, path)
            assert _request(port, method, path, ("bo", "s3cret"), payload) == 401, (method, path)
        assert _request(port, "POST", "/api/annotations", good, body) == 201
        assert _request(port, "GET", "/api/annotations", good) == 200
        assert _request(port, "GET", "/api/index.csv", good) == 200
    finally:
        stop(proc)
    store = Store(f"sqlite:///{tmp_path / 'served.db'}")
    try:
        assert [a["title"] for a in ann.list_annotations(store)] == ["shared note"]  # one, not more
    finally:
        store.dispose()
    assert "WITHOUT a login" not in err.read_text()
