"""`tension serve`: the dashboard and its HTTP API, as `python app.py` serves them."""

from __future__ import annotations

import click

from tension.cli.common import db_option


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535))
@click.option("--auth-file", metavar="FILE",
              help="File of user:password lines; requires a login (default: $TENSION_AUTH if set).")
@click.option("--max-upload-mb", default=20, show_default=True, type=click.IntRange(1, 2048),
              help="Largest article file the page accepts.")
@click.option("--debug", is_flag=True, help="Dash debug mode (reloader, dev tools).")
def serve(db: str | None, host: str, port: int, auth_file: str | None, max_upload_mb: int,
          debug: bool) -> None:
    """Serve the dashboard and its HTTP API (binds 127.0.0.1 unless --host says otherwise)."""
    from tension.dashboard.app import serve as run

    run(db, host=host, port=port, auth_file=auth_file, max_upload_mb=max_upload_mb, debug=debug)
