"""Uploading in a real headless Chromium (dash.testing's `dash_duo`, run with `--headless`):
an undated text file, the date and source fields beside the box, and the quarantined rows
of the result (issue 21, items 3 and 7).

The store is test_callbacks.py's small made-up corpus (2020-01-01 to 2020-02-29), ingested
for the test: no real corpus needed. On failure conftest.py saves a screenshot to
tests/artifacts/<test name>.png.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from test_browser import WAIT, start, store_of, type_into, wait_until
from test_callbacks import corpus_store

from tension.dashboard.service import Service
from tension.io.readers import NO_DATE_TXT

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A store of the made-up corpus (see test_callbacks.py)."""
    return corpus_store(tmp_path)


def cells(dash_duo, selector: str) -> list[list[str]]:
    rows = dash_duo.find_elements(f"{selector} tbody tr")
    return [[td.get_attribute("textContent") for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def drop(dash_duo, path: Path) -> None:
    """Choose `path` in the upload box. Opening the box's file dialog empties its input first
    (react-dropzone's `open`), so the same file chosen again is a change; send_keys skips the
    dialog, so the test empties it."""
    box = dash_duo.find_element("#upload input[type=file]")
    dash_duo.driver.execute_script("arguments[0].value = null", box)
    box.send_keys(str(path))


def test_an_undated_file_is_quarantined_then_dated_and_named_beside_the_box(dash_duo, db_url: str,
                                                                            tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path)
    service = Service(store_of(app))
    before = service.bounds()
    note = tmp_path / "field_notes.txt"
    note.write_text("Delegations agree to resume talks\nNo date anywhere in this file.\n", encoding="utf-8")
    # 1. no date of its own, none given: quarantined, and the page says which file and why
    drop(dash_duo, note)
    dash_duo.wait_for_contains_text("#upload-status", "quarantined 1", timeout=WAIT)
    assert "field_notes.txt: read 1 rows, added 0" in dash_duo.find_element("#upload-status").text
    assert cells(dash_duo, "#upload-status table.quarantine") == [["field_notes.txt", "", "date", NO_DATE_TXT]]
    assert service.bounds() == before  # no article dated today (2026) on the chart
    # 2. the day and a source name given beside the box; the same file dropped again gets in
    type_into(dash_duo, "#upload-source", "Field Notes")
    type_into(dash_duo, "#upload-date", "2020-03-05")
    dash_duo.find_element("h1").click()  # the date picker applies a typed date on blur
    assert dash_duo.find_element("#upload-source").get_attribute("value") == "Field Notes"
    assert dash_duo.find_element("#upload-date").get_attribute("value") == "2020-03-05"
    drop(dash_duo, note)
    dash_duo.wait_for_contains_text("#upload-status", "added 1", timeout=WAIT)
    status = dash_duo.find_element("#upload-status").text
    assert "Source: Field Notes." in status and "Articles without a date of their own: 2020-03-05." in status
    assert service.bounds() == (before[0], dt.date(2020, 3, 5))
    assert "Field Notes" in service.sources()


def test_the_first_quarantined_rows_show_and_the_rest_open_on_demand(dash_duo, db_url: str,
                                                                     tmp_path: Path) -> None:
    start(dash_duo, db_url, tmp_path)
    many = tmp_path / "wire_export.csv"
    many.write_text("date,title\n" + "".join(f"bad{i},t{i}\n" for i in range(8)) + "2020-03-01,Talks\n",
                    encoding="utf-8")
    drop(dash_duo, many)
    dash_duo.wait_for_contains_text("#upload-status", "quarantined 8", timeout=WAIT)
    first = cells(dash_duo, "#upload-status > table.quarantine")
    assert first == [["wire_export.csv", f"{i + 2}", "date", f"unparseable date 'bad{i}'"] for i in range(5)]
    details = dash_duo.find_element("#upload-status details.quarantine-all")
    summary = details.find_element(By.TAG_NAME, "summary")
    assert summary.text == "show all 8 quarantined rows"
    assert not details.find_element(By.TAG_NAME, "table").is_displayed()
    summary.click()
    wait_until(lambda: details.find_element(By.TAG_NAME, "table").is_displayed(), message="the full list")
    assert len(cells(dash_duo, "#upload-status details.quarantine-all table")) == 8
    assert "python -m tension quarantine list --run" in dash_duo.find_element("#upload-status").text


def test_a_file_over_the_upload_limit_is_named_with_the_limit_not_ignored(dash_duo, db_url: str,
                                                                          tmp_path: Path) -> None:
    """Issue 24, item 9: dcc.Upload drops a file over its limit without a word; the page says so."""
    start(dash_duo, db_url, tmp_path)
    big = tmp_path / "huge_export.csv"
    with big.open("wb") as fh:  # 25 MB, over the default 20 MB limit
        fh.write(b"date,title\n")
        fh.write(b"2020-01-01," + b"x" * (25 * 1024 * 1024) + b"\n")
    drop(dash_duo, big)
    dash_duo.wait_for_contains_text("#upload-status", "limit for an upload is 20 MB", timeout=WAIT)
    assert "huge_export.csv is 25.0 MB" in dash_duo.find_element("#upload-status").text


def test_an_alerts_link_opens_its_days_evidence(dash_duo, db_url: str, tmp_path: Path) -> None:
    """Issue 23: the banner's link (`tension.watch.alerts`) chooses the spike's day on load."""
    start(dash_duo, db_url, tmp_path, "?from=2020-01-01&to=2020-02-29&day=2020-01-15")
    dash_duo.wait_for_contains_text("#evidence", "2020-01-15:", timeout=WAIT)
    assert "2020-01-15" in dash_duo.find_element("#chosen-note").text
