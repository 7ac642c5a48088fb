"""Spreadsheet-safe text cells (OWASP "CSV injection"): shared by every CSV we write."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix an apostrophe to text a spreadsheet would run as a formula.

    Carriage returns inside the text become newlines first: Python's csv writer does not
    quote a field with a bare CR, and a spreadsheet would start a new row (and a new,
    un-neutralised cell) there.
    """
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # A leading apostrophe is escaped too, so that reading back strips exactly one.
    return "'" + value if value.startswith((*FORMULA_START, "'")) else value


def unneutralise(value: str) -> str:
    """Undo `neutralise` when reading our own CSV back."""
    if value.startswith("'") and value[1:].startswith((*FORMULA_START, "'")):
        return value[1:]
    return value
