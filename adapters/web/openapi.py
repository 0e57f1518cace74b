"""An OpenAPI 3.1 document built from the same pydantic models the handlers validate with.

Routes describe themselves with `document(app, RouteDoc(...))` where they are registered, so the
composition root's routes (/api/health, /api/avi) appear next to the channel's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from adapters.web.schemas import ErrorResponse


@dataclass(frozen=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    response: type[BaseModel] | None = None
    request: type[BaseModel] | None = None
    query: dict[str, str] = field(default_factory=dict)  # name -> description (all strings)
    required_query: tuple[str, ...] = ()
    errors: tuple[int, ...] = (400, 401, 403, 429)
    raw_response: dict[str, Any] | None = None  # a hand-written schema when there is no model
    raw_request: dict[str, Any] | None = None  # a hand-written request body schema (any JSON)
    status: int = 200  # the success status (202 for the alert webhook)
    security: tuple[dict[str, list[str]], ...] | None = None  # None: the document's (bearer or session)


OPENAPI_ROUTES = web.AppKey("avibot_openapi_routes", list)


def document(app: web.Application, *docs: RouteDoc) -> None:
    app.setdefault(OPENAPI_ROUTES, [])
    app[OPENAPI_ROUTES].extend(docs)


_REASONS = {
    400: "invalid request (the `field` names what is wrong)",
    401: "authentication required",
    403: "CSRF token missing or the user's role does not allow it",
    404: "not found",
    413: "the body is too large",
    429: "rate limited (see Retry-After)",
    502: "the controller answered with an error",
    503: "a dependency is unavailable",
}


def build_document(docs: list[RouteDoc], version: str = "1") -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorResponse}
    for d in docs:
        models.update(m for m in (d.request, d.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, schemas = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    ref = {m: keys[(m, "validation")] for m in ordered}
    paths: dict[str, dict[str, Any]] = {}
    for d in docs:
        op: dict[str, Any] = {"summary": d.summary, "operationId": _op_id(d)}
        params = []
        for name, desc in d.query.items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in d.required_query,
                    "description": desc,
                    "schema": {"type": "string"},
                }
            )
        for name in _path_params(d.path):
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
        if params:
            op["parameters"] = params
        request_schema = ref[d.request] if d.request is not None else d.raw_request
        if request_schema is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": request_schema}},
            }
        if d.security is not None:
            op["security"] = list(d.security)
        ok_schema = ref[d.response] if d.response is not None else (d.raw_response or {})
        success = "Accepted" if d.status == 202 else "OK"
        responses: dict[str, Any] = {
            str(d.status): {"description": success, "content": {"application/json": {"schema": ok_schema}}}
        }
        for status in d.errors:
            responses[str(status)] = {
                "description": _REASONS.get(status, "error"),
                "content": {"application/json": {"schema": ref[ErrorResponse]}},
            }
        op["responses"] = responses
        paths.setdefault(_openapi_path(d.path), {})[d.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "avibot API",
            "version": version,
            "description": "ChatOps assistant for the VMware Avi Load Balancer. Cookie sessions must send "
            "X-CSRF-Token (from GET /api/session) on POST/PUT/PATCH/DELETE; Bearer tokens need not.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "avibot_session"},
                "alertSecret": {"type": "apiKey", "in": "header", "name": "X-Avibot-Alert-Secret"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


def _openapi_path(path: str) -> str:
    return path.replace("{path:.*}", "{path}")


def _path_params(path: str) -> list[str]:
    out = []
    for seg in path.split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            out.append(seg[1:-1].split(":")[0])
    return out


def _op_id(d: RouteDoc) -> str:
    words = [w.strip("{}").split(":")[0] for w in d.path.split("/") if w and w != "api"]
    return d.method.lower() + "_" + "_".join(w.replace(".", "_") for w in words)
