"""The lexicon a store scores with, kept in its settings so that every command and the
dashboard read the same scores."""

from __future__ import annotations

from indicators.combine import Scorer, scorer_for
from indicators.lexicon import default_lexicon_bytes, load_lexicon
from tension.store.engine import Store


def store_lexicon(store: Store) -> bytes | None:
    """The lexicon this store scores with (None: the shipped one)."""
    text = store.setting("lexicon")
    return text.encode("utf-8") if text is not None else None


def store_scorer(store: Store) -> Scorer:
    """The scorer whose scores this store's index, spikes, explanations and exports read."""
    return scorer_for(store_lexicon(store))


def use_lexicon(store: Store, lexicon: bytes) -> None:
    """Make `lexicon` the store's lexicon (checked first: a broken one raises ValueError).
    Why: a store holds one current set of scores; every command and the dashboard read
    the scores of the store's lexicon. The shipped lexicon is stored as no setting."""
    load_lexicon(lexicon)
    wanted = None if lexicon == default_lexicon_bytes() else lexicon
    if wanted != store_lexicon(store):
        store.set_setting("lexicon", wanted.decode("utf-8") if wanted is not None else None)


def lexicon_for(store: Store, lexicon: bytes | None) -> bytes | None:
    """The lexicon to score with: the one given, which becomes the store's (so that the
    index, exports and dashboard read what was scored), else the store's own."""
    if lexicon is not None:
        use_lexicon(store, lexicon)
    return store_lexicon(store)
