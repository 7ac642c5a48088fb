"""Analysts' labels of sentences (hostile, neutral, conciliatory), for training the store's
model: one label per text, the latest wins; a label names its author."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, select, update

from tension.core.dates import now_iso
from tension.core.hashing import content_hash
from tension.core.labels import check
from tension.store import schema
from tension.store.engine import Store


def set_label(store: Store, text: str, label: str, author: str = "") -> dict:
    """Label a sentence (a second label of the same text replaces the first)."""
    text, label, author = check(text, label, author)
    with store.write() as conn:
        return _put(conn, text, label, author)


def set_labels(store: Store, rows: list[tuple[str, str, str]]) -> int:
    """Store checked (text, label, author) rows in one transaction; how many."""
    with store.write() as conn:
        for text, label, author in rows:
            _put(conn, text, label, author)
    return len(rows)


def _put(conn: Connection, text: str, label: str, author: str) -> dict:
    lb = schema.labels.c
    key = content_hash("", text)
    stamp = now_iso()
    done = conn.execute(update(schema.labels).where(lb.text_hash == key).values(
        label=label, author=author, updated_at=stamp)).rowcount
    if not done:
        conn.execute(schema.labels.insert().values(text_hash=key, text=text, label=label, author=author,
                                                   created_at=stamp, updated_at=stamp))
    return dict(conn.execute(select(schema.labels).where(lb.text_hash == key)).mappings().one())


def remove_label(store: Store, label_id: int) -> bool:
    with store.write() as conn:
        return bool(conn.execute(delete(schema.labels).where(schema.labels.c.id == label_id)).rowcount)


def list_labels(store: Store, limit: int | None = None) -> list[dict]:
    """Labels, most recently set first."""
    lb = schema.labels.c
    q = select(lb.id, lb.text, lb.label, lb.author, lb.created_at, lb.updated_at).order_by(
        lb.updated_at.desc(), lb.id.desc())
    if limit:
        q = q.limit(limit)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def labels_for(store: Store, texts: list[str]) -> dict[str, dict]:
    """The labels of these texts (by text), for showing them beside the sentences."""
    lb = schema.labels.c
    keys = {content_hash("", t.strip()): t for t in texts}
    with store.read() as conn:
        rows = conn.execute(select(lb.text_hash, lb.label, lb.author).where(
            lb.text_hash.in_(list(keys)))).mappings().all()
    return {keys[r["text_hash"]]: dict(r) for r in rows}


def count_labels(store: Store) -> dict[str, int]:
    lb = schema.labels.c
    with store.read() as conn:
        rows = conn.execute(select(lb.label, func.count()).group_by(lb.label)).all()
    return {label: n for label, n in rows}
