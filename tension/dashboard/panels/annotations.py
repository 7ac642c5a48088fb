"""Annotations: the form (create, edit, delete with confirmation and undo) and the grid (click
a row to edit it; filter by tag, CSV export and import). Every change is a transaction in the
store; a stale edit loses with the current version, and a deleted annotation never comes back
except through its own undo.

The form's actions are plain functions returning a `dict` of what changes (`message`,
`editing`, `form`, `refresh`, `undo`, `pending`; a missing key changes nothing), so they are
tested without a browser; `register` maps them onto the page."""

from __future__ import annotations

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from tension.dashboard.panels.controls import field
from tension.dashboard.service import Service
from tension.dashboard.uploads import UploadError, Uploads
from tension.store import annotations as ann

FIELDS = ("start", "end", "title", "note", "tags", "author")
FIELD_IDS = [f"ann-{f}" for f in FIELDS]
# What a delete (or New) empties; the author stays: it is the analyst's name, not the annotation's.
BLANK = {"start": "", "end": "", "title": "", "note": "", "tags": ""}
GRID_HINT = ("Click a row to open it in the Annotate form for editing. Delete there asks first, "
             "and can be undone right after.")


def form_values(a: dict) -> dict:
    """The form's fields for a stored annotation (an empty end for a single day)."""
    return {"start": a["start"], "end": "" if a["start"] == a["end"] else a["end"],
            "title": a["title"], "note": a["note"], "tags": ", ".join(a["tags"]),
            "author": a["author"]}


def _deleted(editing: dict | None) -> bool:
    """The form holds an annotation deleted elsewhere (see save_annotation): it can't be saved."""
    return bool(editing and editing.get("deleted"))


def form_for_selection(editing: dict | None, found: dict) -> tuple:
    """The annotation form after a chart selection: (editing, message, start, end, title, note, tags).

    The chart never silently re-targets a saved annotation. After a save the form
    starts a new annotation for the selected dates (so saving again adds one, and the
    saved one stays as it is); an annotation opened from the list for editing keeps
    being edited, with the new dates, and the message says so. Text the analyst typed
    for a new annotation is kept. The text of an annotation deleted meanwhile is dropped:
    it must not be saved again as a new one by accident."""
    start, end = found["start"], "" if found["start"] == found["end"] else found["end"]
    when = found["start"] if not end else f"{found['start']} – {found['end']}"
    if _deleted(editing):
        return (None, f"New annotation for {when} (annotation {editing['id']} was deleted).",
                start, end, "", "", "")
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


def _deleted_message(ann_id: object, exc: ann.NotFound | None = None) -> str:
    when = f" at {exc.deleted_at}" if isinstance(exc, ann.Deleted) else ""
    return (f"Not saved: that annotation was deleted{when}; nothing was stored. "
            f"Click New to start a new annotation (annotation {ann_id} stays deleted).")


def save_annotation(service: Service, editing: dict | None, fields: dict) -> tuple[str, dict | None, bool]:
    """Create, or update the one being edited; returns (message, editing state, saved?).

    An edit of an annotation deleted meanwhile (another tab, another analyst) is refused
    and the form stays marked deleted, so a second Save cannot turn it into a new one."""
    if _deleted(editing):
        return _deleted_message(editing["id"]), editing, False
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
        if _same_content(cur, payload):
            # our own earlier save (a double click sent the same edit twice): nothing to redo
            return (f"Saved changes to annotation {cur['id']}.",
                    {"id": cur["id"], "updated_at": cur["updated_at"], "saved": True}, True)
        return (f"Not saved: {cur.get('author') or 'someone'} changed this annotation at "
                f"{cur['updated_at']}. The form now shows their version; apply your edit again."), \
            {"id": cur["id"], "updated_at": cur["updated_at"], "reload": cur}, False
    except ann.NotFound as exc:
        return _deleted_message(editing["id"], exc), {"id": editing["id"], "deleted": True}, False
    except ann.AnnotationError as exc:
        return f"Not saved: {exc}", editing, False


def _same_content(stored: dict, payload: dict) -> bool:
    try:
        values = ann.validate(payload)
    except ann.AnnotationError:
        return False
    return form_values(stored) == form_values(ann.as_dict({
        **values, "id": stored["id"], "created_at": "", "updated_at": ""}))


def save(service: Service, editing: dict | None, fields: dict) -> dict:
    """Save: `save_annotation`, as the changes the form shows (a conflict reloads the form
    with the winner's version)."""
    msg, new_editing, saved = save_annotation(service, editing, fields)
    # a save refused because the annotation was deleted refreshes the list too (another tab)
    out = {"message": msg, "editing": new_editing, "refresh": saved or _deleted(new_editing),
           "undo": None, "pending": None}
    reload = (new_editing or {}).get("reload")
    if reload:
        out["editing"] = {k: v for k, v in new_editing.items() if k != "reload"}
        out["form"] = form_values(reload)
    return out


def new_annotation() -> dict:
    """New: an empty form (the author stays)."""
    return {"editing": None, "message": "New annotation.", "form": dict(BLANK), "undo": None,
            "pending": None}


def open_annotation(service: Service, ann_id: object, editing: dict | None = None) -> dict:
    """A clicked grid row: the annotation as stored now, in the form for editing.

    Clicking the row already open at its stored version changes nothing (the grid also
    re-sends its selection after each refresh, and unsaved typing must survive both). A
    row deleted meanwhile (another tab) is not opened, and the list is refreshed."""
    try:
        current = ann.get(service.store, int(ann_id))
    except (TypeError, ValueError):
        return {}
    except ann.NotFound:
        return {"message": f"Annotation {ann_id} was deleted meanwhile; the list is brought up to date.",
                "refresh": True, "undo": None, "pending": None}
    if editing and not _deleted(editing) and (editing.get("id"), editing.get("updated_at")) == (
            current["id"], current["updated_at"]):
        return {}
    return {"editing": {"id": current["id"], "updated_at": current["updated_at"]},
            "message": f"Editing annotation {current['id']}.", "form": form_values(current),
            "undo": None, "pending": None}


def ask_delete(service: Service, editing: dict | None) -> dict:
    """Delete: ask first, naming what would go (nothing is deleted yet)."""
    if not editing or not editing.get("id"):
        return {"message": "Open an annotation (click its row in the list) to delete it.",
                "undo": None, "pending": None}
    if _deleted(editing):
        return {"message": f"Annotation {editing['id']} was already deleted.", "refresh": True,
                "undo": None, "pending": None}
    try:
        current = ann.get(service.store, int(editing["id"]))
    except ann.NotFound:
        return {"message": f"Annotation {editing['id']} was already deleted.",
                "editing": {"id": editing["id"], "deleted": True}, "refresh": True, "undo": None,
                "pending": None}
    # the version the analyst has open: if someone changed it since, the delete loses
    return {"pending": {"id": current["id"], "updated_at": editing.get("updated_at"),
                        "title": current["title"]}, "undo": None}


def cancel_delete() -> dict:
    return {"message": "Not deleted.", "pending": None}


def confirm_delete(service: Service, pending: dict | None, version: int) -> dict:
    """Yes, delete: the annotation the question named. The form is emptied (nothing in it
    can be saved back), and an undo is offered until the next action."""
    if not pending or not pending.get("id"):
        return {}
    ann_id = pending["id"]
    try:
        gone = ann.delete(service.store, int(ann_id), pending.get("updated_at"))
    except ann.Conflict as exc:
        cur = exc.current
        return {"message": (f"Not deleted: {cur.get('author') or 'someone'} changed annotation "
                            f"{ann_id} at {cur['updated_at']}. The form now shows their version."),
                "editing": {"id": cur["id"], "updated_at": cur["updated_at"]},
                "form": form_values(cur), "refresh": True, "pending": None, "undo": None}
    except ann.NotFound:
        return {"message": f"Annotation {ann_id} was already deleted.", "editing": None,
                "form": dict(BLANK), "refresh": True, "pending": None, "undo": None}
    return {"message": f"Annotation {ann_id} deleted.", "editing": None, "form": dict(BLANK),
            "refresh": True, "pending": None,
            # `version` is the grid's version after this delete: any later change expires it
            "undo": {"id": gone["id"], "deleted_at": gone["deleted_at"], "title": gone["title"],
                     "version": version + 1}}


def undo_delete(service: Service, undo: dict | None) -> dict:
    """Undo: that very delete is undone in the store (same id, dates, text, tags), and the
    annotation is open again in the form."""
    if not undo or not undo.get("id"):
        return {}
    ann_id = undo["id"]
    try:
        back = ann.restore(service.store, int(ann_id), undo["deleted_at"])
    except ann.Conflict:
        try:
            back = ann.get(service.store, int(ann_id))
        except ann.NotFound:  # deleted again since: this undo must not revive that delete
            return {"message": f"Not restored: annotation {ann_id} was deleted again since.",
                    "undo": None, "refresh": True}
        return {"message": f"Annotation {ann_id} is already restored.", "undo": None,
                "editing": {"id": back["id"], "updated_at": back["updated_at"]},
                "form": form_values(back), "refresh": True}
    except ann.NotFound:
        return {"message": f"Not restored: annotation {ann_id} no longer exists.", "undo": None,
                "refresh": True}
    return {"message": f"Annotation {ann_id} restored.", "undo": None, "refresh": True,
            "editing": {"id": back["id"], "updated_at": back["updated_at"]},
            "form": form_values(back)}


def undo_button(undo: dict | None) -> tuple[bool, str]:
    """(hidden, label) of the Undo button: shown while an undo is on offer."""
    return (not undo, f"Undo delete of annotation {undo['id']}" if undo else "Undo")


def confirm_box(pending: dict | None) -> tuple[bool, str]:
    """(hidden, question) of the delete confirmation."""
    if not pending:
        return True, ""
    title = pending.get("title") or ""
    title = title if len(title) <= 80 else title[:79] + "…"
    return False, f"Delete annotation {pending['id']} “{title}”?"


def form_action(service: Service, trigger: str | None, clicked: dict | None, selected: list | None,
                editing: dict | None, version: int, undo: dict | None, pending: dict | None,
                fields: dict) -> dict:
    """The form's action for the component that fired (`trigger`, its id)."""
    if trigger == "ann-save":
        return save(service, editing, fields)
    if trigger == "ann-new":
        return new_annotation()
    if trigger == "ann-delete":
        return ask_delete(service, editing)
    if trigger == "ann-delete-no":
        return cancel_delete()
    if trigger == "ann-delete-yes":
        return confirm_delete(service, pending, version)
    if trigger == "ann-undo-btn":
        return undo_delete(service, undo)
    if trigger == "ann-grid.cellClicked" and clicked and clicked.get("rowId") is not None:
        return open_annotation(service, clicked["rowId"], editing)
    if trigger == "ann-grid.selectedRows" and selected:  # a checkbox, or a row picked by keyboard
        return open_annotation(service, selected[0].get("id"), editing)
    return {}  # a selection emptied (the row deleted or filtered out): the form stays


GRID_COLUMNS = [
    {"field": "id", "headerName": "#", "width": 70, "minWidth": 60},
    {"field": "start", "headerName": "start", "width": 115, "minWidth": 110,
     "filter": "agDateColumnFilter"},
    {"field": "end", "headerName": "end", "width": 115, "minWidth": 110},
    # minimum widths keep title, tags and note readable in a narrow window (they had shrunk
    # to 36 px at 800 px wide); past them the grid scrolls sideways
    {"field": "title", "headerName": "title", "flex": 2, "minWidth": 220,
     "filter": "agTextColumnFilter"},
    {"field": "tags_text", "headerName": "tags", "flex": 1, "minWidth": 140,
     "filter": "agTextColumnFilter"},
    {"field": "author", "headerName": "author", "width": 120, "minWidth": 100,
     "filter": "agTextColumnFilter"},
    {"field": "note", "headerName": "note", "flex": 2, "minWidth": 200},
    {"field": "updated_at", "headerName": "updated", "width": 190, "minWidth": 170},
]


def form_layout() -> list:
    """The annotation form, its delete confirmation and its undo."""
    return [
        html.H2("Annotate"),
        dcc.Store(id="ann-undo"),  # the delete an Undo would revert, until the next action
        dcc.Store(id="ann-pending"),  # the delete waiting for its confirmation
        dcc.Store(id="ann-scrolled"),  # (the output of the row click's scroll to the form)
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
            html.Div(id="ann-confirm", className="ann-confirm", role="alertdialog", hidden=True,
                     children=[
                         html.Span(id="ann-confirm-text"),
                         html.Button("Yes, delete", id="ann-delete-yes", n_clicks=0,
                                     className="danger"),
                         html.Button("Cancel", id="ann-delete-no", n_clicks=0),
                     ]),
            html.Div(id="ann-message", className="message", role="status"),
            html.Button("Undo", id="ann-undo-btn", n_clicks=0, hidden=True, className="ann-undo"),
        ]),
    ]


def grid_layout() -> html.Section:
    """The grid of annotations, with its tag filter and CSV export and import."""
    return html.Section(className="panel ann-grid-panel", children=[
        html.H2("Annotations"),
        html.P(GRID_HINT, className="hint", id="ann-grid-hint"),
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
                   # a click anywhere on a row selects (and opens) it; the checkbox stays for
                   # those who look for one
                   dashGridOptions={"rowSelection": {"mode": "singleRow",
                                                     "enableClickSelection": True},
                                    "domLayout": "autoHeight", "pagination": True,
                                    "paginationPageSize": 20},
                   # a string (see grid_rows): numeric ids log AG Grid warning #25
                   getRowId="params.data.row_id", style={"width": "100%"}),
    ])


# Typing in the emptied form, a chart selection (it fills the dates) or any other change of the
# annotations (the grid's version) ends the offer of an undo. In the browser: no request per
# keystroke.
EXPIRE_UNDO_JS = """
function(start, end, title, note, tags, version, undo) {
    const keep = window.dash_clientside.no_update;
    if (!undo) { return keep; }
    if (version !== undo.version || [start, end, title, note, tags].some(v => v)) { return null; }
    return keep;
}"""

# A row clicked near the bottom of the page fills a form higher up: bring the form into view.
SCROLL_TO_FORM_JS = """
function(clicked) {
    const form = document.getElementById('ann-title');
    if (clicked && form) { form.closest('.panel').scrollIntoView({block: 'nearest'}); }
    return window.dash_clientside.no_update;
}"""


def register(app: Dash, service: Service, uploads: Uploads) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("ann-message", "children"), Output("ann-editing", "data"),
                  Output("ann-version", "data"),
                  [Output(f, "value", allow_duplicate=True) for f in FIELD_IDS],
                  Output("ann-undo", "data", allow_duplicate=True), Output("ann-pending", "data"),
                  Input("ann-save", "n_clicks"), Input("ann-new", "n_clicks"),
                  Input("ann-delete", "n_clicks"), Input("ann-delete-yes", "n_clicks"),
                  Input("ann-delete-no", "n_clicks"), Input("ann-undo-btn", "n_clicks"),
                  Input("ann-grid", "cellClicked"), Input("ann-grid", "selectedRows"),
                  State("ann-editing", "data"), State("ann-version", "data"),
                  State("ann-undo", "data"), State("ann-pending", "data"),
                  [State(f, "value") for f in FIELD_IDS],
                  # no second click while one runs: a double click on Save adds nothing twice
                  running=[(Output("ann-save", "disabled"), True, False),
                           (Output("ann-delete-yes", "disabled"), True, False),
                           (Output("ann-undo-btn", "disabled"), True, False)],
                  prevent_initial_call=True)
    def _act(_save, _new, _delete, _yes, _no, _undo, clicked, selected, editing, version, undo,
             pending, *vals):
        trigger = ctx.triggered[0]["prop_id"] if ctx.triggered else None
        if trigger and not trigger.startswith("ann-grid."):
            trigger = trigger.split(".")[0]
        out = form_action(service, trigger, clicked, selected, editing, version or 0, undo, pending,
                          dict(zip(FIELDS, vals, strict=True)))
        if not out:
            raise PreventUpdate
        form = out.get("form", {})
        return (out.get("message", no_update), out.get("editing", no_update),
                (version or 0) + 1 if out.get("refresh") else no_update,
                *[form.get(f, no_update) for f in FIELDS],
                out.get("undo", no_update), out.get("pending", no_update))

    @app.callback(Output("ann-undo-btn", "hidden"), Output("ann-undo-btn", "children"),
                  Input("ann-undo", "data"))
    def _undo_button(undo):
        return undo_button(undo)

    @app.callback(Output("ann-confirm", "hidden"), Output("ann-confirm-text", "children"),
                  Input("ann-pending", "data"))
    def _confirm_box(pending):
        return confirm_box(pending)

    app.clientside_callback(EXPIRE_UNDO_JS, Output("ann-undo", "data", allow_duplicate=True),
                            [Input(f, "value") for f in FIELD_IDS[:5]],
                            Input("ann-version", "data"), State("ann-undo", "data"),
                            prevent_initial_call=True)
    app.clientside_callback(SCROLL_TO_FORM_JS, Output("ann-scrolled", "data"),
                            Input("ann-grid", "cellClicked"), prevent_initial_call=True)

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
