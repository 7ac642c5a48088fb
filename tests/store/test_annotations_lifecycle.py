"""An annotation's life in the store: create, edit, delete, undo, on SQLite and PostgreSQL.

The rule under test: a deleted annotation never comes back by accident. Updating or deleting
it again is an error (`Deleted`), never an insert; only `restore`, given the `deleted_at` of
that very delete, brings it back, as it was, under the same id.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from tension.store import annotations as ann
from tension.store import schema
from tension.store.engine import Store

PAYLOAD = {"start": "2013-02-12", "end": "2013-02-14", "title": "Third nuclear test",
           "note": "KCNA reports the test", "tags": ["nuclear", "test"], "author": "ana"}


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store(db_url)
    yield s
    s.dispose()


def rows(store: Store) -> int:
    """Every row of the table, deleted ones included."""
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.annotations)).scalar_one()


def content(a: dict) -> tuple:
    return a["id"], a["start"], a["end"], a["kind"], a["title"], a["note"], a["tags"], a["author"], \
        a["created_at"]


def test_delete_returns_what_it_deleted_with_its_stamp(store: Store) -> None:
    made = ann.create(store, PAYLOAD)
    gone = ann.delete(store, made["id"], made["updated_at"])
    assert {k: v for k, v in gone.items() if k not in ("deleted_at", "updated_at")} == {
        k: v for k, v in made.items() if k != "updated_at"}
    assert gone["deleted_at"] > made["updated_at"]
    with pytest.raises(ann.NotFound):
        ann.get(store, made["id"])
    assert ann.list_annotations(store) == []


def test_updating_a_deleted_annotation_is_an_error_not_an_insert(store: Store) -> None:
    made = ann.create(store, PAYLOAD)
    gone = ann.delete(store, made["id"])
    # a stale form (or a second tab) saves its edit with the version it read before the delete
    for expected in (made["updated_at"], gone["deleted_at"]):
        with pytest.raises(ann.Deleted) as err:
            ann.update_annotation(store, made["id"], {"title": "edited"}, expected)
        assert err.value.deleted_at == gone["deleted_at"]
        assert f"annotation {made['id']} was deleted at {gone['deleted_at']}" in str(err.value)
    with pytest.raises(ann.Deleted):  # deleting twice (a double click) is the same error
        ann.delete(store, made["id"])
    assert rows(store) == 1 and ann.list_annotations(store) == []
    # an id that never existed is NotFound, and nothing is inserted for it either
    with pytest.raises(ann.NotFound) as err:
        ann.update_annotation(store, 999, {"title": "x"}, made["updated_at"])
    assert not isinstance(err.value, ann.Deleted)
    assert rows(store) == 1


def test_restore_brings_back_exactly_the_deleted_annotation(store: Store) -> None:
    other = ann.create(store, {"date": "2013-03-05", "title": "Armistice void"})
    made = ann.create(store, PAYLOAD)
    gone = ann.delete(store, made["id"], made["updated_at"])
    back = ann.restore(store, made["id"], gone["deleted_at"])
    assert content(back) == content(made)  # same id, dates, text, tags, author, creation
    assert back["updated_at"] > gone["deleted_at"]  # a new version: versions only increase
    assert ann.get(store, made["id"]) == back
    assert [a["id"] for a in ann.list_annotations(store)] == [made["id"], other["id"]]
    assert rows(store) == 2  # restored in place, not copied


def test_an_edit_started_before_the_delete_loses_after_the_undo(store: Store) -> None:
    made = ann.create(store, PAYLOAD)
    gone = ann.delete(store, made["id"])
    back = ann.restore(store, made["id"], gone["deleted_at"])
    with pytest.raises(ann.Conflict) as err:
        ann.update_annotation(store, made["id"], {"title": "tab B's stale edit"}, made["updated_at"])
    assert err.value.current == back
    assert ann.get(store, made["id"])["title"] == PAYLOAD["title"]


def test_restore_undoes_only_the_delete_it_names(store: Store) -> None:
    made = ann.create(store, PAYLOAD)
    first = ann.delete(store, made["id"])
    ann.restore(store, made["id"], first["deleted_at"])
    with pytest.raises(ann.Conflict):  # a second undo of the same delete (double click)
        ann.restore(store, made["id"], first["deleted_at"])
    live = ann.get(store, made["id"])
    second = ann.delete(store, made["id"], live["updated_at"])
    with pytest.raises(ann.Conflict):  # an old undo must not revive a later delete
        ann.restore(store, made["id"], first["deleted_at"])
    with pytest.raises(ann.NotFound):
        ann.get(store, made["id"])
    with pytest.raises(ann.NotFound):
        ann.restore(store, 999, second["deleted_at"])
    assert content(ann.restore(store, made["id"], second["deleted_at"])) == content(made)


def test_an_update_that_loses_to_a_delete_says_deleted(store: Store) -> None:
    """A delete commits while an update waits: the update is told the annotation is gone
    (Deleted), not offered the deleted version to edit (Conflict), and inserts nothing."""
    made = ann.create(store, PAYLOAD)
    stamp = "2099-01-01T00:00:00.000000Z"
    outcome: dict = {}
    with store.write() as other:  # the other writer's delete, not yet committed
        other.execute(text("UPDATE annotations SET deleted_at = :u, updated_at = :u WHERE id = :i"),
                      {"u": stamp, "i": made["id"]})

        def late_edit() -> None:
            try:
                ann.update_annotation(store, made["id"], {"title": "late edit"}, made["updated_at"])
                outcome["result"] = "saved"
            except Exception as exc:  # noqa: BLE001 - what it raised is the result
                outcome["result"] = exc

        thread = threading.Thread(target=late_edit)
        thread.start()
        time.sleep(1.0)  # now blocked (SQLite: on BEGIN; PostgreSQL: on the row)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert isinstance(outcome["result"], ann.Deleted), outcome["result"]
    assert outcome["result"].deleted_at == stamp
    assert rows(store) == 1 and ann.list_annotations(store) == []


def test_every_step_bumps_the_annotations_revision(store: Store) -> None:
    made = ann.create(store, PAYLOAD)
    before = store.revision("annotations")
    gone = ann.delete(store, made["id"])
    after_delete = store.revision("annotations")
    assert after_delete > before
    ann.restore(store, made["id"], gone["deleted_at"])
    assert store.revision("annotations") > after_delete
