"""Unhealthy questions answered from inventory pages: ceil(N/200) requests, never one per object.

"Which servers are down?" needs per-server runtime, which no collection returns for many pools at
once. The answer lists every affected pool with its counts (from the inventory pages), and fetches
the down servers' detail only for the first `detail_limit` affected pools (default 5, in parallel):
a constant bound on top of ceil(N/200), whatever N or the number of affected pools.

The scans parse each inventory page once per shared answer (`map_pages`): a hundred people asking at
once cost one decode and one parse. Those summaries are shared, so each report carries its own copies
of the ones it lists, which its caller may edit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from avi.models import HealthReport, PoolServersDown, PoolSummary, VirtualServiceSummary
from avi.operations._common import own_copy, pool_summary_from_inventory, vs_summary_from_inventory
from avi.operations.base import OperationGroup
from avi.operations.pools import PoolOps, down_servers

MAX_DETAIL = 20
_SCAN = {"include": "health_score,runtime", "include_name": True}
S = TypeVar("S", PoolSummary, VirtualServiceSummary)


def vs_unhealthy(vs: VirtualServiceSummary, min_health: float | None) -> bool:
    if not vs.enabled:
        return False
    if vs.oper_status.state != "OPER_UP":
        return True
    return min_health is not None and vs.health_score is not None and vs.health_score < min_health


def pool_unhealthy(pool: PoolSummary, min_health: float | None) -> bool:
    if not pool.enabled:
        return False
    if pool.oper_status.state != "OPER_UP" or pool.servers_down > 0:
        return True
    return min_health is not None and pool.health_score is not None and pool.health_score < min_health


class HealthOps(OperationGroup):
    async def _scan(
        self, inventory: str, parse: Callable[[dict[str, Any]], S], tenant: str | None
    ) -> list[S]:
        """Every item's summary; shared with concurrent scans (read them, copy what you hand out)."""
        return await self.client.map_pages(inventory, parse, params=_SCAN, tenant=tenant)

    async def unhealthy_virtual_services(
        self, *, tenant: str | None = None, min_health_score: float | None = None
    ) -> HealthReport:
        """Enabled virtual services that are not OPER_UP (or below `min_health_score`)."""
        before = self.client.stats.requests
        items = await self._scan("virtualservice-inventory", vs_summary_from_inventory, tenant)
        found = [own_copy(vs) for vs in items if vs_unhealthy(vs, min_health_score)]
        return HealthReport(
            scanned=len(items), requests=self.client.stats.requests - before, virtualservices=found
        )

    async def unhealthy_pools(
        self, *, tenant: str | None = None, min_health_score: float | None = None
    ) -> HealthReport:
        """Enabled pools that are not OPER_UP or have enabled servers down."""
        before = self.client.stats.requests
        items = await self._scan("pool-inventory", pool_summary_from_inventory, tenant)
        found = [own_copy(p) for p in items if pool_unhealthy(p, min_health_score)]
        return HealthReport(scanned=len(items), requests=self.client.stats.requests - before, pools=found)

    async def pools_with_servers_down(
        self, *, tenant: str | None = None, detail_limit: int = 5
    ) -> HealthReport:
        """Pools with enabled servers down; the down servers listed for the first `detail_limit` pools."""
        detail_limit = max(0, min(detail_limit, MAX_DETAIL))
        before = self.client.stats.requests
        items = await self._scan("pool-inventory", pool_summary_from_inventory, tenant)
        affected = [own_copy(p) for p in items if p.enabled and p.servers_down > 0]
        affected.sort(key=lambda p: (-p.servers_down, p.name))
        pools = PoolOps(self.client)
        detailed = affected[:detail_limit]
        runtimes = await asyncio.gather(*(pools.server_runtime(p.uuid, tenant=tenant) for p in detailed))
        result = [
            PoolServersDown(pool=p, down_servers=down_servers(runtimes[i]) if i < len(runtimes) else None)
            for i, p in enumerate(affected)
        ]
        return HealthReport(
            scanned=len(items), requests=self.client.stats.requests - before, pools_with_servers_down=result
        )

    async def object_now(
        self, obj_type: str | None, uuid: str, *, tenant: str | None = None
    ) -> VirtualServiceSummary | PoolSummary | None:
        """A virtual service's or pool's state right now, from its inventory item (one request);
        None for other object types (an alert about them carries no inventory to read)."""
        if not uuid:
            return None
        if obj_type == "virtualservice":
            return vs_summary_from_inventory(await self._inventory_item("virtualservice", uuid, tenant))
        if obj_type == "pool":
            return pool_summary_from_inventory(await self._inventory_item("pool", uuid, tenant))
        return None
