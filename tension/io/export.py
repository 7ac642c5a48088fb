"""The export table as CSV, JSON or Parquet. Text cells that a spreadsheet would run as a
formula (starting with =, +, -, @, tab or carriage return) get a leading apostrophe in CSV."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from tension.core.csvsafe import neutralise

FORMATS = ("csv", "parquet", "json")


def to_csv_text(table: pd.DataFrame) -> str:
    """CSV text: ISO dates, empty cells for missing values, formulas neutralised."""
    out = table.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("string", "str")):
            out[col] = out[col].map(neutralise)
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def write_export(table: pd.DataFrame, out: str | Path, fmt: str | None = None) -> str:
    """Write to a .csv, .parquet or .json file, or CSV to stdout for "-"; returns the format."""
    fmt = fmt or ("csv" if str(out) == "-" else Path(out).suffix.lstrip(".").lower() or "csv")
    if fmt not in FORMATS:
        raise ValueError(f"cannot export to .{fmt}: use .csv, .parquet or .json")
    if str(out) == "-":
        import sys

        if fmt == "csv":
            sys.stdout.write(to_csv_text(table))
        else:
            sys.stdout.write(to_json_text(table))
        return fmt
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        path.write_text(to_csv_text(table), encoding="utf-8")
    elif fmt == "parquet":
        table.to_parquet(path, index=False)
    else:
        path.write_text(to_json_text(table), encoding="utf-8")
    return fmt


def to_json_text(table: pd.DataFrame) -> str:
    """JSON records with ISO dates and null for missing values."""
    out = table.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    records = json.loads(out.to_json(orient="records", double_precision=10))
    buf = io.StringIO()
    json.dump(records, buf, ensure_ascii=False, indent=1)
    return buf.getvalue()
