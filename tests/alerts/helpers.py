"""Shared pieces of the alert tests: raising and clearing alerts on the simulator, engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from avi.operations import AviOperations
from bot.alerts import AlertEngine, AlertSettings, AlertStore, MemoryPoster
from tests.conftest import RunningSim, ops_for


@pytest.fixture(name="ops")
async def uncached_ops(sim: RunningSim) -> AsyncIterator[AviOperations]:
    """The `ops` fixture of alert tests (import `uncached_ops`): the client's short read cache off,
    because they change the simulator's alerts between polls milliseconds apart, which a real poller
    (every 30 s) never does."""
    ops = ops_for(sim, cache_seconds=0)
    yield ops
    await ops.client.aclose()


def names(sim: RunningSim, obj_type: str = "virtualservice") -> list[str]:
    """Names of the admin tenant's objects of a type (what the default client sees)."""
    store = sim.state.store
    return sorted(
        str(o["name"]) for o in store.objects[obj_type].values() if store.tenant_of[o["uuid"]] == "admin"
    )


async def raise_alert(
    ops: AviOperations, obj_name: str, level: str = "ALERT_HIGH", **extra: Any
) -> dict[str, Any]:
    body = {"level": level, "obj_name": obj_name, "summary": f"{obj_name} is down", "reason": "pool_down"}
    created: dict[str, Any] = await ops.client.post("/api/simulator/alerts", json={**body, **extra})
    return created


async def clear_alert(ops: AviOperations, uuid: str) -> None:
    await ops.client.delete(f"/api/simulator/alerts/{uuid}")


def settings(*routes: dict[str, Any], **options: Any) -> AlertSettings:
    return AlertSettings.model_validate({"routes": list(routes), **options})


def engine(
    ops: AviOperations, store: AlertStore, poster: MemoryPoster, alert_settings: AlertSettings, **kw: Any
) -> AlertEngine:
    posters = {"slack": poster, "teams": poster}
    return AlertEngine(ops.alerts, store, posters, alert_settings, **kw)
