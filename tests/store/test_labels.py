"""Analysts' labels and the store's models (issue 20, items 4 and 5), on a real SQLite file and a
real PostgreSQL database: one label per text (a re-label replaces it), bad labels refused with
a message naming the field, a batch stored in one transaction, models kept and chosen, and a
store's labels and model surviving backup -> restore.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text as sql

from indicators.learned.model import LinearModel
from indicators.scorers import load_model, scorer_for
from tension.core.labels import LabelError
from tension.store.backup import backup, restore
from tension.store.engine import Store
from tension.store.labels import (
    count_labels,
    labels_for,
    list_labels,
    remove_label,
    set_label,
    set_labels,
)
from tension.store.scoring import add_model, list_models, store_model, store_scorer, use_model

HOSTILE = "The puppet regime threatened a merciless retaliation."
TALKS = "Both sides agreed to resume talks at Panmunjom next week."
FARM = "The farmers reaped a rich harvest of rice this autumn."
KOREAN = "북한은 회담을 제안했다 🚀"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.dispose()


def tweaked_model(shift: float = 2.0) -> bytes:
    """The shipped model with its hostile bias moved: another model version that scores
    differently, without a 20-second training."""
    m = load_model()
    bias = (round(m.bias[0] + shift, 6), m.bias[1], m.bias[2])
    return LinearModel(m.weights, bias, m.settings, {"note": "made by a test"}).to_bytes()


def triples(rows: list[dict]) -> set[tuple[str, str, str]]:
    return {(r["text"], r["label"], r["author"]) for r in rows}


# ----------------------------------------------------------------------------- labels


def test_set_label_stores_the_cleaned_label_with_its_author(store: Store) -> None:
    """Text is stripped, the label case-folded, the author kept; the row comes back."""
    row = set_label(store, f"  {HOSTILE}\n", " Hostile ", " ana ")
    assert (row["text"], row["label"], row["author"]) == (HOSTILE, "hostile", "ana")
    assert row["id"] > 0 and row["created_at"] == row["updated_at"]
    assert triples(list_labels(store)) == {(HOSTILE, "hostile", "ana")}


def test_a_relabel_of_the_same_text_replaces_it(store: Store) -> None:
    """The same text (up to case and spacing) labelled again is one row with the new label and
    the new label's author; its id and creation time stay."""
    first = set_label(store, HOSTILE, "hostile", "ana")
    second = set_label(store, "  " + HOSTILE.upper().replace(" ", "  "), "neutral", "bo")
    assert second["id"] == first["id"]
    assert second["created_at"] == first["created_at"]
    assert second["updated_at"] >= first["updated_at"]
    rows = list_labels(store)
    assert len(rows) == 1
    assert (rows[0]["text"], rows[0]["label"], rows[0]["author"]) == (HOSTILE, "neutral", "bo")
    assert count_labels(store) == {"neutral": 1}


@pytest.mark.parametrize("text,label,field", [
    (HOSTILE, "friendly", "'label' must be one of hostile, neutral, conciliatory, not 'friendly'"),
    (HOSTILE, "", "'label' must be one of"),
    (HOSTILE, None, "'label' must be one of"),
    ("", "hostile", "'text' must be a sentence, not empty"),
    (" \n\t ", "hostile", "'text' must be a sentence, not empty"),
    (None, "hostile", "'text' must be a sentence, not empty"),
])
def test_a_bad_label_or_empty_text_is_refused_and_nothing_is_stored(store: Store, text, label,
                                                                    field: str) -> None:
    """An unknown label or an empty text raises LabelError naming the field; the store stays empty."""
    set_label(store, TALKS, "conciliatory")
    with pytest.raises(LabelError) as caught:
        set_label(store, text, label, "ana")
    assert field in str(caught.value)
    assert triples(list_labels(store)) == {(TALKS, "conciliatory", "")}


def test_set_labels_stores_a_batch_and_the_last_of_a_text_wins(store: Store) -> None:
    """A batch is stored together; a text twice in it is one row with its last label."""
    n = set_labels(store, [(HOSTILE, "hostile", "ana"), (TALKS, "conciliatory", ""),
                           (KOREAN, "conciliatory", "min"), (HOSTILE, "neutral", "bo")])
    assert n == 4
    assert triples(list_labels(store)) == {(HOSTILE, "neutral", "bo"), (TALKS, "conciliatory", ""),
                                           (KOREAN, "conciliatory", "min")}
    assert count_labels(store) == {"neutral": 1, "conciliatory": 2}


POISON = {
    "sqlite": ["CREATE TRIGGER poison BEFORE INSERT ON labels WHEN NEW.text = 'poison' "
               "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"],
    "postgresql": ["CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.text = 'poison' THEN "
                   "RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER poison BEFORE INSERT ON labels FOR EACH ROW EXECUTE FUNCTION poison()"],
}


def test_set_labels_writes_all_or_nothing(store: Store) -> None:
    """A batch whose last row the database refuses (a trigger) leaves no row of it behind."""
    set_label(store, FARM, "neutral", "ana")
    with store.engine.begin() as conn:
        for statement in POISON[store.engine.dialect.name]:
            conn.execute(sql(statement))
    rows = [(HOSTILE, "hostile", "bo"), (TALKS, "conciliatory", "bo"), (FARM, "hostile", "bo"),
            ("poison", "neutral", "bo")]
    with pytest.raises(sa_exc.DBAPIError, match="poisoned row"):
        set_labels(store, rows)
    assert triples(list_labels(store)) == {(FARM, "neutral", "ana")}  # not even the relabel


def test_list_labels_newest_first_with_a_limit(store: Store) -> None:
    """Most recently set first (a relabel moves a text to the front); `limit` cuts the list."""
    for text, label in ((HOSTILE, "hostile"), (TALKS, "conciliatory"), (FARM, "neutral")):
        set_label(store, text, label)
    assert [r["text"] for r in list_labels(store)] == [FARM, TALKS, HOSTILE]
    set_label(store, HOSTILE, "neutral")
    assert [r["text"] for r in list_labels(store)] == [HOSTILE, FARM, TALKS]
    assert [r["text"] for r in list_labels(store, 2)] == [HOSTILE, FARM]
    assert set(list_labels(store)[0]) == {"id", "text", "label", "author", "created_at", "updated_at"}


def test_labels_for_finds_the_labels_of_given_texts(store: Store) -> None:
    """Texts as the page shows them (extra spacing included) map to their label and author;
    unlabelled texts are absent."""
    set_label(store, HOSTILE, "hostile", "ana")
    set_label(store, KOREAN, "conciliatory", "min")
    found = labels_for(store, [f" {HOSTILE} ", KOREAN, FARM])
    assert set(found) == {f" {HOSTILE} ", KOREAN}
    assert (found[f" {HOSTILE} "]["label"], found[f" {HOSTILE} "]["author"]) == ("hostile", "ana")
    assert (found[KOREAN]["label"], found[KOREAN]["author"]) == ("conciliatory", "min")
    assert labels_for(store, []) == {}


def test_remove_label(store: Store) -> None:
    """Removing a label deletes that row only; removing it again says False."""
    keep = set_label(store, TALKS, "conciliatory")
    gone = set_label(store, HOSTILE, "hostile")
    assert remove_label(store, gone["id"]) is True
    assert remove_label(store, gone["id"]) is False
    assert [r["id"] for r in list_labels(store)] == [keep["id"]]
    assert count_labels(store) == {"conciliatory": 1}


def test_label_writes_bump_the_labels_revision(store: Store) -> None:
    """Caches of the labels (the page's list) see every write: set, relabel, remove."""
    seen = [store.revision("labels")]
    row = set_label(store, HOSTILE, "hostile")
    seen.append(store.revision("labels"))
    set_label(store, HOSTILE, "neutral")
    seen.append(store.revision("labels"))
    remove_label(store, row["id"])
    seen.append(store.revision("labels"))
    assert len(set(seen)) == 4


# ----------------------------------------------------------------------------- models


def test_models_round_trip(store: Store) -> None:
    """add_model keeps a model (not yet used), use_model makes it the store's, None goes back to
    the shipped one; list_models shows figures and which one is in use."""
    assert store_model(store) is None and list_models(store) == []
    blob = tweaked_model()
    version = add_model(store, blob, {"cv": {"macro_f1": 0.5}}, n_labels=3)
    assert version == LinearModel.from_bytes(blob).version != load_model().version
    assert add_model(store, blob, {"cv": {"macro_f1": 0.5}}, n_labels=3) == version  # kept once
    assert store_model(store) is None
    [row] = list_models(store)
    assert (row["version"], row["report"], row["n_labels"], row["in_use"]) == (
        version, {"cv": {"macro_f1": 0.5}}, 3, False)

    use_model(store, version)
    assert store_model(store) == blob
    assert store_scorer(store).model.version == version
    assert list_models(store)[0]["in_use"] is True

    use_model(store, None)
    assert store_model(store) is None
    assert store_scorer(store).model.version == load_model().version
    assert list_models(store)[0]["in_use"] is False


def test_use_model_refuses_an_unknown_version_and_add_model_junk(store: Store) -> None:
    """An unknown version or bytes that are not a model are refused; the store keeps its model."""
    version = add_model(store, tweaked_model(), {}, 0)
    use_model(store, version)
    with pytest.raises(ValueError, match="no model 0123456789abcdef in this store"):
        use_model(store, "0123456789abcdef")
    with pytest.raises(ValueError, match="not a model file"):
        add_model(store, b"not a model", {}, 0)
    assert store.setting("model") == version and len(list_models(store)) == 1


# ------------------------------------------------------------------------ backup, restore


@pytest.fixture
def fresh_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same backend as `db_url` (dropped afterwards)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    import psycopg

    server = request.getfixturevalue("pg_server")
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    name = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_labels_and_model_survive_backup_and_restore(store: Store, fresh_url: str, tmp_path: Path) -> None:
    """Every label (ids, authors, times) and the store's model come back; the restored store
    scores with the same model version, and the same scores, as the original."""
    set_labels(store, [(HOSTILE, "hostile", "ana"), (TALKS, "conciliatory", "bo"), (KOREAN, "neutral", "")])
    set_label(store, HOSTILE, "neutral", "cy")  # a relabel, so updated_at differs from created_at
    old = add_model(store, tweaked_model(-1.0), {"cv": {"macro_f1": 0.4}}, 1)
    version = add_model(store, tweaked_model(2.0), {"cv": {"macro_f1": 0.6}}, 3)
    use_model(store, version)
    original = store_scorer(store)
    assert original.score_text(FARM).tension != scorer_for().score_text(FARM).tension  # the model matters

    counts = backup(store, tmp_path / "store.backup")
    assert (counts["labels"], counts["models"]) == (3, 2)

    restored = Store(fresh_url)
    try:
        assert restore(restored, tmp_path / "store.backup")["labels"] == 3
        assert list_labels(restored) == list_labels(store)
        assert store_model(restored) == store_model(store)
        assert sorted((m["version"], m["in_use"], m["n_labels"]) for m in list_models(restored)) == sorted(
            [(old, False, 1), (version, True, 3)])
        scorer = store_scorer(restored)
        assert scorer.model.version == version and scorer.version == original.version
        for text in (FARM, HOSTILE, TALKS):
            assert scorer.score_text(text).tension == original.score_text(text).tension
        # ids go on after the restored ones (PostgreSQL: the sequence was moved past them)
        new = set_label(restored, FARM, "neutral", "dee")
        assert new["id"] > max(r["id"] for r in list_labels(store))
    finally:
        restored.dispose()


def test_restore_refuses_a_store_that_holds_only_labels(store: Store, fresh_url: str, tmp_path: Path) -> None:
    """A store with labels (and nothing else) is not empty: restore says so and changes
    nothing, unless told to replace it."""
    set_label(store, HOSTILE, "hostile", "ana")
    backup(store, tmp_path / "store.backup")

    target = Store(fresh_url)
    try:
        set_label(target, TALKS, "conciliatory", "theirs")
        with pytest.raises(ValueError, match=r"the store is not empty \(labels: 1\).*--replace"):
            restore(target, tmp_path / "store.backup")
        assert triples(list_labels(target)) == {(TALKS, "conciliatory", "theirs")}
        restore(target, tmp_path / "store.backup", replace=True)
        assert triples(list_labels(target)) == {(HOSTILE, "hostile", "ana")}
    finally:
        target.dispose()
