"""Labelled sentences (JSONL with `text` and `label`), for evaluating and training scorers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from indicators.combine import LABELS
from tension.core.csvsafe import neutralise, unneutralise
from tension.core.labels import LabelError, check
from tension.core.records import Problem


def read_labelled(path: Path) -> list[dict]:
    """Rows of a JSONL file with at least `text` and `label`; a bad line is a clear error."""
    rows = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}, line {n}: not valid UTF-8 ({exc.reason})") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) \
                    or row.get("label") not in LABELS:
                raise ValueError(f"{path}, line {n}: needs 'text' and a 'label' in {LABELS} "
                                 "('text' must be a string)")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no labelled sentences")
    return rows


def read_label_file(path: Path) -> tuple[list[tuple[str, str, str]], list[Problem]]:
    """An analyst's labels from a JSONL or CSV file (`text`, `label`, optional `author`):
    the good rows as (text, label, author), and a Problem naming each bad row and field."""
    path = Path(path)
    rows: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    origin = str(path)
    raw = path.read_bytes()
    if path.suffix.lower() == ".csv":
        records = _csv_records(raw, origin, problems)
    else:
        records = _jsonl_records(raw, origin, problems)
    for n, rec in records:
        try:
            rows.append(check(rec.get("text"), rec.get("label"), rec.get("author") or ""))
        except LabelError as exc:
            field = str(exc).split("'")[1] if "'" in str(exc) else None
            problems.append(Problem(origin, n, field, str(exc), str(rec)[:200]))
    return rows, problems


def _decoded_lines(raw: bytes, origin: str, problems: list[Problem],
                   keepends: bool = False) -> list[tuple[int, str]]:
    out = []
    for n, line in enumerate(raw.splitlines(keepends), 1):
        try:
            out.append((n, line.decode("utf-8-sig" if n == 1 else "utf-8")))
        except UnicodeDecodeError as exc:
            problems.append(Problem(origin, n, None, f"not valid UTF-8 ({exc.reason} at byte "
                                    f"{exc.start})", line[:200].decode("latin-1")))
    return out


def _jsonl_records(raw: bytes, origin: str, problems: list[Problem]) -> list[tuple[int, dict]]:
    out = []
    for n, line in _decoded_lines(raw, origin, problems):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(origin, n, None, f"not valid JSON: {exc}", line[:200]))
            continue
        if not isinstance(rec, dict):
            problems.append(Problem(origin, n, None, "a line must be a JSON object with text and label",
                                    line[:200]))
            continue
        out.append((n, rec))
    return out


def _csv_records(raw: bytes, origin: str, problems: list[Problem]) -> list[tuple[int, dict]]:
    # Lines keep their ends and csv.reader pulls them one at a time: a quoted cell over several
    # lines keeps its newlines, and a record is numbered by the line it starts on.
    lines = _decoded_lines(raw, origin, problems, keepends=True)
    taken: list[int] = []

    def feed():
        for n, text in lines:
            taken.append(n)
            yield text

    reader = csv.reader(feed())
    out, header = [], None
    while True:
        taken.clear()
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(origin, taken[0] if taken else None, None, f"unreadable CSV row: {exc}"))
            continue
        n = taken[0]
        if header is None:
            header = [h.strip().lower() for h in values]
            if "text" not in header or "label" not in header:
                problems.append(Problem(origin, n, None, f"needs columns text and label; found {', '.join(header)}"))
                return []
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(Problem(origin, n, None, f"expected {len(header)} fields, found {len(values)}",
                                    ",".join(values)[:200]))
            continue
        out.append((n, {k: unneutralise(v) for k, v in zip(header, values, strict=True)}))
    return out


def write_label_file(rows: list[dict], out: Path | None) -> str:
    """Labels (text, label, author, updated_at) as JSONL, or as CSV when `out` is a .csv file
    (spreadsheet formulas neutralised, as in every CSV we write); written to `out`, or returned."""
    keys = ("text", "label", "author", "updated_at")
    if out is not None and Path(out).suffix.lower() == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(keys)
        w.writerows([neutralise(r[k]) for k in keys] for r in rows)
        text = buf.getvalue()
    else:
        text = "".join(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n" for r in rows)
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text
