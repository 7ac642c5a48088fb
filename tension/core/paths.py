"""Where things live: the data folder and the database URL, resolved one way for the command
line and the dashboard, from a source checkout or an installed copy alike."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "TENSION_DB"
DATA_ENV = "TENSION_DATA"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the installed `tension` package
SEEDS_DIR = PACKAGE_DIR / "seeds"


def data_dir() -> Path:
    """$TENSION_DATA, else `data/` under the working directory: the default store and uploads."""
    return Path(os.environ.get(DATA_ENV) or "data").expanduser().resolve()


def resolve_db_url(value: str | None = None) -> str:
    """--db, else $TENSION_DB, else data/tension.db. A plain file path becomes a SQLite URL."""
    value = value or os.environ.get(DB_ENV) or str(data_dir() / "tension.db")
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
