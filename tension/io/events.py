"""Reference events (e.g. weapons tests) from CSV: `date` or `start`/`end`, `label`,
optional `category`. Bad rows become Problems naming the row and field."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tension.core.dates import UnsupportedDate, iso_day
from tension.core.records import Problem


def parse_events(text: str, origin: str) -> tuple[list[dict], list[Problem]]:
    """Rows of a CSV with `date` or `start`/`end`, and `label`, optional `category`."""
    reader = csv.DictReader(io.StringIO(text))
    cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    if "label" not in cols or not ({"date"} <= cols.keys() or {"start"} <= cols.keys()):
        return [], [Problem(origin, None, None,
                            f"needs columns 'date' (or 'start' and 'end') and 'label'; found: "
                            f"{', '.join(reader.fieldnames or []) or 'none'}")]
    rows, problems = [], []
    for n, rec in enumerate(reader, 2):
        def get(k: str, rec: dict = rec) -> str:
            return (rec.get(cols.get(k, ""), "") or "").strip()

        field = "date" if "date" in cols else "start"
        try:
            start = iso_day(get(field), field)
            field = "end"
            end = iso_day(get("end"), "end") if "end" in cols and get("end") else start
        except UnsupportedDate as exc:
            problems.append(Problem(origin, n, field, str(exc)))
            continue
        except ValueError:
            problems.append(Problem(origin, n, field, f"not a date like 2018-01-03: {get(field)!r}"))
            continue
        if end < start:
            problems.append(Problem(origin, n, "end", f"end {end} is before start {start}"))
            continue
        if not get("label"):
            problems.append(Problem(origin, n, "label", "missing label"))
            continue
        rows.append({"start_date": start, "end_date": end, "label": get("label"),
                     "category": get("category") or "event", "origin": origin})
    return rows, problems


def read_events(path: Path) -> tuple[list[dict], list[Problem]]:
    """The rows and problems of an events CSV file (UTF-8, with or without a BOM)."""
    return parse_events(Path(path).read_text(encoding="utf-8-sig"), str(path))
