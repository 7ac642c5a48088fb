"""The chart, its status line and the spike candidates beside it; a click or a selection on
the chart picks the day or range the evidence and the annotation form show."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from tension.analysis.spikes import top_phrase
from tension.core.filters import FilterError
from tension.dashboard.figures import PERIOD_OF, index_figure
from tension.dashboard.panels.annotations import form_for_selection
from tension.dashboard.panels.controls import CONTROL_IDS, smooth_value, view_from_controls
from tension.dashboard.service import Service
from tension.dashboard.view import to_params
from tension.store import annotations as ann

SPIKES_LISTED = 12  # beside the chart; the page's "Annotate" buttons index into this list


def render_view(service: Service, view: dict) -> tuple[dict, list, list]:
    """Figure, status line and spike list for a view."""
    try:
        sel, opts = to_params(view)
        table = service.index(sel, opts)
    except (FilterError, ValueError) as exc:
        return index_figure(pd.DataFrame(columns=["date", "tension", "tension_smoothed", "ci_low",
                                                  "ci_high", "hostility", "conciliation",
                                                  "n_articles"])), [html.Span(str(exc), className="error")], []
    spikes = service.spikes(sel)
    start = table["date"].min() if len(table) else None
    end = table["date"].max() if len(table) else None
    anns = ann.list_annotations(service.store, start.date() if start is not None else None,
                                end.date() if end is not None else None)
    events = service.events(start.date() if start is not None else None,
                            end.date() if end is not None else None)
    fig = index_figure(table, freq=opts.freq, layers=view["layers"], spikes=spikes,
                       annotations=anns, events=events, phrases=service.top_phrases(sel),
                       # the dates too: after new dates (typed, or from a zoom) the x axis
                       # fits them, instead of keeping an earlier zoom
                       normalize=opts.normalize, uirevision=f"{sel}|{opts.start}|{opts.end}")
    n_art = int(table["n_articles"].sum()) if len(table) else 0
    days_with = int((table["n_articles"] > 0).sum()) if len(table) else 0
    status = [f"{n_art:,} articles over {len(table):,} periods ({days_with:,} with articles, "
              f"{len(table) - days_with:,} empty: shown as gaps, not zeros)."]
    cov = service.coverage()
    if cov["unscored"]:
        status.append(html.Span(f" {cov['unscored']:,} articles await rescoring by the current "
                                "lexicon: run python -m tension rescore.", className="error"))
    if n_art == 0:
        status.append(html.Span(" " + empty_view_message(view, service.bounds()[0] is not None),
                                className="muted"))
    records = service.spike_records(sel, SPIKES_LISTED, (opts.start, opts.end))
    return fig, status, spike_list(records, ann.list_annotations(service.store))


def empty_view_message(view: dict, store_has_articles: bool) -> str:
    """Why a view has no articles, and what to do: the keyword filter matched nothing (clear
    it), the other settings left nothing, or the store is empty (import some)."""
    if view.get("filter"):
        return (f"No articles match the keyword filter “{view['filter']}” in this view: "
                "clear the filter box (or widen the dates) to see articles again.")
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


def layout() -> list:
    """The chart and its status line (the message for a refused smoothing above them)."""
    return [
        html.Div(id="smooth-message", className="error", role="status"),  # a smoothing refused
        html.Div(id="status", className="status"),
        dcc.Loading(dcc.Graph(id="index-graph", config={"displaylogo": False, "scrollZoom": False},
                              figure={"data": [], "layout": {"height": 520}}), type="circle"),
        html.P("Click a day for its evidence; drag across the chart to select a range; "
               "both fill the annotation form.", className="hint"),
    ]


def spikes_layout() -> list:
    return [html.H2("Spike candidates"), html.Div(id="spike-list")]


def register(app: Dash, service: Service) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("index-graph", "figure"), Output("status", "children"),
                  Output("spike-list", "children"),
                  [Input(c, p) for c, p in CONTROL_IDS] + [Input("ann-version", "data")])
    def _render(*values):
        if ctx.triggered_id == "smooth" and smooth_value(values[5]) is None:
            raise PreventUpdate  # _sync puts the smoothing in use back: no redraw with the default
        return render_view(service, view_from_controls(list(values[:-1])))

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
