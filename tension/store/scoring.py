"""What a store scores with: its lexicon and its model, kept in the store (settings and the
models table) so that every command and the dashboard read the same scores. None means the
shipped one, which is stored as no setting."""

from __future__ import annotations

import json

from sqlalchemy import select

from indicators.learned.scorer import LearnedScorer
from indicators.lexicon import default_lexicon_bytes, load_lexicon
from indicators.scorers import load_model, scorer_for
from tension.core.dates import now_iso
from tension.store import schema
from tension.store.engine import Store
from tension.store.sql import insert_ignore


def store_lexicon(store: Store) -> bytes | None:
    """The lexicon this store scores with (None: the shipped one)."""
    text = store.setting("lexicon")
    return text.encode("utf-8") if text is not None else None


def store_model(store: Store) -> bytes | None:
    """The model this store scores with (None: the shipped one)."""
    version = store.setting("model")
    if version is None:
        return None
    m = schema.models.c
    with store.read() as conn:
        blob = conn.execute(select(m.model).where(m.version == version)).scalar()
    if blob is None:
        raise ValueError(f"the store's model {version} is missing from its models table")
    return bytes(blob)


def store_scorer(store: Store) -> LearnedScorer:
    """The scorer whose scores this store's index, spikes, explanations and exports read."""
    return scorer_for(store_lexicon(store), store_model(store))


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


def add_model(store: Store, model: bytes, report: dict, n_labels: int) -> str:
    """Keep a trained model in the store (not yet used); its version."""
    version = load_model(model).version
    with store.write() as conn:
        insert_ignore(conn, schema.models, [{
            "version": version, "created_at": now_iso(), "model": model,
            "report": json.dumps(report, sort_keys=True), "n_labels": n_labels}], ["version"])
    return version


def use_model(store: Store, version: str | None) -> None:
    """Score with the store's model of that version from now on (None: the shipped one)."""
    if version is not None:
        m = schema.models.c
        with store.read() as conn:
            if conn.execute(select(m.version).where(m.version == version)).scalar() is None:
                raise ValueError(f"no model {version} in this store")
    store.set_setting("model", version)


def list_models(store: Store) -> list[dict]:
    """The store's models, newest first, with their figures and whether each is in use."""
    m = schema.models.c
    current = store.setting("model")
    with store.read() as conn:
        rows = conn.execute(select(m.version, m.created_at, m.report, m.n_labels)
                            .order_by(m.created_at.desc())).mappings().all()
    return [{**r, "report": json.loads(r["report"]), "in_use": r["version"] == current} for r in rows]
