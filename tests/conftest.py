"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Callable[[str], Path]:
    """Return a function that gives the path of a file in ../shared/data.

    The real corpora live beside the project, not in it. When a file is missing the
    test fails under CI (CI=true: a missing corpus is a broken environment, not a
    pass) and is skipped, with the reason, everywhere else.
    """

    def get(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.is_file():
            message = f"real corpus {path} is missing (expected in ../shared/data beside the repo)"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        return path

    return get
