"""The files panel's upload, its callbacks as plain functions, on real SQLite stores
(issue 21, items 3 and 7).

QA found: an undated .txt uploaded on 2026-12-04 was "added 1" on 2026-12-04 (the stamp of
its stored copy, STAMP_RANDOM_NAME, was read as a date in its name), so the chart ran to
2026; the result said "quarantined 1" and nothing of which row or why; and an uploaded file
became a source named like 20261204T165722_530b79_test_articles.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from pathlib import Path

import pytest
from _dash import text_of, walk
from dash import html, no_update

from tension.dashboard.app import create_app
from tension.dashboard.panels import files
from tension.dashboard.service import Service
from tension.dashboard.uploads import SOURCE_CHARS, Uploads
from tension.io.readers import NO_DATE_TXT
from tension.store.engine import Store

UNDATED = b"Undated headline about talks\nA body without any date in it.\n"


def data_url(data: bytes, mime: str = "text/plain") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def found(component: object, kind: type) -> list:
    return [c for c in walk(component) if isinstance(c, kind)]


def table_rows(table: html.Table) -> list[list[str]]:
    return [[text_of(td) for td in tr.children] for tr in found(table, html.Tr)[1:]]


@pytest.fixture
def service(tmp_path: Path) -> Service:
    store = Store(f"sqlite:///{tmp_path / 'tension.db'}")
    yield Service(store)
    store.dispose()


@pytest.fixture
def uploads(service: Service, tmp_path: Path) -> Uploads:
    return Uploads(service.store, tmp_path / "uploads", 1024 * 1024)


def upload(uploads: Uploads, data: bytes, name: str, source: str | None = None,
           date: str | None = None) -> list:
    """Drop a file on the box and poll until the job ends: the message the page shows."""
    status, job_id, poll_off, contents = files.start_upload(uploads, data_url(data), name, source, date)
    assert job_id and poll_off is False, status
    assert contents is None  # the box is emptied: the same file dropped again is imported again
    deadline = time.monotonic() + 60
    while True:
        message, done, _ = files.poll_upload(uploads, job_id, 0)
        if done:
            return message
        assert time.monotonic() < deadline, "the upload did not finish"
        time.sleep(0.05)


# ----------------------------------------------------------------- item 3: no invented dates


def test_an_undated_text_is_quarantined_with_its_reason_not_added_today(service: Service,
                                                                        uploads: Uploads) -> None:
    message = upload(uploads, UNDATED, "test_articles.txt")
    assert text_of(message).startswith("test_articles.txt: read 1 rows, added 0, duplicates 0, quarantined 1.")
    (table,) = found(message, html.Table)
    assert table_rows(table) == [["test_articles.txt", "", "date", NO_DATE_TXT]]
    assert service.bounds() == (None, None)  # nothing stored: no day of 2026 on the chart


def test_the_date_beside_the_box_dates_the_undated_articles(service: Service, uploads: Uploads) -> None:
    message = upload(uploads, UNDATED, "test_articles.txt", date="2013-03-07")
    assert "added 1" in text_of(message) and "quarantined 0" in text_of(message)
    assert "Articles without a date of their own: 2013-03-07." in text_of(message)
    assert service.bounds() == (dt.date(2013, 3, 7), dt.date(2013, 3, 7))


def test_the_undated_file_dropped_again_with_a_date_gets_in(service: Service, uploads: Uploads) -> None:
    assert "quarantined 1" in text_of(upload(uploads, UNDATED, "test_articles.txt"))
    # with a date, and a source name too: nothing of the first upload was stored, so nothing
    # can be stored twice
    again = upload(uploads, UNDATED, "test_articles.txt", source="Field Notes", date="2013-03-07")
    assert "added 1" in text_of(again) and "error" not in [c.className for c in found(again, html.Span)]
    assert service.bounds() == (dt.date(2013, 3, 7), dt.date(2013, 3, 7))
    assert service.sources() == ["Field Notes"]
    # stored now: another source name would store it twice, and the page says so by its name
    refused = upload(uploads, UNDATED, "test_articles.txt", source="Other", date="2013-03-07")
    (error,) = [c for c in found(refused, html.Span) if c.className == "error"]
    assert text_of(error).startswith(" test_articles.txt: not imported: the same file was imported before")


def test_a_date_in_the_files_own_name_is_its_date(service: Service, uploads: Uploads) -> None:
    upload(uploads, UNDATED, "2013-03-05 statement.txt", date="2013-03-07")  # its own date wins
    assert service.bounds() == (dt.date(2013, 3, 5), dt.date(2013, 3, 5))
    assert service.sources() == ["2013-03-05 statement"]


# ------------------------------------------------------------------- item 7: the source


def test_the_source_defaults_to_the_files_own_name(service: Service, uploads: Uploads) -> None:
    upload(uploads, b"date,title\n2013-03-01,Talks resume\n", "new_articles.csv")
    assert service.sources() == ["new_articles"]
    assert [p.name.endswith("_new_articles.csv") for p in uploads.folder.iterdir()] == [True]


def test_the_analyst_names_the_source(service: Service, uploads: Uploads) -> None:
    message = upload(uploads, b"date,source,title\n2013-03-01,Wire A,one\n2013-03-02,,two\n", "wire.csv",
                     source="  Pyongyang   Times ")
    assert "Source: Pyongyang Times." in text_of(message)
    assert service.sources() == ["Pyongyang Times"]  # every article, as the CLI's --source


@pytest.mark.parametrize(("source", "date", "error"), [
    (None, "2013-13-01", "date '2013-13-01' is not a day like 2018-01-03"),
    (None, "07/03/2013", "date '07/03/2013' is not a day like 2018-01-03"),
    ("x" * (SOURCE_CHARS + 1), None, f"source name is {SOURCE_CHARS + 1} characters, over the 200 limit"),
])
def test_a_bad_date_or_source_is_refused_before_anything_is_saved(uploads: Uploads, source, date,
                                                                  error: str) -> None:
    status, job_id, poll_off, contents = files.start_upload(uploads, data_url(UNDATED), "a.txt", source, date)
    assert (status.className, text_of(status)) == ("error", error)
    assert (job_id, poll_off, contents) == (None, True, None)
    assert not uploads.folder.exists()


def test_an_emptied_box_starts_nothing(uploads: Uploads) -> None:
    assert files.start_upload(uploads, None, None, None, None) == (no_update,) * 4


# ------------------------------------------------------- item 7: which rows, and why


def test_the_first_rows_are_shown_and_all_of_them_on_demand(uploads: Uploads) -> None:
    body = "date,title\n" + "".join(f"bad{i},t{i}\n" for i in range(8)) + "2013-03-01,good\n"
    message = upload(uploads, body.encode(), "many.csv")
    text = text_of(message)
    assert text.startswith("many.csv: read 9 rows, added 1, duplicates 0, quarantined 8.")
    first, everything = found(message, html.Table)
    assert table_rows(first) == [["many.csv", f"{i + 2}", "date", f"unparseable date 'bad{i}'"]
                                 for i in range(5)]
    (details,) = found(message, html.Details)
    assert text_of(found(details, html.Summary)) == "show all 8 quarantined rows"
    assert table_rows(everything) == [["many.csv", f"{i + 2}", "date", f"unparseable date 'bad{i}'"]
                                      for i in range(8)]
    assert "On the command line: python -m tension quarantine list --run 1" in text


def test_a_few_rows_need_no_show_all(uploads: Uploads) -> None:
    message = upload(uploads, b"date,title\nnope,x\n2013-03-01,ok\n", "few.csv")
    assert found(message, html.Details) == []
    (table,) = found(message, html.Table)
    assert table_rows(table) == [["few.csv", "2", "date", "unparseable date 'nope'"]]


def test_the_same_file_again_shows_the_rows_of_its_first_upload(uploads: Uploads) -> None:
    body = b"date,title\nnope,x\n2013-03-01,ok\n"
    upload(uploads, body, "few.csv")
    message = upload(uploads, body, "few again.csv")  # same bytes: not read again
    assert "quarantined 1" in text_of(message)
    (table,) = found(message, html.Table)
    assert table_rows(table) == [["few.csv", "2", "date", "unparseable date 'nope'"]]  # no stamp


def test_the_show_all_list_is_bounded(uploads: Uploads, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "LISTED", 6)
    body = "date,title\n" + "".join(f"bad{i},t{i}\n" for i in range(9))
    message = upload(uploads, body.encode(), "nine.csv")
    (details,) = found(message, html.Details)
    assert len(table_rows(found(details, html.Table)[0])) == 6
    assert "The first 6 of 9; the command below lists them all." in text_of(details)


# ----------------------------------------------------------------------- on the page


def _dependency(client, input_id: str) -> dict:
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [d for d in deps if d["inputs"] == [{"id": input_id, "property": "contents"}]]
    return dep


def _post_upload(client, dep: dict, contents: str, filename: str, extra: list[dict]) -> dict:
    outputs = []
    for part in dep["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outputs.append({"id": cid, "property": prop})
    body = {"output": dep["output"], "outputs": outputs,
            "inputs": [{"id": "upload", "property": "contents", "value": contents}],
            "state": [{"id": "upload", "property": "filename", "value": filename}, *extra],
            "changedPropIds": ["upload.contents"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.data[:500]
    return r.get_json()["response"]


def test_the_page_sends_the_source_and_date_fields_with_the_file(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'page.db'}", seed=False, upload_dir=tmp_path / "up")
    client = app.server.test_client()
    uploads = app.server.extensions["tension"]["uploads"]
    try:
        ids = [getattr(c, "id", None) for c in walk(files.layout(20))]
        assert ids.index("upload-source") < ids.index("upload-date") < ids.index("upload")  # beside the box
        dep = _dependency(client, "upload")
        assert [s["id"] for s in dep["state"]] == ["upload", "upload-source", "upload-date"]
        response = _post_upload(client, dep, data_url(UNDATED), "note.txt", [
            {"id": "upload-source", "property": "value", "value": "Notes"},
            {"id": "upload-date", "property": "date", "value": "2013-03-07"}])
        job_id = response["upload-job"]["data"]
        assert response["upload"]["contents"] is None
        deadline = time.monotonic() + 60
        while uploads.get(job_id).status not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        service = app.server.extensions["tension"]["service"]
        assert service.sources() == ["Notes"] and service.bounds() == (dt.date(2013, 3, 7),) * 2
        # the fields left empty: the file's own source and no date
        response = _post_upload(client, dep, data_url(b"date,title\n2013-03-08,x\n"), "plain.csv", [
            {"id": "upload-source", "property": "value", "value": ""},
            {"id": "upload-date", "property": "date", "value": None}])
        job_id = response["upload-job"]["data"]
        while uploads.get(job_id).status not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert service.sources() == ["Notes", "plain"]
    finally:
        app.server.extensions["tension"]["service"].store.dispose()
