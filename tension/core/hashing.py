"""Stable digests: row keys, content hashes (what is scored, what exact copies share)."""

from __future__ import annotations

import hashlib


def digest(*parts: str) -> str:
    """A short, stable hex digest of text parts (40 hex chars of BLAKE2b)."""
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=20).hexdigest()


def normalize(text: str) -> str:
    """Case-folded, whitespace-collapsed text: what "the same text" means for exact copies.
    (`str.split` knows the same whitespace as the regex `\\s+`, so stored hashes keep.)"""
    return " ".join(text.split()).casefold()


def content_hash(title: str, text: str) -> str:
    """Identity of what gets scored: the normalised title and text."""
    return digest(normalize(title), normalize(text))
