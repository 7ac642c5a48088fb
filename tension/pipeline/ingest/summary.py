"""What an ingest did, for the command line, the page and the run log."""

from __future__ import annotations

from dataclasses import dataclass, field

COUNTS = ("read", "added", "already", "copies", "quarantined", "scored")


@dataclass
class Summary:
    """What an ingest did. `duplicates` = rows already stored + copies of earlier articles."""

    read: int = 0
    added: int = 0
    already: int = 0
    copies: int = 0
    quarantined: int = 0
    scored: int = 0
    files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    run_id: int | None = None

    @property
    def duplicates(self) -> int:
        return self.already + self.copies

    @property
    def ok(self) -> bool:
        return not self.quarantined and not self.errors

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in COUNTS)

    def restore(self, counts: tuple[int, ...]) -> None:
        """Go back to counts taken earlier (a rolled-back transaction's batches are gone)."""
        for name, value in zip(COUNTS, counts, strict=True):
            setattr(self, name, value)

    def run_counts(self) -> dict[str, int]:
        """The counts as the run log's columns."""
        return {f"n_{name}": getattr(self, name) for name in COUNTS}

    def line(self) -> str:
        # read = added + already + quarantined; the copies are among the added (stored, marked)
        return (f"read {self.read:,} rows: added {self.added:,}, of which {self.copies:,} duplicates of "
                f"earlier articles (kept as copies, not counted twice); {self.already:,} duplicates "
                f"already in the store (skipped); quarantined {self.quarantined:,}; "
                f"scored {self.scored:,} new texts")

    def as_dict(self) -> dict:
        return {"read": self.read, "added": self.added, "duplicates": self.duplicates,
                "already": self.already, "copies": self.copies, "quarantined": self.quarantined,
                "scored": self.scored, "files": self.files, "formats": self.formats,
                "unchanged": self.unchanged, "errors": self.errors, "run_id": self.run_id}
