"""Analyst annotations: a day or a date range with a title, note, tags and author.

They are the analysts' work product, so:
- every change is one transaction; nothing is ever overwritten silently: an
  update or delete must name the `updated_at` it started from, and loses with a
  `Conflict` (carrying the current version) if someone saved in between;
- delete is soft (`deleted_at`), so a mistaken delete can be undone (`restore`, which
  needs the `deleted_at` of that very delete: an undo never revives a later deletion);
- a deleted annotation stays deleted: updating or deleting it raises `Deleted`, and no
  update ever inserts (a stale form or a second browser tab cannot bring it back);
- `updated_at` strictly increases on every write, so it is a reliable version.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable

from sqlalchemy import Connection, select, update

from tension.core.csvsafe import neutralise, unneutralise
from tension.core.dates import UnsupportedDate, check_day, iso_day
from tension.store import schema
from tension.store.engine import Store

MAX_TITLE, MAX_NOTE, MAX_TAGS, MAX_TAG, MAX_AUTHOR = 200, 20_000, 20, 50, 100
CSV_COLUMNS = ["id", "start", "end", "kind", "title", "note", "tags", "author", "created_at",
               "updated_at"]


class AnnotationError(ValueError):
    """Bad input for an annotation; the message names the field."""


class NotFound(LookupError):
    pass


class Deleted(NotFound):
    """The annotation exists but was deleted at `deleted_at` (a NotFound, so the API's 404)."""

    def __init__(self, ann_id: int, deleted_at: str) -> None:
        super().__init__(f"annotation {ann_id} was deleted at {deleted_at}")
        self.ann_id, self.deleted_at = ann_id, deleted_at


class Conflict(Exception):
    """Someone else changed the annotation since `expected`; `current` is what is stored now."""

    def __init__(self, current: dict) -> None:
        super().__init__(f"annotation {current['id']} was changed at {current['updated_at']}; "
                         "reload it and apply your edit again")
        self.current = current


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(t: dt.datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _next_stamp(previous: str | None) -> str:
    """Now, or one microsecond after `previous` if the clock has not moved past it."""
    now = _now()
    if previous:
        prev = dt.datetime.fromisoformat(previous.replace("Z", "+00:00"))
        if now <= prev:
            now = prev + dt.timedelta(microseconds=1)
    return _stamp(now)


def _valid_stamp(value: object) -> bool:
    try:
        return isinstance(value, str) and bool(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return False


def _day(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        try:
            return check_day(value, field)
        except UnsupportedDate as exc:
            raise AnnotationError(str(exc)) from None
    if isinstance(value, str):
        try:
            return iso_day(value, field)
        except UnsupportedDate as exc:
            raise AnnotationError(str(exc)) from None
        except ValueError:
            pass
    raise AnnotationError(f"'{field}' must be a date like 2018-01-03, not {value!r}")


def _storable_text(field: str, value: str) -> None:
    """Refuse text one backend would store and another refuse (the same answer on both)."""
    if "\x00" in value:
        raise AnnotationError(f"'{field}' contains a NUL character (\\u0000), which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise AnnotationError(f"'{field}' is not valid Unicode text (a lone surrogate such as "
                              "\\ud800)") from None


def _text(payload: dict, field: str, limit: int, required: bool = False) -> str:
    value = payload.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise AnnotationError(f"'{field}' must be text")
    if len(value) > 4 * limit:  # linear checks only, and on bounded text
        raise AnnotationError(f"'{field}' is {len(value)} characters; the limit is {limit}")
    _storable_text(field, value)
    value = value.strip()
    if required and not value:
        raise AnnotationError(f"'{field}' is required")
    if len(value) > limit:
        raise AnnotationError(f"'{field}' is {len(value)} characters; the limit is {limit}")
    return value


def _tags(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [t for t in value.replace(";", ",").split(",")]
    if not isinstance(value, list):
        raise AnnotationError("'tags' must be a list of strings (or one comma-separated string)")
    if len(value) > MAX_TAGS * 4:  # before any per-tag work: 40,000 tags cost seconds
        raise AnnotationError(f"at most {MAX_TAGS} tags (got {len(value):,})")
    if not all(isinstance(t, str) for t in value):
        raise AnnotationError("'tags' must be a list of strings (or one comma-separated string)")
    for t in value:
        if len(t) > 4 * MAX_TAG:
            raise AnnotationError(f"tag {t[:20]!r}… is over {MAX_TAG} characters")
        _storable_text("tags", t)
    if any("," in t or ";" in t for t in value):
        raise AnnotationError("a tag cannot contain ',' or ';' (they separate tags in CSV files)")
    tags = []
    for t in value:
        t = t.strip()
        if t and t not in tags:
            if len(t) > MAX_TAG:
                raise AnnotationError(f"tag {t[:20]!r}… is over {MAX_TAG} characters")
            tags.append(t)
    if len(tags) > MAX_TAGS:
        raise AnnotationError(f"at most {MAX_TAGS} tags")
    return tags


def validate(payload: dict, partial: bool = False, current: dict | None = None) -> dict:
    """Checked column values from a JSON-like payload (`date`, or `start` and `end`)."""
    if not isinstance(payload, dict):
        raise AnnotationError("an annotation must be a JSON object")
    out: dict = {}
    if "date" in payload or "start" in payload or "end" in payload or not partial:
        if payload.get("date") not in (None, ""):
            start = end = _day(payload["date"], "date")
        elif payload.get("start") not in (None, ""):
            start = _day(payload["start"], "start")
            end = _day(payload["end"], "end") if payload.get("end") not in (None, "") else start
        elif partial and current:
            start = _day(current["start"], "start")
            end = _day(payload.get("end") or current["end"], "end")
        else:
            raise AnnotationError("give 'date' for a day, or 'start' and 'end' for a range")
        if end < start:
            raise AnnotationError(f"'end' {end} is before 'start' {start}")
        out.update(start_date=start, end_date=end, kind="point" if start == end else "range")
    for field, limit, required in (("title", MAX_TITLE, True), ("note", MAX_NOTE, False),
                                   ("author", MAX_AUTHOR, False)):
        if field in payload or not partial:
            out[field] = _text(payload, field, limit, required)
    if "tags" in payload or not partial:
        out["tags"] = json.dumps(_tags(payload.get("tags")), ensure_ascii=False)
    return out


def as_dict(row: dict) -> dict:
    """The API's JSON shape: `date` for a day, `start`/`end` for a range (both always present)."""
    start, end = str(row["start_date"])[:10], str(row["end_date"])[:10]
    out = {"id": row["id"], "kind": row["kind"], "start": start, "end": end,
           "title": row["title"], "note": row["note"], "tags": json.loads(row["tags"] or "[]"),
           "author": row["author"], "created_at": row["created_at"], "updated_at": row["updated_at"]}
    if row["kind"] == "point":
        out["date"] = start
    return out


def _fetch(conn: Connection, ann_id: int, include_deleted: bool = False) -> dict:
    """The row; `Deleted` for a deleted one (unless `include_deleted`), `NotFound` for none."""
    row = conn.execute(select(schema.annotations).where(
        schema.annotations.c.id == ann_id)).mappings().first()
    if row is None:
        raise NotFound(f"no annotation {ann_id}")
    if row["deleted_at"] is not None and not include_deleted:
        raise Deleted(ann_id, row["deleted_at"])
    return dict(row)


def _winner(conn: Connection, ann_id: int, fallback: dict) -> dict:
    """The version that beat us. The failed UPDATE waited for the winner's commit (a row
    lock on PostgreSQL), so a fresh read now sees it rather than what we read before."""
    try:
        return as_dict(_fetch(conn, ann_id, include_deleted=True))
    except NotFound:
        return as_dict(fallback)


def _lost(conn: Connection, ann_id: int, fallback: dict) -> Exception:
    """Why a guarded UPDATE changed nothing: `Deleted` if someone deleted the annotation in
    between (so the caller is not offered a deleted version to edit), else `Conflict`."""
    row = conn.execute(select(schema.annotations.c.deleted_at).where(
        schema.annotations.c.id == ann_id)).first()
    if row is not None and row[0] is not None:
        return Deleted(ann_id, row[0])
    return Conflict(_winner(conn, ann_id, fallback))


def create(store: Store, payload: dict, stamps: tuple[str, str] | None = None) -> dict:
    """Store a new annotation; returns it with its id and timestamps.

    `stamps` (created_at, updated_at) keeps the times of an imported annotation.
    """
    values = validate(payload)
    created = updated = _stamp(_now())
    if stamps and all(_valid_stamp(x) for x in stamps):
        created, updated = stamps
    with store.write() as conn:
        new_id = conn.execute(schema.annotations.insert().values(
            **values, created_at=created, updated_at=updated)).inserted_primary_key[0]
        return as_dict(_fetch(conn, new_id))


def get(store: Store, ann_id: int) -> dict:
    with store.read() as conn:
        return as_dict(_fetch(conn, ann_id))


def update_annotation(store: Store, ann_id: int, payload: dict, expected: str | None) -> dict:
    """Change fields of an annotation last seen at `expected` (its `updated_at`).

    Raises `Deleted` (or `NotFound`) when there is no live annotation `ann_id`: an edit
    of a deleted annotation is refused, never turned into a new one."""
    if not expected:
        raise AnnotationError("'updated_at' of the version you edited is required "
                              "(in the body or an If-Match header), so no edit is lost")
    with store.write() as conn:
        current = _fetch(conn, ann_id)
        values = validate(payload, partial=True, current=as_dict(current))
        stamp = _next_stamp(current["updated_at"])
        a = schema.annotations.c
        done = conn.execute(update(schema.annotations).where(
            a.id == ann_id, a.updated_at == expected, a.deleted_at.is_(None)).values(
            **values, updated_at=stamp)).rowcount
        if not done:
            raise _lost(conn, ann_id, current)
        return as_dict(_fetch(conn, ann_id))


def delete(store: Store, ann_id: int, expected: str | None = None) -> dict:
    """Soft-delete; with `expected`, only if nobody changed it since.

    Returns the annotation as it was, with the `deleted_at` that `restore` needs to undo
    exactly this delete. Raises `Deleted` if it already was."""
    with store.write() as conn:
        current = _fetch(conn, ann_id)
        a = schema.annotations.c
        q = update(schema.annotations).where(a.id == ann_id, a.deleted_at.is_(None))
        if expected:
            q = q.where(a.updated_at == expected)
        stamp = _next_stamp(current["updated_at"])
        if not conn.execute(q.values(deleted_at=stamp, updated_at=stamp)).rowcount:
            raise _lost(conn, ann_id, current)
        return {**as_dict(current), "deleted_at": stamp}


def restore(store: Store, ann_id: int, deleted_at: str) -> dict:
    """Undo the delete made at `deleted_at`: the same annotation (id, dates, text, tags,
    author, created_at) is live again, with a new `updated_at` (so an edit started before
    the delete loses as stale instead of overwriting silently).

    Raises `NotFound` if there is no such annotation, `Conflict` (with the current row)
    if it is not deleted at `deleted_at`: already restored, or deleted again since, which
    an old undo must not revive."""
    with store.write() as conn:
        current = _fetch(conn, ann_id, include_deleted=True)
        a = schema.annotations.c
        stamp = _next_stamp(current["updated_at"])
        done = conn.execute(update(schema.annotations).where(
            a.id == ann_id, a.deleted_at == deleted_at).values(
            deleted_at=None, updated_at=stamp)).rowcount
        if not done:
            raise Conflict(_winner(conn, ann_id, current))
        return as_dict(_fetch(conn, ann_id))


def list_annotations(store: Store, start: dt.date | None = None, end: dt.date | None = None,
                     tag: str | None = None, include_deleted: bool = False) -> list[dict]:
    """Annotations overlapping [start, end], oldest first; with `tag`, those with a tag
    containing it, whatever the case ("nuc" and "NUCLEAR" find "nuclear": analysts search
    tags they half remember)."""
    a = schema.annotations.c
    q = select(schema.annotations).order_by(a.start_date, a.id)
    if not include_deleted:
        q = q.where(a.deleted_at.is_(None))
    if start:
        q = q.where(a.end_date >= start)
    if end:
        q = q.where(a.start_date <= end)
    with store.read() as conn:
        rows = [as_dict(dict(r)) for r in conn.execute(q).mappings()]
    needle = (tag or "").strip().casefold()
    if needle:
        rows = [r for r in rows if any(needle in t.casefold() for t in r["tags"])]
    return rows


def to_csv(rows: Iterable[dict]) -> str:
    """Annotations as CSV (tags joined with ';'), spreadsheet formulas neutralised."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: neutralise(v) for k, v in {**r, "tags": ";".join(r["tags"])}.items()})
    return buf.getvalue()


def import_csv(store: Store, text: str) -> dict:
    """Add the annotations of a CSV made by `to_csv` (or by hand: start, end, title, …).

    Rows identical to a stored annotation (same dates, title, author, note) are
    skipped, so importing the same file twice adds nothing. Returns counts and
    per-row errors.
    """
    existing = {(r["start"], r["end"], r["title"], r["author"], r["note"])
                for r in list_annotations(store)}
    added, skipped, errors = 0, 0, []
    reader = csv.DictReader(io.StringIO(text))
    found = [c for c in reader.fieldnames or [] if c]
    if "title" not in found or not {"start", "date"} & set(found):
        shown = ", ".join(repr(c[:40]) for c in found[:8]) or "nothing"
        return {"added": 0, "skipped": 0, "errors": [
            f"not an annotations CSV: needs columns 'start' (or 'date') and 'title'; found {shown}"]}
    for n, rec in enumerate(reader, 2):
        rec = {k: unneutralise(v or "") for k, v in rec.items() if k}
        payload = {"start": rec.get("start") or rec.get("date"), "end": rec.get("end"),
                   "title": rec.get("title"), "note": rec.get("note", ""),
                   "tags": rec.get("tags", ""), "author": rec.get("author", "")}
        try:
            values = validate(payload)
        except AnnotationError as exc:
            errors.append(f"row {n}: {exc}")
            continue
        key = (values["start_date"].isoformat(), values["end_date"].isoformat(), values["title"],
               values["author"], values["note"])
        if key in existing:
            skipped += 1
            continue
        create(store, payload, (rec.get("created_at", ""), rec.get("updated_at", "")))
        existing.add(key)
        added += 1
    return {"added": added, "skipped": skipped, "errors": errors}
