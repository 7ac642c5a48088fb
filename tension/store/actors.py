"""Which actor each source speaks for: the store's own choices (`ingest --actor`), then the
actors file's [sources] table. Kept in the store's settings, so every command reads the same."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from indicators.actors import Actors, load_actors
from tension.store.engine import Store

SETTING = "source_actors"  # JSON: source name (case-folded) → actor code


def source_actors(store: Store) -> dict[str, str]:
    """The store's own source → actor choices."""
    text = store.setting(SETTING)
    return json.loads(text) if text else {}


def check_actor(code: str, actors: Actors) -> None:
    """ValueError unless `code` is an actor of the actors file."""
    if code not in actors.actors:
        raise ValueError(f"unknown actor {code!r}; the actors file knows {', '.join(sorted(actors.actors))}")


def set_source_actor(store: Store, sources: Iterable[str], code: str, actors: Actors | None = None) -> list[str]:
    """Make `code` the actor these sources speak for; an unknown code raises ValueError. The
    choice is the source's, so it holds for the articles it gave before too: the notes returned
    say so for each source that spoke for another actor until now."""
    actors = actors or load_actors()
    check_actor(code, actors)
    sources = list(sources)
    mapping = source_actors(store)
    before = actor_of_source(store, actors)
    notes = [f"source {name!r} spoke for {was}; now {code}, for its earlier articles too"
             for name in sources if (was := before(name)) and was != code]
    mapping.update({s.strip().casefold(): code for s in sources})
    store.set_setting(SETTING, json.dumps(mapping, sort_keys=True))
    return notes


def actor_of_source(store: Store, actors: Actors) -> Callable[[str], str]:
    """source name → the actor it speaks for ("" when nobody said)."""
    own = source_actors(store)

    def of(source: str) -> str:
        key = source.strip().casefold()
        return own.get(key) or actors.sources.get(key) or ""

    return of
