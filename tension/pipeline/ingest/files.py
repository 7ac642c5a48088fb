"""Which files were imported, with which options: a file imported whole before with the same
bytes and options is not even re-read, and the same bytes with options that change the rows'
keys (their dates, sources or columns) are refused, since they would be stored twice."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tension.core.dates import now_iso
from tension.core.records import storable
from tension.pipeline.ingest.summary import SHOWN, Summary
from tension.store import runs
from tension.store.engine import Store

# Options that decide the rows' keys: the same bytes read with other values would be stored
# a second time. --dedupe-window only marks copies.
KEYED_OPTIONS = ("mapping", "source", "tz", "date_order", "date")


def file_fingerprint(path: str, options: dict) -> str | None:
    """Hash of a regular file's bytes and the ingest options; None for folders and URLs."""
    return file_digests(path, options)[0]


def file_digests(path: str, options: dict) -> tuple[str | None, str | None]:
    """(hash of the bytes and the options, hash of the bytes alone), in one read; Nones
    for folders and URLs."""
    p = Path(path)
    if not p.is_file():
        return None, None
    h = hashlib.blake2b(digest_size=20)
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    content = h.copy().hexdigest()
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    return h.hexdigest(), content


def keyed(options: dict) -> dict:
    return {k: options.get(k) for k in KEYED_OPTIONS if options.get(k) not in (None, "auto")
            or k == "tz"}


def known_file(store: Store, fingerprint: str, path: str, s: Summary) -> bool:
    """Whether this file was imported whole with these options; if so, counted as such, its
    quarantined rows (of the run that read it) reported too."""
    row = runs.imported_file(store, fingerprint)
    if row is None:
        return False
    s.files.append(path)
    s.formats[path] = row["format"]
    s.unchanged.append(path)
    s.read += row["n_read"]
    s.already += row["n_read"] - row["n_quarantined"]
    s.quarantined += row["n_quarantined"]
    if row["n_quarantined"]:
        # The rows that run recorded for this file (those an earlier import recorded first are
        # listed under it: one quarantine row per problem).
        shown, listed = runs.quarantined(store, run_id=row["run_id"], origins=[row["origin"]],
                                         limit=max(0, SHOWN - len(s.problems)))
        s.quarantine_in.append({"run": row["run_id"], "file": row["origin"], "n": row["n_quarantined"],
                                "listed": listed})
        s.keep_problems({"file": r["origin"], "row": r["row"], "field": r["field"], "reason": r["reason"]}
                        for r in shown)
    return True


def imported_otherwise(store: Store, content: str, options: dict) -> str | None:
    """Why these bytes must not be imported with these options (None: they may be)."""
    mine = keyed(options)
    for run_id, earlier, kept in runs.imports_of_content(store, content):
        if not kept:  # every row was quarantined: nothing of it is stored to be stored twice
            continue
        theirs = json.loads(earlier)
        differ = [k for k in KEYED_OPTIONS if theirs.get(k) != mine.get(k)
                  # --date dates only rows that have no date: without it they were quarantined
                  # (not stored), so adding or dropping it stores nothing twice; another day would.
                  and not (k == "date" and None in (theirs.get(k), mine.get(k)))]
        if differ:
            was = ", ".join(_option_text(k, theirs.get(k)) for k in differ)
            now_ = ", ".join(_option_text(k, mine.get(k)) for k in differ)
            return (f"not imported: the same file was imported before (run {run_id}) with {was}; "
                    f"with {now_} its rows would be stored a second time. Import it with the "
                    f"same options, or first undo that import: python -m tension runs remove {run_id}")
    return None


def _option_text(key: str, value: object) -> str:
    flag = {"mapping": "--map", "date_order": "--date-order"}.get(key, f"--{key}")
    if value in (None, "auto"):
        return f"no {flag}"
    if isinstance(value, dict):
        value = ",".join(f"{k}={v}" for k, v in value.items())
    return f"{flag} {value}"


def record_file(store: Store, path: str, fingerprint: str, content: str, options: dict,
                fmt: str, n_read: int, n_quarantined: int, run_id: int | None) -> None:
    runs.record_file(store, {
        "fingerprint": fingerprint, "origin": storable(path), "run_id": run_id, "format": fmt,
        "n_read": n_read, "n_quarantined": n_quarantined, "completed_at": now_iso(),
        "content_digest": content, "options": json.dumps(keyed(options), sort_keys=True)})
