"""Where things live: the database URL and project paths, resolved one way for CLI and app."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "tension.db"
SEEDS_DIR = PROJECT_ROOT / "seeds"
DB_ENV = "TENSION_DB"


def resolve_db_url(value: str | None = None) -> str:
    """--db, else $TENSION_DB, else data/tension.db. A plain file path becomes a SQLite URL."""
    value = value or os.environ.get(DB_ENV) or str(DEFAULT_DB_PATH)
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
