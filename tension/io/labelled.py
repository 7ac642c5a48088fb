"""Labelled sentences (JSONL with `text` and `label`), for evaluating and training scorers."""

from __future__ import annotations

import json
from pathlib import Path

from indicators.combine import LABELS


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
