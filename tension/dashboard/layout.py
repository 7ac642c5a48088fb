"""The page: controls, the chart, the evidence panel, spikes, annotations, export and upload.

Built from plain data (sources, date bounds, store URL); imports no app. All text shown
here reaches the browser as React text nodes, which are escaped.
"""

from __future__ import annotations

import dash_ag_grid as dag
from dash import dcc, html

from tension.dashboard.figures import LAYERS
from tension.io.readers import upload_suffixes

LAYER_LABELS = {"band": "95% band", "points": "daily points", "hostility": "hostility",
                "conciliation": "conciliation", "counts": "article counts", "spikes": "spikes",
                "annotations": "annotations", "events": "reference events"}
GRID_COLUMNS = [
    {"field": "id", "headerName": "#", "width": 70},
    {"field": "start", "headerName": "start", "width": 115, "filter": "agDateColumnFilter"},
    {"field": "end", "headerName": "end", "width": 115},
    {"field": "title", "headerName": "title", "flex": 2, "filter": "agTextColumnFilter"},
    {"field": "tags_text", "headerName": "tags", "flex": 1, "filter": "agTextColumnFilter"},
    {"field": "author", "headerName": "author", "width": 120, "filter": "agTextColumnFilter"},
    {"field": "note", "headerName": "note", "flex": 2},
    {"field": "updated_at", "headerName": "updated", "width": 190},
]


def _upload_accept() -> str:
    """The upload box's `accept`: the registry's suffixes, gzipped ones as plain ".gz". It is
    only the file chooser's hint; `uploads.safe_name` checks the whole suffix."""
    suffixes = (".gz" if s.endswith(".gz") else s for s in upload_suffixes())
    return ",".join(dict.fromkeys(suffixes))


def _field(label: str, component, extra_class: str = "") -> html.Label:  # noqa: ANN001
    return html.Label([html.Span(label, className="field-label"), component],
                      className=f"field {extra_class}".strip())


def build_layout(*, sources: list[str], categories: list[str], store_label: str,
                 max_upload_mb: int) -> html.Div:
    """The whole page."""
    controls = html.Div(className="controls", children=[
        _field("dates", dcc.DatePickerRange(id="date-range", display_format="YYYY-MM-DD",
                                            clearable=True, start_date=None, end_date=None)),
        _field("sources", dcc.Dropdown(id="sources", options=sources, multi=True,
                                       placeholder="all sources")),
        _field("categories", dcc.Dropdown(id="categories", options=categories, multi=True,
                                          placeholder="all lexicon categories")),
        _field("period", dcc.RadioItems(id="freq", options=[{"label": " day", "value": "D"},
                                                           {"label": " week", "value": "W"},
                                                           {"label": " month", "value": "M"}],
                                        value="D", inline=True)),
        # text, not number: dash's number input sends nothing for an out-of-range entry typed
        # twice in a row, so 0 or 1000 could stay in the field; callbacks.smooth_value checks it
        _field("smoothing (periods)", dcc.Input(id="smooth", type="text", inputMode="numeric",
                                                value=7, debounce=True)),
        _field("normalisation", dcc.RadioItems(id="normalize", options=[
            {"label": " raw", "value": "raw"}, {"label": " z-score", "value": "zscore"},
            {"label": " 100 = mean", "value": "base100"}], value="raw", inline=True)),
        _field("keyword / actor filter", dcc.Input(id="filter", type="text", debounce=True,
                                                   placeholder="e.g. Seoul|South Korea", value=""),
               "filter-field"),
        _field("layers", dcc.Checklist(id="layers", options=[
            {"label": f" {LAYER_LABELS[k]}", "value": k} for k in LAYERS], value=[], inline=True)),
    ])
    return html.Div(className="page", children=[
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="selection"),
        dcc.Store(id="zoom"),  # the chart's last x zoom (debounced): sets the view's dates
        dcc.Store(id="ann-editing"),
        dcc.Store(id="ann-version", data=0),
        dcc.Store(id="upload-job"),
        dcc.Interval(id="upload-poll", interval=700, disabled=True),
        html.Header(className="header", children=[
            html.H1("Tension Index"),
            html.P(["Daily hostility versus conciliation in the news, with the evidence behind "
                    "every number. Store: ", html.Code(store_label, id="store-label")],
                   className="subtitle"),
        ]),
        controls,
        html.Div(id="smooth-message", className="error", role="status"),  # a smoothing refused
        html.Div(id="status", className="status"),
        dcc.Loading(dcc.Graph(id="index-graph", config={"displaylogo": False, "scrollZoom": False},
                              figure={"data": [], "layout": {"height": 520}}), type="circle"),
        html.P("Click a day for its evidence; drag across the chart to select a range; "
               "both fill the annotation form.", className="hint"),
        html.Div(className="columns", children=[
            html.Section(className="panel evidence", children=[
                html.H2("Evidence"), html.Div(id="evidence", children=html.P(
                    "Click a day or select a range on the chart.", className="muted"))]),
            html.Section(className="panel side", children=[
                html.H2("Annotate"),
                html.Div(className="form", children=[
                    _field("start", dcc.Input(id="ann-start", type="text", placeholder="YYYY-MM-DD")),
                    _field("end (empty for one day)", dcc.Input(id="ann-end", type="text",
                                                                placeholder="YYYY-MM-DD")),
                    _field("title", dcc.Input(id="ann-title", type="text", maxLength=200)),
                    _field("note", dcc.Textarea(id="ann-note", maxLength=20000)),
                    _field("tags (comma-separated)", dcc.Input(id="ann-tags", type="text")),
                    _field("author", dcc.Input(id="ann-author", type="text", maxLength=100)),
                    html.Div(className="buttons", children=[
                        html.Button("Save", id="ann-save", n_clicks=0, className="primary"),
                        html.Button("New", id="ann-new", n_clicks=0),
                        html.Button("Delete", id="ann-delete", n_clicks=0, className="danger"),
                    ]),
                    html.Div(id="ann-message", className="message", role="status"),
                ]),
                html.H2("Spike candidates"),
                html.Div(id="spike-list"),
            ]),
        ]),
        html.Section(className="panel", children=[
            html.H2("Annotations"),
            html.Div(className="grid-tools", children=[
                dcc.Input(id="ann-tag-filter", type="text", placeholder="filter by tag",
                          debounce=True),
                html.Button("Download annotations CSV", id="ann-export", n_clicks=0),
                dcc.Upload(id="ann-upload", children=html.Button("Import annotations CSV"),
                           accept=".csv,text/csv"),
                dcc.Download(id="ann-download"),
                html.Span(id="ann-import-message", className="message"),
            ]),
            dag.AgGrid(id="ann-grid", columnDefs=GRID_COLUMNS, rowData=[],
                       defaultColDef={"sortable": True, "resizable": True},
                       dashGridOptions={"rowSelection": {"mode": "singleRow"},
                                        "domLayout": "autoHeight", "pagination": True,
                                        "paginationPageSize": 20},
                       # a string (see grid_rows): numeric ids log AG Grid warning #25
                       getRowId="params.data.row_id", style={"width": "100%"}),
        ]),
        html.Section(className="panel io", children=[
            html.H2("Export and import"),
            html.Button("Download CSV of this view", id="export-btn", n_clicks=0,
                        className="primary"),
            dcc.Download(id="export-download"),
            html.P("The download is exactly what `python -m tension export` writes for the same "
                   "settings.", className="muted"),
            html.H3("Add articles"),
            dcc.Upload(id="upload", className="dropzone", max_size=max_upload_mb * 1024 * 1024,
                       accept=_upload_accept(),
                       children=html.Div([f"Drop an article file here (CSV, JSON, JSONL; up to "
                                          f"{max_upload_mb} MB) or ", html.A("choose one")])),
            html.Div(id="upload-status", className="message"),
            html.P(["For larger corpora, feeds or folders use the command line: ",
                    html.Code("python -m tension ingest FILE… --db URL"),
                    " (see the README)."], className="muted"),
        ]),
    ])
