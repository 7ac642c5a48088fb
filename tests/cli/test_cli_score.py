"""`python -m tension score-text` and `evaluate-scorer`, run as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from indicators.combine import LABELS
from indicators.evaluate import evaluate
from indicators.scorers import lexicon_scorer, scorer_for
from tension.io.labelled import read_labelled

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"text", "hostility", "conciliation", "tension", "label", "evidence"}


def run(*args: str, stdin: bytes = b"", env: dict | None = None, timeout: float = 60):
    base = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    base.pop("PYTHONUTF8", None)
    return subprocess.run(
        [sys.executable, "-m", "tension", *args],
        input=stdin, capture_output=True, cwd=ROOT, env={**base, **(env or {})}, timeout=timeout,
    )


def json_lines(stdout: bytes) -> list[dict]:
    text = stdout.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


# ---------------------------------------------------------------- score-text

INPUT = [
    "Trump has threatened Pyongyang with “fire and fury.”",
    "",
    "South Korea proposed that talks could be held next week in Panmunjom.",
    "The harvest was good this year.",
    "   ",
    "...",
    "북한은 회담을 제안했다.",
    "Pyongyang rejected talks. It called the offer a farce.",
]


def test_score_text_writes_one_json_line_per_input_line():
    proc = run("score-text", stdin=("\n".join(INPUT) + "\n").encode())
    assert proc.returncode == 0, proc.stderr.decode()
    rows = json_lines(proc.stdout)
    assert len(rows) == len(INPUT)
    for line, row in zip(INPUT, rows, strict=True):
        assert set(row) == KEYS
        assert row["text"] == line
        assert row["label"] in LABELS
        for key in ("hostility", "conciliation"):
            assert 0 <= row[key] <= 1
        assert row["tension"] == pytest.approx(row["hostility"] - row["conciliation"], abs=1e-6)
        assert isinstance(row["evidence"], list)
        for ev in row["evidence"]:
            assert line[ev["start"] : ev["end"]] == ev["sentence"]
            for m in ev["matches"]:
                assert ev["sentence"][m["start"] : m["end"]] == m["text"]
    labels = [r["label"] for r in rows]
    assert labels == ["hostile", "neutral", "conciliatory", "neutral", "neutral", "neutral",
                      "neutral", "hostile"]
    assert rows[1]["evidence"] == [] and rows[1]["tension"] == 0


def test_score_text_matches_the_library():
    line = INPUT[0]
    row = json_lines(run("score-text", stdin=line.encode() + b"\n").stdout)[0]
    score = scorer_for().score_text(line)  # without --db: the shipped model
    assert (row["hostility"], row["conciliation"], row["tension"], row["label"]) == (
        score.hostility, score.conciliation, score.tension, score.label)
    assert row["evidence"] == json.loads(json.dumps(score.evidence()))


def test_score_text_handles_crlf_and_a_missing_final_newline():
    proc = run("score-text", stdin=b"They threatened war.\r\n\r\nTalks resumed.")
    rows = json_lines(proc.stdout)
    assert proc.returncode == 0
    assert [r["text"] for r in rows] == ["They threatened war.", "", "Talks resumed."]
    assert [r["label"] for r in rows] == ["hostile", "neutral", "conciliatory"]


def test_score_text_empty_stdin_gives_no_output():
    proc = run("score-text", stdin=b"")
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_score_text_table_format():
    proc = run("score-text", "--format", "table", stdin=("\n".join(INPUT[:4]) + "\n").encode())
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == 1 + 4
    assert lines[0].split()[:4] == ["label", "tension", "host", "conc"]
    assert [line.split()[0] for line in lines[1:]] == ["hostile", "neutral", "conciliatory", "neutral"]
    assert "fire and fury" in lines[1] and "Panmunjom" in lines[3]
    assert re.search(r"[+-]\d\.\d{3}", lines[1])
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])


def test_score_text_rejects_an_unknown_format():
    proc = run("score-text", "--format", "xml", stdin=b"x\n")
    assert proc.returncode == 2
    assert b"xml" in proc.stderr


def test_undecodable_line_stops_with_exit_2_naming_the_line():
    stdin = b"They threatened war.\nTalks resumed.\nbad \xff\xfe bytes\nNever scored.\n"
    proc = run("score-text", stdin=stdin)
    assert proc.returncode == 2
    err = proc.stderr.decode("utf-8")
    assert "line 3" in err and "UTF-8" in err
    assert "Traceback" not in err
    rows = json_lines(proc.stdout)  # the earlier output is intact, whole lines only
    assert [r["text"] for r in rows] == ["They threatened war.", "Talks resumed."]
    assert [r["label"] for r in rows] == ["hostile", "conciliatory"]


def test_undecodable_first_line_writes_nothing():
    proc = run("score-text", "--format", "table", stdin=b"\xc3\x28 broken\nfine\n")
    assert proc.returncode == 2
    assert "line 1" in proc.stderr.decode()
    assert proc.stdout.decode().splitlines()[1:] == []  # only the table header


def test_one_megabyte_line_on_stdin():
    line = ("the army threatened the talks and a summit with missiles and peace " * 16_000)[:1_000_000]
    proc = run("score-text", stdin=line.encode() + b"\nTalks resumed.\n", timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    rows = json_lines(proc.stdout)
    assert len(rows) == 2
    assert len(rows[0]["text"]) == 1_000_000
    assert rows[1]["label"] == "conciliatory"


def test_a_line_over_the_field_limit_stops_with_exit_2_after_the_lines_before():
    """QA: a 22 MB line took 62 s and wrote 712 MB. The limit is ingest's field limit."""
    proc = run("score-text", stdin=b"Talks resumed.\n" + b"a" * 2_000_001 + b"\nmore\n", timeout=120)
    assert proc.returncode == 2
    assert [r["text"] for r in json_lines(proc.stdout)] == ["Talks resumed."]
    assert proc.stderr.decode().strip() == ("error: stdin line 2 has 2,000,001 characters; the limit is "
                                            "2,000,000 (as for a field on ingest); lines before it were scored")


def test_control_characters_and_non_english_on_stdin():
    stdin = "\x00\x07 threat \x1b[0m\nСеверная Корея\n\x0c\n".encode()
    proc = run("score-text", stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = json_lines(proc.stdout)
    assert [r["label"] for r in rows] == ["hostile", "neutral", "neutral"]
    assert rows[0]["text"] == "\x00\x07 threat \x1b[0m"


def test_score_text_output_is_utf8_whatever_the_locale():
    proc = run("score-text", stdin="북한 threat\n".encode(), env={"PYTHONIOENCODING": "latin-1"})
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert json.loads(proc.stdout.decode("utf-8"))["text"] == "북한 threat"


# ---------------------------------------------------------------- evaluate-scorer


def numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d+", line)]


def parse_report(stdout: str) -> dict[str, list[float]]:
    rows = {}
    for line in stdout.splitlines():
        head = line.split()[:1]
        if head and head[0] in (*LABELS, "macro-F1", "accuracy"):
            rows[head[0]] = numbers(line)
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


SMALL = [
    {"text": "Trump has threatened Pyongyang with fire and fury.", "label": "hostile"},
    {"text": "He has a bigger and more powerful nuclear button.", "label": "hostile"},
    {"text": "Both sides agreed to sit down for talks.", "label": "conciliatory"},
    {"text": "The harvest was good this year.", "label": "neutral"},
    {"text": "What a wonderful, happy, lovely day!", "label": "neutral"},
]


def test_evaluate_scorer_prints_the_scorers_side_by_side(tmp_path):
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    proc = run("evaluate-scorer", str(path))
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "tension scorer" in out and "lexicon scorer" in out and "plain VADER" in out
    assert "precision" in out and "recall" in out and "F1" in out
    rows = parse_report(out)
    ours, vader, _ = evaluate(read_labelled(path))
    lexical, _, _ = evaluate(read_labelled(path), lexicon_scorer())
    for label in LABELS:
        assert len(rows[label]) == 9  # precision, recall, F1 for each scorer
        expect = [r.per_class[label].__getattribute__(k) for r in (ours, lexical, vader)
                  for k in ("precision", "recall", "f1")]
        assert rows[label] == pytest.approx(expect, abs=5e-4)
    assert rows["macro-F1"] == pytest.approx([ours.macro_f1, lexical.macro_f1, vader.macro_f1], abs=5e-4)
    assert ours.macro_f1 == 1.0 and vader.macro_f1 < 1.0
    assert "(n = 5 sentences)" in out


def test_evaluate_scorer_json_and_misses(tmp_path):
    path = write_jsonl(tmp_path / "small.jsonl", [*SMALL, {"text": "Talks resumed.", "label": "hostile"}])
    proc = run("evaluate-scorer", str(path), "--json", "--misses")
    assert proc.returncode == 0, proc.stderr.decode()
    doc = json.loads(proc.stdout)
    assert set(doc) == {"scorer", "lexicon", "vader", "misses"}
    assert doc["scorer"]["n"] == doc["vader"]["n"] == 6
    assert set(doc["scorer"]["per_class"]) == set(LABELS)
    assert {"precision", "recall", "f1", "support"} == set(doc["scorer"]["per_class"]["hostile"])
    assert [m["text"] for m in doc["misses"]] == ["Talks resumed."]
    assert doc["misses"][0]["predicted"] == "conciliatory"


@pytest.mark.corpus
def test_evaluate_scorer_on_the_dev_set(shared_data):
    path = shared_data("gold_sentences_dev.jsonl")
    proc = run("evaluate-scorer", str(path))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = parse_report(proc.stdout.decode())
    ours_f1, lexicon_f1, vader_f1 = rows["macro-F1"]
    assert ours_f1 >= 0.85 and ours_f1 > lexicon_f1 > vader_f1
    ours, vader, _ = evaluate(read_labelled(path))
    assert (ours_f1, vader_f1) == pytest.approx([ours.macro_f1, vader.macro_f1], abs=5e-4)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "Talks.", "label": "conciliatory"}\n{"text": "oops", \n', "line 2: not valid JSON"),
        (b'{"text": "Talks.", "label": "friendly"}\n', "line 1: needs 'text' and a 'label'"),
        (b'{"label": "hostile"}\n', "line 1: needs 'text'"),
        (b'["Talks.", "conciliatory"]\n', "line 1: needs 'text'"),
        (b'\n\n{"text": "a", "label": "neutral"}\nnot json at all\n', "line 4: not valid JSON"),
    ],
    ids=["broken-json", "unknown-label", "no-text", "not-an-object", "line-numbers-count-blanks"],
)
def test_evaluate_scorer_bad_jsonl_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    proc = run("evaluate-scorer", str(path))
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert message in err
    assert str(path) in err
    assert "Traceback" not in err
    assert proc.stdout == b""


def test_evaluate_scorer_missing_file(tmp_path):
    proc = run("evaluate-scorer", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr.decode()


def test_evaluate_scorer_non_string_text_is_a_clear_error(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"text": 5, "label": "hostile"}])
    proc = run("evaluate-scorer", str(path))
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert "Traceback" not in err and "line 1" in err


def test_evaluate_scorer_non_utf8_file_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"text": "a", "label": "neutral"}\n{"text": "caf\xe9", "label": "neutral"}\n')
    proc = run("evaluate-scorer", str(path))
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert str(path) in err and "line 2" in err


def test_evaluate_scorer_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    proc = run("evaluate-scorer", str(path))
    assert proc.returncode != 0
    assert "no labelled" in proc.stderr.decode().lower() or "empty" in proc.stderr.decode().lower()
