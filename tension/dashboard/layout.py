"""The page: the panels' layouts (`tension.dashboard.panels`) in their places, and the stores
that carry state between callbacks.

Built from plain data (sources, categories, store URL); imports no app. All text shown
here reaches the browser as React text nodes, which are escaped.
"""

from __future__ import annotations

from dash import dcc, html

from tension.dashboard.panels import (
    annotations,
    chart,
    controls,
    dyads,
    evidence,
    files,
    learning,
    watch,
)


def build_layout(*, sources: list[str], categories: list[str], store_label: str,
                 max_upload_mb: int, measures: list[dict] | None = None) -> html.Div:
    """The whole page."""
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
        watch.banner_layout(),
        controls.layout(sources, categories, measures),
        *chart.layout(),
        html.Div(className="columns", children=[
            evidence.layout(),
            html.Section(className="panel side", children=[*annotations.form_layout(),
                                                           *chart.spikes_layout()]),
        ]),
        dyads.layout(),
        learning.layout(),
        annotations.grid_layout(),
        files.layout(max_upload_mb),
        watch.layout(),
    ])
