"""The aiohttp application: middlewares (errors, counting, auth, version, tenant) and routes."""

from __future__ import annotations

import gc
import json
import logging
from typing import Any

from aiohttp import web

from .alerts import alert_ticker
from .auth import Caller, set_session_cookies
from .config import SimulatorConfig
from .context import JSON, Ctx
from .errors import ApiError, method_not_allowed
from .router import Route, match
from .schema import parse_version
from .state import SimulatorState
from .store import ADMIN, ALL_TENANTS
from .system import login, logout

log = logging.getLogger(__name__)
STATE_KEY = web.AppKey("avi_sim_state", SimulatorState)
# Typed request keys where aiohttp has them (3.13+), plain strings before.
CTX_KEY: Any = web.RequestKey("avi_sim_ctx", Ctx) if hasattr(web, "RequestKey") else "avi_sim_ctx"
ROUTE_KEY: Any = web.RequestKey("avi_sim_route", Route) if hasattr(web, "RequestKey") else "avi_sim_route"
DEFAULT_SCHEMA = "16_4_2"  # what the controller reports when no X-Avi-Version was sent


def get_state(app: web.Application) -> SimulatorState:
    return app[STATE_KEY]


def error_response(exc: ApiError) -> web.Response:
    text = exc.body if isinstance(exc.body, str) else json.dumps(exc.body)
    return web.Response(status=exc.status, text=text, content_type=JSON)


@web.middleware
async def outer_middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Counts the call, turns every error into a controller-shaped JSON body, echoes AVI_API_VERSION."""
    state = get_state(request.app)
    if not request.path.startswith("/_sim/"):
        state.stats.count(request.method, request.path)
    requested = request.headers.get("X-Avi-Version", "").strip()
    try:
        response = await handler(request)
    except ApiError as exc:
        response = error_response(exc)
    except web.HTTPMethodNotAllowed:
        response = error_response(method_not_allowed(request.method))
    except web.HTTPNotFound:
        response = error_response(ApiError(404, "Not found.", key="detail"))
    except web.HTTPException as exc:
        response = error_response(ApiError(exc.status, exc.reason, key="detail"))
    except Exception:
        log.exception("simulator error on %s %s", request.method, request.path)
        response = error_response(ApiError(500, "Internal server error"))
    response.headers["AVI_API_VERSION"] = requested or DEFAULT_SCHEMA
    return response


def _tenant(request: web.Request, state: SimulatorState) -> str:
    """The tenant uuid the request is scoped to (X-Avi-Tenant-UUID, X-Avi-Tenant name, or admin)."""
    store = state.store
    by_uuid = request.headers.get("X-Avi-Tenant-UUID", "").strip()
    if by_uuid:
        if by_uuid == ALL_TENANTS:
            return ALL_TENANTS
        if store.get("tenant", by_uuid) is None:
            raise ApiError(403, f"Tenant '{by_uuid}' does not exist!")
        return by_uuid
    name = request.headers.get("X-Avi-Tenant", "").strip()
    if not name:
        return ADMIN
    if name == ALL_TENANTS:
        return ALL_TENANTS
    uuid = store.names.get(("tenant", None, name))
    if uuid is None:
        raise ApiError(403, f"Tenant '{name}' does not exist!")
    return uuid


@web.middleware
async def api_middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """For /api/*: route lookup (404), authentication + CSRF (401/419), version (400), tenant (403)."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    state = get_state(request.app)
    found = match(request.path, state.store)
    if found is None:
        raise ApiError(404, "Not found.", key="detail")
    route, groups = found
    caller: Caller | None = None
    if not route.public:
        caller = state.auth.authenticate(request, state.allow_basic_auth)
    requested = request.headers.get("X-Avi-Version", "").strip()
    wanted = parse_version(requested) if requested else None
    if requested and (wanted is None or wanted > (parse_version(state.config.version) or ())):
        raise ApiError(400, f"Invalid version {requested}: the controller runs {state.config.version}")
    tenant = _tenant(request, state) if not route.public else ADMIN
    request[CTX_KEY] = Ctx(request, state, tenant, caller, groups, wanted)
    request[ROUTE_KEY] = route
    response = await handler(request)
    if caller is not None and caller.session is not None:
        set_session_cookies(response, caller.session, request.secure, with_csrf=False)
    return response


async def api_handler(request: web.Request) -> web.StreamResponse:
    route = request[ROUTE_KEY]
    handler = route.methods.get(request.method)
    if handler is None:
        raise method_not_allowed(request.method)
    return await handler(request[CTX_KEY])


async def not_found_handler(request: web.Request) -> web.StreamResponse:
    if request.path.rstrip("/") in ("/login", "/logout"):
        raise method_not_allowed(request.method)
    raise ApiError(404, "Not found.", key="detail")


async def login_handler(request: web.Request) -> web.StreamResponse:
    return await login(request, get_state(request.app))


async def logout_handler(request: web.Request) -> web.StreamResponse:
    return await logout(request, get_state(request.app))


# -- test hooks ------------------------------------------------------------------------------------
async def hook_expire(request: web.Request) -> web.StreamResponse:
    get_state(request.app).expire_sessions()
    return web.json_response({"expired": True})


async def hook_switch(request: web.Request) -> web.StreamResponse:
    get_state(request.app).switch_sessions()
    return web.json_response({"switched": True})


async def hook_stats(request: web.Request) -> web.StreamResponse:
    return web.json_response(get_state(request.app).stats.as_dict())


async def hook_stats_reset(request: web.Request) -> web.StreamResponse:
    get_state(request.app).stats.reset()
    return web.json_response({"reset": True})


def create_app(config: SimulatorConfig) -> web.Application:
    """A simulated controller seeded from `config`; serve it with AppRunner or `serve()`."""
    app = web.Application(middlewares=[outer_middleware, api_middleware], client_max_size=16 * 1024 * 1024)
    app[STATE_KEY] = SimulatorState(config)
    # The seeded inventory lives as long as the app: keep it out of the cyclic GC's full sweeps.
    gc.collect()
    gc.freeze()
    if config.alert_every > 0:
        app.cleanup_ctx.append(alert_ticker(app[STATE_KEY], config.alert_every))
    app.router.add_post("/login", login_handler)
    app.router.add_post("/logout", logout_handler)
    if config.test_hooks:
        app.router.add_post("/_sim/sessions/expire", hook_expire)
        app.router.add_post("/_sim/sessions/switch", hook_switch)
        app.router.add_get("/_sim/stats", hook_stats)
        app.router.add_post("/_sim/stats/reset", hook_stats_reset)
    app.router.add_route("*", "/api/{tail:.*}", api_handler)
    app.router.add_route("*", "/{tail:.*}", not_found_handler)
    return app
