"""An analyst's label of a sentence, checked: what the store keeps and files bring."""

from __future__ import annotations

LABELS = ("hostile", "neutral", "conciliatory")
MAX_TEXT, MAX_AUTHOR = 20_000, 100


class LabelError(ValueError):
    """A label that cannot be stored; the message says why."""


def check(text: object, label: object, author: object = "") -> tuple[str, str, str]:
    """The cleaned (text, label, author), or LabelError naming the field."""
    if not isinstance(text, str) or not text.strip():
        raise LabelError("'text' must be a sentence, not empty")
    if len(text) > MAX_TEXT:
        raise LabelError(f"'text' is {len(text):,} characters; the limit is {MAX_TEXT:,}")
    if "\x00" in text:
        raise LabelError("'text' contains a NUL character")
    label = label.strip().lower() if isinstance(label, str) else label
    if label not in LABELS:
        raise LabelError(f"'label' must be one of {', '.join(LABELS)}, not {label!r}")
    author = (author or "") if isinstance(author, str) else None
    if author is None:
        raise LabelError("'author' must be text")
    if len(author) > MAX_AUTHOR:
        raise LabelError(f"'author' is over {MAX_AUTHOR} characters")
    return text.strip(), label, author.strip()
