"""Callbacks: thin Dash wiring over plain functions that tests call directly.

Every plain function takes the `Service` (and uploads registry) it needs and returns
what the page shows; `register` only connects them to component ids.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from tension.analysis.options import SMOOTH
from tension.analysis.spikes import top_phrase
from tension.core.filters import FilterError
from tension.dashboard.figures import PERIOD_OF, index_figure
from tension.dashboard.service import Service
from tension.dashboard.uploads import UploadError, Uploads
from tension.dashboard.view import DEFAULTS, parse_query, to_params, to_query
from tension.io.export import to_csv_text
from tension.store import annotations as ann

CONTROLS = ["date-range.start_date", "date-range.end_date", "sources", "categories", "freq",
            "smooth", "normalize", "filter", "layers"]
_CONTROL_IDS = [("date-range", "start_date"), ("date-range", "end_date"), ("sources", "value"),
                ("categories", "value"), ("freq", "value"), ("smooth", "value"),
                ("normalize", "value"), ("filter", "value"), ("layers", "value")]
SPIKES_LISTED = 12  # beside the chart; the page's "Annotate" buttons index into this list


# --------------------------------------------------------------------------- view <-> URL
def view_from_controls(values: list) -> dict:
    start, end, sources, categories, freq, smooth, normalize, filt, layers = values
    return {"from": (start or "")[:10] or None, "to": (end or "")[:10] or None,
            "sources": sources or [], "categories": categories or [], "freq": freq or "D",
            "smooth": smooth_value(smooth) or DEFAULTS["smooth"],
            "normalize": normalize or "raw", "filter": filt or "",
            "layers": layers if layers is not None else DEFAULTS["layers"]}


def controls_from_view(view: dict) -> list:
    return [view["from"], view["to"], view["sources"], view["categories"], view["freq"],
            view["smooth"], view["normalize"], view["filter"], view["layers"]]


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
    number of periods from 1 to 365; None for anything else (0, 1000, 2.5, "", "abc")."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() and SMOOTH_MIN <= number <= SMOOTH_MAX else None


def smooth_message(triggered: str | None, value: object, kept: int) -> str:
    """What the analyst reads when the smoothing typed cannot be used (the field shows
    `kept` again); empty once a usable one is typed."""
    if triggered == "smooth" and smooth_value(value) is None:
        return (f"Smoothing must be a whole number of periods from {SMOOTH_MIN} to {SMOOTH_MAX}; "
                f"still smoothing over {kept}.")
    return ""


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


# --------------------------------------------------------------------------- the chart
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


def form_for_selection(editing: dict | None, found: dict) -> tuple:
    """The annotation form after a chart selection: (editing, message, start, end, title, note, tags).

    The chart never silently re-targets a saved annotation. After a save the form
    starts a new annotation for the selected dates (so saving again adds one, and the
    saved one stays as it is); an annotation opened from the list for editing keeps
    being edited, with the new dates, and the message says so. Text the analyst typed
    for a new annotation is kept."""
    start, end = found["start"], "" if found["start"] == found["end"] else found["end"]
    when = found["start"] if not end else f"{found['start']} – {found['end']}"
    if editing and editing.get("id") and not editing.get("saved"):
        return (no_update, f"Editing annotation {editing['id']}: dates set to {when} from the chart; "
                "Save to move it, New to start another.", start, end, no_update, no_update, no_update)
    if editing and editing.get("id"):
        return (None, f"New annotation for {when} (annotation {editing['id']} is saved).",
                start, end, "", "", "")
    return no_update, no_update, start, end, no_update, no_update, no_update


def _nearest_day(x: object) -> str:
    """plotly gives a clicked x as a datetime string; the point's day is the nearest midnight."""
    return (pd.Timestamp(str(x)) + pd.Timedelta(hours=12)).strftime("%Y-%m-%d")


def highlight(sentence: dict) -> list:
    """The sentence with its matched lexicon phrases in <mark> elements (text stays escaped)."""
    text, out, pos = sentence["sentence"], [], 0
    for m in sorted(sentence["matches"], key=lambda m: m["start"]):
        if m["start"] < pos:
            continue
        out.append(text[pos:m["start"]])
        mods = ", ".join(m["modifiers"])
        tip = f"{m['term']} · {m['category']} · weight {m['weight']}" + (f" · {mods}" if mods else "")
        cls = "hit " + m["pole"] + (" muted-hit" if not m["effective"] else "")
        out.append(html.Mark(text[m["start"]:m["end"]], className=cls, title=tip))
        pos = m["end"]
    out.append(text[pos:])
    return out


def evidence_panel(service: Service, view: dict, selection: dict | None) -> list:
    """Articles of the selected day/range ranked by contribution, and what moved it."""
    if not selection:
        return [html.P("Click a day or select a range on the chart.", className="muted")]
    sel, _ = to_params(view)
    start = dt.date.fromisoformat(selection["start"])
    end = dt.date.fromisoformat(selection["end"])
    data = service.day(sel, start, end)
    why, arts = data["explain"], data["articles"]
    span = selection["start"] if start == end else f"{selection['start']} to {selection['end']}"
    head = html.P([html.B(span), f": {why['n_target']} articles, mean tension {why['mean_target']:+.3f}"
                   if why["n_target"] else ": no articles."])
    out = [head]
    if why["n_target"] and why["n_baseline"]:
        out.append(html.P(f"Compared with the 28 days before ({why['mean_baseline']:+.3f} over "
                          f"{why['n_baseline']} articles): {why['delta']:+.3f}."))
        shifts = [html.Li([html.Span(f"{t['shift']:+.3f} ", className=t["pole"]), t["term"],
                           html.Span(f" ({t['category']}; {t['n_target']} vs {t['n_baseline']} "
                                     "articles)", className="muted")])
                  for t in why["terms"][:10]]
        out += [html.H3("What moved it"), html.Ul(shifts, className="shift")]
    if arts:  # the panel lists the strongest articles only: say so when there are more
        more = f": the top {len(arts):,} of {why['n_target']:,}" if len(arts) < why["n_target"] else ""
        out.append(html.H3(f"Articles, by contribution{more}"))
    for a in arts:
        sentences = [html.Li(highlight(s)) for s in a["evidence"]] or [html.Li("no lexicon matches",
                                                                                className="muted")]
        link = html.A("source", href=a["url"], target="_blank", rel="noopener noreferrer") \
            if a["url"].startswith(("http://", "https://")) else None
        out.append(html.Details(className="article " + a["label"], children=[
            html.Summary([html.Span(f"{a['tension']:+.2f} ", className="score"),
                          a["title"] or "(untitled)", html.Span(f" · {a['source']} · {a['date']}",
                                                                className="muted")]),
            html.Ul(sentences, className="sentences"), link,
        ]))
    return out


# --------------------------------------------------------------------------- annotations
def grid_rows(service: Service, tag: str | None = None) -> list[dict]:
    """The grid's rows; `row_id` is the id as a string, for the grid's getRowId (AG Grid
    wants a string, and its expression parser has no String())."""
    rows = ann.list_annotations(service.store, tag=(tag or "").strip() or None)
    return [{**r, "tags_text": ", ".join(r["tags"]), "row_id": str(r["id"])} for r in rows]


def save_annotation(service: Service, editing: dict | None, fields: dict) -> tuple[str, dict | None, bool]:
    """Create, or update the one being edited; returns (message, editing state, saved?)."""
    payload = {"start": fields.get("start"), "end": fields.get("end") or fields.get("start"),
               "title": fields.get("title"), "note": fields.get("note") or "",
               "tags": fields.get("tags") or "", "author": fields.get("author") or ""}
    try:
        if editing and editing.get("id"):
            saved = ann.update_annotation(service.store, int(editing["id"]), payload,
                                          editing.get("updated_at"))
            return f"Saved changes to annotation {saved['id']}.", {"id": saved["id"],
                                                                 "updated_at": saved["updated_at"],
                                                                 "saved": True}, True
        saved = ann.create(service.store, payload)
        return f"Annotation {saved['id']} saved.", {"id": saved["id"], "updated_at": saved["updated_at"],
                                                    "saved": True}, True
    except ann.Conflict as exc:
        cur = exc.current
        return (f"Not saved: {cur.get('author') or 'someone'} changed this annotation at "
                f"{cur['updated_at']}. The form now shows their version; apply your edit again."), \
            {"id": cur["id"], "updated_at": cur["updated_at"], "reload": cur}, False
    except ann.NotFound:
        return "Not saved: that annotation was deleted meanwhile.", None, False
    except ann.AnnotationError as exc:
        return f"Not saved: {exc}", editing, False


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


# --------------------------------------------------------------------------- register
def register(app: Dash, service: Service, uploads: Uploads) -> None:  # noqa: C901 - wiring only
    """Connect the plain functions above to the page."""

    @app.callback([Output(c, p) for c, p in _CONTROL_IDS] + [Output("url", "search"),
                                                              Output("smooth-message", "children")],
                  [Input("url", "search")] + [Input(c, p) for c, p in _CONTROL_IDS])
    def _sync(search, *values):  # noqa: ANN001, ANN202
        controls, new_search = sync_view(ctx.triggered_id, search, list(values), service.categories())
        kept = controls[5] if controls[5] is not no_update else values[5]
        return [*controls, new_search, smooth_message(ctx.triggered_id, values[5], kept)]

    @app.callback(Output("date-range", "initial_visible_month"), Input("date-range", "start_date"),
                  Input("date-range", "end_date"))
    def _calendar_month(start, end):  # noqa: ANN001, ANN202
        return calendar_month(start, end, service.bounds()[1])

    app.clientside_callback(ZOOM_DEBOUNCE_JS % ZOOM_DEBOUNCE_MS, Output("zoom", "data"),
                            Input("index-graph", "relayoutData"), prevent_initial_call=True)

    @app.callback(Output("date-range", "start_date", allow_duplicate=True),
                  Output("date-range", "end_date", allow_duplicate=True),
                  Input("zoom", "data"), State("date-range", "start_date"),
                  State("date-range", "end_date"), State("freq", "value"), prevent_initial_call=True)
    def _zoom(relayout, start, end, freq):  # noqa: ANN001, ANN202
        dates = dates_from_zoom(relayout, service.bounds(), freq or "D")
        if dates is None or dates == ((start or "")[:10] or None, (end or "")[:10] or None):
            raise PreventUpdate  # the figure redrawn for these dates: no loop
        return dates

    @app.callback(Output("index-graph", "figure"), Output("status", "children"),
                  Output("spike-list", "children"),
                  [Input(c, p) for c, p in _CONTROL_IDS] + [Input("ann-version", "data")])
    def _render(*values):  # noqa: ANN202
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
    def _select(click, selected, freq, editing):  # noqa: ANN001, ANN202
        prop = ctx.triggered[0]["prop_id"] if ctx.triggered else None
        found = selection_from_graph(prop, click, selected, freq or "D")
        if not found:
            raise PreventUpdate
        return found, *form_for_selection(editing, found)

    @app.callback(Output("evidence", "children"), Input("selection", "data"),
                  [State(c, p) for c, p in _CONTROL_IDS], prevent_initial_call=True)
    def _evidence(selection, *values):  # noqa: ANN001, ANN202
        return evidence_panel(service, view_from_controls(list(values)), selection)

    fields = ["ann-start", "ann-end", "ann-title", "ann-note", "ann-tags", "ann-author"]

    @app.callback(Output("ann-message", "children"), Output("ann-editing", "data"),
                  Output("ann-version", "data"),
                  [Output(f, "value", allow_duplicate=True) for f in fields],
                  Input("ann-save", "n_clicks"), State("ann-editing", "data"),
                  State("ann-version", "data"), [State(f, "value") for f in fields],
                  prevent_initial_call=True)
    def _save(_n, editing, version, *vals):  # noqa: ANN001, ANN202
        msg, new_editing, saved = save_annotation(service, editing, dict(zip(
            ["start", "end", "title", "note", "tags", "author"], vals, strict=True)))
        reload = (new_editing or {}).get("reload")
        if reload:
            filled = [reload["start"], "" if reload["start"] == reload["end"] else reload["end"],
                      reload["title"], reload["note"], ", ".join(reload["tags"]), reload["author"]]
            return msg, {k: v for k, v in new_editing.items() if k != "reload"}, version + 1, *filled
        return msg, new_editing, version + (1 if saved else 0), *([no_update] * len(fields))

    @app.callback(Output("ann-editing", "data", allow_duplicate=True),
                  Output("ann-message", "children", allow_duplicate=True),
                  [Output(f, "value", allow_duplicate=True) for f in fields],
                  Input("ann-new", "n_clicks"), Input("ann-grid", "selectedRows"),
                  State("ann-editing", "data"), prevent_initial_call=True)
    def _edit(_n, rows, editing):  # noqa: ANN001, ANN202
        if ctx.triggered_id == "ann-grid" and rows:
            r = rows[0]
            if editing and (editing.get("id"), editing.get("updated_at")) == (r["id"], r["updated_at"]):
                raise PreventUpdate  # the grid re-sent the row just saved: keep the "Saved" message
            return ({"id": r["id"], "updated_at": r["updated_at"]}, f"Editing annotation {r['id']}.",
                    r["start"], "" if r["start"] == r["end"] else r["end"], r["title"], r["note"],
                    ", ".join(r["tags"]), r["author"])
        return None, "New annotation.", "", "", "", "", "", no_update

    @app.callback(Output("ann-message", "children", allow_duplicate=True),
                  Output("ann-editing", "data", allow_duplicate=True),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input("ann-delete", "n_clicks"), State("ann-editing", "data"),
                  State("ann-version", "data"), prevent_initial_call=True)
    def _delete(_n, editing, version):  # noqa: ANN001, ANN202
        if not editing or not editing.get("id"):
            return "Select an annotation in the grid to delete it.", no_update, no_update
        try:
            ann.delete(service.store, int(editing["id"]), editing.get("updated_at"))
        except ann.Conflict:
            return "Not deleted: it was changed meanwhile; select it again.", None, version + 1
        except ann.NotFound:
            return "Already deleted.", None, version + 1
        return f"Annotation {editing['id']} deleted.", None, version + 1

    @app.callback(Output("ann-grid", "rowData"), Input("ann-version", "data"),
                  Input("ann-tag-filter", "value"))
    def _grid(_v, tag):  # noqa: ANN001, ANN202
        return grid_rows(service, tag)

    @app.callback(Output("ann-message", "children", allow_duplicate=True),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input({"type": "accept-spike", "index": ALL}, "n_clicks"),
                  State("ann-version", "data"), State("ann-author", "value"),
                  [State(c, p) for c, p in _CONTROL_IDS], prevent_initial_call=True)
    def _accept(clicks, version, author, *values):  # noqa: ANN001, ANN202
        if not ctx.triggered_id or not any(clicks):
            return no_update, no_update
        view = view_from_controls(list(values))
        sel, opts = to_params(view)
        records = service.spike_records(sel, SPIKES_LISTED, (opts.start, opts.end))
        i = ctx.triggered_id["index"]
        if i >= len(records):
            return "That spike list is out of date; try again.", version + 1
        return accept_spike(service, view, records[i], author or ""), version + 1

    @app.callback(Output("export-download", "data"), Input("export-btn", "n_clicks"),
                  [State(c, p) for c, p in _CONTROL_IDS], prevent_initial_call=True)
    def _export(_n, *values):  # noqa: ANN001, ANN202
        sel, opts = to_params(view_from_controls(list(values)))
        return dcc.send_string(to_csv_text(service.export(sel, opts)), "tension_index.csv",
                               type="text/csv")

    @app.callback(Output("ann-download", "data"), Input("ann-export", "n_clicks"),
                  prevent_initial_call=True)
    def _ann_export(_n):  # noqa: ANN001, ANN202
        return dcc.send_string(ann.to_csv(ann.list_annotations(service.store)), "annotations.csv",
                               type="text/csv")

    @app.callback(Output("ann-import-message", "children"),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input("ann-upload", "contents"), State("ann-upload", "filename"),
                  State("ann-version", "data"), prevent_initial_call=True)
    def _ann_import(contents, _name, version):  # noqa: ANN001, ANN202
        from tension.dashboard.uploads import decode_upload

        try:
            text = decode_upload(contents, uploads.max_bytes).decode("utf-8-sig")
        except (UploadError, UnicodeDecodeError) as exc:
            return f"Not imported: {exc}", no_update
        result = ann.import_csv(service.store, text)
        errs = "; ".join(result["errors"][:5])
        return (f"Imported {result['added']} annotations, {result['skipped']} already present"
                + (f"; problems: {errs}" if errs else "") + "."), version + 1

    @app.callback(Output("upload-status", "children"), Output("upload-job", "data"),
                  Output("upload-poll", "disabled"),
                  Input("upload", "contents"), State("upload", "filename"), prevent_initial_call=True)
    def _upload(contents, filename):  # noqa: ANN001, ANN202
        try:
            job = uploads.start(filename, contents)
        except UploadError as exc:
            return html.Span(str(exc), className="error"), None, True
        return f"Importing {job.name}…", job.id, False

    @app.callback(Output("upload-status", "children", allow_duplicate=True),
                  Output("upload-poll", "disabled", allow_duplicate=True),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input("upload-poll", "n_intervals"), State("upload-job", "data"),
                  State("ann-version", "data"), prevent_initial_call=True)
    def _poll(_n, job_id, version):  # noqa: ANN001, ANN202
        job = uploads.get(job_id) if job_id else None
        if job is None:
            return no_update, True, no_update
        return upload_message(job.as_dict()), job.status in ("done", "failed"), \
            (version + 1 if job.status == "done" else no_update)


def upload_message(job: dict) -> list:
    """Progress while running; the ingest summary (with quarantine) when done."""
    if job["status"] in ("queued", "running"):
        return [html.Progress(className="progress"), f" {job['name']}: {job['rows']:,} rows read…"]
    if job["status"] == "failed":
        return [html.Span(f"{job['name']}: import failed: {job['error']}", className="error")]
    s = job["summary"]
    out = [html.B(f"{job['name']}: "), f"read {s['read']:,} rows, added {s['added']:,}, duplicates "
           f"{s['duplicates']:,}, quarantined {s['quarantined']:,}."]
    if s["quarantined"]:
        out.append(html.Span(" See them with python -m tension quarantine list.", className="muted"))
    if s["errors"]:
        out.append(html.Span(" " + "; ".join(s["errors"]), className="error"))
    return out
