"""`/api/avi/{path}`: the controller's own API, for people the access config trusts.

GET is a read (viewers and up, i.e. anyone authenticated), answered at once, redacted. Any other
method can change anything, so it counts as destructive: admins only, never in read-only mode, and,
like every write, it does not run here: it becomes a pending action (202 with its id, summary and
diff, proposed through `Turns.propose` as `execute_generic_operation`) that runs when confirmed with
`POST /api/actions/{id}/confirm {"conversation_id": "avi-proxy"}`, and is audited then. The summary
and diff are the generic operation's plan (the object named, each changed field, secrets masked); the
202 answer echoes the call's arguments with secrets masked too. The path is checked like the generic
operation's (no traversal, no other host).
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
from avi.client import AviClient
from avi.errors import AviError, AviUnavailableError
from avi.operations.generic import check_path
from avi.redact import redact, redact_all
from bot.permissions import AccessSettings, resolve_access
from bot.turns import Turns
from bot.types import Outcome, Risk


@dataclass(frozen=True)
class ProxyContext:
    """What the proxy needs: the controller client, the turn entry for writes, and who may do what."""

    client: AviClient
    turns: Turns
    access: AccessSettings
    default_tenant: str


PROXY = web.AppKey("avibot_avi_proxy", ProxyContext)
PROXY_CONVERSATION = "avi-proxy"  # the conversation id a proxied change is confirmed in
PASSED_STATUSES = {400, 403, 404, 409, 412, 422}


def _status(exc: AviError) -> int:
    if isinstance(exc, AviUnavailableError):
        return 503
    return exc.status if exc.status in PASSED_STATUSES else 502


@json_api
async def avi_proxy(request: web.Request) -> web.Response:
    ctx, ident = request.app[PROXY], identity(request)
    client = ctx.client
    method = request.method.upper()
    risk = Risk.READ if method == "GET" else Risk.DESTRUCTIVE
    access = resolve_access(ctx.access, inbound(ident, f"{method} /api/avi"))
    if not access.allows(risk):
        why = access.denial(risk)
        if risk is not Risk.READ:
            why += " Through /api/avi, anything but GET needs the admin role."
        raise ApiError(403, why)
    raw = "/api/" + request.match_info["path"]
    if request.query_string:
        raw += "?" + urlencode(list(request.query.items()))
    try:
        path, query = check_path(raw, client.base_url)
    except AviError as exc:
        raise ApiError(400, f"path: {exc.message}", field="path") from None
    tenant = access.tenant or ctx.default_tenant
    if risk is Risk.READ:
        try:
            resp = await client.request_full(method, path, params=query or None, tenant=tenant)
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
    result = await ctx.turns.propose(
        inbound(ident, f"{method} {path}", PROXY_CONVERSATION), "execute_generic_operation",
        {k: v for k, v in arguments.items() if v is not None},
    )  # fmt: skip
    if result.outcome is Outcome.REFUSED:
        raise ApiError(403, result.reply.text or "not allowed")
    if result.outcome is not Outcome.PENDING:
        raise ApiError(400, result.reply.text or "the change could not be prepared")
    body = ChatResponse.of(result, PROXY_CONVERSATION).model_dump(mode="json")
    body["tool_calls"] = redact_all(body["tool_calls"])  # they echo the JSON body sent, secrets and all
    return web.json_response(body, status=202)


def setup_proxy(
    app: web.Application, client: AviClient, turns: Turns, access: AccessSettings, default_tenant: str
) -> None:
    app[PROXY] = ProxyContext(client=client, turns=turns, access=access, default_tenant=default_tenant)
    app.router.add_route("*", "/api/avi/{path:.*}", avi_proxy)
    raw = {"description": "the controller's JSON body, secrets redacted"}
    document(
        app,
        RouteDoc("GET", "/api/avi/{path:.*}", "Read from the controller (redacted)", raw_response=raw,
                 errors=(400, 401, 403, 404, 429, 502, 503)),
        RouteDoc("POST", "/api/avi/{path:.*}", "Create on the controller (admins)", raw_response=raw,
                 errors=(400, 401, 403, 404, 429, 502, 503)),
        RouteDoc("PUT", "/api/avi/{path:.*}", "Replace on the controller (admins)", raw_response=raw,
                 errors=(400, 401, 403, 404, 429, 502, 503)),
        RouteDoc("PATCH", "/api/avi/{path:.*}", "Patch on the controller (admins)", raw_response=raw,
                 errors=(400, 401, 403, 404, 429, 502, 503)),
        RouteDoc("DELETE", "/api/avi/{path:.*}", "Delete on the controller (admins)", raw_response=raw,
                 errors=(400, 401, 403, 404, 429, 502, 503)),
    )  # fmt: skip
