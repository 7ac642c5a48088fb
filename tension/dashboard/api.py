"""A small JSON/CSV HTTP API on the dashboard's server (Grafana-style annotations).

    GET    /api/health
    GET    /api/index.csv   ?from=&to=&freq=D|W|M&smooth=&normalize=&source=&category=&filter=
    GET    /api/index.json  (same parameters)
    GET    /api/spikes      (same selection parameters)
    GET    /api/annotations ?from=&to=&tag=            → JSON list
    POST   /api/annotations  JSON body                  → 201 + stored annotation (with id)
    GET    /api/annotations/<id>
    PATCH  /api/annotations/<id>  JSON body with the `updated_at` you edited (or If-Match)
    DELETE /api/annotations/<id>  optional `updated_at` / If-Match; 204
Errors are JSON `{"error": "..."}` with 400 (bad input), 404, 409 (someone else saved
first: the body carries their version), 415 (not JSON) or 422.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, jsonify, request

from tension.analysis.index import IndexOptions
from tension.analysis.spikes import as_records
from tension.core.filters import FilterError, parse_filter
from tension.core.selection import Selection
from tension.dashboard.service import Service
from tension.io.export import to_csv_text, to_json_text
from tension.store import annotations as ann
from tension.store.queries import SelectionError


class BadRequest(ValueError):
    pass


class NotJSON(ValueError):
    pass


def _error(status: int, message: str, **extra: object) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


def _date_arg(name: str) -> dt.date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date like 2018-01-03, not {value!r}") from None


def _params() -> tuple[Selection, IndexOptions]:
    """Selection and index options from the query string, validated."""
    args = request.args
    filt = args.get("filter", "")
    try:
        parse_filter(filt)
    except FilterError as exc:
        raise BadRequest(str(exc)) from None
    try:
        smooth = int(args.get("smooth", 7))
        n_boot = int(args.get("n_boot", 200))
    except ValueError:
        raise BadRequest("'smooth' and 'n_boot' must be whole numbers") from None
    opts = IndexOptions(start=_date_arg("from"), end=_date_arg("to"), freq=args.get("freq", "D"),
                        smooth=smooth, normalize=args.get("normalize", "raw"),
                        smoother=args.get("smoother", "rolling"),
                        base_start=_date_arg("base_from"), base_end=_date_arg("base_to"),
                        n_boot=min(max(n_boot, 0), 2000))
    try:
        opts.check()
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    sel = Selection(sources=tuple(args.getlist("source")), categories=tuple(args.getlist("category")),
                    filter=filt)  # categories are checked against the store's lexicon on use
    return sel, opts


def _json_body() -> dict:
    if not request.is_json:
        raise NotJSON("send a JSON object with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def build_api(service: Service) -> Blueprint:
    """The API blueprint for one service (one store)."""
    bp = Blueprint("tension_api", __name__, url_prefix="/api")

    @bp.errorhandler(BadRequest)
    @bp.errorhandler(SelectionError)
    @bp.errorhandler(ann.AnnotationError)
    def _bad(exc: Exception):  # noqa: ANN202
        return _error(400, str(exc))

    @bp.errorhandler(NotJSON)
    def _not_json(exc: Exception):  # noqa: ANN202
        return _error(415, str(exc))

    @bp.errorhandler(ann.NotFound)
    def _missing(exc: Exception):  # noqa: ANN202
        return _error(404, str(exc))

    @bp.errorhandler(ann.Conflict)
    def _conflict(exc: ann.Conflict):  # noqa: ANN202
        return _error(409, str(exc), current=exc.current)

    @bp.get("/health")
    def health():  # noqa: ANN202
        return jsonify(service.health())

    @bp.get("/index.csv")
    def index_csv():  # noqa: ANN202
        sel, opts = _params()
        body = to_csv_text(service.export(sel, opts))
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=tension_index.csv"})

    @bp.get("/index.json")
    def index_json():  # noqa: ANN202
        sel, opts = _params()
        return Response(to_json_text(service.export(sel, opts)), mimetype="application/json")

    @bp.get("/spikes")
    def spikes():  # noqa: ANN202
        sel, _ = _params()
        return jsonify(as_records(service.spikes(sel)))

    @bp.get("/annotations")
    def list_annotations():  # noqa: ANN202
        return jsonify(ann.list_annotations(service.store, _date_arg("from"), _date_arg("to"),
                                            request.args.get("tag") or None))

    @bp.post("/annotations")
    def create_annotation():  # noqa: ANN202
        return jsonify(ann.create(service.store, _json_body())), 201

    @bp.get("/annotations/<int:ann_id>")
    def get_annotation(ann_id: int):  # noqa: ANN202
        return jsonify(ann.get(service.store, ann_id))

    @bp.patch("/annotations/<int:ann_id>")
    def patch_annotation(ann_id: int):  # noqa: ANN202
        body = _json_body()
        expected = request.headers.get("If-Match", "").strip('"') or body.pop("updated_at", None)
        body.pop("id", None)
        body.pop("created_at", None)
        return jsonify(ann.update_annotation(service.store, ann_id, body, expected))

    @bp.delete("/annotations/<int:ann_id>")
    def delete_annotation(ann_id: int):  # noqa: ANN202
        expected = request.headers.get("If-Match", "").strip('"') or request.args.get("updated_at")
        if request.is_json and isinstance(request.get_json(silent=True), dict):
            expected = expected or request.get_json(silent=True).get("updated_at")
        ann.delete(service.store, ann_id, expected or None)
        return Response(status=204)

    @bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    @bp.route("/<path:rest>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    def unknown(rest: str):  # noqa: ANN202 - otherwise Dash's page route would answer 200 with HTML
        return _error(404, f"no API endpoint /api/{rest} for {request.method}; see /api/health "
                           "and the README")

    return bp
