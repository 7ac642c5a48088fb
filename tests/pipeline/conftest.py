"""Stores for the pipeline tests: one per backend (`store`), or a SQLite file only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tension.store.engine import Store


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'tension.db'}")
    yield s
    s.dispose()
