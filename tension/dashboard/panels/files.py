"""Export and import: the CSV of the view (what `tension export` writes) and article files
dropped on the page, ingested in the background with their progress."""

from __future__ import annotations

from dash import Dash, Input, Output, State, dcc, html, no_update

from tension.dashboard.panels.controls import CONTROL_IDS, view_from_controls
from tension.dashboard.service import Service
from tension.dashboard.uploads import SOURCE_CHARS, Job, UploadError, Uploads
from tension.dashboard.view import to_params
from tension.io.export import to_csv_text
from tension.io.readers import upload_suffixes
from tension.pipeline.ingest.summary import earlier_note, lookup_command

LISTED = 1000  # quarantined rows the "show all" list holds; the command lists the rest


def problem_table(rows: list[dict], class_name: str = "quarantine") -> html.Table:
    """Quarantined rows as a small table: file, row, field, reason (as text, never HTML)."""
    head = html.Thead(html.Tr([html.Th(h) for h in ("file", "row", "field", "reason")]))
    body = html.Tbody([html.Tr([html.Td(r["file"]), html.Td("" if r["row"] is None else f"{r['row']:,}"),
                                html.Td(r["field"] or ""), html.Td(r["reason"])]) for r in rows])
    return html.Table([head, body], className=class_name)


def quarantine_report(summary: dict, listing: tuple[list[dict], int] | None = None) -> list:
    """The first quarantined rows of an upload, all of them on demand (`listing`: rows from
    the store and how many it has), and the command that lists them: why each row was refused
    is said where the count is, not one lookup away."""
    n, shown = summary["quarantined"], summary.get("problems") or []
    out: list = []
    if shown:
        out.append(problem_table(shown))
    lookups = summary.get("quarantine_in") or [{"run": summary.get("run_id"), "file": None, "n": n}]
    if n > len(shown) and listing is not None:
        rows, total = listing
        more = [html.P(f"The first {len(rows):,} of {total:,}; the command below lists them all.",
                       className="muted")] if total > len(rows) else []
        out.append(html.Details([html.Summary(f"show all {n:,} quarantined rows"), problem_table(rows),
                                 *more], className="quarantine-all"))
    commands = [lookup_command(e) for e in lookups if e.get("listed", e["n"])]
    if commands:
        codes = [part for c in commands for part in ("; ", html.Code(c))][1:]
        out.append(html.P(["On the command line: ", *codes], className="muted"))
    notes = [note for note in map(earlier_note, lookups) if note]
    out += [html.P(note, className="muted") for note in notes]
    return out


def upload_message(job: dict, listing: tuple[list[dict], int] | None = None) -> list:
    """Progress while running; the ingest summary when done: counts, the source and date
    the analyst gave, the first quarantined rows (file, row, field, reason) and the rest
    on demand (`listing`, see `quarantine_report`)."""
    if job["status"] in ("queued", "running"):
        return [html.Progress(className="progress"), f" {job['name']}: {job['rows']:,} rows read…"]
    if job["status"] == "failed":
        return [html.Span(f"{job['name']}: import failed: {job['error']}", className="error")]
    s = job["summary"]
    out = [html.B(f"{job['name']}: "), f"read {s['read']:,} rows, added {s['added']:,}, duplicates "
           f"{s['duplicates']:,}, quarantined {s['quarantined']:,}."]
    given = s.get("upload") or {}
    if given.get("source"):
        out.append(html.Span(f" Source: {given['source']}.", className="muted"))
    if given.get("date"):
        out.append(html.Span(f" Articles without a date of their own: {given['date']}.", className="muted"))
    if s["errors"]:
        out.append(html.Span(" " + "; ".join(s["errors"]), className="error"))
    if s["quarantined"]:
        out += quarantine_report(s, listing)
    return out


def start_upload(uploads: Uploads, contents: str | None, filename: str | None, source: str | None,
                 date: str | None) -> tuple:
    """The upload box's callback: (status, job id, poll disabled, the box's contents).
    The box is emptied so that the same file, dropped again (with a date, say), is imported."""
    if contents is None:
        return no_update, no_update, no_update, no_update
    try:
        if not isinstance(contents, str) or not (filename is None or isinstance(filename, str)):
            raise UploadError("the upload sent no file (its name and contents must be text)")
        job = uploads.start(filename, contents, source=source, date=date)
    except UploadError as exc:
        return html.Span(str(exc), className="error"), None, True, None
    return f"Importing {job.name}…", job.id, False, None


def poll_upload(uploads: Uploads, job_id: str | None, version: int | None) -> tuple:
    """The poll's callback: (message, poll disabled, the data version to bump when done)."""
    job = uploads.get(job_id) if job_id else None
    if job is None:
        return no_update, True, no_update
    return upload_message(job.as_dict(), _listing(uploads, job)), job.status in ("done", "failed"), \
        ((version or 0) + 1 if job.status == "done" else no_update)


def _listing(uploads: Uploads, job: Job) -> tuple[list[dict], int] | None:
    """The store's quarantine rows of a finished upload, when there are more than it shows."""
    s = job.summary
    if job.status != "done" or s.get("quarantined", 0) <= len(s.get("problems") or []):
        return None
    return uploads.quarantined(job, LISTED)


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
        html.Div(className="upload-options", children=[
            html.Div(className="upload-option", children=[
                html.Label("Source name", htmlFor="upload-source", className="field-label"),
                dcc.Input(id="upload-source", type="text", maxLength=SOURCE_CHARS,
                          placeholder="default: the file's own")]),
            html.Div(className="upload-option", children=[
                html.Label("Date of undated articles", htmlFor="upload-date", className="field-label"),
                dcc.DatePickerSingle(id="upload-date", display_format="YYYY-MM-DD", clearable=True,
                                     placeholder="YYYY-MM-DD")]),
        ]),
        html.P("The source name, if given, is the source of every article in the file; empty: "
               "the file's source column, else the file's name. The date goes only to articles "
               "without one of their own (e.g. a .txt with no date in front matter or name); "
               "without it they are quarantined.", className="hint"),
        # data-max-bytes: assets/upload_limit.js says so when a file is over it (dcc.Upload
        # would drop it without a word)
        html.Div(**{"data-max-bytes": str(max_upload_mb * 1024 * 1024)}, children=dcc.Upload(
            id="upload", className="dropzone", max_size=max_upload_mb * 1024 * 1024, accept=upload_accept(),
            children=html.Div([f"Drop an article file here (CSV, TSV, JSON, JSONL or a .txt "
                               f"article; up to {max_upload_mb} MB) or ", html.A("choose one")]))),
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
                  Output("upload-poll", "disabled"), Output("upload", "contents"),
                  Input("upload", "contents"), State("upload", "filename"),
                  State("upload-source", "value"), State("upload-date", "date"),
                  prevent_initial_call=True)
    def _upload(contents, filename, source, date):
        return start_upload(uploads, contents, filename, source, date)

    @app.callback(Output("upload-status", "children", allow_duplicate=True),
                  Output("upload-poll", "disabled", allow_duplicate=True),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input("upload-poll", "n_intervals"), State("upload-job", "data"),
                  State("ann-version", "data"), prevent_initial_call=True)
    def _poll(_n, job_id, version):
        return poll_upload(uploads, job_id, version)
