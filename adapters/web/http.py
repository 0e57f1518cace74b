"""JSON in and out for API handlers: validated bodies, errors as `{"error", "field"}`, never a traceback."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.validation import problems

log = logging.getLogger("avibot.web")
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Deeper JSON is refused before any recursive parser sees it (`[` * 100000 would overflow the stack).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(raw: bytes | str) -> int:
    """The deepest nesting of arrays and objects in a JSON text, found without parsing it."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", data)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def json_too_deep(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    return json_depth(raw) > limit


def loads(raw: bytes | str, *, field: str = "body") -> Any:
    """JSON, or a 400 naming `field` (malformed, not UTF-8, or nested deeper than MAX_JSON_DEPTH)."""
    if json_too_deep(raw):
        raise ApiError(400, f"{field}: JSON nested deeper than {MAX_JSON_DEPTH} levels", field=field)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, f"{field}: not valid JSON", field=field) from None


class ApiError(Exception):
    """An answer other than 2xx, with a message safe to show (and the field at fault, if any)."""

    def __init__(self, status: int, message: str, field: str | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.hint = hint

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        body: dict[str, Any] = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.hint:
            body["hint"] = self.hint
        return web.json_response(body, status=self.status, headers=headers)


def validation_error(exc: ValidationError, prefix: str = "") -> ApiError:
    """The first problem, worded as everywhere else (bot/validation.py), naming the field."""
    first = problems(exc, default_field="body")[0]
    name = prefix + first.field
    kind = exc.errors(include_input=False)[0].get("type")
    message = {"extra_forbidden": "unknown field", "missing": "field required"}.get(str(kind), first.message)
    return ApiError(400, f"{name}: {message}", field=name)


async def parse_body(request: web.Request, model: type[M], *, optional: bool = False) -> M:
    """The body as `model`, or a 400 naming the field (`body` when it is not a JSON object)."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return model()
        raise ApiError(400, "body: a JSON object is required", field="body")
    data = loads(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "body: expected a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_error(exc) from None


def ok(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(
        text=model.model_dump_json(), status=status, content_type="application/json", charset="utf-8"
    )


def json_api(handler: Handler) -> Handler:
    """ApiError -> its JSON; anything unexpected -> a logged 500 with no detail for the client."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except web.HTTPException:
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return ApiError(500, "internal error; the server log has the details").response()

    return wrapper
