"""The controls: dates, sources, categories, period, smoothing, normalisation, keyword
filter, layers and the measure or dyad charted (and one to compare with), kept in step
with the URL (a view can be shared) and with the chart's zoom."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from indicators.actors import load_actors
from tension.analysis.dyads import HEADLINE
from tension.analysis.options import FREQS, NORMALIZATIONS, NORMALIZE_DEFAULT, SMOOTH
from tension.core.selection import Selection
from tension.dashboard.figures import LAYERS
from tension.dashboard.service import Service
from tension.dashboard.view import (
    DEFAULTS,
    MEASURE_LABELS,
    measure,
    measure_label,
    parse_query,
    to_query,
    url_notes,
)

CONTROL_IDS = [("date-range", "start_date"), ("date-range", "end_date"), ("sources", "value"),
               ("categories", "value"), ("freq", "value"), ("smooth", "value"),
               ("normalize", "value"), ("filter", "value"), ("layers", "value"),
               ("center", "value"), ("base-range", "start_date"), ("base-range", "end_date"),
               ("dyad", "value"), ("compare", "value")]
CENTRED = "centred"  # the centring checkbox's one value


def view_from_controls(values: list) -> dict:
    """The view the controls show (values in CONTROL_IDS order; missing trailing ones take
    their defaults)."""
    values = list(values) + [None] * (len(CONTROL_IDS) - len(values))
    start, end, sources, categories, freq, smooth, normalize, filt, layers, center, b0, b1, dyad, compare = values
    return {"from": (start or "")[:10] or None, "to": (end or "")[:10] or None,
            "sources": sources or [], "categories": categories or [], "freq": freq or "D",
            "smooth": smooth_value(smooth) or DEFAULTS["smooth"],
            "normalize": normalize or NORMALIZE_DEFAULT, "filter": filt or "",
            "layers": layers if layers is not None else DEFAULTS["layers"],
            "center": CENTRED in (center or []),
            "base_from": (b0 or "")[:10] or None, "base_to": (b1 or "")[:10] or None,
            # the headline is "" in the view (the default, left out of the URL); the
            # dropdown names it by its measure, as an empty value reads as none chosen
            "dyad": "" if measure(dyad) == HEADLINE else measure(dyad), "compare": measure(compare)}


def controls_from_view(view: dict) -> list:
    return [view["from"], view["to"], view["sources"], view["categories"], view["freq"],
            view["smooth"], view["normalize"], view["filter"], view["layers"],
            [CENTRED] if view.get("center") else [], view.get("base_from"), view.get("base_to"),
            view.get("dyad") or HEADLINE, view.get("compare") or None]


MIN_DYAD_ARTICLES = 20  # a dyad with fewer articles in the store is not offered (a URL or the
# heatmap can still choose it)
MEASURES_OFFERED = (HEADLINE, *(m for m in ("intensity", "conflict", "all") if m != HEADLINE))


def chartable(matrix: pd.DataFrame) -> pd.DataFrame:
    """The dyads the page can chart: those with a source actor. A source that speaks for no
    actor (wire copy, until `ingest --actor` names one) has rows with an empty source; the
    conflict measures read them, but no "A-B" names them."""
    return matrix[matrix["source_actor"].astype(str) != ""]


def measure_options(service: Service, keep: tuple[str | None, ...] = ()) -> list[dict]:
    """The measure dropdowns' choices: the headline (the conflict intensity), the conflict
    index and the overall tone, then
    the store's dyads with at least MIN_DYAD_ARTICLES articles, most articles first
    ("PRK → USA (4,645)"); `keep`: values chosen elsewhere (URL, heatmap) that must stay
    listed so that the dropdown shows them."""
    actors = load_actors().actors
    options = [{"label": MEASURE_LABELS[m], "value": m} for m in MEASURES_OFFERED]
    matrix = chartable(service.dyad_matrix(Selection()))
    matrix = matrix[matrix["n_articles"] >= MIN_DYAD_ARTICLES].sort_values(
        ["n_articles", "source_actor", "target_actor"], ascending=[False, True, True])
    for source, target, n in zip(matrix["source_actor"], matrix["target_actor"], matrix["n_articles"],
                                 strict=True):
        names = " → ".join(actors[c].name if c in actors else c for c in (source, target))
        options.append({"label": f"{source} → {target} ({int(n):,})", "value": f"{source}-{target}",
                        "title": names, "search": f"{source} {target} {names}"})
    listed = {o["value"] for o in options}
    for value in keep:
        value = measure(value)
        if value and value not in listed:
            options.append({"label": measure_label(value), "value": value})
            listed.add(value)
    return options


def sync_view(triggered: str | None, search: str | None, values: list,
              categories: list[str] | None = None) -> tuple[list, str]:
    """Page load (or a pasted URL) sets the controls; a control change rewrites the URL.
    `categories`: the store lexicon's (a URL naming another is not followed). A smoothing
    the chart cannot use puts the one in use (the URL's) back in the field: it stayed,
    showing 0 or 1000, while the chart used 7 and the URL dropped it."""
    if triggered in (None, "url"):
        view = parse_query(search, categories)
        return controls_from_view(view), no_update
    if triggered == "smooth" and smooth_value(values[5]) is None:
        controls = [no_update] * len(values)
        controls[5] = parse_query(search, categories)["smooth"]
        return controls, no_update
    return [no_update] * len(values), to_query(parse_query(to_query(view_from_controls(values))))


SMOOTH_MIN, SMOOTH_MAX = SMOOTH.low, SMOOTH.high  # the view options' limit


def smooth_value(value: object) -> int | None:
    """The smoothing typed (the field's text, or a number from the URL), if it is a whole
    number of days from 1 to 365; None for anything else (0, 1000, 2.5, "", "abc")."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() and SMOOTH_MIN <= number <= SMOOTH_MAX else None


def smooth_message(triggered: str | None, value: object, kept: int) -> str:
    """What the analyst reads when the smoothing typed cannot be used (the field shows
    `kept` again); empty once a usable one is typed."""
    if triggered == "smooth" and smooth_value(value) is None:
        return (f"Smoothing must be a whole number of days from {SMOOTH_MIN} to {SMOOTH_MAX}; "
                f"still smoothing over {kept} days.")
    return ""


def link_message(search: str | None, categories: list[str] | None = None) -> str:
    """On opening a link: the parts of its URL the page did not use, and why (empty if none)."""
    notes = url_notes(search, categories)
    return ("This link's " + "; ".join(notes) + ".") if notes else ""


def calendar_month(start: str | None, end: str | None, last_day: dt.date | None) -> str | None:
    """The month the date picker's calendar opens on: the chosen start (or end), else the
    data's last day. Left to itself it opens on today's month, maybe years past the data."""
    chosen = start or end
    return chosen[:10] if chosen else (last_day.isoformat() if last_day else None)


def dates_from_zoom(relayout: dict | None, bounds: tuple[dt.date | None, dt.date | None] = (None, None),
                    freq: str = "D") -> tuple[str | None, str | None] | None:
    """The view's from/to after a zoom of the chart's x axis (range buttons, range slider,
    toolbar zoom or pan), so the date fields, URL and CSV download follow what is shown:
    the days more than half in the range (a day is drawn ±12 h around its midnight; in
    week and month views across its 24 hours). A reset (double-click,
    "all": autorange) clears them; a side at or past the store's first/last day is left
    open. None when the event is no x zoom (a resize, a y zoom, a selection)."""
    if not relayout:
        return None
    if relayout.get("xaxis.autorange"):
        return None, None
    rng = relayout.get("xaxis.range") or [relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")]
    if len(rng) != 2 or any(v is None for v in rng):
        return None
    lo, hi = sorted(pd.Timestamp(str(v)) for v in rng)
    offset = pd.Timedelta(hours=0 if freq == "D" else 12)
    start, end = (lo - offset).ceil("D"), (hi - offset).floor("D")
    if start > end:  # narrower than a day: the day drawn nearest its middle
        start = end = (lo + (hi - lo) / 2).round("D")
    first, last = bounds
    return (None if first and start.date() <= first else start.strftime("%Y-%m-%d"),
            None if last and end.date() >= last else end.strftime("%Y-%m-%d"))


# A zoom's last x-axis event only: the range slider sends one per mouse move while dragged.
ZOOM_DEBOUNCE_JS = """
function (relayout) {
    const zoom = relayout && Object.keys(relayout).some((k) => k.startsWith("xaxis.range")
                                                        || k === "xaxis.autorange");
    if (zoom) {
        clearTimeout(window.tensionZoomTimer);
        window.tensionZoomTimer = setTimeout(
            () => window.dash_clientside.set_props("zoom", {data: relayout}), %d);
    }
    return window.dash_clientside.no_update;
}
"""
ZOOM_DEBOUNCE_MS = 500


PERIOD_LABELS = {"D": "day", "W": "week", "M": "month"}  # for each of the view options' FREQS
NORM_LABELS = {"raw": "raw", "zscore": "z-score", "base100": "100 = mean", "seasonal": "seasonally adjusted"}  # and NORMALIZATIONS
LAYER_LABELS = {"band": "95% band", "points": "daily points", "hostility": "hostility",
                "conciliation": "conciliation", "counts": "article counts", "spikes": "spikes",
                "annotations": "annotations", "events": "reference events"}


def field(label: str, component: Component, extra_class: str = "") -> html.Label:
    """A labelled control."""
    return html.Label([html.Span(label, className="field-label"), component],
                      className=f"field {extra_class}".strip())


def layout(sources: list[str], categories: list[str], measures: list[dict] | None = None) -> html.Div:
    """The row of controls (their values come from the URL on page load); `measures`: the
    measure dropdowns' first choices (`measure_options`; a callback keeps them up to date)."""
    measures = measures or [{"label": MEASURE_LABELS[m], "value": m} for m in MEASURES_OFFERED]
    return html.Div(className="controls", children=[
        field("dates", dcc.DatePickerRange(id="date-range", display_format="YYYY-MM-DD",
                                            clearable=True, start_date=None, end_date=None)),
        field("sources", dcc.Dropdown(id="sources", options=sources, multi=True,
                                       placeholder="all sources")),
        field("categories", dcc.Dropdown(id="categories", options=categories, multi=True,
                                          placeholder="all lexicon categories")),
        field("period", dcc.RadioItems(id="freq", value="D", inline=True, options=[
            {"label": f" {PERIOD_LABELS[f]}", "value": f} for f in FREQS])),
        # text, not number: dash's number input sends nothing for an out-of-range entry typed
        # twice in a row, so 0 or 1000 could stay in the field; callbacks.smooth_value checks it.
        # Days, not periods: 7 periods turned a week's mean into 7 months' in the month view.
        field("smoothing (days)", html.Span(className="inline", children=[
            dcc.Input(id="smooth", type="text", inputMode="numeric", value=7, debounce=True, size="4"),
            html.Span(dcc.Checklist(id="center", options=[{"label": " centred", "value": CENTRED}], value=[],
                                    inline=True),
                      title="a window centred on each period (else: the periods up to it, which lags a peak)")])),
        field("normalisation", dcc.RadioItems(id="normalize", value=NORMALIZE_DEFAULT, inline=True, options=[
            {"label": f" {NORM_LABELS[n]}", "value": n} for n in NORMALIZATIONS])),

        field("keyword / actor filter", dcc.Input(id="filter", type="text", debounce=True,
                                                   placeholder="e.g. Seoul|South Korea", value=""),
               "filter-field"),
        # the chart's line: the headline, a conflict measure or one dyad (source → target)
        field("measure / dyad", dcc.Dropdown(id="dyad", options=measures, value=HEADLINE, clearable=False,
                                              placeholder=MEASURE_LABELS[HEADLINE]), "measure-field"),
        # Less used: folded, so the chart's date axis stays above the fold on a laptop screen
        html.Details(className="more-options", children=[
            html.Summary("layers, base period, compare"),
            html.Div(className="more-fields", children=[
                field("compare with", dcc.Dropdown(id="compare", options=measures, value=None, clearable=True,
                                                   placeholder="another measure or dyad"), "measure-field"),
                field("layers", dcc.Checklist(id="layers", options=[
                    {"label": f" {LAYER_LABELS[k]}", "value": k} for k in LAYERS], value=[], inline=True)),
                field("base period (z-score, 100 = mean)", dcc.DatePickerRange(
                    id="base-range", display_format="YYYY-MM-DD", clearable=True,
                    start_date_placeholder_text="all days", end_date_placeholder_text="")),
            ])]),
    ])


def register(app: Dash, service: Service) -> None:
    """Connect this panel's plain functions to the page."""

    # The measure dropdowns' choices come with the values the URL sets: the dropdown clears
    # a value it does not list (a dyad under the floor), so they must arrive together.
    @app.callback([Output(c, p) for c, p in CONTROL_IDS] + [Output("url", "search"),
                                                              Output("view-message", "children"),
                                                              Output("dyad", "options"),
                                                              Output("compare", "options")],
                  [Input("url", "search")] + [Input(c, p) for c, p in CONTROL_IDS])
    def _sync(search, *values):
        controls, new_search = sync_view(ctx.triggered_id, search, list(values), service.categories())
        kept = controls[5] if controls[5] is not no_update else values[5]
        options = no_update
        if ctx.triggered_id in (None, "url"):
            options = measure_options(service, tuple(controls[-2:]))
        message = smooth_message(ctx.triggered_id, values[5], kept)
        if ctx.triggered_id in (None, "url"):
            message = link_message(search, service.categories())
        return [*controls, new_search, message, options, options]

    @app.callback(Output("date-range", "initial_visible_month"), Input("date-range", "start_date"),
                  Input("date-range", "end_date"))
    def _calendar_month(start, end):
        return calendar_month(start, end, service.bounds()[1])

    app.clientside_callback(ZOOM_DEBOUNCE_JS % ZOOM_DEBOUNCE_MS, Output("zoom", "data"),
                            Input("index-graph", "relayoutData"), prevent_initial_call=True)

    @app.callback(Output("date-range", "start_date", allow_duplicate=True),
                  Output("date-range", "end_date", allow_duplicate=True),
                  Input("zoom", "data"), State("date-range", "start_date"),
                  State("date-range", "end_date"), State("freq", "value"), prevent_initial_call=True)
    def _zoom(relayout, start, end, freq):
        dates = dates_from_zoom(relayout, service.bounds(), freq or "D")
        if dates is None or dates == ((start or "")[:10] or None, (end or "")[:10] or None):
            raise PreventUpdate  # the figure redrawn for these dates: no loop
        return dates
