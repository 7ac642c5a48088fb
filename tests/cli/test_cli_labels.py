"""`python -m tension labels import / list / export` and `train --db` (issue 20, items 4 and 5),
in-process (click's CliRunner) against real SQLite files and a real PostgreSQL database.

A labels file with bad rows (an unknown label, an empty text, invalid UTF-8) names the file,
row and field of each, keeps the good rows and exits 1; an import is one transaction; export
(JSONL, or CSV with spreadsheet formulas neutralised) -> import into another store gives the
same labels; training with too few labels of a class says which and keeps the current model.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text as sql

from indicators.learned.model import LinearModel
from indicators.scorers import load_model
from tension.cli import main
from tension.core.csvsafe import FORMULA_START
from tension.store.engine import Store
from tension.store.labels import count_labels, list_labels, set_labels
from tension.store.scoring import add_model, list_models, store_model, use_model

GOOD_ROWS = [
    ("The puppet regime threatened a merciless retaliation.", "hostile", "ana"),
    ("Both sides agreed to resume talks at Panmunjom, \"in good faith\".", "conciliatory", "bo"),
    ("The farmers reaped a rich harvest of rice this autumn.", "neutral", ""),
]
TRICKY_ROWS = [
    ('=HYPERLINK("http://evil.example","click")', "hostile", "@mallory"),
    ("+cmd|' /C calc'!A0 was their reply to the talks offer", "hostile", "-ana"),
    ("-2 divisions withdrew from the border", "conciliatory", "bo"),
    ("@SUM(A1:A9) said the delegation", "neutral", "=1+1"),
    ("'quoted' is what they called the proposal", "neutral", "'o"),
    ("A line\nand a second line, with a comma", "neutral", "ana"),
    ("북한은 회담을 제안했다 🚀", "conciliatory", "민"),
]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def triples(url: str) -> set[tuple[str, str, str]]:
    store = Store(url)
    try:
        return {(r["text"], r["label"], r["author"]) for r in list_labels(store)}
    finally:
        store.dispose()


def write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("text", "label", "author")) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- import


def test_import_a_good_csv(db_url: str, tmp_path: Path) -> None:
    """A CSV with text, label, author: every row stored, a summary line, exit 0."""
    path = write_csv(tmp_path / "labels.csv", GOOD_ROWS)
    result = run("labels", "import", str(path), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "read 3 rows: 3 labels stored, 0 with problems"
    assert result.stderr == ""
    assert triples(db_url) == set(GOOD_ROWS)


def test_import_a_good_jsonl_author_optional(db_url: str, tmp_path: Path) -> None:
    """JSONL with and without `author` (and extra keys): stored, label case-folded."""
    path = write_jsonl(tmp_path / "labels.jsonl", [
        {"text": GOOD_ROWS[0][0], "label": "HOSTILE", "author": "ana"},
        {"text": GOOD_ROWS[1][0], "label": "conciliatory", "source": "page 3"},
        {"text": GOOD_ROWS[2][0], "label": "neutral", "author": None}])
    result = run("labels", "import", str(path), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "3 labels stored, 0 with problems" in result.stdout
    assert triples(db_url) == {(GOOD_ROWS[0][0], "hostile", "ana"), (GOOD_ROWS[1][0], "conciliatory", ""),
                               (GOOD_ROWS[2][0], "neutral", "")}


def test_import_a_csv_without_author_and_twice(tmp_path: Path) -> None:
    """`author` is optional in CSV; importing the same file again adds no copies."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    path = write_csv(tmp_path / "labels.csv", [r[:2] for r in GOOD_ROWS], header=("text", "label"))
    for _ in range(2):
        assert run("labels", "import", str(path), "--db", db).exit_code == 0
    assert triples(db) == {(t, lab, "") for t, lab, _ in GOOD_ROWS}


BAD_CSV = (b"text,label,author\n"
           b"The puppet regime threatened a merciless retaliation.,hostile,ana\n"
           b"They visited a textile mill.,friendly,bo\n"
           b",neutral,cy\n"
           b"Talks \xff\xfe resumed.,conciliatory,dee\n"
           b"\"Both sides agreed to resume talks,\nat Panmunjom.\",conciliatory,eve\n"
           b"The harvest was good.,neutral,\n")
BAD_JSONL = b"".join(line + b"\n" for line in [
    json.dumps({"text": "The puppet regime threatened a merciless retaliation.", "label": "hostile",
                "author": "ana"}).encode(),
    json.dumps({"text": "They visited a textile mill.", "label": "friendly", "author": "bo"}).encode(),
    json.dumps({"text": "   ", "label": "neutral", "author": "cy"}).encode(),
    b'{"text": "Talks \xff\xfe resumed.", "label": "conciliatory"}',
    json.dumps({"text": "Both sides agreed to resume talks,\nat Panmunjom.", "label": "conciliatory",
                "author": "eve"}).encode(),
    json.dumps({"text": "The harvest was good.", "label": "neutral"}).encode(),
])
GOOD_OF_BAD = {("The puppet regime threatened a merciless retaliation.", "hostile", "ana"),
               ("Both sides agreed to resume talks,\nat Panmunjom.", "conciliatory", "eve"),
               ("The harvest was good.", "neutral", "")}


@pytest.mark.parametrize("name,content,first", [("bad.csv", BAD_CSV, 3), ("bad.jsonl", BAD_JSONL, 2)])
def test_import_with_bad_rows_names_file_row_and_field_and_keeps_the_good(db_url: str, tmp_path: Path, name: str,
                                                                        content: bytes, first: int) -> None:
    """Unknown label, empty text, invalid UTF-8 (rows 3-5 of the CSV, under its header; lines 2-4
    of the JSONL): one message each naming the file, row and field; the three good rows (one
    over two lines in the CSV) are stored; exit 1."""
    assert b"\xff\xfe" in content
    path = tmp_path / name
    path.write_bytes(content)
    result = run("labels", "import", str(path), "--db", db_url)
    assert result.exit_code == 1, result.output
    problems = sorted(line for line in result.stderr.splitlines() if line.startswith("problem: "))
    assert len(problems) == 3, result.stderr
    assert problems[0] == (f"problem: {path}, row {first}, field 'label': 'label' must be one of hostile, "
                           "neutral, conciliatory, not 'friendly'")
    assert problems[1] == f"problem: {path}, row {first + 1}, field 'text': 'text' must be a sentence, not empty"
    assert problems[2].startswith(f"problem: {path}, row {first + 2}: not valid UTF-8 (invalid start byte at byte ")
    assert result.stdout.strip() == "read 6 rows: 3 labels stored, 3 with problems"
    assert triples(db_url) == GOOD_OF_BAD


def test_rows_after_a_cell_over_several_lines_are_named_by_their_line(tmp_path: Path) -> None:
    """A quoted CSV cell over three lines keeps its newlines, and a bad row after it is named by
    the line it is on (not shifted by the lines the cell took)."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    path = tmp_path / "labels.csv"
    path.write_bytes(b'text,label\n"First line\nsecond line\nthird line",hostile\n'
                     b"Talks resumed.,friendly\nThe harvest was good.,neutral\n")
    result = run("labels", "import", str(path), "--db", db)
    assert result.exit_code == 1
    assert f"problem: {path}, row 5, field 'label'" in result.stderr, result.stderr
    assert triples(db) == {("First line\nsecond line\nthird line", "hostile", ""),
                           ("The harvest was good.", "neutral", "")}


def test_an_overlong_csv_cell_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """A text over the label limit (20,000 characters) and one over the csv module's field limit
    (131,072) are each a problem naming the row, not a traceback; the good row after them is stored."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    path = write_csv(tmp_path / "labels.csv", [("war " * 6000, "hostile", ""), ("x" * 200_000, "hostile", ""),
                                               ("The harvest was good.", "neutral", "ana")])
    result = run("labels", "import", str(path), "--db", db)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{path}, row 2, field 'text': 'text' is 24,000 characters; the limit is 20,000" in result.stderr
    # the csv module's limit is process-wide and the article reader raises it: either message
    assert (f"{path}, row 3: unreadable CSV row: field larger than field limit" in result.stderr
            or f"{path}, row 3, field 'text': 'text' is 200,000 characters" in result.stderr), result.stderr
    assert triples(db) == {("The harvest was good.", "neutral", "ana")}


def test_import_of_only_bad_rows_stores_nothing(tmp_path: Path) -> None:
    """A file of bad rows only: messages, exit 1, no labels."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    path = write_csv(tmp_path / "labels.csv", [("x", "friendly", ""), ("", "hostile", "")])
    result = run("labels", "import", str(path), "--db", db)
    assert result.exit_code == 1
    assert "0 labels stored, 2 with problems" in result.stdout
    assert f"{path}, row 2, field 'label'" in result.stderr and f"{path}, row 3, field 'text'" in result.stderr


def test_import_without_text_and_label_columns_says_so(tmp_path: Path) -> None:
    """A CSV that is not a labels file: one problem naming the columns found, nothing stored."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    path = write_csv(tmp_path / "labels.csv", [("a", "b")], header=("sentence", "stance"))
    result = run("labels", "import", str(path), "--db", db)
    assert result.exit_code == 1
    assert f"problem: {path}, row 1: needs columns text and label; found sentence, stance" in result.stderr


def test_an_import_the_database_refuses_writes_nothing(tmp_path: Path) -> None:
    """The good rows of a file are stored in one transaction: when the database refuses the
    last one (a trigger), none of them is stored and the command fails in one line."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(db)
    set_labels(store, [("Kept from before.", "neutral", "ana")])
    with store.engine.begin() as conn:
        conn.execute(sql("CREATE TRIGGER poison BEFORE INSERT ON labels WHEN NEW.text = 'poison' "
                         "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"))
    store.dispose()
    path = write_csv(tmp_path / "labels.csv", [*GOOD_ROWS, ("poison", "neutral", "")])
    result = run("labels", "import", str(path), "--db", db)
    assert result.exit_code == 1
    assert "poisoned row" in result.stderr and "Traceback" not in result.output
    assert triples(db) == {("Kept from before.", "neutral", "ana")}


# ------------------------------------------------------------------------- list, export


@pytest.fixture
def filled(db_url: str, tmp_path: Path) -> str:
    """A store with good and tricky labels, imported by the CLI."""
    path = write_jsonl(tmp_path / "in.jsonl", [{"text": t, "label": lab, "author": a}
                                               for t, lab, a in GOOD_ROWS + TRICKY_ROWS])
    assert run("labels", "import", str(path), "--db", db_url).exit_code == 0
    return db_url


def test_labels_list_shows_counts_and_rows(filled: str) -> None:
    """The text list: counts per label, then one line per label, newest first; --limit cuts it."""
    result = run("labels", "list", "--db", filled)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "10 labels: conciliatory 3, hostile 3, neutral 4"
    rows = [line for line in lines if line.startswith("#")]
    assert len(rows) == 10
    assert rows[0].split()[1:3] == ["conciliatory", "민"]  # the last row of the file
    assert "anonymous" in result.stdout  # a label without author
    short = run("labels", "list", "--db", filled, "--limit", "2").stdout.splitlines()
    assert len([line for line in short if line.startswith("#")]) == 2


def test_labels_list_json_is_what_was_imported(filled: str) -> None:
    """--json gives every field, the texts exactly as imported."""
    result = run("labels", "list", "--db", filled, "--json", "--limit", "100")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["text"], r["label"], r["author"]) for r in rows} == set(GOOD_ROWS + TRICKY_ROWS)
    assert set(rows[0]) == {"id", "text", "label", "author", "created_at", "updated_at"}


def test_labels_list_of_an_empty_store_and_a_missing_one(tmp_path: Path) -> None:
    """An empty store says so; a SQLite file that does not exist is an error, not a new store."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    Store(db).dispose()
    assert run("labels", "list", "--db", db).stdout.strip() == "no labels yet"
    missing = tmp_path / "nope.db"
    result = run("labels", "list", "--db", f"sqlite:///{missing}")
    assert result.exit_code == 1 and f"no store at {missing}" in result.stderr
    assert not missing.exists()


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv", "-"])
def test_export_then_import_into_another_store_gives_the_same_labels(filled: str, tmp_path: Path,
                                                                      name: str) -> None:
    """JSONL (file or stdout) and CSV exports read back by `labels import` give the same
    (text, label, author) set, formulas, quotes, newlines and non-Latin text included."""
    result = run("labels", "export", "--db", filled, "--out", name if name == "-" else str(tmp_path / name))
    assert result.exit_code == 0, result.output
    if name == "-":
        path = tmp_path / "stdout.jsonl"
        path.write_text(result.stdout, encoding="utf-8")
    else:
        path = tmp_path / name
        assert result.stderr.strip() == f"wrote 10 labels to {path}"
    other = f"sqlite:///{tmp_path / 'other.db'}"
    back = run("labels", "import", str(path), "--db", other)
    assert back.exit_code == 0, back.output
    assert "10 labels stored, 0 with problems" in back.stdout
    assert triples(other) == triples(filled) == set(GOOD_ROWS + TRICKY_ROWS)


def test_csv_export_neutralises_spreadsheet_formulas(filled: str, tmp_path: Path) -> None:
    """In the CSV no text or author cell starts with = + - @ (a spreadsheet would run it): they
    get an apostrophe, as in the other CSV exports."""
    out = tmp_path / "labels.csv"
    assert run("labels", "export", "--db", filled, "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert list(rows[0]) == ["text", "label", "author", "updated_at"]
    assert len(rows) == 10
    for r in rows:
        for key in ("text", "author"):
            assert not r[key].startswith(FORMULA_START), r[key]
    cells = {r["text"] for r in rows} | {r["author"] for r in rows}
    for expected in ("'=HYPERLINK(\"http://evil.example\",\"click\")", "'@mallory", "'-2 divisions withdrew "
                     "from the border", "''quoted' is what they called the proposal", "'=1+1", "'-ana"):
        assert expected in cells


def test_jsonl_export_keeps_texts_exactly(filled: str, tmp_path: Path) -> None:
    """JSONL is not for spreadsheets: texts and authors are written as they are, one object a line."""
    out = tmp_path / "labels.jsonl"
    assert run("labels", "export", "--db", filled, "--out", str(out)).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {(r["text"], r["label"], r["author"]) for r in rows} == set(GOOD_ROWS + TRICKY_ROWS)
    assert all(set(r) == {"text", "label", "author", "updated_at"} for r in rows)


# ------------------------------------------------------------------------------ train


def own_model() -> bytes:
    """A model other than the shipped one (its hostile bias moved), so that "the current model
    stays" is not just "still no model"."""
    m = load_model()
    return LinearModel(m.weights, (m.bias[0] + 1.5, m.bias[1], m.bias[2]), m.settings, {}).to_bytes()


FEW = ([(f"Round {i} of the talks at Panmunjom went well.", "conciliatory", "ana") for i in range(20)]
       + [(f"They threatened war for the {i}th time.", "hostile", "bo") for i in range(3)]
       + [("The harvest was good.", "neutral", ""), ("A new school opened in Wonsan.", "neutral", "")])


@pytest.mark.parametrize("current", ["shipped", "own"])
def test_train_with_too_few_labels_per_class_says_which_and_keeps_the_model(tmp_path: Path,
                                                                           current: str) -> None:
    """`train --db --no-base` on 20 conciliatory, 3 hostile and 2 neutral labels: the message
    names hostile 3 and neutral 2 (20 needed), exit 1, and the store's model and models stay."""
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(db)
    set_labels(store, FEW)
    if current == "own":
        use_model(store, add_model(store, own_model(), {"cv": {"macro_f1": 0.5}}, 0))
    before_model, before_models = store_model(store), list_models(store)
    assert count_labels(store) == {"conciliatory": 20, "hostile": 3, "neutral": 2}

    result = run("train", "--db", db, "--no-base")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == ["Error: too few labelled sentences to train: hostile 3 (at least 20 needed), "
                     "neutral 2 (at least 20 needed); the current model stays"]
    assert store_model(store) == before_model
    assert list_models(store) == before_models
    store.dispose()


@pytest.mark.slow
def test_train_with_the_base_set_and_a_few_labels_makes_a_new_model(tmp_path: Path, monkeypatch) -> None:
    """With the base set (the default), 6 analyst labels are enough: a model is trained, shown
    beside the current one, kept with its figures and made the store's model. No ../shared is
    read: an installed copy trains from the base set shipped as features."""
    import tension.pipeline.train as training

    def no_shared(data):  # an installed copy has no ../shared to read the base set from
        raise AssertionError(f"read the labelled files under {data}")

    monkeypatch.setattr(training, "base_examples", no_shared)
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(db)
    set_labels(store, FEW[:1] + FEW[20:])  # 1 conciliatory, 3 hostile, 2 neutral
    result = run("train", "--db", db)
    assert result.exit_code == 0, result.output
    [model] = list_models(store)
    assert model["in_use"] and model["n_labels"] == 6
    assert model["version"] != load_model().version
    trained = LinearModel.from_bytes(store_model(store))
    assert trained.version == model["version"] and trained.meta["trained_on"]["analyst"] == 6
    assert sum(trained.meta["trained_on"][c] for c in ("hostile", "neutral", "conciliatory")) > 4_000
    assert f"model {model['version']} is now the store's model" in result.stdout
    assert "on the 6 analyst labels: current model right on " in result.stdout and " of 6, new model" in result.stdout
    assert model["report"]["n_labels"] == 6 and model["report"]["current"]["version"] == load_model().version
    store.dispose()
