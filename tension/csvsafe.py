"""Spreadsheet-safe text cells (OWASP "CSV injection"): shared by every CSV we write."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix an apostrophe to text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo `neutralise` when reading our own CSV back."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
