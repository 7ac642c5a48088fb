"""Which format a file is when none was given: its extension, else its first bytes."""

from __future__ import annotations

import json

from tension.io.readers.jsondoc import articles_in
from tension.io.readers.registry import format_of
from tension.io.readers.streams import SafeStream
from tension.io.readers.text import ext

_HEAD = 64 * 1024


def detect(path: str) -> tuple[str, str]:
    """The format of a file and how it was found (for `Reader.detected`); OSError if unreadable."""
    extension = ext(path)
    chosen = format_of(extension)
    if chosen is None:
        return sniff_format(path), "detected from the content"
    if chosen == "json" and looks_like_jsonl(path):
        return "jsonl", "detected from the content (one JSON object a line)"
    return chosen, f"detected from the {extension} extension"


def sniff_format(path: str) -> str:
    """Guess the format from the first bytes (after gunzip) when the extension says nothing."""
    try:
        with SafeStream(path) as stream:
            head = stream.read_up_to(_HEAD)
    except OSError:
        return "csv"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "rss"
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        first = text.split("\n", 1)[0].strip()
        try:
            value = json.loads(first)
        except (ValueError, RecursionError):
            return "json"
        if isinstance(value, dict) and articles_in(value)[0] is None:
            return "jsonl"
        return "json"
    return "csv"


def looks_like_jsonl(path: str) -> bool:
    """A .json file holding one object a line (a common mislabel) is read as JSONL."""
    try:
        with SafeStream(path) as stream:
            head = stream.read_up_to(_HEAD)
    except OSError:
        return False
    lines = [line.strip() for line in head.decode("utf-8", "replace").lstrip("\ufeff").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) < 2 or not lines[0].startswith("{") or not lines[1].startswith("{"):
        return False
    try:
        first = json.loads(lines[0])
    except (ValueError, RecursionError):
        return False
    return isinstance(first, dict) and articles_in(first)[0] is None
