"""App factory: builds a Dash app for one store. Tests call it in-process."""

from __future__ import annotations

import dash
from dash import html

from tension.config import resolve_db_url


def create_app(db: str | None = None) -> dash.Dash:
    """A Dash app serving the dashboard for the store at `db`."""
    url = resolve_db_url(db)
    app = dash.Dash(__name__, title="Tension Index")
    app.layout = html.Main([
        html.H1("Tension Index"),
        html.P("The dashboard is being built. Score text from the command line meanwhile:"),
        html.Pre("echo 'Trump threatened fire and fury' | python -m tension score-text --format table"),
        html.P(f"Store: {url}", id="store-url"),
    ])
    return app
