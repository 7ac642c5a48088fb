"""The annotation grid and form in a real headless Chromium (dash.testing's `dash_duo`, run
with `--headless`), as test_browser.py drives the page: a row click opens the annotation,
delete asks first and empties the form, nothing brings a deleted annotation back but its
undo, and the grid's text columns stay readable in an 800 px window.

The store is the seed article plus two annotations made for the test: no real corpus needed.
On failure conftest.py saves a screenshot to tests/artifacts/<test name>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _servers import free_port
from selenium.webdriver.common.action_chains import ActionChains
from test_browser import LOAD_WAIT, WAIT, grid_rows, store_of, type_into, wait_until

from tension.dashboard.app import create_app
from tension.store import annotations as ann
from tension.store.engine import Store

pytestmark = pytest.mark.browser

HOTLINE = {"date": "2018-01-03", "title": "Hotline reopened", "note": "Panmunjom line <b>back</b>",
           "tags": ["talks", "hotline"], "author": "ana"}
TALKS = {"start": "2018-01-09", "end": "2018-01-10", "title": "Talks at Panmunjom", "tags": ["talks"]}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    store = Store(url)  # create_app adds the seed article
    ann.create(store, HOTLINE)
    ann.create(store, TALKS)
    store.dispose()
    return url


def start(dash_duo, db_url: str, tmp_path: Path):
    """test_browser.start for a seeded store, waiting for the grid rather than the status line's
    wording (which says "1 article over …" for the seed)."""
    app = create_app(db_url, seed=True, upload_dir=tmp_path / "uploads")
    dash_duo.driver.set_window_size(1400, 1800)
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_contains_text("#status", " over ", timeout=LOAD_WAIT)
    dash_duo.wait_for_contains_text("#ann-grid", "Talks at Panmunjom", timeout=LOAD_WAIT)
    return app


def cell(ann_id: int, col: str) -> str:
    return f"#ann-grid .ag-center-cols-container .ag-row[row-id='{ann_id}'] .ag-cell[col-id='{col}']"


def value(dash_duo, selector: str) -> str:
    return dash_duo.find_element(selector).get_attribute("value")


def form(dash_duo) -> dict:
    return {f: value(dash_duo, f"#ann-{f}") for f in ("start", "end", "title", "note", "tags", "author")}


def shown(dash_duo, selector: str) -> bool:
    found = dash_duo.find_elements(selector)
    return bool(found) and found[0].is_displayed()


def delete_with_confirmation(dash_duo, ann_id: int, title: str) -> None:
    dash_duo.find_element("#ann-delete").click()
    wait_until(lambda: shown(dash_duo, "#ann-confirm"), message="the delete question")
    assert dash_duo.find_element("#ann-confirm-text").text == f"Delete annotation {ann_id} “{title}”?"
    dash_duo.find_element("#ann-delete-yes").click()
    dash_duo.wait_for_text_to_equal("#ann-message", f"Annotation {ann_id} deleted.", timeout=WAIT)
    wait_until(lambda: not shown(dash_duo, "#ann-confirm"), message="the question gone")


def test_row_click_delete_confirm_undo_and_no_resurrection(dash_duo, db_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path)
    store = store_of(app)
    dash_duo.wait_for_contains_text("#ann-grid", "Hotline reopened", timeout=WAIT)
    assert "Click a row" in dash_duo.find_element("#ann-grid-hint").text
    before = ann.get(store, 1)

    # a click on the row (its title, not a checkbox) opens it in the form
    dash_duo.find_element(cell(1, "title")).click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 1.", timeout=WAIT)
    opened = {"start": "2018-01-03", "end": "", "title": "Hotline reopened",
              "note": "Panmunjom line <b>back</b>", "tags": "talks, hotline", "author": "ana"}
    assert form(dash_duo) == opened
    # another row, clicked on another column, opens that one
    dash_duo.find_element(cell(2, "start")).click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 2.", timeout=WAIT)
    assert value(dash_duo, "#ann-title") == "Talks at Panmunjom"
    assert value(dash_duo, "#ann-end") == "2018-01-10"
    # the checkbox still opens a row, as before
    dash_duo.find_element(cell(1, "ag-Grid-SelectionColumn") + " input.ag-checkbox-input").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 1.", timeout=WAIT)
    dash_duo.find_element(cell(2, "note")).click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 2.", timeout=WAIT)
    dash_duo.find_element(cell(1, "note")).click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Editing annotation 1.", timeout=WAIT)

    # delete asks first; Cancel keeps it
    dash_duo.find_element("#ann-delete").click()
    wait_until(lambda: shown(dash_duo, "#ann-confirm"), message="the delete question")
    assert ann.get(store, 1) == before
    dash_duo.find_element("#ann-delete-no").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Not deleted.", timeout=WAIT)
    assert ann.get(store, 1) == before and form(dash_duo) == opened

    # confirmed: gone from the store and the grid, the form emptied (the author stays)
    delete_with_confirmation(dash_duo, 1, "Hotline reopened")
    assert [a["id"] for a in ann.list_annotations(store)] == [2]
    assert form(dash_duo) == {"start": "", "end": "", "title": "", "note": "", "tags": "",
                              "author": "ana"}
    wait_until(lambda: not any("Hotline reopened" in r for r in grid_rows(dash_duo)),
               message="the row gone from the grid")
    wait_until(lambda: shown(dash_duo, "#ann-undo-btn"), message="the undo button")
    assert dash_duo.find_element("#ann-undo-btn").text == "Undo delete of annotation 1"

    # undo: exactly the deleted annotation, same id, back in the store, the grid and the form
    dash_duo.find_element("#ann-undo-btn").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "Annotation 1 restored.", timeout=WAIT)
    back = ann.get(store, 1)
    assert {k: v for k, v in back.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"}
    wait_until(lambda: form(dash_duo) == opened, message="the restored annotation in the form")
    wait_until(lambda: any("Hotline reopened" in r for r in grid_rows(dash_duo)),
               message="the row back in the grid")
    wait_until(lambda: not shown(dash_duo, "#ann-undo-btn"), message="undo used up")

    # delete again; typing in the emptied form is the next action: the undo is no longer offered
    delete_with_confirmation(dash_duo, 1, "Hotline reopened")
    wait_until(lambda: shown(dash_duo, "#ann-undo-btn"), message="the undo button")
    dash_duo.find_element("#ann-title").send_keys("x")
    wait_until(lambda: not shown(dash_duo, "#ann-undo-btn"), message="the undo withdrawn")
    dash_duo.clear_input("#ann-title")

    # Save, twice in a row, brings nothing back
    save = dash_duo.find_element("#ann-save")
    ActionChains(dash_duo.driver).double_click(save).perform()
    dash_duo.wait_for_contains_text("#ann-message", "Not saved: ", timeout=WAIT)
    assert [a["id"] for a in ann.list_annotations(store)] == [2]
    assert len(ann.list_annotations(store, include_deleted=True)) == 2  # no new row either
    assert not any("Hotline reopened" in r for r in grid_rows(dash_duo))


def test_a_double_click_on_save_saves_once(dash_duo, db_url: str, tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path)
    store = store_of(app)
    dash_duo.wait_for_contains_text("#ann-grid", "Talks at Panmunjom", timeout=WAIT)
    dash_duo.find_element("#ann-new").click()
    dash_duo.wait_for_text_to_equal("#ann-message", "New annotation.", timeout=WAIT)
    type_into(dash_duo, "#ann-start", "2018-02-09")
    type_into(dash_duo, "#ann-title", "Olympics open")
    ActionChains(dash_duo.driver).double_click(dash_duo.find_element("#ann-save")).perform()
    dash_duo.wait_for_text_to_equal("#ann-message", "Annotation 3 saved.", timeout=WAIT)
    wait_until(lambda: any("Olympics open" in r for r in grid_rows(dash_duo)), message="grid row")
    titles = [a["title"] for a in ann.list_annotations(store, include_deleted=True)]
    assert titles.count("Olympics open") == 1, titles


def test_grid_text_columns_stay_readable_at_800_px(dash_duo, db_url: str, tmp_path: Path) -> None:
    start(dash_duo, db_url, tmp_path)
    dash_duo.wait_for_contains_text("#ann-grid", "Talks at Panmunjom", timeout=WAIT)
    dash_duo.driver.set_window_size(800, 1000)

    def widths() -> dict | None:
        got = dash_duo.driver.execute_script("""
            const out = {};
            for (const c of ['title', 'tags_text', 'note']) {
                const h = document.querySelector(`#ann-grid .ag-header-cell[col-id='${c}']`);
                out[c] = h ? h.getBoundingClientRect().width : 0;
            }
            out.page = document.documentElement.clientWidth;
            return out;""")
        return got if got["page"] <= 800 else None

    w = wait_until(widths, message="the page at 800 px")
    wait_until(lambda: widths()["title"] >= 200, message="a readable title column")
    w = widths()
    assert w["title"] >= 200 and w["tags_text"] >= 120 and w["note"] >= 160, w
