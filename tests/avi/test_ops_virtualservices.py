"""Virtual service operations against the simulator, each write checked by a second read."""

from __future__ import annotations

import math

import pytest

from avi.errors import AviNotFoundError, AviPermissionError, AviValidationError
from avi.operations import (
    AviOperations,
    PoolCreate,
    ServerSpec,
    ServicePortSpec,
    VirtualServiceCreate,
    VirtualServiceFilter,
    VirtualServiceUpdate,
)
from tests.conftest import RunningSim, StartSim, ops_for


async def test_list_has_status_and_costs_one_page(ops: AviOperations, sim: RunningSim) -> None:
    vss = await ops.virtualservices.list()
    assert len(vss) >= 36  # 40 objects, some in the finance tenant
    assert all(vs.uuid.startswith("virtualservice-") for vs in vss)
    states = {vs.oper_status.state for vs in vss}
    assert "OPER_UP" in states
    assert len(states) > 1
    assert any(vs.vips for vs in vss)
    assert any(vs.service_engines for vs in vss)
    assert ops.client.stats.requests == 2  # one login, one inventory page
    assert sim.state.stats.requests == 2


async def test_list_filters(ops: AviOperations) -> None:
    everything = await ops.virtualservices.list()
    name = everything[0].name
    fragment = name[1:4].upper()
    by_name = await ops.virtualservices.list(VirtualServiceFilter(name_contains=fragment))
    assert by_name
    assert all(fragment.lower() in vs.name.lower() for vs in by_name)
    assert name in {vs.name for vs in by_name}
    up = await ops.virtualservices.list(VirtualServiceFilter(oper_state="up"))
    assert up
    assert all(vs.oper_status.state == "OPER_UP" for vs in up)
    disabled = await ops.virtualservices.list(VirtualServiceFilter(enabled=False))
    assert all(not vs.enabled for vs in disabled)
    assert len(up) + len(disabled) <= len(everything)
    limited = await ops.virtualservices.list(VirtualServiceFilter(limit=3))
    assert len(limited) == 3


async def test_list_per_tenant(ops: AviOperations) -> None:
    admin = await ops.virtualservices.list()
    finance = await ops.virtualservices.list(tenant="finance")
    every = await ops.virtualservices.list(tenant="*")
    assert finance
    assert {vs.tenant for vs in finance} == {"finance"}
    assert not {vs.uuid for vs in finance} & {vs.uuid for vs in admin}
    assert len(every) == len(admin) + len(finance)
    with pytest.raises(AviPermissionError):
        await ops.virtualservices.list(tenant="nope")


async def test_list_many_costs_ceil_n_over_200(start_sim: StartSim) -> None:
    sim = await start_sim(objects=1200)
    ops = ops_for(sim)
    try:
        vss = await ops.virtualservices.list(tenant="*")
        assert len(vss) >= 1200
        assert ops.client.stats.requests == math.ceil(len(vss) / 200) + 1
        assert sim.state.stats.logins == 1
    finally:
        await ops.client.aclose()


async def test_get_by_name_and_uuid(ops: AviOperations) -> None:
    vs = next(v for v in await ops.virtualservices.list() if v.pool)
    by_name = await ops.virtualservices.get(vs.name)
    by_uuid = await ops.virtualservices.get(vs.uuid)
    assert by_name.uuid == by_uuid.uuid == vs.uuid
    assert by_name.vips
    assert by_name.vsvip is not None
    assert by_name.pool_summary is not None
    assert by_name.pool_summary.num_servers >= 1
    assert by_name.runtime.get("oper_status")
    assert by_name.config["name"] == vs.name
    with pytest.raises(AviNotFoundError):
        await ops.virtualservices.get("no-such-vs")


async def test_create_update_disable_enable_delete(ops: AviOperations) -> None:
    pool = await ops.pools.create(PoolCreate(name="new-pool", servers=[ServerSpec(ip="10.9.0.1")]))
    created = await ops.virtualservices.create(
        VirtualServiceCreate(
            name="new-vs",
            vip="10.200.0.10",
            services=[ServicePortSpec(port=80), ServicePortSpec(port=443, enable_ssl=True)],
            pool="new-pool",
            application_profile="System-Secure-HTTP",
            description="made by a test",
        )
    )
    assert created.uuid.startswith("virtualservice-")
    assert created.vsvip is not None
    assert created.vsvip.addresses == ["10.200.0.10"]
    assert [s.port for s in created.services] == [80, 443]

    read = await ops.virtualservices.get("new-vs")
    assert read.pool_summary is not None
    assert read.pool_summary.uuid == pool.uuid
    assert "10.200.0.10" in read.vips
    assert read.config["application_profile_ref"].endswith("#System-Secure-HTTP")

    await ops.virtualservices.update("new-vs", VirtualServiceUpdate(services=[ServicePortSpec(port=8080)]))
    assert [s.port for s in (await ops.virtualservices.get("new-vs")).services] == [8080]

    await ops.virtualservices.disable("new-vs")
    read = await ops.virtualservices.get(created.uuid)
    assert read.enabled is False
    await ops.virtualservices.enable(created.uuid)
    assert (await ops.virtualservices.get("new-vs")).enabled is True

    deleted = await ops.virtualservices.delete("new-vs")
    assert deleted.uuid == created.uuid
    with pytest.raises(AviNotFoundError):
        await ops.virtualservices.get("new-vs")
    # the pool and the vsvip stay
    assert (await ops.pools.get("new-pool")).uuid == pool.uuid
    assert await ops.client.get_by_name("vsvip", created.vsvip.name) is not None


async def test_create_failure_removes_the_vsvip(ops: AviOperations) -> None:
    with pytest.raises((AviValidationError, AviNotFoundError)):  # the pool does not exist
        await ops.virtualservices.create(
            VirtualServiceCreate(name="broken-vs", vip="10.200.0.11", pool="nope")
        )
    assert await ops.client.get_by_name("vsvip", "vsvip-broken-vs") is None


async def test_scale_out_then_in(ops: AviOperations) -> None:
    vs = next(v for v in await ops.virtualservices.list() if v.enabled and v.num_se_assigned)
    before = await ops.virtualservices.get(vs.uuid)
    out = await ops.virtualservices.scale_out(vs.name)
    assert out.action == "scaleout"
    assert out.uuid == vs.uuid
    after = await ops.virtualservices.get(vs.uuid)
    assert (after.num_se_assigned or 0) == (before.num_se_assigned or 0) + 1
    await ops.virtualservices.scale_in(vs.uuid)
    again = await ops.virtualservices.get(vs.uuid)
    assert again.num_se_assigned == before.num_se_assigned


async def test_migrate_and_switchover(start_sim: StartSim) -> None:
    sim = await start_sim(objects=200)  # enough service engines for a free one in the group
    ops = ops_for(sim)
    try:
        await _migrate_and_switchover(ops)
    finally:
        await ops.client.aclose()


async def _migrate_and_switchover(ops: AviOperations) -> None:
    ses = await ops.serviceengines.list()
    per_group: dict[str | None, int] = {}
    for se in ses:
        if se.enable_state == "SE_STATE_ENABLED":
            per_group[se.se_group] = per_group.get(se.se_group, 0) + 1
    vs = next(
        v
        for v in await ops.virtualservices.list()
        if v.enabled and len(v.service_engines) == 1 and per_group.get(v.se_group, 0) >= 3
    )
    await ops.virtualservices.scale_out(vs.uuid)
    detail = await ops.virtualservices.get(vs.uuid)
    engines = detail.service_engines
    assert len(engines) >= 2
    primary_before = _primary(detail.runtime)
    result = await ops.virtualservices.switchover(vs.uuid)
    assert result.action == "switchover"
    after = await ops.virtualservices.get(vs.uuid)
    assert _primary(after.runtime) != primary_before

    # let the controller pick the target: the SE we move away from no longer carries the VIP
    source = after.service_engines[-1]
    moved = await ops.virtualservices.migrate(vs.uuid, from_se=source)
    assert moved.action == "migrate"
    final = await ops.virtualservices.get(vs.uuid)
    assert source not in final.service_engines
    assert len(final.service_engines) == len(after.service_engines)


def _primary(runtime: dict) -> str | None:
    for vip in runtime.get("vip_summary") or []:
        for se in vip.get("service_engine") or []:
            if se.get("primary"):
                return se.get("url")
    return None
