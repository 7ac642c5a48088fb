"""Reading Dash component trees in tests (callbacks are plain functions returning them)."""

from __future__ import annotations

from collections.abc import Iterator


def walk(component: object) -> Iterator[object]:
    """Every component and string in a Dash component tree (lists included)."""
    if isinstance(component, list | tuple):
        for c in component:
            yield from walk(c)
        return
    yield component
    children = getattr(component, "children", None)
    if children is not None:
        yield from walk(children)


def text_of(component: object) -> str:
    return "".join(c for c in walk(component) if isinstance(c, str))
