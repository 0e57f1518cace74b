"""§7 actions (POST /api/<type>/<uuid>/<action>): validated bodies, runtime effects, 200 with a summary."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from .context import Ctx
from .crud import visible_object
from .errors import bad_request, method_not_allowed
from .refs import make_ref, ref_uuid
from .store import Obj


class Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class VipBody(Body):
    vip_id: str


class ScaleoutBody(VipBody):
    to_new_se: bool = False
    to_se_ref: str | None = None
    admin_up: bool = False


class ScaleinBody(VipBody):
    from_se_ref: str | None = None
    scalein_primary: bool = False
    admin_down: bool = False


class MigrateBody(VipBody):
    from_se_ref: str | None = None
    to_se_ref: str | None = None
    to_new_se: bool = False


class SwitchoverBody(VipBody):
    se_uuid: str | None = None


class PoolScaleinBody(Body):
    reason: str | None = None
    servers: list[dict[str, Any]] = []


async def _parse(ctx: Ctx, model: type[Body]) -> Any:
    raw = await ctx.body()
    if isinstance(raw, dict) and "vip_id" in raw and isinstance(raw["vip_id"], int):
        raw = {**raw, "vip_id": str(raw["vip_id"])}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise bad_request(f"{field}: {err['msg']}") from exc


def _placement(ctx: Ctx, vs: Obj, vip_id: str, ses: list[str], action: str) -> web.Response:
    return ctx.respond(
        {
            "status": f"{action} of vip {vip_id} accepted",
            "vip_id": vip_id,
            "num_se_assigned": len(ses),
            "service_engines": [
                {"url": make_ref("serviceengine", se), "primary": i == 0} for i, se in enumerate(ses)
            ],
        },
        include_name=True,
    )


async def vs_scaleout(ctx: Ctx, vs: Obj) -> web.Response:
    body = await _parse(ctx, ScaleoutBody)
    ses = ctx.state.runtime.scaleout(vs, body.vip_id, ref_uuid(body.to_se_ref))
    return _placement(ctx, vs, body.vip_id, ses, "Scaleout")


async def vs_scalein(ctx: Ctx, vs: Obj) -> web.Response:
    body = await _parse(ctx, ScaleinBody)
    ses = ctx.state.runtime.scalein(vs, body.vip_id, ref_uuid(body.from_se_ref), body.scalein_primary)
    return _placement(ctx, vs, body.vip_id, ses, "Scalein")


async def vs_migrate(ctx: Ctx, vs: Obj) -> web.Response:
    body = await _parse(ctx, MigrateBody)
    ses = ctx.state.runtime.migrate(vs, body.vip_id, ref_uuid(body.from_se_ref), ref_uuid(body.to_se_ref))
    return _placement(ctx, vs, body.vip_id, ses, "Migrate")


async def vs_switchover(ctx: Ctx, vs: Obj) -> web.Response:
    body = await _parse(ctx, SwitchoverBody)
    ses = ctx.state.runtime.switchover(vs, body.vip_id, ref_uuid(body.se_uuid))
    return _placement(ctx, vs, body.vip_id, ses, "Switchover")


async def vs_accept(ctx: Ctx, vs: Obj) -> web.Response:
    """resync / rotatekeys / retryplacement: accepted, no visible effect (vip_id checked when given)."""
    raw = await ctx.body()
    if isinstance(raw, dict) and raw.get("vip_id") is not None:
        ctx.state.runtime._vip_ses(vs, str(raw["vip_id"]))
    return ctx.respond({"status": f"{ctx.match['action']} accepted"})


async def pool_scaleout(ctx: Ctx, pool: Obj) -> web.Response:
    """Server autoscale out: adds one server (next address after the last one) to the pool."""
    await _parse(ctx, Body)
    servers = pool.setdefault("servers", [])
    addr = _next_addr(servers)
    servers.append(
        {
            "ip": {"addr": addr, "type": "V4"},
            "hostname": addr,
            "enabled": True,
            "ratio": 1,
            "verify_network": False,
            "resolve_server_by_dns": False,
        }
    )
    ctx.state.store.replace("pool", pool)
    return ctx.respond(
        {"status": "Scaleout accepted", "servers_added": [{"ip": {"addr": addr, "type": "V4"}}]}
    )


async def pool_scalein(ctx: Ctx, pool: Obj) -> web.Response:
    """Server autoscale in: removes the named servers, or the last one; never the last server left."""
    body = await _parse(ctx, PoolScaleinBody)
    servers = pool.get("servers", [])
    if body.servers:
        addrs = {s.get("ip", {}).get("addr") for s in body.servers}
        keep = [s for s in servers if s["ip"]["addr"] not in addrs]
        if len(keep) == len(servers):
            raise bad_request("None of the given servers is in the pool")
    else:
        keep = servers[:-1]
    if not keep:
        raise bad_request("Cannot scale in the last server of the pool")
    removed = [s["ip"] for s in servers if s not in keep]
    pool["servers"] = keep
    ctx.state.store.replace("pool", pool)
    return ctx.respond({"status": "Scalein accepted", "servers_removed": [{"ip": ip} for ip in removed]})


def _next_addr(servers: list[dict[str, Any]]) -> str:
    v4 = [s["ip"]["addr"] for s in servers if s.get("ip", {}).get("type") == "V4"]
    if not v4:
        return "10.250.0.10"
    last = max(v4, key=lambda a: tuple(int(p) for p in a.split(".")) if a.count(".") == 3 else (0,))
    parts = last.split(".")
    taken = set(v4)
    for host in range(int(parts[3]) + 1, 255):
        candidate = ".".join([*parts[:3], str(host)])
        if candidate not in taken:
            return candidate
    raise bad_request("No free address left in the pool's subnet")


async def se_reboot(ctx: Ctx, se: Obj) -> web.Response:
    ctx.state.runtime.se_reboots[se["uuid"]] = time.time()
    return ctx.respond({"status": f"Reboot of {se.get('name')} initiated"})


async def se_switchover(ctx: Ctx, se: Obj) -> web.Response:
    moved = ctx.state.runtime.se_switchover(se["uuid"])
    return ctx.respond({"status": f"Switchover initiated; {moved} VIP(s) moved to another primary"})


async def accept(ctx: Ctx, obj: Obj) -> web.Response:
    await ctx.body()
    return ctx.respond({"status": f"{ctx.match['action']} accepted"})


async def clear(ctx: Ctx) -> web.Response:
    """`POST /api/<type>/clear` (clear runtime statistics): accepted; nothing to clear in the simulator."""
    await ctx.body()
    return ctx.respond({"status": "clear accepted"})


Handler = Callable[[Ctx, Obj], Awaitable[web.Response]]
ACTIONS: dict[tuple[str, str], Handler] = {
    ("virtualservice", "scaleout"): vs_scaleout,
    ("virtualservice", "scalein"): vs_scalein,
    ("virtualservice", "migrate"): vs_migrate,
    ("virtualservice", "switchover"): vs_switchover,
    ("virtualservice", "resync"): vs_accept,
    ("virtualservice", "rotatekeys"): vs_accept,
    ("virtualservice", "retryplacement"): vs_accept,
    ("pool", "scaleout"): pool_scaleout,
    ("pool", "scalein"): pool_scalein,
    ("serviceengine", "reboot"): se_reboot,
    ("serviceengine", "switchover"): se_switchover,
    ("serviceengine", "forcedelete"): accept,
    ("serviceenginegroup", "redistribute"): accept,
    ("sslkeyandcertificate", "renew"): accept,
}


def is_action(obj_type: str, action: str) -> bool:
    return (obj_type, action) in ACTIONS


async def run_action(ctx: Ctx) -> web.Response:
    obj_type, action = ctx.match["type"], ctx.match["action"]
    handler = ACTIONS.get((obj_type, action))
    if handler is None:
        raise method_not_allowed(ctx.request.method)
    obj = visible_object(ctx, obj_type, ctx.match["uuid"])
    return await handler(ctx, obj)
