"""Virtual services: list/get from `virtualservice-inventory` (status in the same page), writes, actions."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress

from avi.errors import AviError
from avi.models import (
    ActionResult,
    DeleteResult,
    VirtualServiceDetail,
    VirtualServiceSummary,
    VsVipSummary,
    ref_name,
    ref_uuid,
)
from avi.operations._common import clean, pool_summary_from_inventory, vs_summary_from_inventory
from avi.operations.base import OperationGroup, name_ref


class VirtualServiceFilter(BaseModel):
    """Filters for listing virtual services (all optional; combined with AND)."""

    model_config = ConfigDict(extra="forbid")

    name_contains: str | None = Field(None, description="case-insensitive substring of the name")
    enabled: bool | None = None
    oper_state: str | None = Field(None, description="e.g. OPER_UP, OPER_DOWN (prefix OPER_ optional)")
    limit: int | None = Field(None, ge=1, description="return at most this many")


class ServicePortSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    port: int = Field(ge=1, le=65535)
    enable_ssl: bool = False
    port_range_end: int | None = Field(None, ge=1, le=65535)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"port": self.port, "enable_ssl": self.enable_ssl}
        if self.port_range_end:
            out["port_range_end"] = self.port_range_end
        return out


class VirtualServiceCreate(BaseModel):
    """A new virtual service: a VIP (its own vsvip object), service ports and an optional pool."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    vip: IPvAnyAddress | None = Field(None, description="VIP address; None = auto-allocate from IPAM")
    services: list[ServicePortSpec] = Field(default_factory=lambda: [ServicePortSpec(port=80)], min_length=1)
    pool: str | None = Field(None, description="pool name or uuid in the same tenant")
    application_profile: str | None = Field(None, description="e.g. System-HTTP, System-L4-Application")
    description: str | None = None
    enabled: bool = True


def _covers(service: dict[str, Any], port: int) -> bool:
    first = service.get("port")
    if not isinstance(first, int):
        return False
    last = service.get("port_range_end") or first
    return bool(first <= port <= last)


def with_ssl_ports(services: list[dict[str, Any]], ports: list[int]) -> list[dict[str, Any]]:
    """`services` with SSL on each of `ports`: the entry that serves the port gets `enable_ssl`, a port
    the VS does not listen on yet is added. Every other field of an entry is kept as it is."""
    out = [dict(s) for s in services]
    for port in ports:
        entry = next((s for s in out if _covers(s, port)), None)
        if entry is None:
            out.append({"port": port, "enable_ssl": True})
        else:
            entry["enable_ssl"] = True
    return out


class VirtualServiceUpdate(BaseModel):
    """Fields to change (None = leave as is); applied with one PATCH `replace`.

    `ssl_ports` is merged into the service ports the VS has (read first, see `with_ssl_ports`), so
    the other fields of each port survive; `services` replaces the whole list instead."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    traffic_enabled: bool | None = None
    services: list[ServicePortSpec] | None = None
    ssl_ports: list[int] | None = Field(None, description="ports to terminate SSL on (added if absent)")
    pool: str | None = Field(None, description="pool name or uuid")
    application_profile: str | None = None
    certificates: list[str] | None = Field(None, description="SSL certificate names or uuids (1 or 2)")
    ssl_profile: str | None = Field(None, description="SSL profile name or uuid, e.g. System-Standard")
    description: str | None = None

    def to_api(self, current: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `replace` body; `current` (the VS as read) is needed for `ssl_ports`."""
        out: dict[str, Any] = {}
        for key in ("enabled", "traffic_enabled", "description"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.services is not None and self.ssl_ports is not None:
            raise ValueError("give services or ssl_ports, not both")
        if self.services is not None:
            out["services"] = [s.to_api() for s in self.services]
        if self.ssl_ports is not None:
            if current is None:
                raise ValueError("ssl_ports needs the virtual service as it is")
            for port in self.ssl_ports:
                if not 1 <= port <= 65535:
                    raise ValueError(f"port {port} is out of range (1 to 65535)")
            out["services"] = with_ssl_ports(list(current.get("services") or []), self.ssl_ports)
        if self.pool is not None:
            out["pool_ref"] = name_ref("pool", self.pool)
        if self.application_profile is not None:
            out["application_profile_ref"] = name_ref("applicationprofile", self.application_profile)
        if self.certificates is not None:
            refs = [name_ref("sslkeyandcertificate", c) for c in self.certificates]
            out["ssl_key_and_certificate_refs"] = refs
        if self.ssl_profile is not None:
            out["ssl_profile_ref"] = name_ref("sslprofile", self.ssl_profile)
        return out


def _norm_state(state: str) -> str:
    state = state.strip().upper()
    return state if state.startswith("OPER_") else f"OPER_{state}"


def summary_from_config(obj: dict[str, Any]) -> VirtualServiceSummary:
    """A summary from a plain virtualservice object (after a write; no runtime)."""
    return vs_summary_from_inventory({"uuid": obj.get("uuid"), "config": obj})


class VirtualServiceOps(OperationGroup):
    """List, read, create, change, delete and act on virtual services."""

    async def list(
        self, filters: VirtualServiceFilter | None = None, *, tenant: str | None = None
    ) -> list[VirtualServiceSummary]:
        """Costs ceil(N/200) requests: status comes from the inventory in the same pages."""
        filters = filters or VirtualServiceFilter()
        params: dict[str, Any] = {"include": "health_score,runtime", "include_name": True}
        if filters.name_contains:
            params["name.icontains"] = filters.name_contains
        want_state = _norm_state(filters.oper_state) if filters.oper_state else None
        out: list[VirtualServiceSummary] = []
        async for page in self.client.iter_pages("virtualservice-inventory", params=params, tenant=tenant):
            for item in page.results:
                vs = vs_summary_from_inventory(item)
                if filters.name_contains and filters.name_contains.lower() not in vs.name.lower():
                    continue
                if filters.enabled is not None and vs.enabled != filters.enabled:
                    continue
                if want_state and vs.oper_status.state != want_state:
                    continue
                out.append(vs)
                if filters.limit and len(out) >= filters.limit:
                    return out
        return out

    async def get(self, name_or_uuid: str, *, tenant: str | None = None) -> VirtualServiceDetail:
        """Status, VIP and pool summary: inventory item, then full config, vsvip and pool in parallel."""
        item = await self._inventory_item("virtualservice", name_or_uuid, tenant)
        summary = vs_summary_from_inventory(item)
        config_ref = item.get("config") or {}
        vsvip_uuid = ref_uuid(config_ref.get("vsvip_ref"))
        calls: list[Any] = [
            self.client.get(
                f"/api/virtualservice/{summary.uuid}", params={"include_name": True}, tenant=tenant
            ),
            self._maybe(f"/api/vsvip/{vsvip_uuid}" if vsvip_uuid else None, tenant),
            self._maybe(f"/api/pool-inventory/{summary.pool_uuid}" if summary.pool_uuid else None, tenant),
        ]
        config, vsvip, pool_item = await asyncio.gather(*calls)
        detail = VirtualServiceDetail(
            **summary.model_dump(),
            config=clean(config),
            runtime=clean(item.get("runtime") or {}),
        )
        if summary.pool is None or summary.pool == summary.pool_uuid:
            detail.pool = ref_name(config.get("pool_ref")) or summary.pool
        if isinstance(vsvip, dict):
            addresses = [
                str((v.get("ip_address") or {}).get("addr"))
                for v in vsvip.get("vip") or []
                if isinstance(v, dict) and (v.get("ip_address") or {}).get("addr")
            ]
            detail.vsvip = VsVipSummary(
                uuid=str(vsvip.get("uuid")), name=str(vsvip.get("name")), addresses=addresses
            )
            if not detail.vips:
                detail.vips = addresses
        if isinstance(pool_item, dict):
            detail.pool_summary = pool_summary_from_inventory(pool_item)
            detail.pool = detail.pool_summary.name
        return detail

    async def _maybe(self, path: str | None, tenant: str | None) -> Any:
        if path is None:
            return None
        try:
            return await self.client.get(path, params={"include_name": True}, tenant=tenant)
        except AviError:
            return None

    async def create(self, spec: VirtualServiceCreate, *, tenant: str | None = None) -> VirtualServiceDetail:
        """POST a vsvip, then the virtual service referring to it; the vsvip is removed if the VS fails."""
        vip: dict[str, Any] = {"vip_id": "0"}
        if spec.vip is None:
            vip["auto_allocate_ip"] = True
        else:
            vip["ip_address"] = {"addr": str(spec.vip), "type": "V4" if spec.vip.version == 4 else "V6"}
        vsvip = await self.client.post(
            "/api/vsvip", {"name": f"vsvip-{spec.name}", "vip": [vip]}, tenant=tenant
        )
        body: dict[str, Any] = {
            "name": spec.name,
            "enabled": spec.enabled,
            "vsvip_ref": f"/api/vsvip/{vsvip['uuid']}",
            "services": [s.to_api() for s in spec.services],
        }
        if spec.pool:
            body["pool_ref"] = name_ref("pool", spec.pool)
        if spec.application_profile:
            body["application_profile_ref"] = name_ref("applicationprofile", spec.application_profile)
        if spec.description:
            body["description"] = spec.description
        try:
            created = await self.client.post("/api/virtualservice", body, tenant=tenant)
        except AviError:
            with contextlib.suppress(AviError):
                await self.client.delete(f"/api/vsvip/{vsvip['uuid']}", tenant=tenant)
            raise
        summary = summary_from_config(created)
        addresses = [str(vip["ip_address"]["addr"])] if "ip_address" in vip else []
        return VirtualServiceDetail(
            **{**summary.model_dump(), "vips": summary.vips or addresses},
            vsvip=VsVipSummary(uuid=str(vsvip["uuid"]), name=str(vsvip.get("name")), addresses=addresses),
            config=clean(created),
        )

    async def update(
        self, name_or_uuid: str, changes: VirtualServiceUpdate, *, tenant: str | None = None
    ) -> VirtualServiceDetail:
        """One PATCH `replace` (atomic on the controller: no lost update between a GET and a PUT).

        With `ssl_ports` the VS is read first and its service ports are sent back with SSL turned on."""
        if changes.ssl_ports is not None:
            current = await self._object("virtualservice", name_or_uuid, tenant)
            uuid, body = str(current["uuid"]), changes.to_api(current)
        else:
            uuid = await self.client.resolve_uuid("virtualservice", name_or_uuid, tenant=tenant)
            body = changes.to_api()
        if not body:
            raise ValueError("nothing to change")
        updated = await self.client.patch(f"/api/virtualservice/{uuid}", {"replace": body}, tenant=tenant)
        summary = summary_from_config(updated)
        return VirtualServiceDetail(**summary.model_dump(), config=clean(updated))

    async def enable(self, name_or_uuid: str, *, tenant: str | None = None) -> VirtualServiceDetail:
        return await self.update(name_or_uuid, VirtualServiceUpdate(enabled=True), tenant=tenant)

    async def disable(self, name_or_uuid: str, *, tenant: str | None = None) -> VirtualServiceDetail:
        return await self.update(name_or_uuid, VirtualServiceUpdate(enabled=False), tenant=tenant)

    async def delete(self, name_or_uuid: str, *, tenant: str | None = None) -> DeleteResult:
        """DELETE (204); the pool and the vsvip stay, as on the controller."""
        uuid = await self.client.resolve_uuid("virtualservice", name_or_uuid, tenant=tenant)
        await self.client.delete(f"/api/virtualservice/{uuid}", tenant=tenant)
        name = None if uuid == name_or_uuid else name_or_uuid
        return DeleteResult(object_type="virtualservice", uuid=uuid, name=name)

    async def _action(
        self, action: str, name_or_uuid: str, body: dict[str, Any], tenant: str | None
    ) -> ActionResult:
        uuid = await self.client.resolve_uuid("virtualservice", name_or_uuid, tenant=tenant)
        response = await self.client.post(f"/api/virtualservice/{uuid}/{action}", body, tenant=tenant)
        return ActionResult(
            action=action,
            object_type="virtualservice",
            uuid=uuid,
            name=None if uuid == name_or_uuid else name_or_uuid,
            response=clean(response) if isinstance(response, dict) else response,
        )

    async def _se_ref(self, se: str | None) -> str | None:
        if se is None:
            return None
        # Service engines live in the admin tenant whatever tenant the VS is in.
        return "/api/serviceengine/" + await self.client.resolve_uuid("serviceengine", se, tenant="admin")

    async def scale_out(
        self,
        name_or_uuid: str,
        *,
        vip_id: str = "0",
        to_new_se: bool = False,
        to_se: str | None = None,
        tenant: str | None = None,
    ) -> ActionResult:
        """Place the VIP on one more service engine (`scaleout`)."""
        body: dict[str, Any] = {"vip_id": vip_id}
        if to_new_se:
            body["to_new_se"] = True
        if to_se:
            body["to_se_ref"] = await self._se_ref(to_se)
        return await self._action("scaleout", name_or_uuid, body, tenant)

    async def scale_in(
        self,
        name_or_uuid: str,
        *,
        vip_id: str = "0",
        from_se: str | None = None,
        scalein_primary: bool = False,
        tenant: str | None = None,
    ) -> ActionResult:
        """Remove the VIP from one service engine (`scalein`)."""
        body: dict[str, Any] = {"vip_id": vip_id}
        if from_se:
            body["from_se_ref"] = await self._se_ref(from_se)
        if scalein_primary:
            body["scalein_primary"] = True
        return await self._action("scalein", name_or_uuid, body, tenant)

    async def migrate(
        self,
        name_or_uuid: str,
        *,
        vip_id: str = "0",
        from_se: str | None = None,
        to_se: str | None = None,
        to_new_se: bool = False,
        tenant: str | None = None,
    ) -> ActionResult:
        """Move the VIP from one service engine to another (or to a new one)."""
        body: dict[str, Any] = {"vip_id": vip_id}
        if from_se:
            body["from_se_ref"] = await self._se_ref(from_se)
        if to_se:
            body["to_se_ref"] = await self._se_ref(to_se)
        if to_new_se:
            body["to_new_se"] = True
        return await self._action("migrate", name_or_uuid, body, tenant)

    async def switchover(
        self, name_or_uuid: str, *, vip_id: str = "0", se: str | None = None, tenant: str | None = None
    ) -> ActionResult:
        """Make another service engine primary for the VIP."""
        body: dict[str, Any] = {"vip_id": vip_id}
        if se:
            body["se_uuid"] = await self.client.resolve_uuid("serviceengine", se, tenant="admin")
        return await self._action("switchover", name_or_uuid, body, tenant)
