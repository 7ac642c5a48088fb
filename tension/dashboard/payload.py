"""What a callback returns, as the plain data Dash sends.

Dash serialises a callback's whole response with plotly's JSON encoder, which hands it to
orjson in one call unless something in it is not plain data. One component (a status line,
a list of buttons) was enough: the encoder then walked the entire response in Python,
figure included (docs/benchmarks.md has the cost for the 18-year chart)."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """`value` with every Dash component in it turned into the dict Dash would send for it
    (type, namespace, props), children included. Other dicts (a figure) are left as they are:
    components are only looked for in components and in lists."""
    if hasattr(value, "to_plotly_json"):
        sent = value.to_plotly_json()
        return {**sent, "props": {k: plain(v) for k, v in sent["props"].items()}}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
