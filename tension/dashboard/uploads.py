"""Article files dropped on the page: saved safely, ingested in the background with progress.

Jobs live in the store (`jobs`), so a server with several worker processes reports on
every upload whichever process took it. A file name that
tries to leave the upload folder ("../x.csv", "/etc/passwd", "a\\b.csv") is refused,
as is a file over the size limit; everything else goes through the same `ingest`
as the CLI, so quarantine and idempotency are the same.

A file is saved as STAMP_RANDOM_NAME, but it is read under its own NAME: that is its
default source, and a date in it is the date of an undated text (the stamp, the upload
time, must never become an article's date). The analyst may name the source and give the
day of the articles that have no date (the CLI's --source and --date).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tension.core.dates import iso_day
from tension.core.records import storable
from tension.io.readers import upload_suffixes
from tension.pipeline.ingest import ingest
from tension.store import jobs, runs
from tension.store.engine import Store

# The formats the readers' registry marks as uploadable: ".csv", ..., ".csv.gz", ...
ALLOWED_SUFFIXES = upload_suffixes()


def _one_of(suffixes: list[str]) -> str:
    return suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"


def _suffix_phrase(suffixes: tuple[str, ...]) -> str:
    """'a .csv, .tsv, .json or .jsonl file (optionally .gz) or a .txt file' from the suffixes."""
    gzipped = [s for s in suffixes if not s.endswith(".gz") and s + ".gz" in suffixes]
    plain = [s for s in suffixes if not s.endswith(".gz") and s not in gzipped]
    parts = ([f"a {_one_of(gzipped)} file (optionally .gz)"] if gzipped else []) + (
        [f"a {_one_of(plain)} file"] if plain else [])
    return " or ".join(parts)


# The refusal message names what is accepted.
_SUFFIX_PHRASE = _suffix_phrase(ALLOWED_SUFFIXES)
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,150}$")


# Limits of one upload, beyond its compressed size: what it inflates to (checked while
# inflating, before anything is stored), how many rows it may hold and how long it may take.
# A JSON array is parsed whole, so it gets a lower limit than the formats read as a stream.
MAX_INFLATED = 128 * 1024 * 1024
MAX_INFLATED_WHOLE = 16 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_SECONDS = 300.0


def check_inflated(data: bytes, name: str) -> None:
    """UploadError when a gzipped upload inflates past its limit (MAX_INFLATED, or
    MAX_INFLATED_WHOLE for a JSON array), found while inflating in chunks: a bomb costs
    at most the limit in time and a chunk in memory."""
    import gzip
    import io
    import zlib

    if data[:2] != b"\x1f\x8b":
        head = data.lstrip()[:1]
        if head == b"[" and len(data) > MAX_INFLATED_WHOLE:
            raise UploadError(f"{name}: a JSON array is read whole; the limit is {MAX_INFLATED_WHOLE // 2**20} MB "
                              "for an upload (use JSONL, or the command line)")
        return
    total, first = 0, b""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            while chunk := fh.read(1024 * 1024):
                if not first:
                    first = chunk.lstrip()[:1]
                total += len(chunk)
                limit = MAX_INFLATED_WHOLE if first == b"[" else MAX_INFLATED
                if total > limit:
                    raise UploadError(f"{name} inflates past {limit // 2**20} MB, the limit for an upload"
                                      + (" of a JSON array (read whole)" if first == b"[" else "")
                                      + "; import it with the command line instead")
    except (OSError, EOFError, zlib.error):
        return  # a broken gzip: the reader says what is wrong with it, naming the file


class UploadLimit(Exception):
    """An upload past its rows or time limit (the import stops; what was stored stays and
    the job says how to undo it)."""


class UploadError(ValueError):
    """A refused upload; the message says why."""


def safe_name(filename: str | None) -> str:
    """The file name to store, or UploadError if it tries to escape the folder or is odd."""
    name = (filename or "").strip()
    if not name or "/" in name or "\\" in name or name in (".", "..") or ".." in name:
        raise UploadError(f"refused file name {filename!r}: it must be a plain file name")
    if "\x00" in name or not _SAFE.match(name):
        raise UploadError(f"refused file name {filename!r}: use letters, digits, '.', '_', '-' and spaces")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadError(f"refused {name!r}: upload {_SUFFIX_PHRASE}")
    return name


SOURCE_CHARS = 200  # a source name is a label in a list, not a paragraph
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def source_name(value: str | None) -> str | None:
    """The source the analyst typed beside the upload box (spaces squeezed), or None: then
    the file's own source column, else its name. UploadError if it is too long."""
    name = " ".join(_CONTROLS.sub(" ", value or "").split())
    if len(name) > SOURCE_CHARS:
        raise UploadError(f"source name is {len(name):,} characters, over the {SOURCE_CHARS} limit")
    return name or None


def upload_date(value: str | None) -> dt.date | None:
    """The day given beside the upload box for articles without a date (None: none given).
    UploadError unless it is a day like 2018-01-03."""
    if value is None or not str(value).strip():
        return None
    try:
        return iso_day(str(value))
    except ValueError:
        raise UploadError(f"date {str(value)[:40]!r} is not a day like 2018-01-03") from None


def decode_upload(contents: str, max_bytes: int) -> bytes:
    """Bytes of a dcc.Upload data URL; UploadError if malformed or too large."""
    try:
        _, b64 = contents.split(",", 1)
        if len(b64) * 3 // 4 > max_bytes + 3:
            raise UploadError(f"file is over the {max_bytes // (1024 * 1024)} MB upload limit")
        data = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError("the upload could not be decoded") from None
    if len(data) > max_bytes:
        raise UploadError(f"file is over the {max_bytes // (1024 * 1024)} MB upload limit")
    return data


_STAMPED = re.compile(r"^\d{8}T\d{6}_[0-9a-f]{6}_(?=.)")  # how `Uploads.save` names a copy


def shown_name(origin: str, stored: str | None, name: str) -> str:
    """A quarantined row's file as the page shows it: this upload's own name for its stored
    copy; another upload's (same bytes, read before) without its stamp; else the file name."""
    if origin == stored:
        return name
    return _STAMPED.sub("", Path(origin).name)


@dataclass
class Job:
    id: str
    name: str
    status: str = "queued"  # queued | running | done | failed
    rows: int = 0
    summary: dict = field(default_factory=dict)
    error: str = ""

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "status": self.status, "rows": self.rows,
                "summary": self.summary, "error": self.error}


class Uploads:
    """Saves uploads under `folder` and ingests them, one background thread per file. The
    jobs' state lives in the store, so any server process can report on any upload."""

    PROGRESS_EVERY = 1.0  # seconds between progress writes to the store

    def __init__(self, store: Store, folder: Path, max_bytes: int) -> None:
        self.store = store
        self.folder = folder
        self.max_bytes = max_bytes

    def save(self, filename: str | None, contents: str) -> Path:
        if not isinstance(contents, str) or not (filename is None or isinstance(filename, str)):
            raise UploadError("the upload sent no file (its name and contents must be text)")
        name = safe_name(filename)
        data = decode_upload(contents, self.max_bytes)
        check_inflated(data, name)
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = (self.folder / f"{stamp}_{uuid.uuid4().hex[:6]}_{name}").resolve()
        if self.folder.resolve() not in path.parents:
            raise UploadError(f"refused file name {filename!r}")
        path.write_bytes(data)
        return path

    def start(self, filename: str | None, contents: str, *, source: str | None = None,
              date: str | dt.date | None = None) -> Job:
        """Save the file and ingest it in the background. `source` names the source of all
        its articles (default: the file's source column, else its name); `date` is the day of
        its articles that have none of their own. UploadError names what is refused."""
        source = source_name(source)
        day = date if type(date) is dt.date else upload_date(date)
        path = self.save(filename, contents)
        job = Job(uuid.uuid4().hex, safe_name(filename))
        jobs.add_job(self.store, job.id, job.name)
        threading.Thread(target=self._run, args=(job, path, source, day), daemon=True).start()
        return job

    def _run(self, job: Job, path: Path, source: str | None = None, day: dt.date | None = None) -> None:
        jobs.update_job(self.store, job.id, status="running")
        last = [time.monotonic()]

        began = time.monotonic()

        def progress(_path: str, n: int) -> None:
            job.rows += n
            if job.rows > MAX_ROWS:
                raise UploadLimit(f"the file holds more than {MAX_ROWS:,} rows, the limit for an upload")
            if time.monotonic() - began > MAX_SECONDS:
                raise UploadLimit(f"the import took longer than {MAX_SECONDS:.0f} s, the limit for an upload")
            if time.monotonic() - last[0] >= self.PROGRESS_EVERY:
                last[0] = time.monotonic()
                jobs.update_job(self.store, job.id, rows=job.rows)

        try:
            summary = ingest(self.store, [str(path)], progress=progress, batch_size=1000, source=source,
                             date=day, names={str(path): job.name})
            result = summary.as_dict()
            # The page names the file as the analyst does, not by its stored copy.
            stored = storable(str(path))
            result["problems"] = [{**p, "file": shown_name(p["file"], stored, job.name)}
                                  for p in result["problems"]]
            result["errors"] = [e.replace(str(path), job.name) for e in result["errors"]]
            result["upload"] = {"source": source, "date": day.isoformat() if day else None,
                                "path": stored}
            jobs.update_job(self.store, job.id, status="done", rows=job.rows, summary=result)
        except UploadLimit as exc:
            jobs.update_job(self.store, job.id, status="failed", rows=job.rows,
                            error=f"{exc}; import it with the command line (`python -m tension ingest`); "
                                  "`python -m tension runs list` shows the stopped import, `runs remove` "
                                  "undoes what it stored")
        except Exception as exc:  # reported to the user, not swallowed
            jobs.update_job(self.store, job.id, status="failed", rows=job.rows,
                            error=f"{type(exc).__name__}: {exc}")

    def get(self, job_id: str) -> Job | None:
        row = jobs.get_job(self.store, job_id)
        return Job(**row) if row is not None else None

    def quarantined(self, job: Job, limit: int = 1000) -> tuple[list[dict], int]:
        """The quarantine rows of a finished upload (file, row, field, reason), at most
        `limit`, and how many the store has: the page's "show all" list."""
        s = job.summary
        stored = (s.get("upload") or {}).get("path")
        rows: list[dict] = []
        total = 0
        # a job summary from before `quarantine_in` existed: its own run
        entries = s.get("quarantine_in") or ([{"run": s["run_id"], "file": None}] if s.get("run_id") else [])
        for entry in entries:
            found, n = runs.quarantined(self.store, run_id=entry["run"],
                                        origins=[entry["file"]] if entry.get("file") else None,
                                        limit=max(0, limit - len(rows)))
            rows += [{"file": shown_name(r["origin"], stored, job.name),
                      "row": r["row"], "field": r["field"], "reason": r["reason"]} for r in found]
            total += n
        return rows, total
