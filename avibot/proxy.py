"""`/api/avi/{path}` and `/api/avi/{controller}/{path}`: a controller's own API, for people the access
config trusts.

Which controller: with one controller every path is the default's, as it always was. With several,
the first segment picks one when it is a configured controller's name (`/api/avi/b/virtualservice`
is b's `/api/virtualservice`); otherwise the path is the default's (`/api/avi/virtualservice` stays
the default's collection). A first segment that names no controller while the second is an Avi
object type (`/api/avi/zz/pool`) is taken as a mistyped controller: 404. A controller may not be
named like a top-level Avi path (an object type such as `pool`, a singleton, an `-inventory`
collection or one of API_ROOTS): it would shadow that path on the default, so the server refuses
to start with such a name (ConfigError).

GET is a read (viewers and up, i.e. anyone authenticated, capped by `controller_roles`), answered at
once, redacted. Any other method can change anything, so it counts as destructive: admins only,
never in read-only mode, and, like every write, it does not run here: it becomes a pending action
(202 with its id, summary and diff, proposed through `Turns.propose` as `execute_generic_operation`
on that controller) that runs when confirmed with `POST /api/actions/{id}/confirm
{"conversation_id": "avi-proxy"}`, and is audited then. The summary and diff are the generic
operation's plan (the object named, each changed field, secrets masked); the 202 answer echoes the
call's arguments with secrets masked too. The path is checked like the generic operation's (no
traversal, no other host).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from adapters.web.http import ApiError, json_api
from adapters.web.openapi import RouteDoc, document
from adapters.web.schemas import ChatResponse
from adapters.web.security import identity, inbound
from avi.errors import AviError, AviUnavailableError
from avi.operations.generic import check_path
from avi.redact import redact, redact_all
from avibot.config import ConfigError
from bot.controllers import Controller, Controllers
from bot.permissions import AccessSettings, on_controller, resolve_access
from bot.turns import Turns
from bot.types import Outcome, Risk
from common.avi_types import INVENTORY_TYPES, OBJECT_TYPES, SINGLETONS

# Top-level API paths that are not object collections; with the object types, no controller's name.
API_ROOTS = frozenset(
    {"initial-data", "login", "logout", "analytics", "cluster", "macro", "configuration", "tenant"}
)
AVI_ROOTS = frozenset({*OBJECT_TYPES, *SINGLETONS, *API_ROOTS, *(f"{t}-inventory" for t in INVENTORY_TYPES)})


@dataclass(frozen=True)
class ProxyContext:
    """What the proxy needs: the controllers (each with its client), the turn entry for writes, and
    who may do what."""

    controllers: Controllers
    turns: Turns
    access: AccessSettings


PROXY = web.AppKey("avibot_avi_proxy", ProxyContext)
PROXY_CONVERSATION = "avi-proxy"  # the conversation id a proxied change is confirmed in
PASSED_STATUSES = {400, 403, 404, 409, 412, 422}


def _status(exc: AviError) -> int:
    if isinstance(exc, AviUnavailableError):
        return 503
    return exc.status if exc.status in PASSED_STATUSES else 502


def shadowing(controllers: Controllers) -> list[str]:
    """The controller names that are also top-level Avi paths (so would be ambiguous here)."""
    return [c.name for c in controllers if c.name.lower() in AVI_ROOTS] if controllers.several else []


def route(controllers: Controllers, path: str) -> tuple[Controller, str]:
    """The controller a proxied path is for and the rest of the path (the module's rule); ApiError
    404 for a mistyped controller name."""
    if not controllers.several:
        return controllers.default, path
    first, _, rest = path.partition("/")
    named = controllers.get(first)
    if named is not None:
        if not rest:
            raise ApiError(
                400, f"path: name an Avi API path after the controller ({first}/...)", field="path"
            )
        return named, rest
    second = rest.partition("/")[0].lower()
    if first and first.lower() not in AVI_ROOTS and second in AVI_ROOTS:
        raise ApiError(404, f"no controller named {first!r}; controllers: {', '.join(controllers.names)}")
    return controllers.default, path


@json_api
async def avi_proxy(request: web.Request) -> web.Response:
    ctx, ident = request.app[PROXY], identity(request)
    controller, rest = route(ctx.controllers, request.match_info["path"])
    client = controller.ops.client
    method = request.method.upper()
    risk = Risk.READ if method == "GET" else Risk.DESTRUCTIVE
    access = on_controller(
        ctx.access, resolve_access(ctx.access, inbound(ident, f"{method} /api/avi")), controller.name
    )
    if not access.allows(risk):
        why = access.denial(risk)
        if risk is not Risk.READ:
            why += " Through /api/avi, anything but GET needs the admin role."
        raise ApiError(403, why)
    raw = "/api/" + rest
    if request.query_string:
        raw += "?" + urlencode(list(request.query.items()))
    try:
        path, query = check_path(raw, client.base_url)
    except AviError as exc:
        raise ApiError(400, f"path: {exc.message}", field="path") from None
    if risk is Risk.READ:
        try:
            resp = await client.request_full(
                method, path, params=query or None, tenant=access.tenant or controller.tenant
            )
        except AviError as exc:
            raise ApiError(_status(exc), f"controller: {redact(exc.message)}") from None
        if resp.body is None:
            return web.Response(status=resp.status)
        return web.json_response(redact(resp.body), status=resp.status)
    text = (await request.text()).strip() if method in ("POST", "PUT", "PATCH") else ""
    if text:
        try:
            json.loads(text)
        except ValueError:
            raise ApiError(400, "body: not valid JSON", field="body") from None
    arguments = {
        "method": method,
        "path": path,
        "query": urlencode(query or {}) or None,
        "body": text or None,
    }
    message = inbound(ident, f"{method} {path}", PROXY_CONVERSATION)
    if ctx.controllers.several:  # planned, confirmed and audited on that controller
        message = message.model_copy(update={"controller": controller.name})
    result = await ctx.turns.propose(
        message, "execute_generic_operation", {k: v for k, v in arguments.items() if v is not None}
    )
    if result.outcome is Outcome.REFUSED:
        raise ApiError(403, result.reply.text or "not allowed")
    if result.outcome is not Outcome.PENDING:
        raise ApiError(400, result.reply.text or "the change could not be prepared")
    body = ChatResponse.of(result, PROXY_CONVERSATION).model_dump(mode="json")
    body["tool_calls"] = redact_all(body["tool_calls"])  # they echo the JSON body sent, secrets and all
    return web.json_response(body, status=202)


def setup_proxy(app: web.Application, controllers: Controllers, turns: Turns, access: AccessSettings) -> None:
    """The proxy routes; ConfigError when a controller's name would shadow an Avi path."""
    shadowed = shadowing(controllers)
    if shadowed:
        raise ConfigError(
            f"controller name {', '.join(shadowed)} is also an Avi API path, so /api/avi/{shadowed[0]}/... "
            "would be ambiguous; choose another name"
        )
    app[PROXY] = ProxyContext(controllers=controllers, turns=turns, access=access)
    app.router.add_route("*", "/api/avi/{path:.*}", avi_proxy)
    raw = {"description": "the controller's JSON body, secrets redacted"}
    errors = (400, 401, 403, 404, 429, 502, 503)
    where = " (the path may start with a controller's name when there are several)"
    document(
        app,
        RouteDoc("GET", "/api/avi/{path:.*}", "Read from a controller (redacted)" + where,
                 raw_response=raw, errors=errors),
        RouteDoc("POST", "/api/avi/{path:.*}", "Create on a controller (admins)" + where,
                 raw_response=raw, errors=errors),
        RouteDoc("PUT", "/api/avi/{path:.*}", "Replace on a controller (admins)" + where,
                 raw_response=raw, errors=errors),
        RouteDoc("PATCH", "/api/avi/{path:.*}", "Patch on a controller (admins)" + where,
                 raw_response=raw, errors=errors),
        RouteDoc("DELETE", "/api/avi/{path:.*}", "Delete on a controller (admins)" + where,
                 raw_response=raw, errors=errors),
    )  # fmt: skip
