"""The view state (dates, sources, smoothing, …) and its URL form, so a view can be shared.

A view is a plain dict; `parse_query` and `to_query` convert it to and from the
URL's query string, `to_params` into the Selection and IndexOptions the library
takes. Bad values in a hand-edited URL fall back to defaults instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, urlencode

from tension.analysis.dyads import HEADLINE
from tension.analysis.options import (
    FREQS,
    NORMALIZATIONS,
    NORMALIZE_DEFAULT,
    SMOOTH,
    IndexOptions,
    OptionError,
    parse_date,
    parse_int,
    parse_measure,
    parse_view,
)
from tension.core.selection import Selection
from tension.dashboard.figures import DEFAULT_LAYERS, LAYERS

DEFAULTS: dict = {"from": None, "to": None, "sources": [], "categories": [], "freq": "D",
                  "smooth": 7, "normalize": NORMALIZE_DEFAULT, "filter": "", "layers": list(DEFAULT_LAYERS),
                  "center": False, "base_from": None, "base_to": None, "dyad": "", "compare": ""}
# The page's smoothing is a duration in days; the library's is a count of periods.
PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def smooth_periods(days: int, freq: str) -> int:
    """The periods a smoothing of `days` days spans in a view of `freq` periods (at least one)."""
    return max(1, round(days / PERIOD_DAYS[freq]))


def smooth_label(days: int, freq: str, center: bool = False) -> str:
    """What the smoothed line is, in words: "7-day mean", "3-month mean (91 days)", or why
    there is none."""
    n = smooth_periods(days, freq)
    unit = {"D": "day", "W": "week", "M": "month"}[freq]
    if n == 1:
        return "no smoothing" if days <= 1 else f"no smoothing ({days} days is under a {unit})"
    kind = "centred" if center else "trailing"
    return f"{n}-{unit} {kind} mean" + ("" if freq == "D" else f" (≈{days} days)")


def _date(value: str | None) -> str | None:
    try:
        day = parse_date("from", (value or "")[:10])
    except OptionError:
        return None
    return day.isoformat() if day else None


def measure(value: object) -> str:
    """The measure or dyad of a URL or a dropdown ("", "conflict", "PRK-USA"…); "" (the
    headline) for one the view options refuse."""
    try:
        return parse_measure(value)
    except OptionError:
        return ""


_NAMES = {"intensity": "Conflict intensity", "conflict": "Conflict index", "all": "Overall tone"}
MEASURE_LABELS = {**_NAMES, HEADLINE: f"Headline ({_NAMES[HEADLINE].lower()})"}
MEASURE_LABELS[""] = MEASURE_LABELS[HEADLINE]


def measure_label(value: str) -> str:
    """A measure or dyad in words: "Conflict index", "PRK → USA"."""
    if value in MEASURE_LABELS:
        return MEASURE_LABELS[value]
    source, _, target = value.partition("-")
    return f"{source} → {target}"


def parse_query(search: str | None, categories: Iterable[str] | None = None) -> dict:
    """A view from `?from=…&to=…&source=…&freq=…&smooth=…&center=1&norm=…&base_from=…&base_to=…
    &q=…&layers=…&dyad=…&compare=…` (smooth in days; dyad and compare: a measure or a dyad
    such as PRK-USA, the chart's line and its compared line), read with
    the view options' own parsers and limits; a bad value in a hand-edited URL falls back to
    its default (a smoothing past the limit is clamped to it). `categories`: the store
    lexicon's, when known; others in the URL are dropped."""
    q = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    first = lambda k: (q.get(k) or [None])[0]  # noqa: E731
    view = dict(DEFAULTS)
    view["from"], view["to"] = _date(first("from")), _date(first("to"))
    view["sources"] = [s for s in q.get("source", []) if s]  # blank values are ignored
    allowed = set(categories) if categories is not None else None
    view["categories"] = [c for c in q.get("category", []) if c and (allowed is None or c in allowed)]
    if first("freq") in FREQS:
        view["freq"] = first("freq")
    try:
        smooth = parse_int("smooth", first("smooth"), DEFAULTS["smooth"])
        view["smooth"] = max(SMOOTH.low, min(SMOOTH.high, smooth))
    except OptionError:
        pass
    if first("norm") in NORMALIZATIONS:
        view["normalize"] = first("norm")
    view["center"] = first("center") in ("1", "true", "yes", "on")
    view["base_from"], view["base_to"] = _date(first("base_from")), _date(first("base_to"))
    # a filter with bad syntax is kept: the box shows it and the status line says what is
    # wrong (dropped, the view silently showed every article)
    view["filter"] = first("q") or ""
    if "layers" in q:
        view["layers"] = [x for x in (first("layers") or "").split(",") if x in LAYERS]
    view["dyad"], view["compare"] = measure(first("dyad")), measure(first("compare"))
    return view


def url_notes(search: str | None, categories: Iterable[str] | None = None) -> list[str]:
    """What `parse_query` did not use (or clamped) from a hand-edited URL, and why, in words:
    the page says it instead of showing another view without a word."""
    q = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    notes = []
    for key in ("from", "to", "base_from", "base_to"):
        for value in q.get(key, [])[:1]:
            try:
                parse_date(key, value[:10])
            except OptionError as exc:
                notes.append(f"{key}={value[:40]} was not used: {exc}")
    for key, allowed in (("freq", FREQS), ("norm", NORMALIZATIONS)):
        for value in q.get(key, [])[:1]:
            if value not in allowed:
                notes.append(f"{key}={value[:40]} was not used: it is one of {', '.join(allowed)}")
    for value in q.get("smooth", [])[:1]:
        try:
            days = parse_int("smooth", value, DEFAULTS["smooth"])
        except OptionError:
            notes.append(f"smooth={value[:40]} was not used: it is a whole number of days")
            continue
        if not SMOOTH.low <= days <= SMOOTH.high:  # parse_query clamps it
            kept = max(SMOOTH.low, min(SMOOTH.high, days))
            notes.append(f"smooth={days} is outside {SMOOTH.low}–{SMOOTH.high} days: smoothing over {kept}")
    for key in ("dyad", "compare"):
        for value in q.get(key, [])[:1]:
            try:
                parse_measure(value)
            except OptionError as exc:
                notes.append(f"{key}={value[:40]} was not used: {str(exc).replace(chr(39) + 'dyad' + chr(39), repr(key))}")
    if categories is not None:
        known = set(categories)
        notes += [f"category={c[:40]} was not used: it is not a category of this store's lexicon"
                  for c in q.get("category", []) if c and c not in known]
    return notes


def to_query(view: dict) -> str:
    """The query string for a view; defaults are left out to keep links short."""
    pairs: list[tuple[str, str]] = []
    if view.get("from"):
        pairs.append(("from", view["from"]))
    if view.get("to"):
        pairs.append(("to", view["to"]))
    pairs += [("source", s) for s in view.get("sources") or []]
    pairs += [("category", c) for c in view.get("categories") or []]
    for key, name in (("freq", "freq"), ("smooth", "smooth"), ("normalize", "norm"), ("filter", "q"),
                      ("base_from", "base_from"), ("base_to", "base_to"), ("dyad", "dyad"),
                      ("compare", "compare")):
        if view.get(key) not in (None, "", DEFAULTS[key]):
            pairs.append((name, str(view[key])))
    if view.get("center"):
        pairs.append(("center", "1"))
    if sorted(view.get("layers") or []) != sorted(DEFAULTS["layers"]):
        pairs.append(("layers", ",".join(view.get("layers") or [])))
    return "?" + urlencode(pairs) if pairs else ""


def to_params(view: dict) -> tuple[Selection, IndexOptions]:
    """The library's Selection and IndexOptions for a view, by the one parser of view
    options (OptionError for a view it refuses, e.g. a smoothing past its limit)."""
    start, end = view.get("from"), view.get("to")
    if start and end and start > end:
        start, end = end, start
    return parse_view({"from": start, "to": end, "source": view.get("sources") or [],
                       "category": view.get("categories") or [], "filter": view.get("filter") or "",
                       "freq": view.get("freq") or "D",
                       "smooth": smooth_periods(int(view.get("smooth") or 1), view.get("freq") or "D"),
                       "center": bool(view.get("center")), "normalize": view.get("normalize") or NORMALIZE_DEFAULT,
                       "base_from": view.get("base_from"), "base_to": view.get("base_to"),
                       "dyad": view.get("dyad") or ""})
