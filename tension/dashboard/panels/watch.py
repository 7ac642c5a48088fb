"""Followed sources and alerts on the page: the Sources panel (add, enable/disable, remove; last
pull, items added, last error) and the banner of the latest alert, with a link to that day's
evidence. `tension watch` does the pulling; the page reads and edits the same tables."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from tension.dashboard.service import Service
from tension.store.sources import (
    SourceError,
    add_source,
    dismiss_alert,
    list_alerts,
    list_sources,
    parse_interval,
    remove_source,
    set_enabled,
)

POLL_MS = 30_000  # the page looks for new alerts and pulls this often


def banner_layout() -> html.Div:
    return html.Div([html.Div(id="alert-banner"), dcc.Interval(id="watch-poll", interval=POLL_MS),
                     dcc.Store(id="sources-version", data=0)])


def layout() -> html.Details:
    return html.Details(className="panel", id="sources-panel", children=[
        html.Summary("Sources followed (tension watch)"),
        html.Div(className="row", children=[
            dcc.Input(id="source-location", placeholder="feed URL, folder or file", debounce=False,
                      style={"minWidth": "22em"}),
            dcc.Input(id="source-name", placeholder="name (default: the location)"),
            dcc.Input(id="source-interval", placeholder="every (15m)", value="15m", style={"width": "7em"}),
            html.Button("Add source", id="source-add"),
        ]),
        html.Div(id="source-message", className="muted"),
        html.Div(id="sources-table"),
        html.P(["`python -m tension watch` pulls them on their interval; see the README, ",
                "\"Watching live sources and alerts\"."], className="muted"),
    ])


def sources_table(service: Service) -> html.Table | html.P:
    """The sources with their state, as text (names and errors are never HTML)."""
    rows = list_sources(service.store)
    if not rows:
        return html.P("No sources yet.", className="muted")
    head = html.Thead(html.Tr([html.Th(h) for h in ("name", "location", "every", "last pull", "added",
                                                    "last error", "")]))
    body = []
    for r in rows:
        toggle = "disable" if r["enabled"] else "enable"
        body.append(html.Tr([
            html.Td(r["name"]), html.Td(r["location"]), html.Td(f"{r['interval_s'] // 60} min"),
            html.Td(r["last_pull_at"] or "never"),
            html.Td(f"{r['last_added']:,} (total {r['total_added']:,})"),
            html.Td(r["last_error"] or "", className="error" if r["last_error"] else ""),
            html.Td([html.Button(toggle, id={"type": "source-act", "act": toggle, "id": r["id"]}),
                     html.Button("remove", id={"type": "source-act", "act": "remove", "id": r["id"]})]),
        ]))
    return html.Table([head, html.Tbody(body)], className="sources")


def add_from_page(service: Service, location: str | None, name: str | None, interval: str | None) -> str:
    """Add a source from the panel's fields; the message to show."""
    try:
        src = add_source(service.store, location or "", name=name or None,
                         interval_s=parse_interval(interval or "15m"))
    except SourceError as exc:
        return f"Not added: {exc}"
    return f"Following {src['name']!r}: `tension watch` pulls it every {src['interval_s'] // 60} min."


def act(service: Service, action: str, source_id: int) -> str:
    try:
        if action == "remove":
            src = remove_source(service.store, source_id)
            return f"Stopped following {src['name']!r} (its articles stay)."
        src = set_enabled(service.store, source_id, action == "enable")
    except SourceError as exc:
        return str(exc)
    return f"{src['name']!r} {'enabled' if src['enabled'] else 'disabled'}."


def alert_banner(service: Service) -> list:
    """The latest alert not dismissed: what, when, how strong, and a link to its evidence."""
    alerts = list_alerts(service.store, include_dismissed=False, limit=1)
    if not alerts:
        return []
    a = alerts[0]
    p = a["payload"]
    return [html.Div(className="alert-banner", children=[
        html.B(f"New {p['kind']} spike"), f" of {p['measure_label']} on {p['date']} (z {p['z']:+.1f}; "
        f"index {p['value']:+.3f} against a baseline of {p['baseline']:+.3f}, {p['n_articles']} articles). ",
        html.A("Show that day's evidence", href=p["link"]), " ",
        html.Button("dismiss", id={"type": "alert-dismiss", "id": a["id"]}),
    ])]


def day_from_search(search: str | None) -> dict | None:
    """`?…&day=2026-10-31` (an alert's link) → that day chosen, so its evidence opens."""
    from urllib.parse import parse_qs

    from tension.analysis.options import OptionError, parse_date

    value = (parse_qs((search or "").lstrip("?")).get("day") or [None])[0]
    try:
        day = parse_date("day", value)
    except OptionError:
        return None
    return {"start": day.isoformat(), "end": day.isoformat()} if day else None


def register(app: Dash, service: Service) -> None:
    @app.callback(Output("selection", "data", allow_duplicate=True), Input("url", "search"),
                  prevent_initial_call="initial_duplicate")
    def _day(search):
        found = day_from_search(search)
        if found is None:
            raise PreventUpdate
        return found

    @app.callback(Output("source-message", "children"), Output("sources-version", "data"),
                  Input("source-add", "n_clicks"), State("source-location", "value"),
                  State("source-name", "value"), State("source-interval", "value"),
                  State("sources-version", "data"), prevent_initial_call=True)
    def _add(_n, location, name, interval, version):
        return add_from_page(service, location, name, interval), (version or 0) + 1

    @app.callback(Output("source-message", "children", allow_duplicate=True),
                  Output("sources-version", "data", allow_duplicate=True),
                  Input({"type": "source-act", "act": ALL, "id": ALL}, "n_clicks"),
                  State("sources-version", "data"), prevent_initial_call=True)
    def _act(clicks, version):
        if not ctx.triggered_id or not any(clicks):
            raise PreventUpdate  # the buttons were drawn, not clicked
        return act(service, ctx.triggered_id["act"], ctx.triggered_id["id"]), (version or 0) + 1

    @app.callback(Output("sources-table", "children"), Input("sources-version", "data"),
                  Input("watch-poll", "n_intervals"))
    def _table(_v, _n):
        return sources_table(service)

    @app.callback(Output("alert-banner", "children"), Input("watch-poll", "n_intervals"),
                  Input({"type": "alert-dismiss", "id": ALL}, "n_clicks"))
    def _banner(_n, dismissed):
        if isinstance(ctx.triggered_id, dict) and any(dismissed or []):
            dismiss_alert(service.store, ctx.triggered_id["id"])
        return alert_banner(service)
