"""The annotation panel's actions as plain functions (no browser), on a real SQLite store.

What an analyst does with the form and the grid: click a row to edit it, delete (asked
first), undo right after, and never see a deleted annotation come back by accident: not
from the form that held it, not from a second click on Save, not from a second browser tab.
Each "tab" below is its own form state (`editing`) over the same store, as two pages are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tension.dashboard.panels import annotations as panel
from tension.dashboard.service import Service
from tension.store import annotations as ann
from tension.store.engine import Store

NUCLEAR = {"start": "2013-02-12", "end": "2013-02-14", "title": "Third nuclear test",
           "note": "KCNA reports <b>the</b> test", "tags": ["nuclear", "test"], "author": "ana"}
FORM_OF_NUCLEAR = {"start": "2013-02-12", "end": "2013-02-14", "title": "Third nuclear test",
                   "note": "KCNA reports <b>the</b> test", "tags": "nuclear, test", "author": "ana"}


@pytest.fixture
def service(tmp_path: Path) -> Service:
    store = Store(f"sqlite:///{tmp_path / 'tension.db'}")
    yield Service(store)
    store.dispose()


def act(service: Service, trigger: str, *, editing: dict | None = None, version: int = 0,
        undo: dict | None = None, pending: dict | None = None, fields: dict | None = None,
        clicked: dict | None = None, selected: list | None = None) -> dict:
    """What the page's callback does for one click."""
    return panel.form_action(service, trigger, clicked, selected, editing, version, undo, pending,
                             fields or {f: "" for f in panel.FIELDS})


def click_row(service: Service, ann_id: int, editing: dict | None = None) -> dict:
    # dash-ag-grid's cellClicked: rowId is the grid's string row id (grid_rows' row_id)
    return act(service, "ann-grid.cellClicked", editing=editing,
               clicked={"rowId": str(ann_id), "colId": "title", "rowIndex": 0, "value": "x",
                        "timestamp": 1})


def stored_count(service: Service) -> int:
    return len(ann.list_annotations(service.store, include_deleted=True))


# --------------------------------------------------------------------------- open a row
def test_clicking_a_row_opens_it_in_the_form(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    out = click_row(service, made["id"])
    assert out["message"] == f"Editing annotation {made['id']}."
    assert out["editing"] == {"id": made["id"], "updated_at": made["updated_at"]}
    assert out["form"] == FORM_OF_NUCLEAR
    # the checkbox (or a row picked with the keyboard) opens it the same way
    picked = act(service, "ann-grid.selectedRows", selected=panel.grid_rows(service))
    assert picked["editing"] == out["editing"] and picked["form"] == FORM_OF_NUCLEAR


def test_the_grid_says_a_click_opens_a_row_and_lets_a_row_click_select(service: Service) -> None:
    grid = panel.grid_layout()
    texts = [c.children for c in grid.children if getattr(c, "className", "") == "hint"]
    assert texts == [panel.GRID_HINT] and "Click a row" in panel.GRID_HINT
    ag = next(c for c in grid.children if getattr(c, "id", "") == "ann-grid")
    assert ag.dashGridOptions["rowSelection"]["enableClickSelection"] is True


def test_a_click_opens_the_stored_version_not_the_grids_copy(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    theirs = ann.update_annotation(service.store, made["id"], {"title": "Bo's title"}, made["updated_at"])
    out = click_row(service, made["id"])  # the grid still showed the old title
    assert out["form"]["title"] == "Bo's title" and out["editing"]["updated_at"] == theirs["updated_at"]


def test_the_open_row_clicked_again_or_re_sent_by_the_grid_keeps_the_form(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    assert click_row(service, made["id"], editing) == {}  # unsaved typing stays
    _, saved, _ = panel.save_annotation(service, editing, {**FORM_OF_NUCLEAR, "title": "v2"})
    # after the save the grid refreshes and re-sends its selection: the "Saved" message stays
    assert act(service, "ann-grid.selectedRows", editing=saved,
               selected=panel.grid_rows(service)) == {}
    # an emptied selection (the row deleted or filtered out) changes nothing either
    assert act(service, "ann-grid.selectedRows", editing=saved, selected=[]) == {}


def test_a_row_deleted_in_another_tab_is_not_opened(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    ann.delete(service.store, made["id"])
    out = click_row(service, made["id"])
    assert "editing" not in out and "form" not in out and out["refresh"] is True
    assert out["message"] == f"Annotation {made['id']} was deleted meanwhile; the list is brought up to date."


# --------------------------------------------------------------------------- delete
def test_delete_asks_first_and_cancel_keeps_it(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    asked = act(service, "ann-delete", editing=editing)
    assert asked["pending"] == {"id": made["id"], "updated_at": made["updated_at"],
                                "title": "Third nuclear test"}
    assert "editing" not in asked and "form" not in asked  # nothing happens before the answer
    assert ann.get(service.store, made["id"]) == made
    assert panel.confirm_box(asked["pending"]) == (False, f"Delete annotation {made['id']} “Third nuclear test”?")
    assert panel.confirm_box(None) == (True, "")
    out = act(service, "ann-delete-no", editing=editing, pending=asked["pending"])
    assert out == {"message": "Not deleted.", "pending": None}
    assert ann.get(service.store, made["id"]) == made
    # without an open annotation there is nothing to ask about
    assert act(service, "ann-delete")["message"] == "Open an annotation (click its row in the list) to delete it."


def test_confirmed_delete_empties_the_form_and_offers_an_undo(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    pending = act(service, "ann-delete", editing=editing)["pending"]
    out = act(service, "ann-delete-yes", editing=editing, pending=pending, version=4)
    assert out["message"] == f"Annotation {made['id']} deleted."
    assert out["editing"] is None and out["pending"] is None and out["refresh"] is True
    assert out["form"] == panel.BLANK  # every field but the author (the analyst's name)
    assert out["undo"]["id"] == made["id"] and out["undo"]["version"] == 5
    assert panel.undo_button(out["undo"]) == (False, f"Undo delete of annotation {made['id']}")
    assert panel.undo_button(None) == (True, "Undo")
    assert ann.list_annotations(service.store) == []


def test_after_a_delete_no_save_brings_it_back(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    pending = act(service, "ann-delete", editing=editing)["pending"]
    out = act(service, "ann-delete-yes", editing=editing, pending=pending)
    # Save on the emptied form: nothing to save
    blank = {**panel.BLANK, "author": "ana"}
    saved = act(service, "ann-save", editing=out["editing"], fields=blank)
    assert saved["message"].startswith("Not saved: ") and not saved["refresh"]
    # Save from the form as it was before the delete (a click that left before the delete's
    # answer arrived, a stale page): refused, says why, inserts nothing
    stale = act(service, "ann-save", editing=editing, fields=FORM_OF_NUCLEAR)
    assert "that annotation was deleted" in stale["message"]
    assert stale["editing"] == {"id": made["id"], "deleted": True}
    again = act(service, "ann-save", editing=stale["editing"], fields=FORM_OF_NUCLEAR)
    assert "that annotation was deleted" in again["message"]
    assert ann.list_annotations(service.store) == [] and stored_count(service) == 1


def test_undo_restores_exactly_the_deleted_annotation(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    pending = act(service, "ann-delete", editing=editing)["pending"]
    undo = act(service, "ann-delete-yes", editing=editing, pending=pending)["undo"]
    out = act(service, "ann-undo-btn", undo=undo)
    assert out["message"] == f"Annotation {made['id']} restored."
    assert out["undo"] is None and out["refresh"] is True
    (back,) = ann.list_annotations(service.store)
    assert {k: v for k, v in back.items() if k != "updated_at"} == {
        k: v for k, v in made.items() if k != "updated_at"}  # same id, text, dates, tags
    assert out["editing"] == {"id": made["id"], "updated_at": back["updated_at"]}
    assert out["form"] == FORM_OF_NUCLEAR  # open again in the form
    assert stored_count(service) == 1
    # a second click on Undo (the first answer not yet shown) restores nothing twice
    twice = act(service, "ann-undo-btn", undo=undo)
    assert twice["message"] == f"Annotation {made['id']} is already restored."
    assert stored_count(service) == 1


def test_an_old_undo_does_not_revive_a_later_delete(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    pending = act(service, "ann-delete", editing=editing)["pending"]
    undo = act(service, "ann-delete-yes", editing=editing, pending=pending)["undo"]
    act(service, "ann-undo-btn", undo=undo)
    ann.delete(service.store, made["id"])  # deleted again, elsewhere
    out = act(service, "ann-undo-btn", undo=undo)
    assert out["message"] == f"Not restored: annotation {made['id']} was deleted again since."
    assert ann.list_annotations(service.store) == []


def test_any_next_action_ends_the_undo_offer(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    other = ann.create(service.store, {"date": "2013-03-05", "title": "Armistice void"})
    undo = {"id": made["id"], "deleted_at": "x", "title": "t", "version": 1}
    assert act(service, "ann-new", undo=undo)["undo"] is None
    assert click_row(service, other["id"])["undo"] is None
    assert act(service, "ann-save", undo=undo, fields={**FORM_OF_NUCLEAR, "title": "new"})["undo"] is None
    assert act(service, "ann-delete", undo=undo)["undo"] is None


def test_a_delete_that_lost_to_an_edit_shows_the_edit(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    pending = act(service, "ann-delete", editing=editing)["pending"]
    theirs = ann.update_annotation(service.store, made["id"], {"title": "Bo's", "author": "bo"},
                                   made["updated_at"])
    out = act(service, "ann-delete-yes", editing=editing, pending=pending)
    assert out["message"].startswith(f"Not deleted: bo changed annotation {made['id']}")
    assert out["form"]["title"] == "Bo's" and out["editing"]["updated_at"] == theirs["updated_at"]
    assert ann.get(service.store, made["id"]) == theirs


# --------------------------------------------------------------------------- two tabs
def test_save_in_a_second_tab_never_resurrects_a_deleted_annotation(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    tab_a = click_row(service, made["id"])["editing"]
    tab_b = click_row(service, made["id"])["editing"]
    pending = act(service, "ann-delete", editing=tab_a)["pending"]
    act(service, "ann-delete-yes", editing=tab_a, pending=pending)
    edited = {**FORM_OF_NUCLEAR, "title": "Third nuclear test, tab B"}
    out = act(service, "ann-save", editing=tab_b, fields=edited)
    assert out["message"].startswith("Not saved: that annotation was deleted at ")
    assert out["editing"] == {"id": made["id"], "deleted": True} and out["refresh"] is True
    assert "form" not in out  # tab B's text stays on screen; it is not saved
    for _ in range(2):  # Save again, twice: still refused
        out = act(service, "ann-save", editing=out["editing"], fields=edited)
        assert "that annotation was deleted" in out["message"]
    assert act(service, "ann-delete", editing=out["editing"])["message"] == (
        f"Annotation {made['id']} was already deleted.")
    # a chart selection in tab B starts a new annotation without the deleted one's text
    assert panel.form_for_selection(out["editing"], {"start": "2013-03-01", "end": "2013-03-01"}) == (
        None, f"New annotation for 2013-03-01 (annotation {made['id']} was deleted).",
        "2013-03-01", "", "", "", "")
    assert ann.list_annotations(service.store) == [] and stored_count(service) == 1


def test_a_double_click_on_save_is_one_save(service: Service) -> None:
    made = ann.create(service.store, NUCLEAR)
    editing = click_row(service, made["id"])["editing"]
    edit = {**FORM_OF_NUCLEAR, "title": "Third nuclear test (Punggye-ri)"}
    first = act(service, "ann-save", editing=editing, fields=edit)
    # the second click left with the same, now stale, version: same text, so no conflict
    second = act(service, "ann-save", editing=editing, fields=edit)
    assert first["message"] == second["message"] == f"Saved changes to annotation {made['id']}."
    assert second["editing"] == first["editing"] and "form" not in second
    assert stored_count(service) == 1


# --------------------------------------------------------------------------- columns
def test_text_columns_keep_a_readable_width() -> None:
    """At 800 px wide, flex alone squeezed title and tags to 36 px: each flexible column has a
    minimum width (past it the grid scrolls sideways)."""
    cols = {c["headerName"]: c for c in panel.GRID_COLUMNS}
    assert cols["title"]["minWidth"] >= 200 and cols["tags"]["minWidth"] >= 120
    assert cols["note"]["minWidth"] >= 160
    assert all("minWidth" in c for c in panel.GRID_COLUMNS if "flex" in c)


def test_unknown_triggers_change_nothing(service: Service) -> None:
    assert act(service, None) == {}
    assert act(service, "ann-grid.cellClicked", clicked={"rowId": "abc"}) == {}
    assert act(service, "ann-delete-yes") == {} and act(service, "ann-undo-btn") == {}
