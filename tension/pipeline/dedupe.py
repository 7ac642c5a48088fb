"""Duplicate detection: exact copies by normalised hash, near copies by MinHash.

Syndicated wire copy arrives several times with small edits (a dateline, a
changed word). Exact copies share the hash of their normalised title and text.
Near copies of long texts (≥ MIN_WORDS words) share most word 5-shingles: a
64-value MinHash signature estimates their Jaccard similarity and 16 LSH bands
of 4 values find candidates without comparing every pair. Both kinds are only
looked for within a few days of each other (`window_days`, default 0: the same
calendar day), because a headline such as "Press review" that recurs on
different days is a new article each time.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

MIN_WORDS = 50
SHINGLE = 5
N_HASHES = 64
BANDS = 16
ROWS = N_HASHES // BANDS
NEAR_THRESHOLD = 0.8
_PRIME = (1 << 31) - 1  # a·h stays below 2^62, so uint64 arithmetic cannot overflow
_RNG = np.random.default_rng(20180103)  # fixed: signatures must agree across processes and runs
_A = _RNG.integers(1, _PRIME, size=N_HASHES, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, size=N_HASHES, dtype=np.uint64)
_WORD = re.compile(r"\w+")


def minhash(text: str) -> bytes | None:
    """MinHash signature of the word 5-shingles of a long text; None for short ones."""
    words = _WORD.findall(text.casefold())
    if len(words) < MIN_WORDS:
        return None
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
    h = np.fromiter((zlib.crc32(s.encode()) % _PRIME for s in shingles), dtype=np.uint64,
                    count=len(shingles))
    mixed = (_A[:, None] * h[None, :] + _B[:, None]) % np.uint64(_PRIME)
    return mixed.min(axis=1).astype("<u4").tobytes()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4")))


def band_keys(sig: bytes) -> list[bytes]:
    """One key per LSH band; two signatures sharing a key are near-duplicate candidates."""
    width = ROWS * 4
    return [bytes([i]) + sig[i * width:(i + 1) * width] for i in range(BANDS)]


@dataclass
class CopyFinder:
    """Remembers originals (by hash and by band) and says whether a new article copies one.

    `ref` is whatever identifies an original to the caller (a stored id, or a
    position in the batch being written).
    """

    window_days: int = 0
    _exact: dict[str, list[tuple[dt.date, object]]] = field(default_factory=dict)
    _bands: dict[bytes, list[tuple[dt.date, object, bytes]]] = field(default_factory=dict)

    def add(self, ref: object, day: dt.date, chash: str, sig: bytes | None) -> None:
        """Know an original (from the store, or earlier in the batch)."""
        self._exact.setdefault(chash, []).append((day, ref))
        if sig is not None:
            for key in band_keys(sig):
                self._bands.setdefault(key, []).append((day, ref, sig))

    def find(self, day: dt.date, chash: str, sig: bytes | None) -> tuple[object, str] | None:
        """(ref of the original, "exact" | "near"), or None for a new original."""
        for d, ref in self._exact.get(chash, ()):
            if abs((d - day).days) <= self.window_days:
                return ref, "exact"
        if sig is None:
            return None
        for key in band_keys(sig):
            for d, ref, other in self._bands.get(key, ()):
                if abs((d - day).days) <= self.window_days and similarity(sig, other) >= NEAR_THRESHOLD:
                    return ref, "near"
        return None
