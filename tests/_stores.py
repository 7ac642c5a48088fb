"""Test stores: a private copy of a template SQLite store (conftest's shared KCNA store)."""

from __future__ import annotations

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
