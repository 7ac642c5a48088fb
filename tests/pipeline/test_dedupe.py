"""Exact-copy identity: the normalised text and its hash must never drift, since stored
articles and scores are keyed by them (a changed hash would re-add and re-score a corpus)."""

from __future__ import annotations

import re
import sys

from tension.core.hashing import content_hash, normalize

TRICKY = " \u00a0Kim\u3000Jong\x1cUn\tMEETS\n\n STRASSE Straße\u2028talks\u200b  "


def test_the_content_hash_of_a_known_text_is_what_it_always_was() -> None:
    # Value computed with the first implementation (re.sub(r"\s+", " ", text).strip().casefold()).
    assert normalize(TRICKY) == "kim jong un meets strasse strasse talks\u200b"
    assert content_hash(TRICKY, "Body\u00a0 text\r\n") == "b734de44b604222c9c7c0d8d7d6f97a7196a832d"


def test_whitespace_is_the_same_set_of_characters_as_the_regex_s() -> None:
    space = re.compile(r"\s")
    for c in map(chr, range(sys.maxunicode + 1)):
        text = f"a{c}{c}b{c}"
        assert normalize(text) == re.sub(r"\s+", " ", text).strip().casefold(), hex(ord(c))
        assert bool(space.match(c)) == c.isspace()
