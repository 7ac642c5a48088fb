"""A small JSON/CSV HTTP API on the dashboard's server (Grafana-style annotations).

    GET    /api/health
    GET    /api/index.csv   ?from=&to=&freq=D|W|M&smooth=&normalize=&source=&category=&filter=&dyad=
                            (normalize: seasonal by default, as the export; raw: as scored)
    GET    /api/index.json  (same parameters)
    GET    /api/dyads.csv   every dyad in long format (same parameters but dyad and category; min_articles=)
    GET    /api/dyads.json  the actor x actor matrix of the range: articles and mean tension per dyad
    GET    /api/spikes      (same selection parameters; from/to list the episodes that overlap them)
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
import json

from flask import Blueprint, Response, jsonify, request

from tension.analysis.options import IndexOptions, OptionError, parse_date, parse_view
from tension.analysis.spikes import as_records, overlapping
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
    try:
        return parse_date(name, request.args.get(name))
    except OptionError as exc:
        raise BadRequest(str(exc)) from None


def _params() -> tuple[Selection, IndexOptions]:
    """Selection and index options from the query string, by the one parser of view options."""
    args: dict[str, object] = {k: request.args.get(k) for k in request.args}
    args["source"], args["category"] = request.args.getlist("source"), request.args.getlist("category")
    try:
        return parse_view(args)
    except OptionError as exc:
        raise BadRequest(str(exc)) from None


def _json_body() -> dict:
    if not request.is_json:
        raise NotJSON("send a JSON object with Content-Type: application/json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # 100,000 nested brackets: json's recursion, not a server fault
        raise BadRequest("the body nests too deeply to be read") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


MAX_ID = 2**31 - 1  # ids are 32-bit integers in both backends; a larger one names nothing


def _known_id(ann_id: int) -> int:
    if ann_id > MAX_ID:
        raise ann.NotFound(f"no annotation {ann_id}")
    return ann_id


def _stamp(value: object) -> str | None:
    """The `updated_at` a client sent: text or nothing (a list or object is refused)."""
    if value is None or isinstance(value, str):
        return value or None
    raise BadRequest("'updated_at' must be the text of the version you edited")


def build_api(service: Service) -> Blueprint:
    """The API blueprint for one service (one store)."""
    bp = Blueprint("tension_api", __name__, url_prefix="/api")

    @bp.errorhandler(BadRequest)
    @bp.errorhandler(OptionError)
    @bp.errorhandler(SelectionError)
    @bp.errorhandler(ann.AnnotationError)
    def _bad(exc: Exception):
        return _error(400, str(exc))

    @bp.errorhandler(NotJSON)
    def _not_json(exc: Exception):
        return _error(415, str(exc))

    @bp.errorhandler(ann.NotFound)
    def _missing(exc: Exception):
        return _error(404, str(exc))

    @bp.errorhandler(ann.Conflict)
    def _conflict(exc: ann.Conflict):
        return _error(409, str(exc), current=exc.current)

    @bp.get("/health")
    def health():
        return jsonify(service.health())

    @bp.get("/index.csv")
    def index_csv():
        sel, opts = _params()
        body = to_csv_text(service.export(sel, opts))
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=tension_index.csv"})

    @bp.get("/index.json")
    def index_json():
        sel, opts = _params()
        return Response(to_json_text(service.export(sel, opts)), mimetype="application/json")

    @bp.get("/dyads.csv")
    def dyads_csv():
        sel, opts = _params()
        try:
            min_articles = int(request.args.get("min_articles") or 1)
        except ValueError:
            raise BadRequest("'min_articles' must be a whole number") from None
        body = to_csv_text(service.dyads_export(sel, opts, min_articles))
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=tension_dyads.csv"})

    @bp.get("/dyads.json")
    def dyads_json():
        sel, opts = _params()
        return jsonify(json.loads(service.dyad_matrix(sel, opts.start, opts.end).to_json(orient="records")))

    @bp.get("/spikes")
    def spikes():
        sel, opts = _params()  # from/to choose which episodes to list, as `tension spikes` does
        return jsonify(as_records(overlapping(service.spikes(sel), opts.start, opts.end)))

    @bp.get("/annotations")
    def list_annotations():
        return jsonify(ann.list_annotations(service.store, _date_arg("from"), _date_arg("to"),
                                            request.args.get("tag") or None))

    @bp.post("/annotations")
    def create_annotation():
        return jsonify(ann.create(service.store, _json_body())), 201

    @bp.get("/annotations/<int:ann_id>")
    def get_annotation(ann_id: int):
        return jsonify(ann.get(service.store, _known_id(ann_id)))

    @bp.patch("/annotations/<int:ann_id>")
    def patch_annotation(ann_id: int):
        body = _json_body()
        expected = request.headers.get("If-Match", "").strip('"') or _stamp(body.pop("updated_at", None))
        body.pop("id", None)
        body.pop("created_at", None)
        return jsonify(ann.update_annotation(service.store, _known_id(ann_id), body, expected))

    @bp.delete("/annotations/<int:ann_id>")
    def delete_annotation(ann_id: int):
        expected = request.headers.get("If-Match", "").strip('"') or request.args.get("updated_at")
        if not expected and request.is_json:
            body = _json_body() if request.get_data() else {}
            expected = _stamp(body.get("updated_at"))
        ann.delete(service.store, _known_id(ann_id), expected or None)
        return Response(status=204)

    @bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    @bp.route("/<path:rest>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    def unknown(rest: str):  # otherwise Dash's page route would answer 200 with HTML
        return _error(404, f"no API endpoint /api/{rest} for {request.method}; see /api/health "
                           "and the README")

    return bp
