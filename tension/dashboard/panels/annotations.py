"""Annotations: the form (create, edit, delete) and the grid (filter by tag, CSV export and
import). Every change is a transaction in the store; a stale edit loses with the current version."""

from __future__ import annotations

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from tension.dashboard.panels.controls import field
from tension.dashboard.service import Service
from tension.dashboard.uploads import UploadError, Uploads
from tension.store import annotations as ann


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


def form_layout() -> list:
    """The annotation form."""
    return [
        html.H2("Annotate"),
        html.Div(className="form", children=[
            field("start", dcc.Input(id="ann-start", type="text", placeholder="YYYY-MM-DD")),
            field("end (empty for one day)", dcc.Input(id="ann-end", type="text",
                                                       placeholder="YYYY-MM-DD")),
            field("title", dcc.Input(id="ann-title", type="text", maxLength=200)),
            field("note", dcc.Textarea(id="ann-note", maxLength=20000)),
            field("tags (comma-separated)", dcc.Input(id="ann-tags", type="text")),
            field("author", dcc.Input(id="ann-author", type="text", maxLength=100)),
            html.Div(className="buttons", children=[
                html.Button("Save", id="ann-save", n_clicks=0, className="primary"),
                html.Button("New", id="ann-new", n_clicks=0),
                html.Button("Delete", id="ann-delete", n_clicks=0, className="danger"),
            ]),
            html.Div(id="ann-message", className="message", role="status"),
        ]),
    ]


def grid_layout() -> html.Section:
    """The grid of annotations, with its tag filter and CSV export and import."""
    return html.Section(className="panel", children=[
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
    ])


def register(app: Dash, service: Service, uploads: Uploads) -> None:
    """Connect this panel's plain functions to the page."""
    fields = ["ann-start", "ann-end", "ann-title", "ann-note", "ann-tags", "ann-author"]

    @app.callback(Output("ann-message", "children"), Output("ann-editing", "data"),
                  Output("ann-version", "data"),
                  [Output(f, "value", allow_duplicate=True) for f in fields],
                  Input("ann-save", "n_clicks"), State("ann-editing", "data"),
                  State("ann-version", "data"), [State(f, "value") for f in fields],
                  prevent_initial_call=True)
    def _save(_n, editing, version, *vals):
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
    def _edit(_n, rows, editing):
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
    def _delete(_n, editing, version):
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
    def _grid(_v, tag):
        return grid_rows(service, tag)

    @app.callback(Output("ann-download", "data"), Input("ann-export", "n_clicks"),
                  prevent_initial_call=True)
    def _ann_export(_n):
        return dcc.send_string(ann.to_csv(ann.list_annotations(service.store)), "annotations.csv",
                               type="text/csv")

    @app.callback(Output("ann-import-message", "children"),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input("ann-upload", "contents"), State("ann-upload", "filename"),
                  State("ann-version", "data"), prevent_initial_call=True)
    def _ann_import(contents, _name, version):
        from tension.dashboard.uploads import decode_upload

        try:
            text = decode_upload(contents, uploads.max_bytes).decode("utf-8-sig")
        except (UploadError, UnicodeDecodeError) as exc:
            return f"Not imported: {exc}", no_update
        result = ann.import_csv(service.store, text)
        errs = "; ".join(result["errors"][:5])
        return (f"Imported {result['added']} annotations, {result['skipped']} already present"
                + (f"; problems: {errs}" if errs else "") + "."), version + 1
