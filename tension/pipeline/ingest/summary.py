"""What an ingest did, for the command line, the page and the run log."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from tension.core.records import Problem, storable

COUNTS = ("read", "added", "already", "copies", "quarantined", "scored")
# Quarantined rows an ingest reports itself (file, row, field, reason): the analyst sees
# what went wrong at once; the rest are one `quarantine list` away.
SHOWN = 5


def problem_entry(p: Problem) -> dict:
    """A quarantined row as the summary reports it (the file name as the store keeps it)."""
    return {"file": storable(p.origin), "row": p.row, "field": p.field, "reason": p.reason}


# The default --limit of `quarantine list` (tension/cli/ingest.py): a lookup of more rows says so.
LIST_LIMIT = 200


def lookup_command(entry: dict) -> str:
    """The command that lists the quarantined rows of a `Summary.quarantine_in` entry."""
    command = "python -m tension quarantine list"
    if entry.get("run") is not None:
        command += f" --run {entry['run']}"
    if entry.get("file"):
        command += f" --file {shlex.quote(entry['file'])}"
    if entry.get("listed", 0) > LIST_LIMIT:
        command += f" --limit {entry['listed']}"
    return command


def earlier_note(entry: dict) -> str | None:
    """What to say of rows a run met but an earlier import had quarantined first, if any."""
    before = entry["n"] - entry.get("listed", entry["n"])
    if before <= 0:
        return None
    was, them = ("was", "it") if before == 1 else ("were", "them")
    file = shlex.quote(entry["file"]) if entry.get("file") else "FILE"
    return (f"{before:,} of the {entry['n']:,} {was} quarantined before, by an earlier import of the same "
            f"file (same row, field and reason); see {them} with: python -m tension quarantine list "
            f"--file {file}")


def problem_text(entry: dict) -> str:
    """'file, row 3, field 'date': missing date', as `quarantine list` writes a row."""
    where = entry["file"] + (f", row {entry['row']}" if entry.get("row") is not None else "")
    field_ = f", field '{entry['field']}'" if entry.get("field") else ""
    return f"{where}{field_}: {entry['reason']}"


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
    notes: list[str] = field(default_factory=list)  # worth saying, not a problem (`--actor`'s effect)
    run_id: int | None = None
    # The first SHOWN quarantined rows (see `problem_entry`), and where all of them are: one
    # {"run", "file", "n", "listed"} per run (this one; earlier ones for files not re-read),
    # "file" None for every file of the run; `listed` of the `n` are that run's quarantine rows,
    # the others were recorded by an earlier import that met the same problem.
    problems: list[dict] = field(default_factory=list)
    quarantine_in: list[dict] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.already + self.copies

    @property
    def ok(self) -> bool:
        return not self.quarantined and not self.errors

    def keep_problems(self, problems: Iterable[Problem | dict]) -> None:
        """Keep the first quarantined rows, up to SHOWN in all."""
        for p in problems:
            if len(self.problems) >= SHOWN:
                return
            self.problems.append(p if isinstance(p, dict) else problem_entry(p))

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
                "unchanged": self.unchanged, "errors": self.errors, "notes": self.notes, "run_id": self.run_id,
                "problems": self.problems, "quarantine_in": self.quarantine_in}
