"""Import a file of reference events into the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tension.core.records import Problem
from tension.io.events import read_events
from tension.store.engine import Store
from tension.store.events import add_events


@dataclass
class EventImport:
    read: int
    added: int
    problems: list[Problem]


def import_events(store: Store, path: Path) -> EventImport:
    """Import a CSV of events; importing the same file twice adds nothing."""
    rows, problems = read_events(path)
    return EventImport(len(rows) + len(problems), add_events(store, rows), problems)
