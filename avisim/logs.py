"""`GET /api/analytics/logs`: deterministic application/connection logs per VS and config events.

App logs are generated for the requested page only: log i of a VS is a pure function of (seed, VS,
timestamp), so paging is stable and nothing is stored. Events (type=2) come from the writes made
through the API since start (config_create / config_update / config_delete).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .analytics import parse_time
from .context import Ctx
from .crud import visible_object
from .errors import bad_request
from .events import iso_us
from .refs import ref_uuid
from .runtime import UP, noise
from .store import Obj

_FILTER = re.compile(r"^(eq|ne|co|nc|gt|lt|ge|le)\((\w+),(.*)\)$")
PATHS = ("/", "/api/items", "/login", "/static/app.js", "/cart", "/search", "/health", "/api/orders")
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "python-requests/2.32", "Go-http-client/2.0")
METHODS = ("GET", "GET", "GET", "POST", "PUT")


def _filters(raw: list[str]) -> list[Callable[[dict[str, Any]], bool]]:
    preds: list[Callable[[dict[str, Any]], bool]] = []
    for item in raw:
        found = _FILTER.match(item.strip())
        if not found:
            raise bad_request(f"Invalid filter {item!r}: expected op(field,value)")
        op, name, value = found.groups()
        values = [v.strip() for v in value.strip("[]").split(",")] if value.startswith("[") else [value]

        def pred(log: dict[str, Any], op: str = op, name: str = name, values: list[str] = values) -> bool:
            if name == "all":
                text = repr(log)
                hit = any(v in text for v in values)
                return hit if op == "co" else not hit
            actual = str(log.get(name, ""))
            if op == "eq":
                return actual in values
            if op == "ne":
                return actual not in values
            if op == "co":
                return any(v in actual for v in values)
            if op == "nc":
                return not any(v in actual for v in values)
            try:
                number, bound = float(actual), float(values[0])
            except ValueError:
                return False
            return {"gt": number > bound, "lt": number < bound, "ge": number >= bound, "le": number <= bound}[
                op
            ]

        preds.append(pred)
    return preds


def _window(ctx: Ctx) -> tuple[float, float]:
    params = ctx.params
    end = parse_time(params["end"]) if params.get("end") else time.time()
    if params.get("start"):
        return parse_time(params["start"]), end
    try:
        duration = float(params.get("duration", 3600))
    except ValueError as exc:
        raise bad_request("Invalid duration") from exc
    return end - duration, end


def _app_log(ctx: Ctx, vs: Obj, index: int, ts: float, up: bool, pool_name: str) -> dict[str, Any]:
    seed, uuid = ctx.state.config.seed, vs["uuid"]
    n = noise(seed, uuid, "log", index)
    code = (200 if n < 0.88 else 304 if n < 0.92 else 404 if n < 0.97 else 500) if up else 503
    total = int(5 + 400 * noise(seed, uuid, "rt", index)) if up else int(1 + 3 * n)
    vip = ctx.state.runtime.vips_of(vs)
    return {
        "report_timestamp": iso_us(ts),
        "log_id": index,
        "client_ip": f"198.51.100.{1 + int(200 * noise(seed, uuid, 'ip', index))}",
        "client_src_port": 1024 + int(60000 * noise(seed, uuid, "port", index)),
        "vs_ip": vip[0]["ip_address"]["addr"] if vip and "ip_address" in vip[0] else "",
        "method": METHODS[int(len(METHODS) * noise(seed, uuid, "m", index))],
        "uri_path": PATHS[int(len(PATHS) * noise(seed, uuid, "p", index))],
        "host": vs.get("fqdn", ""),
        "response_code": code,
        "total_time": total,
        "server_ip": "" if not up else f"10.0.0.{1 + int(50 * noise(seed, uuid, 's', index))}",
        "pool_name": pool_name,
        "virtualservice": uuid,
        "vs_name": vs.get("name", ""),
        "service_engine": _primary_se(ctx, uuid) if up else "",
        "user_agent": AGENTS[int(len(AGENTS) * noise(seed, uuid, "ua", index))],
        "significant": int(code >= 400),
        "significance": "ADF_RESPONSE_CODE_ERROR" if code >= 400 else "",
    }


def _primary_se(ctx: Ctx, vs_uuid: str) -> str:
    for ses in ctx.state.runtime.placements.get(vs_uuid, {}).values():
        if ses:
            return ctx.state.store.name_of(ses[0]) or ses[0]
    return ""


async def get_logs(ctx: Ctx) -> web.Response:
    params = ctx.params
    log_type = params.get("type", "1")
    try:
        page_size = min(10000, max(1, int(params.get("page_size", 10))))
        page = max(1, int(params.get("page", 1)))
    except ValueError as exc:
        raise bad_request("Invalid page or page_size") from exc
    preds = _filters(params.getall("filter", []))
    start, end = _window(ctx)
    if log_type == "2":
        events = [e for e in reversed(ctx.state.events.events) if start <= e["_ts"] <= end]
        events = [{k: v for k, v in e.items() if k != "_ts"} for e in events]
        events = [e for e in events if all(p(e) for p in preds)]
        items = events[(page - 1) * page_size : page * page_size]
        return ctx.respond({"count": len(events), "results": items, "percent_remaining": 0.0})
    if log_type not in ("0", "1"):
        raise bad_request(f"Invalid log type {log_type}: 0 (connection), 1 (application) or 2 (events)")
    uuid = params.get("virtualservice")
    if not uuid:
        raise bad_request("virtualservice is required for connection and application logs")
    vs = visible_object(ctx, "virtualservice", uuid)
    runtime = ctx.state.runtime
    if not vs.get("enabled", True):
        return ctx.respond({"count": 0, "results": [], "percent_remaining": 0.0})
    up = runtime.vs_state(vs)[0] == UP
    pool = ctx.state.store.get("pool", ref_uuid(vs.get("pool_ref")) or "")
    pool_name = (pool or {}).get("name", "")
    interval = 2 + int(30 * noise(ctx.state.config.seed, vs["uuid"], "interval"))  # seconds between logs
    newest = int(end // interval)
    oldest = int(start // interval) + 1
    total = max(0, newest - oldest + 1)
    if not preds:
        first = (page - 1) * page_size
        indexes = range(newest - first, max(oldest - 1, newest - first - page_size), -1)
        items = [_app_log(ctx, vs, i, i * interval, up, pool_name) for i in indexes]
        return ctx.respond({"count": total, "results": items, "percent_remaining": 0.0})
    matched = []
    for i in range(newest, newest - min(total, 20000), -1):
        log = _app_log(ctx, vs, i, i * interval, up, pool_name)
        if all(p(log) for p in preds):
            matched.append(log)
    items = matched[(page - 1) * page_size : page * page_size]
    return ctx.respond({"count": len(matched), "results": items, "percent_remaining": 0.0})
