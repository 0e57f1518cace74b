"""Parsing helpers shared by the operations: controller JSON -> result models."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from avi.models import (
    OperState,
    PoolServer,
    PoolSummary,
    ServicePort,
    VirtualServiceSummary,
    ref_name,
    ref_uuid,
)
from avi.redact import redact

M = TypeVar("M", bound=BaseModel)
_MUTABLE = (BaseModel, list, dict)


def own_copy(model: M) -> M:
    """A copy of `model` that shares nothing mutable with it (nested models, lists and dicts copied),
    like `model_copy(deep=True)` at a twentieth of its cost; fields set stay as they were."""
    copied = model.__copy__()
    fields = copied.__dict__
    for key, value in fields.items():
        if isinstance(value, _MUTABLE):
            fields[key] = _own_value(value)
    return copied


def _own_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return own_copy(value)
    if isinstance(value, list):
        return [_own_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _own_value(v) for k, v in value.items()}
    return value


def oper_state(raw: Any) -> OperState:
    if not isinstance(raw, dict):
        return OperState()
    reason = raw.get("reason") or []
    if isinstance(reason, str):
        reason = [reason]
    return OperState(state=str(raw.get("state") or "OPER_UNKNOWN"), reason=[str(r) for r in reason])


def health_score(raw: Any) -> float | None:
    if isinstance(raw, dict):
        value = raw.get("health_score")
        return float(value) if isinstance(value, (int, float)) else None
    return float(raw) if isinstance(raw, (int, float)) else None


def refs_names(items: Any) -> list[str]:
    """Inventory `pools`/`virtualservices`: plain ref URLs (older) or `[{"ref": ...}]` (22.1+)."""
    out: list[str] = []
    for item in items or []:
        ref = item.get("ref") if isinstance(item, dict) else item
        name = ref_name(ref)
        if name:
            out.append(name)
    return out


def vip_addresses(vips: Any) -> list[str]:
    out: list[str] = []
    for vip in vips or []:
        if not isinstance(vip, dict):
            continue
        for key in ("ip_address", "ip6_address", "floating_ip"):
            addr = vip.get(key)
            if isinstance(addr, dict) and addr.get("addr"):
                out.append(str(addr["addr"]))
    return out


def services(raw: Any) -> list[ServicePort]:
    out: list[ServicePort] = []
    for svc in raw or []:
        if isinstance(svc, dict) and isinstance(svc.get("port"), int):
            out.append(
                ServicePort(
                    port=svc["port"],
                    port_range_end=svc.get("port_range_end"),
                    enable_ssl=bool(svc.get("enable_ssl", False)),
                )
            )
    return out


def vs_summary_from_inventory(item: dict[str, Any]) -> VirtualServiceSummary:
    """A `virtualservice-inventory` item (config + runtime + health in one) -> summary."""
    config = item.get("config") or {}
    runtime = item.get("runtime") or {}
    vip_summary = runtime.get("vip_summary") or []
    if isinstance(vip_summary, dict):
        vip_summary = [vip_summary]
    engines: list[str] = []
    assigned = 0
    for vip in vip_summary:
        if not isinstance(vip, dict):
            continue
        assigned += int(vip.get("num_se_assigned") or 0)
        for se in vip.get("service_engine") or []:
            name = ref_name(se.get("url")) if isinstance(se, dict) else ref_name(se)
            if name and name not in engines:
                engines.append(name)
    pool_ref = config.get("pool_ref")
    return VirtualServiceSummary(
        uuid=str(item.get("uuid") or config.get("uuid")),
        name=str(config.get("name", "")),
        tenant=ref_name(config.get("tenant_ref")),
        enabled=bool(config.get("enabled", True)),
        oper_status=oper_state(runtime.get("oper_status")),
        health_score=health_score(item.get("health_score")),
        vips=vip_addresses(config.get("vip")),
        services=services(config.get("services")),
        pool=ref_name(pool_ref),
        pool_uuid=ref_uuid(pool_ref),
        pool_group=ref_name(config.get("pool_group_ref")),
        se_group=ref_name(config.get("se_group_ref")),
        num_se_assigned=assigned if vip_summary else None,
        service_engines=engines,
    )


def pool_summary_from_inventory(item: dict[str, Any]) -> PoolSummary:
    config = item.get("config") or {}
    runtime = item.get("runtime") or {}
    return PoolSummary(
        uuid=str(item.get("uuid") or config.get("uuid")),
        name=str(config.get("name", "")),
        tenant=ref_name(config.get("tenant_ref")),
        enabled=bool(config.get("enabled", True)),
        oper_status=oper_state(runtime.get("oper_status")),
        health_score=health_score(item.get("health_score")),
        num_servers=int(runtime.get("num_servers") or 0),
        num_servers_enabled=int(runtime.get("num_servers_enabled") or 0),
        num_servers_up=int(runtime.get("num_servers_up") or 0),
        virtualservices=refs_names(item.get("virtualservices")),
    )


def server_key(ip: str, port: int | None) -> tuple[str, int | None]:
    return (ip, port)


def pool_servers(config: dict[str, Any], runtime_servers: list[dict[str, Any]] | None) -> list[PoolServer]:
    """Configured servers, joined with their runtime state when it is known."""
    states: dict[str, dict[str, Any]] = {}
    states_by_port: dict[tuple[str, Any], dict[str, Any]] = {}
    for entry in runtime_servers or []:
        if not isinstance(entry, dict):
            continue
        ip = (entry.get("ip_addr") or entry.get("ip") or {}).get("addr")
        if ip:
            states.setdefault(str(ip), entry)
            states_by_port[(str(ip), entry.get("port"))] = entry
    out: list[PoolServer] = []
    for server in config.get("servers") or []:
        ip = str((server.get("ip") or {}).get("addr", ""))
        port = server.get("port")
        rt = states_by_port.get((ip, port)) or states_by_port.get((ip, config.get("default_server_port")))
        rt = rt or states.get(ip)
        state = oper_state(rt.get("oper_status")) if rt else None
        out.append(
            PoolServer(
                ip=ip,
                port=port,
                hostname=server.get("hostname"),
                enabled=bool(server.get("enabled", True)),
                ratio=server.get("ratio"),
                oper_state=state.state if state else None,
                reason=state.reason if state else [],
            )
        )
    return out


def clean(obj: Any) -> dict[str, Any]:
    """Redacted dict (every operation result passes through here)."""
    value = redact(obj)
    return value if isinstance(value, dict) else {"value": value}


def tenant_of(obj: dict[str, Any]) -> str | None:
    return ref_name(obj.get("tenant_ref"))
