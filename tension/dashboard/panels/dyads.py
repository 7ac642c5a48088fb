"""The actor × actor heatmap: the mean tension of each (source → target) dyad over the chart's
dates, for the actors with most articles; a click on a cell charts that dyad (the measure
dropdown takes it, so the chart, its spikes and the evidence follow)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from indicators.actors import load_actors
from tension.core.filters import FilterError
from tension.core.selection import Selection
from tension.dashboard.figures import BLUE, RED, _num, _text
from tension.dashboard.panels.controls import (
    CONTROL_IDS,
    chartable,
    measure_options,
    view_from_controls,
)
from tension.dashboard.service import Service
from tension.dashboard.view import to_params

TOP_ACTORS = 12  # rows and columns: more is unreadable at the page's width
CELL_PX = 36
EVIDENCE_MAX_DAYS = 366  # a cell click with no day chosen shows the dyad's evidence over the
# heatmap's dates when they span at most this (longer: a click on the chart picks the day)


def top_actors(matrix: pd.DataFrame, n: int = TOP_ACTORS) -> list[str]:
    """The `n` actors with most articles, as source or target (ties by code)."""
    if not len(matrix):
        return []
    counts = pd.concat([matrix.groupby("source_actor")["n_articles"].sum(),
                        matrix.groupby("target_actor")["n_articles"].sum()]).groupby(level=0).sum()
    return sorted(counts.index, key=lambda code: (-counts[code], code))[:n]


def actor_name(code: str, actors: dict) -> str:
    return actors[code].name if code in actors else code


def heatmap_figure(matrix: pd.DataFrame, chosen: str = "", n: int = TOP_ACTORS) -> dict:
    """Rows: source actors; columns: target actors (most articles first); colour: mean
    tension, red hostile, blue conciliatory, centred on 0; empty cells are gaps. A cell's
    customdata is [pair in words, articles, dyad value "A-B"]; `chosen` is outlined."""
    actors = load_actors().actors
    keep = top_actors(matrix, n)
    m = matrix[matrix["source_actor"].isin(keep) & matrix["target_actor"].isin(keep)]
    rows = [a for a in keep if a in set(m["source_actor"])]
    cols = [a for a in keep if a in set(m["target_actor"])]
    cells = {(r.source_actor, r.target_actor): r for r in m.itertuples()}
    # square markers on two category axes, not a plotly heatmap: the page loads plotly's
    # basic bundle (scatter, bar), which has no heatmap trace
    xs, ys, zs, custom = [], [], [], []
    for s in rows:
        for t in cols:
            cell = cells.get((s, t))
            if cell is None:
                continue
            xs.append(_text(t))
            ys.append(_text(s))
            zs.append(cell.tension)
            custom.append([_text(f"{actor_name(s, actors)} ({s}) → {actor_name(t, actors)} ({t})"),
                           int(cell.n_articles), f"{s}-{t}"])
    z = _num(pd.Series(zs, dtype="float64"))
    top = max((abs(v) for v in z if v is not None), default=0.0) or 1.0
    trace = {"type": "scatter", "mode": "markers", "name": "dyads", "x": xs, "y": ys, "customdata": custom,
             "marker": {"symbol": "square", "size": CELL_PX - 3, "color": z, "cmid": 0, "cmin": -top, "cmax": top,
                        "colorscale": [[0, BLUE], [0.5, "#f7f7f7"], [1, RED]], "showscale": True,
                        "line": {"color": "#bbbbbb", "width": 0.5},
                        "colorbar": {"title": {"text": "tension"}, "thickness": 12, "len": 1}},
             "hovertemplate": "%{customdata[0]}<br>tension %{marker.color:+.3f}<br>%{customdata[1]:,} articles"
                              "<extra></extra>"}
    shapes = []
    source, _, target = chosen.partition("-")
    if (source, target) in cells:
        x, y = cols.index(target), rows.index(source)
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": x - 0.5, "x1": x + 0.5,
                       "y0": y - 0.5, "y1": y + 0.5, "line": {"color": "#222222", "width": 2.5}})
    # every category listed, in order (rows and columns with few cells keep their place)
    axis = {"type": "category", "fixedrange": True, "showgrid": False, "zeroline": False}
    return {"data": [trace], "layout": {
        "height": max(240, 110 + CELL_PX * len(rows)), "width": max(460, 230 + CELL_PX * len(cols)),
        "margin": {"l": 70, "r": 10, "t": 60, "b": 10}, "showlegend": False, "hovermode": "closest",
        "xaxis": {**axis, "side": "top", "title": {"text": "target"}, "categoryorder": "array",
                  "categoryarray": [_text(c) for c in cols], "range": [-0.5, len(cols) - 0.5]},
        "yaxis": {**axis, "title": {"text": "source"}, "categoryorder": "array",
                  "categoryarray": [_text(r) for r in rows], "range": [len(rows) - 0.5, -0.5]},
        "shapes": shapes, "plot_bgcolor": "white"}}


def view_dates(service: Service, view: dict) -> tuple[dt.date | None, dt.date | None]:
    """The chart's shown dates: the view's (they follow its zoom), else the store's."""
    _, opts = to_params(view)
    first, last = service.bounds()
    return opts.start or first, opts.end or last


def render_heatmap(service: Service, view: dict) -> tuple[dict, str]:
    """The heatmap and its note for a view (its sources and keyword filter, its dates)."""
    try:
        sel, _ = to_params(view)
    except (FilterError, ValueError) as exc:
        return heatmap_figure(pd.DataFrame(columns=["source_actor", "target_actor", "n_articles",
                                                    "tension"])), str(exc)
    start, end = view_dates(service, view)
    everything = service.dyad_matrix(Selection(sources=sel.sources, filter=sel.filter), start, end)
    matrix = chartable(everything)
    fig = heatmap_figure(matrix, sel.dyad)
    unnamed = (" Sources that speak for no actor are not in the matrix (the conflict measures read "
               "their reports): `ingest --actor CODE` says whom a source speaks for."
               ) if len(everything) > len(matrix) else ""
    if not len(matrix):
        return fig, "No article in this view is aimed at an actor by a source that speaks for one." + unnamed
    shown = len(set(fig["layout"]["xaxis"]["categoryarray"]) | set(fig["layout"]["yaxis"]["categoryarray"]))
    return fig, (f"Mean tension of each source → target over {start} to {end}, for the "
                 f"{shown} actors with most articles (red hostile, blue conciliatory). "
                 "Click a cell to chart that dyad." + unnamed)


def dyad_from_click(click: dict | None) -> str | None:
    """The dyad value ("PRK-USA") of a clicked cell; None for an empty cell or no click."""
    points = (click or {}).get("points") or []
    custom = points[0].get("customdata") if points else None
    return custom[2] if isinstance(custom, list) and len(custom) > 2 and custom[2] else None


def evidence_range(service: Service, view: dict, chosen: dict | None) -> dict | None:
    """What a cell click shows evidence for when no day is chosen: the heatmap's dates, if
    short enough to read (None: keep the choice as it is)."""
    if chosen:
        return None
    start, end = view_dates(service, view)
    if start is None or end is None or (end - start).days + 1 > EVIDENCE_MAX_DAYS:
        return None
    return {"start": start.isoformat(), "end": end.isoformat()}


def layout() -> html.Section:
    return html.Section(className="panel dyads", id="dyads-panel", children=[
        html.H2("Actor × actor tension"),
        html.P(id="dyad-note", className="hint"),
        dcc.Graph(id="dyad-heatmap", config={"displayModeBar": False}),
    ])


def register(app: Dash, service: Service) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("dyad-heatmap", "figure"), Output("dyad-note", "children"),
                  [Input(c, p) for c, p in CONTROL_IDS])
    def _heatmap(*values):
        return render_heatmap(service, view_from_controls(list(values)))

    # the dropdowns' choices too, in the same answer: a dyad they do not list (under the
    # floor) would be cleared by the dropdown
    @app.callback(Output("dyad", "value", allow_duplicate=True),
                  Output("dyad", "options", allow_duplicate=True),
                  Output("compare", "options", allow_duplicate=True),
                  Output("selection", "data", allow_duplicate=True),
                  Input("dyad-heatmap", "clickData"), State("selection", "data"),
                  [State(c, p) for c, p in CONTROL_IDS], prevent_initial_call=True)
    def _click(click, chosen, *values):
        dyad = dyad_from_click(click)
        if not dyad:
            raise PreventUpdate
        view = view_from_controls(list(values))
        options = measure_options(service, (dyad, view["compare"]))
        return dyad, options, options, evidence_range(service, view, chosen) or no_update
