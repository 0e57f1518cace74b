"""The root message says how the object is now: one inventory read when the thread opens (the
simulator over HTTP), and an empty line, never a missing root, when that read fails or hangs."""

from __future__ import annotations

import asyncio

from avi.models import PoolSummary, VirtualServiceSummary
from avi.operations import AviOperations
from avi.operations.alerts import Alert
from bot.alerts import MemoryAlertStore, MemoryPoster
from bot.alerts.health import ObjectHealth
from bot.alerts.models import AlertView
from bot.alerts.service import AlertService
from tests.alerts.helpers import names, raise_alert, settings
from tests.conftest import RunningSim


async def _root_view_after_alert(
    ops: AviOperations, health: ObjectHealth, obj: str, **extra: str
) -> AlertView:
    service = AlertService(ops.alerts, MemoryAlertStore(), settings({"to": "slack:C1"}), health=health)
    poster = MemoryPoster("slack")
    service.add_poster("slack", poster)
    await service.poll_once()
    await raise_alert(ops, obj, **extra)
    report = await service.poll_once()
    assert report.posted == 1, report
    return poster.roots[0].view


async def test_a_virtual_service_alert_says_its_state_now(sim: RunningSim, ops: AviOperations) -> None:
    vs = names(sim)[0]
    view = await _root_view_after_alert(ops, ObjectHealth(ops.health), vs)
    summary = await ops.health.object_now("virtualservice", view.object_uuid, tenant="admin")
    assert isinstance(summary, VirtualServiceSummary)
    word = summary.oper_status.state.removeprefix("OPER_").lower().replace("_", " ")
    assert view.health.startswith(f"Now: {'disabled' if not summary.enabled else word}"), view.health
    if summary.pool:
        assert f"pool {summary.pool}" in view.health


async def test_a_pool_alert_counts_its_servers(sim: RunningSim, ops: AviOperations) -> None:
    pool = names(sim, "pool")[0]
    view = await _root_view_after_alert(ops, ObjectHealth(ops.health), pool, obj_type="pool")
    summary = await ops.health.object_now("pool", view.object_uuid, tenant="admin")
    assert isinstance(summary, PoolSummary)
    assert f"{summary.num_servers_up} of {summary.num_servers_enabled} servers up" in view.health


class _Hangs:
    async def object_now(self, obj_type: str | None, uuid: str, *, tenant: str | None = None) -> None:
        await asyncio.sleep(30)


class _Fails:
    async def object_now(self, obj_type: str | None, uuid: str, *, tenant: str | None = None) -> None:
        raise ConnectionError("controller away")


async def test_the_root_goes_out_without_the_line_when_the_read_hangs_or_fails(
    sim: RunningSim, ops: AviOperations
) -> None:
    vs = names(sim)[0]
    hung = await _root_view_after_alert(ops, ObjectHealth(_Hangs(), timeout=0.2), vs)
    assert hung.health == ""
    failed = await ObjectHealth(_Fails()).line(Alert(uuid="a-1", obj_uuid="x", obj_type="pool"))
    assert failed == ""


async def test_objects_without_an_inventory_have_no_line(ops: AviOperations) -> None:
    line = await ObjectHealth(ops.health).line(Alert(uuid="a-2", obj_uuid="se-1", obj_type="serviceengine"))
    assert line == ""
