"""Service engines: status from `serviceengine-inventory` and load from ONE metrics collection call."""

from __future__ import annotations

import asyncio
from typing import Any

from avi.errors import AviError
from avi.models import ServiceEngineDetail, ServiceEngineSummary, ref_name
from avi.operations._common import clean, health_score, oper_state
from avi.operations.analytics import SE_LOAD_METRICS, AnalyticsOps
from avi.operations.base import OperationGroup

SE_TENANT = "admin"  # service engines belong to the admin tenant


def se_summary(item: dict[str, Any], load: dict[str, float | None] | None = None) -> ServiceEngineSummary:
    config = item.get("config") or {}
    runtime = item.get("runtime") or {}
    mgmt = config.get("mgmt_ip_address")
    if isinstance(mgmt, dict):
        mgmt = mgmt.get("addr")
    load = load or {}
    return ServiceEngineSummary(
        uuid=str(item.get("uuid") or config.get("uuid")),
        name=str(config.get("name", "")),
        oper_status=oper_state(runtime.get("oper_status")),
        enable_state=config.get("enable_state"),
        se_connected=runtime.get("se_connected"),
        power_state=runtime.get("power_state"),
        se_group=ref_name(config.get("se_group_ref")),
        cloud=ref_name(config.get("cloud_ref")),
        mgmt_ip=str(mgmt) if mgmt else None,
        num_virtualservices=len(config.get("vs_refs") or []),
        health_score=health_score(item.get("health_score")),
        cpu_percent=load.get("se_stats.avg_cpu_usage"),
        mem_percent=load.get("se_stats.avg_mem_usage"),
    )


class ServiceEngineOps(OperationGroup):
    async def _load(self, uuids: list[str] | None, tenant: str) -> dict[str, dict[str, float | None]]:
        """CPU/memory of all SEs in one request; the list still answers if analytics fails."""
        try:
            return await AnalyticsOps(self.client).latest_for_all(
                "serviceengine", SE_LOAD_METRICS, tenant=tenant, entity_uuids=uuids
            )
        except AviError:
            return {}

    async def list(
        self,
        *,
        name_contains: str | None = None,
        oper_state: str | None = None,
        limit: int | None = None,
        tenant: str | None = None,
    ) -> list[ServiceEngineSummary]:
        """ceil(N/200) inventory pages + 1 metrics collection request, whatever N is."""
        params: dict[str, Any] = {"include_name": True}
        if name_contains:
            params["name.icontains"] = name_contains
        tenant = tenant or SE_TENANT
        inventory = self.client.list_all("serviceengine-inventory", params=params, tenant=tenant)
        items, load = await asyncio.gather(inventory, self._load(None, tenant))
        want = oper_state.upper() if oper_state else None
        if want and not want.startswith("OPER_"):
            want = f"OPER_{want}"
        out: list[ServiceEngineSummary] = []
        for item in items:
            se = se_summary(item, load.get(str(item.get("uuid"))))
            if name_contains and name_contains.lower() not in se.name.lower():
                continue
            if want and se.oper_status.state != want:
                continue
            out.append(se)
            if limit and len(out) >= limit:
                break
        return out

    async def get(self, name_or_uuid: str, *, tenant: str | None = None) -> ServiceEngineDetail:
        """Service engines belong to the admin tenant; `tenant` only overrides that."""
        tenant = tenant or SE_TENANT
        item = await self._inventory_item("serviceengine", name_or_uuid, tenant)
        uuid = str(item.get("uuid"))
        load = await self._load([uuid], tenant)
        summary = se_summary(item, load.get(uuid))
        config = item.get("config") or {}
        return ServiceEngineDetail(
            **summary.model_dump(),
            virtualservices=[n for n in (ref_name(r) for r in config.get("vs_refs") or []) if n],
            config=clean(config),
            runtime=clean(item.get("runtime") or {}),
        )
