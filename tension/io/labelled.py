"""Labelled sentences (JSONL with `text` and `label`), for evaluating and training scorers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from indicators.combine import LABELS
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


def _decoded_lines(raw: bytes, origin: str, problems: list[Problem]) -> list[tuple[int, str]]:
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
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
    lines = _decoded_lines(raw, origin, problems)
    if not lines:
        return []
    reader = csv.reader([text for _, text in lines])
    header = [h.strip().lower() for h in next(reader, [])]
    if "text" not in header or "label" not in header:
        problems.append(Problem(origin, 1, None, f"needs columns text and label; found {', '.join(header)}"))
        return []
    out = []
    for (n, _), values in zip(lines[1:], reader, strict=False):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(Problem(origin, n, None, f"expected {len(header)} fields, found {len(values)}",
                                    ",".join(values)[:200]))
            continue
        out.append((n, dict(zip(header, values, strict=True))))
    return out


def write_label_file(rows: list[dict], out: Path | None) -> str:
    """Labels as JSONL (text, label, author, updated_at); written to `out`, or returned."""
    text = "".join(json.dumps({k: r[k] for k in ("text", "label", "author", "updated_at")},
                              ensure_ascii=False) + "\n" for r in rows)
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text
