"""Test stores: a private copy of a template SQLite store (conftest's shared KCNA store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_db(template: Path, target: Path) -> Path:
    """A private copy of a template SQLite store."""
    with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target
