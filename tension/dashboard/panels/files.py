"""Export and import: the CSV of the view (what `tension export` writes) and article files
dropped on the page, ingested in the background with their progress."""

from __future__ import annotations

from dash import Dash, Input, Output, State, dcc, html, no_update

from tension.dashboard.panels.controls import CONTROL_IDS, view_from_controls
from tension.dashboard.service import Service
from tension.dashboard.uploads import UploadError, Uploads
from tension.dashboard.view import to_params
from tension.io.export import to_csv_text
from tension.io.readers import upload_suffixes


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


def upload_accept() -> str:
    """The upload box's `accept`: the readers' registry's suffixes, gzipped ones as plain
    ".gz". It is only the file chooser's hint; `uploads.safe_name` checks the whole suffix."""
    suffixes = (".gz" if s.endswith(".gz") else s for s in upload_suffixes())
    return ",".join(dict.fromkeys(suffixes))


def layout(max_upload_mb: int) -> html.Section:
    return html.Section(className="panel io", children=[
        html.H2("Export and import"),
        html.Button("Download CSV of this view", id="export-btn", n_clicks=0, className="primary"),
        dcc.Download(id="export-download"),
        html.P("The download is exactly what `python -m tension export` writes for the same "
               "settings.", className="muted"),
        html.H3("Add articles"),
        dcc.Upload(id="upload", className="dropzone", max_size=max_upload_mb * 1024 * 1024,
                   accept=upload_accept(),
                   children=html.Div([f"Drop an article file here (CSV, JSON, JSONL; up to "
                                      f"{max_upload_mb} MB) or ", html.A("choose one")])),
        html.Div(id="upload-status", className="message"),
        html.P(["For larger corpora, feeds or folders use the command line: ",
                html.Code("python -m tension ingest FILE… --db URL"),
                " (see the README)."], className="muted"),
    ])


def register(app: Dash, service: Service, uploads: Uploads) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("export-download", "data"), Input("export-btn", "n_clicks"),
                  [State(c, p) for c, p in CONTROL_IDS], prevent_initial_call=True)
    def _export(_n, *values):
        sel, opts = to_params(view_from_controls(list(values)))
        return dcc.send_string(to_csv_text(service.export(sel, opts)), "tension_index.csv",
                               type="text/csv")

    @app.callback(Output("upload-status", "children"), Output("upload-job", "data"),
                  Output("upload-poll", "disabled"),
                  Input("upload", "contents"), State("upload", "filename"), prevent_initial_call=True)
    def _upload(contents, filename):
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
    def _poll(_n, job_id, version):
        job = uploads.get(job_id) if job_id else None
        if job is None:
            return no_update, True, no_update
        return upload_message(job.as_dict()), job.status in ("done", "failed"), \
            (version + 1 if job.status == "done" else no_update)
