"""`/api/avi/{path}`: the controller's own API, for people the access config trusts.

GET is a read (viewers and up, i.e. anyone authenticated); any other method can change anything,
so it counts as destructive: admins only, never in read-only mode, and audited. The path is checked
like the generic operation's (no traversal, no other host); responses and errors are redacted.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from aiohttp import web

from adapters.web.http import ApiError, json_api
from adapters.web.openapi import RouteDoc, document
from adapters.web.security import identity, inbound
from adapters.web.settings import AGENT
from avi.client import AviClient
from avi.errors import AviError, AviUnavailableError
from avi.operations.generic import check_path
from avi.redact import redact
from bot.agent import Agent
from bot.audit import AuditEntry
from bot.permissions import resolve_access
from bot.types import Risk

CLIENT = web.AppKey("avibot_avi_client", AviClient)
PASSED_STATUSES = {400, 403, 404, 409, 412, 422}


def _status(exc: AviError) -> int:
    if isinstance(exc, AviUnavailableError):
        return 503
    return exc.status if exc.status in PASSED_STATUSES else 502


@json_api
async def avi_proxy(request: web.Request) -> web.Response:
    agent, ident = request.app[AGENT], identity(request)
    client = request.app[CLIENT]
    method = request.method.upper()
    risk = Risk.READ if method == "GET" else Risk.DESTRUCTIVE
    access = resolve_access(agent.access_settings, inbound(ident, f"{method} /api/avi"))
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
    body = None
    if method in ("POST", "PUT", "PATCH"):
        text = await request.text()
        if text.strip():
            try:
                body = json.loads(text)
            except ValueError:
                raise ApiError(400, "body: not valid JSON", field="body") from None
    tenant = access.tenant or agent.default_tenant
    try:
        resp = await client.request_full(method, path, params=query or None, json=body, tenant=tenant)
    except AviError as exc:
        if risk is not Risk.READ:
            await _audit(agent, ident.user.id, method, path, tenant, "error", exc.message)
        raise ApiError(_status(exc), f"controller: {redact(exc.message)}") from None
    if risk is not Risk.READ:
        await _audit(agent, ident.user.id, method, path, tenant, "ok", f"HTTP {resp.status}")
    if resp.body is None:
        return web.Response(status=resp.status)
    return web.json_response(redact(resp.body), status=resp.status)


async def _audit(
    agent: Agent, user: str, method: str, path: str, tenant: str, result: str, detail: str
) -> None:
    await agent.audit.record(
        AuditEntry(
            user_id=user,
            platform="web",
            channel="web",
            action="avi_proxy",
            arguments={"method": method, "path": path},
            risk=Risk.DESTRUCTIVE,
            result=result,  # type: ignore[arg-type]
            detail=detail[:200],
            tenant=tenant,
        )
    )


def setup_proxy(app: web.Application, client: AviClient) -> None:
    app[CLIENT] = client
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
