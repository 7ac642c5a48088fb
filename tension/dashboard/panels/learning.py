"""Teach the model: the analysts' sentence labels (set with the H / N / C buttons beside every
sentence of the evidence), a model trained from them in the background, its cross-validated
figures beside the current model's, and the choice to make it the store's model."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from tension.core.labels import LabelError
from tension.dashboard.panels.controls import field
from tension.dashboard.service import Service
from tension.dashboard.training import Training
from tension.store.labels import count_labels, list_labels, set_label

RECENT = 12  # labels listed on the page (all of them: `python -m tension labels list`)


def set_sentence_label(service: Service, texts: dict | None, trigger: dict | None, author: str | None) -> str:
    """Store the label a button set; the message says what was stored (or why not)."""
    if not trigger or not texts or trigger.get("key") not in texts:
        return "That sentence is no longer shown; pick the day again."
    try:  # the message names what was stored (the label, the author trimmed), not what was typed
        row = set_label(service.store, texts[trigger["key"]], trigger["label"], author or "")
    except LabelError as exc:
        return f"Not labelled: {exc}"
    text, author = row["text"], row["author"]
    short = text if len(text) <= 80 else text[:77] + "…"
    return f"Labelled {row['label']}{' by ' + author if author else ''}: “{short}”"


def labels_summary(service: Service) -> list:
    counts = count_labels(service.store)
    if not counts:
        return [html.P("No labels yet. Label sentences with the H / N / C buttons beside them in "
                       "the evidence (hostile, neutral, conciliatory), or import a file: python -m "
                       "tension labels import FILE --db URL.", className="muted")]
    rows = list_labels(service.store, RECENT)
    total = sum(counts.values())
    return [html.P(f"{total:,} label{'' if total == 1 else 's'}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))),
            html.Ul([html.Li([html.B(r["label"] + " "), r["text"][:140],
                              html.Span(f" · {r['author'] or 'anonymous'} · {r['updated_at'][:10]}",
                                        className="muted")]) for r in rows], className="labels")]


def training_message(job: dict | None) -> tuple[list, bool, str | None]:
    """(what the page says of a training job, whether to keep polling, the model to offer)."""
    if job is None:
        return [], False, None
    if job["status"] in ("queued", "running"):
        return [html.Progress(className="progress"), f" {job['name']}…"], True, None
    if job["status"] == "failed":
        return [html.Span(f"{job['name']} failed: {job['error']}", className="error")], False, None
    s = job["summary"]
    if "rescore" in s:
        r = s["rescore"]
        return [f"The store now scores with model {r['version'][:8]}…: {r['scored']:,} texts rescored."], False, None
    lines = [html.Div(line) for line in s.get("lines", [])]
    return [html.B(f"New model {s['version']}"), *lines], False, s["version"]


def layout() -> html.Section:
    return html.Section(className="panel learning", children=[
        html.H2("Teach the model"),
        dcc.Store(id="labels-version", data=0), dcc.Store(id="train-job"), dcc.Store(id="offered-model"),
        dcc.Interval(id="train-poll", interval=1000, disabled=True),
        field("your name, for the labels you set", dcc.Input(id="label-author", type="text", maxLength=100)),
        html.Div(id="label-message", className="message", role="status"),
        html.Div(id="labels-summary"),
        html.Div(className="buttons", children=[
            html.Button("Train a model from the labels", id="train-btn", n_clicks=0),
            html.Button("Use this model", id="use-model-btn", n_clicks=0, className="primary",
                        disabled=True)]),
        html.Div(id="train-status", className="message", role="status"),
    ])


def register(app: Dash, service: Service, training: Training) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("label-message", "children"), Output("labels-version", "data"),
                  Input({"type": "label", "label": ALL, "key": ALL, "slot": ALL}, "n_clicks"),
                  State("evidence-texts", "data"), State("label-author", "value"),
                  State("labels-version", "data"), prevent_initial_call=True)
    def _label(clicks, texts, author, version):
        if not ctx.triggered_id or not any(clicks):
            raise PreventUpdate  # the buttons were (re)drawn, not clicked
        return set_sentence_label(service, texts, ctx.triggered_id, author), (version or 0) + 1

    @app.callback(Output("labels-summary", "children"), Input("labels-version", "data"))
    def _summary(_version):
        return labels_summary(service)

    @app.callback(Output("train-job", "data"), Output("train-poll", "disabled"),
                  Output("train-status", "children"), Output("use-model-btn", "disabled"),
                  Input("train-btn", "n_clicks"), prevent_initial_call=True)
    def _train(_n):
        return training.start(), False, "Training…", True

    @app.callback(Output("train-job", "data", allow_duplicate=True),
                  Output("train-poll", "disabled", allow_duplicate=True),
                  Output("train-status", "children", allow_duplicate=True),
                  Output("use-model-btn", "disabled", allow_duplicate=True),
                  Input("use-model-btn", "n_clicks"), State("offered-model", "data"),
                  prevent_initial_call=True)
    def _use(_n, version):
        if not version:
            raise PreventUpdate
        return training.use(version), False, "Switching models and rescoring…", True

    @app.callback(Output("train-status", "children", allow_duplicate=True),
                  Output("train-poll", "disabled", allow_duplicate=True),
                  Output("offered-model", "data"), Output("use-model-btn", "disabled", allow_duplicate=True),
                  Output("ann-version", "data", allow_duplicate=True),
                  Input("train-poll", "n_intervals"), State("train-job", "data"),
                  State("ann-version", "data"), prevent_initial_call=True)
    def _poll(_n, job_id, version):
        job = training.get(job_id) if job_id else None
        message, keep, offer = training_message(job)
        done_rescoring = job is not None and job["status"] == "done" and "rescore" in job["summary"]
        return (message, not keep, offer if offer else no_update, offer is None,
                (version or 0) + 1 if done_rescoring else no_update)
