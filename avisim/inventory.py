"""`<type>-inventory` collections and the `/runtime/` sub-resources: config + runtime + health in one item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .analytics import latest_metrics
from .context import Ctx
from .crud import envelope, present_for, query, visible_object
from .errors import ApiError, not_found
from .object_types import INVENTORY_TYPES
from .refs import make_ref, ref_uuid
from .runtime import UP
from .store import Obj

ALERT_ORDER = ("ALERT_HIGH", "ALERT_MEDIUM", "ALERT_LOW")
INCLUDABLE = ("runtime", "health_score", "alert", "faults")


class InventoryView:
    """Indexes built once per request (who uses which pool, which alerts are on), then per-item work."""

    def __init__(self, ctx: Ctx, obj_type: str) -> None:
        self.ctx = ctx
        self.obj_type = obj_type
        self.runtime = ctx.state.runtime
        self.store = ctx.state.store
        self.alerts: dict[str, list[str]] = {}
        for alert in self.store.objects["alert"].values():
            if alert.get("state", "ALERT_STATE_ON") == "ALERT_STATE_ON" and alert.get("obj_uuid"):
                self.alerts.setdefault(alert["obj_uuid"], []).append(alert.get("level", "ALERT_LOW"))
        self._users: dict[str, list[str]] | None = None
        raw = ctx.params.get("include")
        self.include = set(INCLUDABLE) if raw is None else {p for p in raw.split(",") if p}
        self.metric_ids = [m for m in ctx.params.get("metric_id", "").split(",") if m]

    def users(self) -> dict[str, list[str]]:
        """pool/poolgroup/vsvip uuid -> VS uuids using it (one pass over the virtual services)."""
        if self._users is None:
            self._users = self.store.cached("users", self._build_users)
        return self._users

    def _build_users(self) -> dict[str, list[str]]:
        users: dict[str, list[str]] = {}
        for vs in self.store.objects["virtualservice"].values():
            for field in ("pool_ref", "pool_group_ref", "vsvip_ref"):
                if vs.get(field):
                    users.setdefault(ref_uuid(vs[field]) or "", []).append(vs["uuid"])
        for group in self.store.objects["poolgroup"].values():
            for member in group.get("members", []):
                for vs_uuid in users.get(group["uuid"], []):
                    users.setdefault(ref_uuid(member.get("pool_ref")) or "", []).append(vs_uuid)
        return users

    def alert(self, uuid: str) -> dict[str, Any]:
        levels = self.alerts.get(uuid, [])
        top = next((lvl for lvl in ALERT_ORDER if lvl in levels), None)
        return {
            "level": top,
            "high": levels.count("ALERT_HIGH"),
            "medium": levels.count("ALERT_MEDIUM"),
            "low": levels.count("ALERT_LOW"),
        }

    def item(self, obj: Obj) -> dict[str, Any]:
        config = present_for(self.ctx, self.obj_type, obj)
        config.pop("runtime", None)
        out: dict[str, Any] = {"uuid": obj["uuid"], "config": config}
        extra = EXTRAS.get(self.obj_type)
        runtime = (
            extra(self, obj, out) if extra else {"oper_status": self.runtime.oper_status(obj["uuid"], UP, [])}
        )
        if "runtime" in self.include:
            out["runtime"] = runtime
        if "health_score" in self.include:
            out["health_score"] = self.runtime.health(self.obj_type, obj)
        if "alert" in self.include:
            out["alert"] = self.alert(obj["uuid"])
        if "faults" in self.include:
            out["faults"] = {}
        if self.metric_ids and self.obj_type in ("virtualservice", "pool", "serviceengine"):
            out["metrics"] = latest_metrics(self.ctx.state, self.obj_type, obj, self.metric_ids)
        return out


def _vs_extra(view: InventoryView, vs: Obj, out: dict[str, Any]) -> dict[str, Any]:
    out["config"]["vip"] = view.runtime.vips_of(vs)
    pools = [vs["pool_ref"]] if vs.get("pool_ref") else []
    group = view.store.get("poolgroup", ref_uuid(vs.get("pool_group_ref")) or "")
    if group:
        pools += [m["pool_ref"] for m in group.get("members", []) if m.get("pool_ref")]
    out["pools"] = pools
    out["poolgroups"] = [vs["pool_group_ref"]] if vs.get("pool_group_ref") else []
    profile = view.store.get("applicationprofile", ref_uuid(vs.get("application_profile_ref")) or "")
    out["app_profile_type"] = (profile or {}).get("type")
    out.setdefault("metrics", {})
    return view.runtime.vs_runtime(vs)


def _pool_extra(view: InventoryView, pool: Obj, out: dict[str, Any]) -> dict[str, Any]:
    out["virtualservices"] = [make_ref("virtualservice", u) for u in view.users().get(pool["uuid"], [])]
    out.setdefault("metrics", {})
    return view.runtime.pool_runtime(pool)


def _poolgroup_extra(view: InventoryView, group: Obj, out: dict[str, Any]) -> dict[str, Any]:
    out["virtualservices"] = [make_ref("virtualservice", u) for u in view.users().get(group["uuid"], [])]
    pools = [view.store.get("pool", ref_uuid(m.get("pool_ref")) or "") for m in group.get("members", [])]
    up = any(p and view.runtime.pool_state(p)[0] == UP for p in pools)
    state = UP if up else "OPER_DOWN"
    return {
        "oper_status": view.runtime.oper_status(group["uuid"], state, [] if up else ["No member pool is up"])
    }


def _vsvip_extra(view: InventoryView, vsvip: Obj, out: dict[str, Any]) -> dict[str, Any]:
    users = view.users().get(vsvip["uuid"], [])
    out["virtualservices"] = [make_ref("virtualservice", u) for u in users]
    return {"oper_status": view.runtime.oper_status(vsvip["uuid"], UP if users else "OPER_UNUSED", [])}


def _se_extra(view: InventoryView, se: Obj, out: dict[str, Any]) -> dict[str, Any]:
    nets = se.get("mgmt_vnic", {}).get("vnic_networks", [])
    if nets:
        out["config"]["mgmt_ip_address"] = nets[0]["ip"]["ip_addr"]
    return view.runtime.se_runtime(se)


def _seg_extra(view: InventoryView, group: Obj, out: dict[str, Any]) -> dict[str, Any]:
    ses = [
        se
        for se in view.store.objects["serviceengine"].values()
        if ref_uuid(se.get("se_group_ref")) == group["uuid"]
    ]
    out["serviceengines"] = [make_ref("serviceengine", se["uuid"]) for se in ses]
    vs_count = len({vs for se in ses for vs in view.runtime.se_vs.get(se["uuid"], ())})
    out["virtualservices_count"] = vs_count
    return {
        "oper_status": view.runtime.oper_status(group["uuid"], UP, []),
        "num_se": len(ses),
        "num_vs": vs_count,
    }


def _cloud_extra(view: InventoryView, cloud: Obj, out: dict[str, Any]) -> dict[str, Any]:
    return {
        "oper_state": {"state": "CLOUD_STATE_PLACEMENT_READY", "reason": ""},
        "oper_status": {"state": UP},
    }


EXTRAS: dict[str, Callable[[InventoryView, Obj, dict[str, Any]], dict[str, Any]]] = {
    "virtualservice": _vs_extra,
    "pool": _pool_extra,
    "poolgroup": _poolgroup_extra,
    "vsvip": _vsvip_extra,
    "serviceengine": _se_extra,
    "serviceenginegroup": _seg_extra,
    "cloud": _cloud_extra,
}


def inventory_type(ctx: Ctx) -> str:
    obj_type = ctx.match["type"]
    if obj_type not in INVENTORY_TYPES:
        raise ApiError(404, f"Not found: {ctx.request.path}", key="detail")
    return obj_type


async def list_inventory(ctx: Ctx) -> web.Response:
    obj_type = inventory_type(ctx)
    count, items, next_page = query(ctx, obj_type)
    view = InventoryView(ctx, obj_type)
    return ctx.respond(envelope(ctx, count, [view.item(o) for o in items], next_page))


async def get_inventory(ctx: Ctx) -> web.Response:
    obj_type = inventory_type(ctx)
    obj = visible_object(ctx, obj_type, ctx.match["uuid"])
    return ctx.respond(InventoryView(ctx, obj_type).item(obj))


async def get_runtime(ctx: Ctx) -> web.Response:
    """`/api/<vs|pool|se>/<uuid>/runtime/[server/][detail/]`."""
    obj_type = ctx.match["type"]
    obj = visible_object(ctx, obj_type, ctx.match["uuid"])
    runtime = ctx.state.runtime
    detail = bool(ctx.match.get("detail"))
    if ctx.match.get("server"):
        if obj_type != "pool":
            raise not_found(obj_type)
        return ctx.respond(runtime.server_runtime(obj, detail))
    if obj_type == "virtualservice":
        out = runtime.vs_runtime(obj)
        if detail:
            out = {
                **out,
                "name": obj.get("name"),
                "uuid": obj["uuid"],
                "health_score": runtime.health(obj_type, obj),
            }
        return ctx.respond(out)
    if obj_type == "pool":
        out = runtime.pool_runtime(obj)
        if detail:
            out = {
                **out,
                "name": obj.get("name"),
                "uuid": obj["uuid"],
                "servers": runtime.server_runtime(obj, True),
            }
        return ctx.respond(out)
    out = runtime.se_runtime(obj)
    if detail:
        out = {**out, "name": obj.get("name"), "uuid": obj["uuid"], "cpu_usage": runtime.se_cpu(obj["uuid"])}
    return ctx.respond(out)
