"""The chart, its status line and the spike candidates beside it; a click or a selection on
the chart picks the day or range the evidence and the annotation form show."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from dash import ALL, Dash, Input, Output, Patch, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from tension.analysis.dyads import HEADLINE
from tension.analysis.index import MIN_SEASON_YEARS, SEASON_DAYS, period_start, seasonal_coverage
from tension.analysis.options import IndexOptions
from tension.analysis.spikes import top_phrase
from tension.core.filters import FilterError
from tension.core.selection import Selection
from tension.dashboard.figures import PERIOD_OF, blank_figure, chosen_shape, index_figure
from tension.dashboard.panels.annotations import form_for_selection
from tension.dashboard.panels.controls import (
    CONTROL_IDS,
    PERIOD_LABELS,
    smooth_value,
    view_from_controls,
)
from tension.dashboard.payload import plain
from tension.dashboard.service import Service
from tension.dashboard.view import measure_label, smooth_label, to_params
from tension.store import annotations as ann

SPIKES_LISTED = 12
MARKED = ("spike", "event", "line")  # tags that end a marker's customdata (see figures)  # beside the chart; the page's "Annotate" buttons index into this list


def render_view(service: Service, view: dict, chosen: dict | None = None,
                dragmode: str | None = None) -> tuple[dict, list, list]:
    """Figure, status line and spike list for a view (`chosen`: the day or range picked;
    `dragmode`: the toolbar mode the analyst chose, kept across redraws)."""
    try:
        sel, opts = to_params(view)
        table = service.index(sel, opts)
    except (FilterError, ValueError) as exc:
        return blank_figure(), [html.Span(str(exc), className="error")], []
    spikes = service.spikes(sel)
    smoothing = smooth_label(int(view.get("smooth") or 1), opts.freq, opts.center)
    start = table["date"].min() if len(table) else None
    end = table["date"].max() if len(table) else None
    anns = ann.list_annotations(service.store, start.date() if start is not None else None,
                                end.date() if end is not None else None)
    events = service.events(start.date() if start is not None else None,
                            end.date() if end is not None else None)
    compared = compare_table(service, view, sel, opts, start, end)
    season, adjusted = seasonal_note(service, sel, opts, table) if opts.normalize == "seasonal" else ("", False)
    fig = index_figure(table, freq=opts.freq, compare=compared, layers=view["layers"], spikes=spikes,
                       annotations=anns, events=events, phrases=service.top_phrases(sel),
                       # the dates too: after new dates (typed, or from a zoom) the x axis
                       # fits them, instead of keeping an earlier zoom
                       normalize="raw" if season and not adjusted else opts.normalize, uirevision=f"{sel}|{opts.start}|{opts.end}",
                       chosen=chosen, smoothing=smoothing, base=base_label(opts), dragmode=dragmode,
                       today=dt.date.today())
    n_art = int(table["n_articles"].sum()) if len(table) else 0
    days_with = int((table["n_articles"] > 0).sum()) if len(table) else 0
    status = [f"{plural(n_art, 'article')} over {plural(len(table), 'period')} ({days_with:,} with "
              f"articles, {len(table) - days_with:,} empty: shown as gaps, not zeros). "
              f"Smoothed line: {smoothing}."]
    if sel.categories:  # whatever the measure dropdown says (tension.store.queries.measure_of)
        status.append(" Measure: the overall tone of the chosen lexicon categories (a category"
                      " sub-index restricts the overall tone, not the headline).")
    elif sel.dyad or compared:
        status.append(f" Measure: {measure_label(sel.dyad)}"
                      + (f", compared with {compared[0]} (dashed)." if compared else "."))
    if opts.normalize == "seasonal":
        status.append(season)
    elif opts.normalize != "raw":
        status.append(f" Rescaled against {base_label(opts)}.")
    cov = service.coverage()
    if cov["originals"] < FIRST_RUN_ARTICLES:
        status.append(first_run_note(cov["originals"]))
    if cov["unscored"]:
        status.append(html.Span(f" {cov['unscored']:,} articles await rescoring by the current scorer "
                                "(lexicon, model, actors file): run python -m tension rescore.",
                                className="error"))
    if n_art == 0:
        status.append(html.Span(" " + empty_view_message(view, service.bounds()[0] is not None),
                                className="muted"))
    records = service.spike_records(sel, SPIKES_LISTED, (opts.start, opts.end))
    return fig, status, spike_list(records, ann.list_annotations(service.store))


def compare_table(service: Service, view: dict, sel: Selection, opts: IndexOptions,
                  start: pd.Timestamp | None, end: pd.Timestamp | None) -> tuple[str, pd.DataFrame] | None:
    """The compared measure's name and index table over the main line's periods (same
    smoothing and normalisation), or None when there is none to draw."""
    other = view.get("compare") or ""
    same = {other, sel.dyad} <= {"", HEADLINE} or other == sel.dyad
    if not other or same or start is None:
        return None
    # the main line's days: the view's dates where it has them, else its first period's first
    # day to its last period's last (a week's start alone left out the rest of the week)
    first = opts.start or start.date()
    last = opts.end or (end.date() if opts.freq == "D" else period_under(end, opts.freq)[1].date())
    try:
        table = service.index(replace(sel, dyad=other), replace(opts, start=first, end=last))
    except (FilterError, ValueError):  # a measure the selection refuses (a dyad with a category)
        return None
    return measure_label(other), table


def seasonal_note(service: Service, sel: Selection, opts: IndexOptions,
                  table: pd.DataFrame) -> tuple[str, bool]:
    """What the seasonal adjustment did to the periods shown, against what, and whether it
    moved any (a store of a few years is shown as scored, and the axis says so)."""
    shown = pd.DatetimeIndex(table.loc[table["n_articles"] > 0, "date"])
    if not len(shown):
        return "", False
    days = period_start(service.articles(sel)["date"], opts.freq).drop_duplicates()
    if opts.base_start:
        days = days[days >= pd.Timestamp(opts.base_start)]
    if opts.base_end:
        days = days[days <= pd.Timestamp(opts.base_end)]
    n = seasonal_coverage(pd.DatetimeIndex(days), shown, opts.freq)
    same = "the same month" if opts.freq == "M" else f"the days within {SEASON_DAYS} of the same date"
    period = PERIOD_LABELS[opts.freq]
    if n == 0:
        return (f" Not seasonally adjusted: no {period} shown has {MIN_SEASON_YEARS} other years of "
                f"{base_label(opts)} at its time of year to compare with (the values are as scored)."), False
    some = "" if n == len(shown) else (f" {len(shown) - n:,} of the {len(shown):,} {period}s with articles "
                                        f"have fewer than {MIN_SEASON_YEARS} such years and are as scored.")
    return (f" Seasonally adjusted: each {period} minus how far {same} lie from their year's mean in "
            f"the other years of {base_label(opts)} (the source's calendar; the level stays).{some}"), True


def base_label(opts: IndexOptions) -> str:
    """The base period of a rescaled (z-score, base-100, seasonal) view, in words."""
    if not (opts.base_start or opts.base_end):
        return "all days"
    return f"{opts.base_start or 'the first day'} to {opts.base_end or 'the last day'}"


FIRST_RUN_ARTICLES = 50  # below this the store is new (the seed example, a first file): say how to fill it


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def first_run_note(n_articles: int) -> html.Div:
    """What a new store holds and how to load a corpus: a first run showed one dot and no word."""
    return html.Div(className="first-run", children=[
        html.B("Getting started. "),
        f"This store holds {plural(n_articles, 'article')} (a new store starts with the seed example). "
        "An index needs a corpus: drop files (CSV, JSON lines, text, HTML…) on the upload box at the "
        "bottom of the page, or run ",
        html.Code("python -m tension ingest FILE… --db URL"),
        "; reference events (tests, summits) with ",
        html.Code("python -m tension events import FILE --db URL"),
        ". Then click a day for its evidence, or drag across the chart to select a range."])


def empty_view_message(view: dict, store_has_articles: bool) -> str:
    """Why a view has no articles, and what to do: the keyword filter matched nothing (clear
    it), the other settings left nothing, or the store is empty (import some)."""
    if view.get("filter"):
        return (f"No articles match the keyword filter “{view['filter']}” in this view: "
                "clear the filter box (or widen the dates) to see articles again.")
    dyad = view.get("dyad") or ""
    if store_has_articles and "-" in dyad:  # a dyad is in a view only where its source aims at its target
        return (f"No article in this view is aimed at {dyad.partition('-')[2]} by {dyad.partition('-')[0]}: "
                "choose another dyad (the heatmap shows which have articles) or widen the dates.")
    if store_has_articles:
        return "No articles in this view: widen the dates or clear the source and category filters."
    return "No articles in this view. Import some with the upload box below or `python -m tension ingest FILE`."


def covering_annotation(record: dict, annotations: list[dict]) -> dict | None:
    """The first annotation whose dates cover all of the spike's (ISO dates compare as text):
    the spike is already annotated, and one click must not annotate it again."""
    return next((a for a in annotations if a["start"] <= record["start"] and a["end"] >= record["end"]),
                None)


def spike_list(records: list[dict], annotations: list[dict] | None = None) -> list:
    """The list beside the chart: spikes of the view's dates first, others faded below.
    A spike already covered by an annotation says so instead of offering "Annotate"."""
    if not records:
        return [html.P("No spike candidates for this selection.", className="muted")]
    items = []
    for i, r in enumerate(records):
        done = covering_annotation(r, annotations or [])
        action = html.Span("annotated", className="annotated",
                           title=f"Annotation {done['id']}: {done['title']}") if done else \
            html.Button("Annotate", id={"type": "accept-spike", "index": i}, n_clicks=0,
                        className="small", title="Create an annotation pre-filled with its evidence")
        items.append(html.Li(className="spike " + r["kind"] + ("" if r["in_view"] else " outside"), children=[
            html.Span(f"{r['peak']} ", className="date"),
            html.Span(f"{r['kind']} spike, z {r['magnitude']:+.1f} "), action,
        ]))
    return [html.Ul(items, className="spikes")]


# --------------------------------------------------------------------------- selection + evidence
def selection_from_graph(triggered_prop: str | None, click: dict | None,
                         selected: dict | None, freq: str = "D") -> dict | None:
    """A day (or the week/month clicked, in those views) from a click anywhere on the chart,
    or a range from a box or lasso selection. A daily click is rounded to the nearest day
    (days are drawn centred on midnight); in week and month views a click selects the
    period under the cursor and a selection whole periods (periods are drawn across their
    days, see figures._period), so the evidence and the annotation form get what is drawn."""
    if triggered_prop == "index-graph.selectedData" and selected:
        rng = (selected.get("range") or {}).get("x")
        if rng:
            lo, hi = sorted(pd.Timestamp(str(v)) for v in rng)
            if freq != "D":  # the periods the box touches, whole
                last = max(lo, hi - pd.Timedelta(1, "ns"))  # a right edge on a boundary: not the next
                return _span(period_under(lo, freq)[0], period_under(last, freq)[1])
            # the days whose slot (midnight ± 12 h, as the bars are drawn) the box touches
            half, day = pd.Timedelta(hours=12), pd.Timedelta(days=1)
            start, end = (lo - half).floor("D") + day, (hi + half).ceil("D") - day
            return _span(start, max(end, start))
        xs = [p["x"] for p in selected.get("points", []) if "x" in p]
        if not xs:
            return None
        if freq != "D":  # a point's x lies in its period (its first day, or its middle)
            periods = [period_under(x, freq) for x in xs]
            return _span(min(p[0] for p in periods), max(p[1] for p in periods))
        days = sorted(_nearest_day(x) for x in xs)
        return {"start": days[0], "end": days[-1]}
    if click:
        # A spike marker or an event line under the cursor gives its own day: its hover named
        # it, while the cursor's date can be days off on a long view (about 5 days a pixel).
        # Elsewhere the cursor's date decides: the nearest dot may be a neighbouring day's.
        x = next((p["x"] for p in click.get("points") or []
                  if p.get("x") is not None and (p.get("customdata") or [None])[-1] in MARKED), None)
        if x is None:
            x = (click.get("xvals") or [None])[0]
        if x is None and click.get("points"):
            x = click["points"][0].get("x")
        if x is not None:
            if freq == "D":
                day = _nearest_day(x)
                return {"start": day, "end": day}
            return _span(*period_under(x, freq))
    return None


def period_under(x: object, freq: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the week ("W") or month ("M") drawn at chart position `x`:
    one rule for clicks and selections, since weeks and months are drawn across their days."""
    period = pd.Timestamp(str(x)).to_period(PERIOD_OF[freq])
    return period.start_time.normalize(), period.end_time.normalize()


def _span(start: pd.Timestamp, end: pd.Timestamp) -> dict:
    return {"start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d")}


def _nearest_day(x: object) -> str:
    """plotly gives a clicked x as a datetime string; the point's day is the nearest midnight."""
    return (pd.Timestamp(str(x)) + pd.Timedelta(hours=12)).strftime("%Y-%m-%d")


def accept_spike(service: Service, view: dict, record: dict, author: str = "") -> str:
    """One click: an annotation over the spike, pre-filled with its top evidence; none when
    an annotation already covers the spike's dates (a second click, or a stale list)."""
    done = covering_annotation(record, ann.list_annotations(
        service.store, dt.date.fromisoformat(record["start"]), dt.date.fromisoformat(record["end"])))
    if done:
        return (f"Not created: the {record['peak']} spike is already annotated "
                f"(annotation {done['id']}: {done['title']}).")
    sel, _ = to_params(view)
    ev = service.spike_evidence(sel, record)
    phrase = top_phrase(ev)
    kind = "Hostility spike" if record["kind"] == "hostility" else "Conciliation dip"
    lines = [f"Robust z {record['magnitude']:+.1f}; tension {record['peak_tension']:+.3f} vs baseline "
             f"{record['baseline']:+.3f}."]
    lines += [f"- {a['title']} ({a['tension']:+.2f})" for a in ev["articles"][:3]]
    terms = ", ".join(t["term"] for t in ev["terms"][:6])
    if terms:
        lines.append(f"Terms: {terms}")
    saved = ann.create(service.store, {
        "start": record["start"], "end": record["end"],
        "title": f"{kind}: {phrase}" if phrase else kind, "note": "\n".join(lines),
        "tags": ["spike", record["kind"]], "author": author})
    return f"Annotation {saved['id']} created from the {record['peak']} spike."


def chosen_note(chosen: dict | None) -> list:
    """The line under the chart once a day or range is chosen: what was chosen, and a link
    to its evidence (which opens below the fold on a laptop screen)."""
    if not chosen:
        return ["Click a day for its evidence; drag across the chart to select a range; "
                "both fill the annotation form."]
    what = chosen["start"] if chosen["start"] == chosen["end"] else f"{chosen['start']} to {chosen['end']}"
    return [html.B(what), " chosen (shaded on the chart): ",
            html.A("its evidence ↓", href="#evidence-panel"), " · the annotation form beside it is filled."]


DRAGMODE_JS = """
function (relayout) {
    return relayout && relayout.dragmode ? relayout.dragmode : window.dash_clientside.no_update;
}
"""


def layout() -> list:
    """The chart and its status line (the message for a refused smoothing above them)."""
    return [
        html.Div(id="view-message", className="error", role="status"),  # a smoothing refused, a link's unused parts
        dcc.Store(id="dragmode"),
        html.Div(id="status", className="status"),
        dcc.Loading(dcc.Graph(id="index-graph", config={"displaylogo": False, "scrollZoom": False},
                              figure={"data": [], "layout": {"height": 460}}), type="circle"),
        html.P(chosen_note(None), id="chosen-note", className="hint", role="status"),
    ]


def spikes_layout() -> list:
    return [html.H2("Spike candidates"), html.Div(id="spike-list")]


def register(app: Dash, service: Service) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("index-graph", "figure"), Output("status", "children"),
                  Output("spike-list", "children"),
                  [Input(c, p) for c, p in CONTROL_IDS] + [Input("ann-version", "data")],
                  State("selection", "data"), State("dragmode", "data"))
    def _render(*values):
        if ctx.triggered_id == "smooth" and smooth_value(values[5]) is None:
            raise PreventUpdate  # _sync puts the smoothing in use back: no redraw with the default
        fig, status, spikes = render_view(service, view_from_controls(list(values[:-3])), values[-2], values[-1])
        return fig, plain(status), plain(spikes)  # a response of plain data is encoded at once

    # The toolbar's drag mode, remembered: a redraw for new dates (after a zoom) put it back
    # to select, so the next drag filled the annotation form instead of zooming.
    app.clientside_callback(DRAGMODE_JS, Output("dragmode", "data"), Input("index-graph", "relayoutData"),
                            prevent_initial_call=True)

    @app.callback(Output("index-graph", "figure", allow_duplicate=True), Output("chosen-note", "children"),
                  Input("selection", "data"), State("freq", "value"), prevent_initial_call=True)
    def _mark(chosen, freq):
        patch = Patch()  # only the shading moves: no redraw of the whole chart
        patch["layout"]["shapes"][0] = chosen_shape(chosen, freq or "D")
        return patch, chosen_note(chosen)

    @app.callback(Output("selection", "data"),
                  Output("ann-editing", "data", allow_duplicate=True),
                  Output("ann-message", "children", allow_duplicate=True),
                  [Output(f, "value", allow_duplicate=True)
                   for f in ("ann-start", "ann-end", "ann-title", "ann-note", "ann-tags")],
                  Input("index-graph", "clickData"), Input("index-graph", "selectedData"),
                  State("freq", "value"), State("ann-editing", "data"), prevent_initial_call=True)
    def _select(click, selected, freq, editing):
        prop = ctx.triggered[0]["prop_id"] if ctx.triggered else None
        found = selection_from_graph(prop, click, selected, freq or "D")
        if not found:
            raise PreventUpdate
        return found, *form_for_selection(editing, found)

    @app.callback(Output("ann-message", "children", allow_duplicate=True),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input({"type": "accept-spike", "index": ALL}, "n_clicks"),
                  State("ann-version", "data"), State("ann-author", "value"),
                  [State(c, p) for c, p in CONTROL_IDS], prevent_initial_call=True)
    def _accept(clicks, version, author, *values):
        if not ctx.triggered_id or not any(clicks):
            return no_update, no_update
        view = view_from_controls(list(values))
        sel, opts = to_params(view)
        records = service.spike_records(sel, SPIKES_LISTED, (opts.start, opts.end))
        i = ctx.triggered_id["index"]
        if i >= len(records):
            return "That spike list is out of date; try again.", version + 1
        return accept_spike(service, view, records[i], author or ""), version + 1
