"""Login/logout and controller-level endpoints: initial-data, cluster, user-token, useraccount."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import uuid as uuidlib
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from .auth import UserToken, set_session_cookies
from .context import JSON, Ctx, base_url, empty
from .crud import present_for, singleton
from .errors import ApiError, bad_request, not_found
from .refs import render
from .state import SimulatorState
from .store import ADMIN

BUILD = 9202


def version_info(version: str, started: float) -> dict[str, Any]:
    date = dt.datetime.fromtimestamp(started, dt.UTC).replace(microsecond=0)
    return {
        "Version": version,
        "build": BUILD,
        "Tag": f"{version}-{BUILD}-{date:%Y%m%d.%H%M%S}",
        "ProductName": "Avi Cloud Controller",
        "Product": "controller",
        "min_version": 15.2,
        "Date": date.isoformat(),
        "ProductVersion": version,
    }


async def _credentials(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if request.content_type == "application/json" or raw.strip().startswith(b"{"):
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise bad_request("Invalid JSON in login body") from exc
        return body if isinstance(body, dict) else {}
    return {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}


async def login(request: web.Request, state: SimulatorState) -> web.Response:
    """POST /login with form or JSON {username, password|token}: 200 + cookies, or 401/403."""
    creds = await _credentials(request)
    username = str(creds.get("username", ""))
    password, token = creds.get("password"), creds.get("token")
    ok = bool(username) and (password is not None or token is not None)
    if ok:
        ok = state.auth.verify(
            username,
            password=str(password) if password is not None else None,
            token=str(token) if token else None,
        )
    if not ok:
        state.stats.login_failures += 1
        raise ApiError(401, "Invalid credentials")
    state.stats.logins += 1
    session = state.auth.new_session(username)
    base = base_url(request)
    user = next(
        (u for u in state.store.objects["user"].values() if u.get("username", u.get("name")) == username), {}
    )
    tenants = [
        {
            "url": f"\x1e/api/tenant/{t['uuid']}",
            "uuid": t["uuid"],
            "name": t["name"],
            "local": t.get("local", True),
        }
        for t in state.store.objects["tenant"].values()
    ]
    sysconf = state.store.get("systemconfiguration", "default") or {}
    body = {
        "user_initialized": True,
        "version": version_info(state.config.version, state.started),
        "user": {
            "username": username,
            "name": user.get("name", username),
            "full_name": user.get("full_name", ""),
            "email": user.get("email", ""),
            "uuid": user.get("uuid", "user-1"),
            "is_superuser": user.get("is_superuser", False),
            "local": True,
            "default_tenant_ref": f"\x1e/api/tenant/{ADMIN}",
        },
        "tenants": tenants,
        "system_config": {
            "url": "\x1e/api/systemconfiguration",
            "uuid": "default",
            "_last_modified": sysconf.get("_last_modified"),
            "portal_configuration": sysconf.get("portal_configuration", {}),
        },
        "controller": {"api_idle_timeout": max(1, round(state.auth.session_timeout / 60))},
        "session_cookie_name": "avi-sessionid",
    }
    text = render(body, base, False, state.store.name_of)
    response = web.Response(text=text, content_type=JSON)
    set_session_cookies(response, session, request.secure, with_csrf=True)
    return response


async def logout(request: web.Request, state: SimulatorState) -> web.Response:
    """POST /logout: the session ends; later calls with its cookies get 401."""
    state.auth.logout(request)
    response = web.Response(text="{}", content_type=JSON)
    for name in ("avi-sessionid", "sessionid"):
        response.del_cookie(name, path="/")
    return response


async def initial_data(ctx: Ctx) -> web.Response:
    state = ctx.state
    return ctx.respond(
        {
            "version": version_info(state.config.version, state.started),
            "user_initialized": True,
            "setup_failed": False,
            "banner": "",
            "sso": False,
        }
    )


def _since(started: float) -> str:
    return dt.datetime.fromtimestamp(started, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


async def cluster_runtime(ctx: Ctx) -> web.Response:
    state = ctx.state
    cluster = singleton(ctx, "cluster")
    since = _since(state.started)
    return ctx.respond(
        {
            "cluster_state": {"state": "CLUSTER_UP_NO_HA", "up_since": since, "progress": 100},
            "node_states": [
                {
                    "name": node["name"],
                    "mgmt_ip": node["ip"]["addr"],
                    "role": "CLUSTER_LEADER",
                    "state": "CLUSTER_ACTIVE",
                    "up_since": since,
                }
                for node in cluster.get("nodes", [])
            ],
            "node_info": {"uuid": cluster["uuid"], "mgmt_ip": cluster["nodes"][0]["ip"]["addr"]},
        }
    )


async def cluster_status(ctx: Ctx) -> web.Response:
    cluster = singleton(ctx, "cluster")
    since = _since(ctx.state.started)
    return ctx.respond(
        {
            "cluster_state": {"state": "CLUSTER_UP_NO_HA", "up_since": since, "progress": 100},
            "node_states": [
                {"name": n["name"], "role": "CLUSTER_LEADER", "state": "CLUSTER_ACTIVE", "up_since": since}
                for n in cluster.get("nodes", [])
            ],
        }
    )


async def cluster_version(ctx: Ctx) -> web.Response:
    info = version_info(ctx.state.config.version, ctx.state.started)
    return ctx.respond({**info, "build": info["build"], "patch": "", "Version": ctx.state.config.version})


async def useraccount_get(ctx: Ctx) -> web.Response:
    user = _caller_user(ctx)
    return ctx.respond(present_for(ctx, "user", user))


async def useraccount_put(ctx: Ctx) -> web.Response:
    """Password change: {old_password, password} -> 200 with an empty body; sessions stay valid."""
    body = await ctx.body()
    if not isinstance(body, dict) or not body.get("password"):
        raise bad_request("password is required")
    user = _caller_user(ctx)
    if "old_password" in body and str(body["old_password"]) != str(user.get("password", "")):
        raise bad_request("Old password is incorrect")
    user["password"] = str(body["password"])
    for key in ("full_name", "email"):
        if key in body:
            user[key] = body[key]
    user["_last_modified"] = ctx.state.store.stamp()
    return empty(200)


def _caller_user(ctx: Ctx) -> dict[str, Any]:
    username = ctx.caller.username if ctx.caller else ""
    for user in ctx.state.store.objects["user"].values():
        if user.get("username", user.get("name")) == username:
            return user
    raise not_found("user")


def _token_view(tok: UserToken) -> dict[str, Any]:
    expires = dt.datetime.fromtimestamp(tok.expires, dt.UTC)
    return {
        "uuid": tok.uuid,
        "token": tok.token,
        "username": tok.username,
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z",
    }


async def token_create(ctx: Ctx) -> web.Response:
    """POST /api/user-token {"hours": "240"} -> a 40-hex token usable as {"username", "token"} at /login."""
    body = await ctx.body()
    try:
        hours = float((body or {}).get("hours", 24))
    except (TypeError, ValueError) as exc:
        raise bad_request("hours must be a number") from exc
    if not 0 < hours <= 24 * 365:
        raise bad_request("hours must be between 0 and 8760")
    username = ctx.caller.username if ctx.caller else ""
    tok = UserToken(
        uuid=f"usertoken-{uuidlib.uuid4()}",
        token=secrets.token_hex(20),
        username=username,
        expires=time.time() + hours * 3600,
    )
    ctx.state.auth.tokens[tok.token] = tok
    return ctx.respond(_token_view(tok), status=201)


async def token_list(ctx: Ctx) -> web.Response:
    username = ctx.caller.username if ctx.caller else ""
    toks = [_token_view(t) for t in ctx.state.auth.tokens.values() if t.username == username]
    return ctx.respond({"count": len(toks), "results": toks})


def _find_token(ctx: Ctx) -> UserToken:
    for tok in ctx.state.auth.tokens.values():
        if tok.uuid == ctx.match["uuid"]:
            return tok
    raise ApiError(404, "UserToken object not found!")


async def token_get(ctx: Ctx) -> web.Response:
    return ctx.respond(_token_view(_find_token(ctx)))


async def token_delete(ctx: Ctx) -> web.Response:
    tok = _find_token(ctx)
    del ctx.state.auth.tokens[tok.token]
    return empty(204)
