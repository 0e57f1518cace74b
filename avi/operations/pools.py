"""Pools: list/get with server status, writes, and server membership changes.

Server edits, and why:
- `add_server` / `scale_out` use one PATCH `{"add": {"servers": [...]}}`: atomic on the controller,
  one request, no lost update if someone else edits the pool at the same time.
- `remove_server`, `enable_server`, `disable_server` and `scale_in` use GET + PUT: PATCH `delete`
  and "an equal entry updates it" match servers by a key the API documents only loosely (ip? ip+port?),
  while GET + PUT lets us match exactly on ip (+ port when given), report "no such server" clearly,
  and still fail safely on a concurrent change (`_last_modified` goes back with the PUT).
- The pool `scaleout`/`scalein` actions of the API trigger server autoscaling and need an autoscale
  policy; they are exposed as `autoscale_out`/`autoscale_in`, not as the meaning of "scale the pool".
"""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress

from avi.errors import AviNotFoundError
from avi.models import ActionResult, DeleteResult, PoolDetail, PoolServer, PoolSummary, ref_name
from avi.object_types import LB_ALGORITHMS
from avi.operations._common import clean, oper_state, pool_servers, pool_summary_from_inventory
from avi.operations.base import OperationGroup, name_ref


class ServerSpec(BaseModel):
    """A back-end server: address, optional port (else the pool's default), enabled, ratio."""

    model_config = ConfigDict(extra="forbid")

    ip: IPvAnyAddress
    port: int | None = Field(None, ge=1, le=65535)
    enabled: bool = True
    ratio: int | None = Field(None, ge=1, le=20)
    hostname: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ip": {"addr": str(self.ip), "type": "V4" if self.ip.version == 4 else "V6"},
            "enabled": self.enabled,
        }
        if self.port is not None:
            out["port"] = self.port
        if self.ratio is not None:
            out["ratio"] = self.ratio
        if self.hostname:
            out["hostname"] = self.hostname
        return out

    def matches(self, server: dict[str, Any]) -> bool:
        if str((server.get("ip") or {}).get("addr")) != str(self.ip):
            return False
        return self.port is None or server.get("port") in (None, self.port)


def _lb(value: str) -> str:
    upper = value.strip().upper()
    short = upper.removeprefix("LB_ALGORITHM_")
    if short not in LB_ALGORITHMS:
        raise ValueError(f"unknown lb_algorithm {value!r}; one of {', '.join(LB_ALGORITHMS)}")
    return f"LB_ALGORITHM_{short}"


class PoolFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_contains: str | None = Field(None, description="case-insensitive substring of the name")
    enabled: bool | None = None
    oper_state: str | None = Field(None, description="e.g. OPER_UP, OPER_DOWN")
    servers_down: bool | None = Field(None, description="True = only pools with enabled servers down")
    limit: int | None = Field(None, ge=1)


class PoolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    servers: list[ServerSpec] = Field(default_factory=list)
    default_server_port: int = Field(80, ge=1, le=65535)
    lb_algorithm: str | None = Field(None, description="e.g. ROUND_ROBIN, LEAST_CONNECTIONS")
    health_monitors: list[str] = Field(default_factory=list, description="monitor names or uuids")
    description: str | None = None
    enabled: bool = True


class PoolUpdate(BaseModel):
    """Fields to change (None = leave as is); one PATCH `replace`."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=256, description="new name (rename)")
    enabled: bool | None = None
    default_server_port: int | None = Field(None, ge=1, le=65535)
    lb_algorithm: str | None = None
    health_monitors: list[str] | None = Field(
        None, description="the whole new list of monitors (names or uuids); [] = none"
    )
    description: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("name", "enabled", "default_server_port", "description"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.lb_algorithm is not None:
            out["lb_algorithm"] = _lb(self.lb_algorithm)
        if self.health_monitors is not None:
            out["health_monitor_refs"] = [name_ref("healthmonitor", hm) for hm in self.health_monitors]
        return out


class PoolUsers(BaseModel):
    """The objects that use a pool, by name."""

    model_config = ConfigDict(extra="forbid")

    virtualservices: list[str] = Field(default_factory=list)
    poolgroups: list[str] = Field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.virtualservices or self.poolgroups)


def _norm_state(state: str) -> str:
    state = state.strip().upper()
    return state if state.startswith("OPER_") else f"OPER_{state}"


def detail_from_config(
    config: dict[str, Any],
    summary: PoolSummary | None = None,
    runtime_servers: list[dict[str, Any]] | None = None,
) -> PoolDetail:
    servers = pool_servers(config, runtime_servers)
    base = (
        summary.model_dump()
        if summary
        else {
            "uuid": str(config.get("uuid")),
            "name": str(config.get("name", "")),
            "tenant": ref_name(config.get("tenant_ref")),
            "enabled": bool(config.get("enabled", True)),
            "num_servers": len(servers),
            "num_servers_enabled": sum(1 for s in servers if s.enabled),
            "num_servers_up": sum(1 for s in servers if s.enabled and s.oper_state == "OPER_UP"),
        }
    )
    return PoolDetail(
        **base,
        lb_algorithm=config.get("lb_algorithm"),
        default_server_port=config.get("default_server_port"),
        health_monitors=[n for n in (ref_name(r) for r in config.get("health_monitor_refs") or []) if n],
        servers=servers,
        config=clean(config),
    )


def runtime_server_list(body: Any) -> list[dict[str, Any]]:
    """`/pool/<uuid>/runtime/server/` answers a list, or an envelope with `results`."""
    if isinstance(body, list):
        return [s for s in body if isinstance(s, dict)]
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return [s for s in body["results"] if isinstance(s, dict)]
    return []


def down_servers(runtime: list[dict[str, Any]]) -> list[PoolServer]:
    out: list[PoolServer] = []
    for rt in runtime:
        state = oper_state(rt.get("oper_status"))
        if state.state in ("OPER_UP", "OPER_DISABLED"):
            continue
        ip = (rt.get("ip_addr") or rt.get("ip") or {}).get("addr", "")
        out.append(
            PoolServer(
                ip=str(ip),
                port=rt.get("port"),
                hostname=rt.get("hostname"),
                enabled=True,
                oper_state=state.state,
                reason=state.reason,
            )
        )
    return out


class PoolOps(OperationGroup):
    """List, read, create, change, delete pools and their servers."""

    async def list(
        self, filters: PoolFilter | None = None, *, tenant: str | None = None
    ) -> list[PoolSummary]:
        """ceil(N/200) requests over `pool-inventory`: server counts come in the same pages."""
        filters = filters or PoolFilter()
        params: dict[str, Any] = {"include": "health_score,runtime", "include_name": True}
        if filters.name_contains:
            params["name.icontains"] = filters.name_contains
        want_state = _norm_state(filters.oper_state) if filters.oper_state else None
        out: list[PoolSummary] = []
        async for page in self.client.iter_pages("pool-inventory", params=params, tenant=tenant):
            for item in page.results:
                pool = pool_summary_from_inventory(item)
                if filters.name_contains and filters.name_contains.lower() not in pool.name.lower():
                    continue
                if filters.enabled is not None and pool.enabled != filters.enabled:
                    continue
                if want_state and pool.oper_status.state != want_state:
                    continue
                if filters.servers_down is not None and (pool.servers_down > 0) != filters.servers_down:
                    continue
                out.append(pool)
                if filters.limit and len(out) >= filters.limit:
                    return out
        return out

    async def get(self, name_or_uuid: str, *, tenant: str | None = None) -> PoolDetail:
        """Inventory summary, then the config and per-server runtime in parallel (3 requests)."""
        item = await self._inventory_item("pool", name_or_uuid, tenant)
        summary = pool_summary_from_inventory(item)
        config, runtime = await asyncio.gather(
            self.client.get(f"/api/pool/{summary.uuid}", params={"include_name": True}, tenant=tenant),
            self.server_runtime(summary.uuid, tenant=tenant),
        )
        return detail_from_config(config, summary, runtime)

    async def server_runtime(self, uuid: str, *, tenant: str | None = None) -> builtins.list[dict[str, Any]]:
        """Per-server runtime of one pool (empty when the controller does not serve it)."""
        try:
            body = await self.client.get(f"/api/pool/{uuid}/runtime/server/", tenant=tenant)
        except AviNotFoundError:
            return []
        return runtime_server_list(body)

    async def create(self, spec: PoolCreate, *, tenant: str | None = None) -> PoolDetail:
        body: dict[str, Any] = {
            "name": spec.name,
            "enabled": spec.enabled,
            "default_server_port": spec.default_server_port,
            "servers": [s.to_api() for s in spec.servers],
        }
        if spec.lb_algorithm:
            body["lb_algorithm"] = _lb(spec.lb_algorithm)
        if spec.health_monitors:
            body["health_monitor_refs"] = [name_ref("healthmonitor", hm) for hm in spec.health_monitors]
        if spec.description:
            body["description"] = spec.description
        created = await self.client.post("/api/pool", body, tenant=tenant)
        return detail_from_config(created)

    async def update(
        self, name_or_uuid: str, changes: PoolUpdate, *, tenant: str | None = None
    ) -> PoolDetail:
        uuid = await self.client.resolve_uuid("pool", name_or_uuid, tenant=tenant)
        body = changes.to_api()
        if not body:
            raise ValueError("nothing to change")
        updated = await self.client.patch(f"/api/pool/{uuid}", {"replace": body}, tenant=tenant)
        return detail_from_config(updated)

    async def used_by(self, name_or_uuid: str, *, tenant: str | None = None) -> PoolUsers:
        """Who refers to the pool (`refers_to`, one walk per type): virtual services (`pool_ref`) and
        pool groups (`members[].pool_ref`). The controller refuses to delete a pool either one uses."""
        uuid = await self.client.resolve_uuid("pool", name_or_uuid, tenant=tenant)
        params = {"refers_to": f"pool:{uuid}", "fields": "name"}
        found: dict[str, builtins.list[str]] = {}
        for obj_type in ("virtualservice", "poolgroup"):
            names: builtins.list[str] = []
            async for page in self.client.iter_pages(obj_type, params=params, tenant=tenant):
                names += [str(o.get("name") or o.get("uuid")) for o in page.results]
            found[obj_type] = names
        return PoolUsers(virtualservices=found["virtualservice"], poolgroups=found["poolgroup"])

    async def delete(self, name_or_uuid: str, *, tenant: str | None = None) -> DeleteResult:
        uuid = await self.client.resolve_uuid("pool", name_or_uuid, tenant=tenant)
        await self.client.delete(f"/api/pool/{uuid}", tenant=tenant)
        return DeleteResult(
            object_type="pool", uuid=uuid, name=None if uuid == name_or_uuid else name_or_uuid
        )

    # -- servers -----------------------------------------------------------------------------

    async def scale_out(
        self, name_or_uuid: str, servers: builtins.list[ServerSpec], *, tenant: str | None = None
    ) -> PoolDetail:
        """Add servers with one PATCH `add` (atomic; see the module docstring)."""
        if not servers:
            raise ValueError("no servers to add")
        uuid = await self.client.resolve_uuid("pool", name_or_uuid, tenant=tenant)
        updated = await self.client.patch(
            f"/api/pool/{uuid}", {"add": {"servers": [s.to_api() for s in servers]}}, tenant=tenant
        )
        return detail_from_config(updated)

    async def add_server(
        self, name_or_uuid: str, server: ServerSpec, *, tenant: str | None = None
    ) -> PoolDetail:
        return await self.scale_out(name_or_uuid, [server], tenant=tenant)

    async def _edit_servers(
        self,
        name_or_uuid: str,
        servers: builtins.list[ServerSpec],
        tenant: str | None,
        *,
        remove: bool = False,
        enabled: bool | None = None,
    ) -> PoolDetail:
        pool = await self._object("pool", name_or_uuid, tenant)
        current: list[dict[str, Any]] = list(pool.get("servers") or [])
        for spec in servers:
            if not any(spec.matches(s) for s in current):
                where = f"{spec.ip}:{spec.port}" if spec.port else str(spec.ip)
                raise AviNotFoundError(
                    f"pool {pool.get('name')!r} has no server {where}",
                    status=404,
                    method="GET",
                    path=f"/api/pool/{pool.get('uuid')}",
                )
        if remove:
            current = [s for s in current if not any(spec.matches(s) for spec in servers)]
        else:
            for server in current:
                if any(spec.matches(server) for spec in servers):
                    server["enabled"] = enabled
        pool["servers"] = current
        updated = await self.client.put(f"/api/pool/{pool['uuid']}", pool, tenant=tenant)
        return detail_from_config(updated)

    async def scale_in(
        self, name_or_uuid: str, servers: builtins.list[ServerSpec], *, tenant: str | None = None
    ) -> PoolDetail:
        """Remove servers (GET + PUT, exact match on ip and port)."""
        if not servers:
            raise ValueError("no servers to remove")
        return await self._edit_servers(name_or_uuid, servers, tenant, remove=True)

    async def remove_server(
        self, name_or_uuid: str, server: ServerSpec, *, tenant: str | None = None
    ) -> PoolDetail:
        return await self.scale_in(name_or_uuid, [server], tenant=tenant)

    async def enable_server(
        self, name_or_uuid: str, server: ServerSpec, *, tenant: str | None = None
    ) -> PoolDetail:
        return await self._edit_servers(name_or_uuid, [server], tenant, enabled=True)

    async def disable_server(
        self, name_or_uuid: str, server: ServerSpec, *, tenant: str | None = None
    ) -> PoolDetail:
        return await self._edit_servers(name_or_uuid, [server], tenant, enabled=False)

    # -- autoscale actions ---------------------------------------------------------------------

    async def _action(
        self, action: str, name_or_uuid: str, body: dict[str, Any], tenant: str | None
    ) -> ActionResult:
        uuid = await self.client.resolve_uuid("pool", name_or_uuid, tenant=tenant)
        response = await self.client.post(f"/api/pool/{uuid}/{action}", body, tenant=tenant)
        return ActionResult(
            action=action,
            object_type="pool",
            uuid=uuid,
            name=None if uuid == name_or_uuid else name_or_uuid,
            response=clean(response) if isinstance(response, dict) else response,
        )

    async def autoscale_out(
        self, name_or_uuid: str, *, reason: str = "avibot", tenant: str | None = None
    ) -> ActionResult:
        """Trigger the pool's server autoscaler (`/api/pool/<uuid>/scaleout`; needs an autoscale policy)."""
        return await self._action("scaleout", name_or_uuid, {"reason": reason}, tenant)

    async def autoscale_in(
        self,
        name_or_uuid: str,
        *,
        reason: str = "avibot",
        servers: builtins.list[ServerSpec] | None = None,
        tenant: str | None = None,
    ) -> ActionResult:
        body: dict[str, Any] = {"reason": reason}
        if servers:
            body["servers"] = [
                {"ip": s.to_api()["ip"], **({"port": s.port} if s.port else {})} for s in servers
            ]
        return await self._action("scalein", name_or_uuid, body, tenant)
