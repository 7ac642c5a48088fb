"""Test stores: a private copy of a template SQLite store (conftest's shared KCNA store)."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path


def copy_db(template: Path, target: Path) -> Path:
    """A private copy of a template SQLite store. A template nobody has written to since it was
    made is one self-contained file, copied as bytes (much faster than SQLite's backup API for
    the KCNA store); one with a write-ahead log beside it goes through SQLite."""
    wal = Path(f"{template}-wal")
    if wal.exists() and wal.stat().st_size:
        with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    else:
        shutil.copyfile(template, target)
    return target


def headline_store(base: Path, rows: list[tuple[str, str]], source: str = "KCNA") -> Path:
    """A template SQLite store in `base` of (date, title) headlines from one source, ingested
    from a CSV file as an analyst's would be."""
    from tension.pipeline.ingest import ingest
    from tension.store.engine import Store

    path = base / "articles.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "source", "title", "text", "url"])
        for n, (d, title) in enumerate(rows):
            w.writerow([d, source, title, "", f"http://example.org/{n}"])
    db = base / "template.db"
    store = Store(f"sqlite:///{db}")
    assert ingest(store, [str(path)]).added == len(rows)
    store.dispose()
    return db
