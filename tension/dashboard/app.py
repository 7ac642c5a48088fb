"""App factory: builds a Dash app (page, callbacks, HTTP API) for one store.

Tests call `create_app` in-process; `app.py` at the top level wraps it for the
command line and gunicorn.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import dash
import flask

from tension.core.paths import SEEDS_DIR, data_dir
from tension.dashboard.api import build_api
from tension.dashboard.auth import is_loopback, load_credentials, require_login
from tension.dashboard.layout import build_layout
from tension.dashboard.panels import register
from tension.dashboard.panels.chart import render_view
from tension.dashboard.panels.controls import measure_options
from tension.dashboard.service import Service
from tension.dashboard.training import Training
from tension.dashboard.uploads import Uploads
from tension.dashboard.view import parse_query
from tension.pipeline.ingest import ingest
from tension.store.engine import Store

DEFAULT_UPLOAD_MB = 20
# Fetched by scripts/bootstrap.sh; when present the page loads it instead of the full
# plotly.js (4.6 MB), which Dash would otherwise send on first load.
HERE = Path(__file__).resolve().parent
PLOTLY_BASIC = HERE / "vendor" / "plotly-basic.min.js"


def seed_if_empty(store: Store) -> bool:
    """A new store starts with the seed article(s), so the page is never blank."""
    if store.counts()["articles"]:
        return False
    if SEEDS_DIR.is_dir():
        ingest(store, [str(SEEDS_DIR)])
    return True


def create_app(db: str | None = None, *, seed: bool = True, credentials: dict[str, str] | None = None,
               upload_dir: str | Path | None = None, max_upload_mb: int = DEFAULT_UPLOAD_MB,
               warm: bool = False) -> dash.Dash:
    """A Dash app serving the dashboard and /api for the store at `db`; `warm` computes the
    landing view in the background at once (the server does: a cold first page waited
    seconds for the store to be read)."""
    store = Store(db)
    if seed:
        seed_if_empty(store)
    service = Service(store)
    uploads = Uploads(store, Path(upload_dir) if upload_dir else data_dir() / "uploads",
                      max_upload_mb * 1024 * 1024)
    scripts = [{"src": "/vendor/plotly-basic.min.js"}] if PLOTLY_BASIC.is_file() else []
    app = dash.Dash(__name__, title="Tension Index", assets_folder=str(HERE / "assets"),
                    update_title=None, compress=True, external_scripts=scripts)
    if scripts:
        app.server.add_url_rule(
            "/vendor/plotly-basic.min.js", "plotly_basic",
            lambda: flask.send_file(PLOTLY_BASIC, mimetype="text/javascript", max_age=31_536_000))
    label = store.engine.url.render_as_string(hide_password=True)

    def layout() -> dash.html.Div:  # rebuilt per page load: new sources appear after an import
        return build_layout(sources=service.sources(), categories=service.categories(), store_label=label,
                            max_upload_mb=max_upload_mb, measures=measure_options(service))

    # The same components without the store's choices: Dash checks callbacks against it instead
    # of calling layout() here, which read the whole store before the server could listen.
    app.validation_layout = build_layout(sources=[], categories=[], store_label=label,
                                         max_upload_mb=max_upload_mb, measures=[])
    app.layout = layout
    training = Training(store)
    register(app, service, uploads, training)
    app.server.register_blueprint(build_api(service))
    app.server.config["MAX_CONTENT_LENGTH"] = (max_upload_mb * 4 // 3 + 2) * 1024 * 1024
    app.server.extensions["tension"] = {"service": service, "uploads": uploads, "training": training}
    if credentials:
        require_login(app.server, credentials)
    if warm:
        threading.Thread(target=_warm, args=(service,), daemon=True, name="warm caches").start()
    return app


def _warm(service: Service) -> None:
    """What the first page needs: the landing view (its articles, index, spikes, phrases)
    and the store's dyads (the measure dropdown)."""
    render_view(service, parse_query(""))
    measure_options(service)


def serve(db: str | None = None, *, host: str = "127.0.0.1", port: int = 8050,
          auth_file: str | None = None, max_upload_mb: int = DEFAULT_UPLOAD_MB,
          debug: bool = False) -> None:
    """Serve the dashboard (`python app.py`, `tension serve`): loopback unless told otherwise,
    and a loud warning when another address is served without a login."""
    credentials = load_credentials(auth_file)
    if not is_loopback(host) and not credentials:
        print("\n" + "!" * 78 + f"\nWARNING: serving on {host}, reachable from other machines, "
              "WITHOUT a login.\nAnyone who can reach it can read the data and change annotations.\n"
              "Set TENSION_AUTH=user:password or pass --auth-file FILE.\n" + "!" * 78 + "\n",
              file=sys.stderr)
    app = create_app(db, credentials=credentials, max_upload_mb=max_upload_mb, warm=True)
    app.run(host=host, port=port, debug=debug)
