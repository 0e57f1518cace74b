"""Pool operations against the simulator; server changes observed through a second read."""

from __future__ import annotations

import math

import pytest

from avi.errors import AviNotFoundError, AviValidationError
from avi.operations import AviOperations, PoolCreate, PoolFilter, PoolUpdate, ServerSpec
from tests.conftest import StartSim, ops_for


async def test_list_with_server_counts(ops: AviOperations) -> None:
    pools = await ops.pools.list()
    assert pools
    assert all(p.num_servers >= p.num_servers_enabled >= p.num_servers_up for p in pools)
    assert any(p.servers_down for p in pools)
    assert ops.client.stats.requests == 2
    down = await ops.pools.list(PoolFilter(servers_down=True))
    assert down
    assert all(p.servers_down > 0 for p in down)
    named = await ops.pools.list(PoolFilter(name_contains=pools[0].name[:5].upper()))
    assert pools[0].uuid in {p.uuid for p in named}
    await ops.pools.update(pools[0].uuid, PoolUpdate(enabled=False))
    disabled = await ops.pools.list(PoolFilter(enabled=False))
    assert pools[0].uuid in {p.uuid for p in disabled}
    assert all(not p.enabled for p in disabled)
    not_up = await ops.pools.list(PoolFilter(oper_state="OPER_DOWN"))
    assert all(p.oper_status.state == "OPER_DOWN" for p in not_up)


async def test_list_many_pools_costs_ceil(start_sim: StartSim) -> None:
    sim = await start_sim(objects=450)
    ops = ops_for(sim)
    try:
        pools = await ops.pools.list(tenant="*")
        assert ops.client.stats.requests == math.ceil(len(pools) / 200) + 1
    finally:
        await ops.client.aclose()


async def test_get_has_per_server_runtime(ops: AviOperations) -> None:
    pool = next(p for p in await ops.pools.list() if p.servers_down)
    detail = await ops.pools.get(pool.name)
    assert detail.uuid == pool.uuid
    assert len(detail.servers) == pool.num_servers
    assert all(s.oper_state for s in detail.servers)
    down = [s for s in detail.servers if s.enabled and s.oper_state != "OPER_UP"]
    assert len(down) == pool.servers_down
    assert detail.lb_algorithm
    assert detail.lb_algorithm.startswith("LB_ALGORITHM_")


async def test_create_update_delete(ops: AviOperations) -> None:
    created = await ops.pools.create(
        PoolCreate(
            name="p-test",
            servers=[ServerSpec(ip="10.1.1.1"), ServerSpec(ip="10.1.1.2", port=8080)],
            lb_algorithm="round_robin",
            health_monitors=["System-HTTP"],
            default_server_port=8000,
        )
    )
    assert created.lb_algorithm == "LB_ALGORITHM_ROUND_ROBIN"
    assert created.health_monitors == ["System-HTTP"]
    assert [s.ip for s in created.servers] == ["10.1.1.1", "10.1.1.2"]

    await ops.pools.update("p-test", PoolUpdate(lb_algorithm="LEAST_CONNECTIONS", enabled=False))
    read = await ops.pools.get("p-test")
    assert read.lb_algorithm == "LB_ALGORITHM_LEAST_CONNECTIONS"
    assert read.enabled is False
    assert read.default_server_port == 8000

    with pytest.raises(ValueError, match="unknown lb_algorithm"):
        await ops.pools.update("p-test", PoolUpdate(lb_algorithm="fastest"))

    await ops.pools.delete("p-test")
    with pytest.raises(AviNotFoundError):
        await ops.pools.get("p-test")


async def test_server_membership(ops: AviOperations) -> None:
    await ops.pools.create(PoolCreate(name="p-srv", servers=[ServerSpec(ip="10.2.0.1")]))
    await ops.pools.add_server("p-srv", ServerSpec(ip="10.2.0.2", port=81))
    assert {s.ip for s in (await ops.pools.get("p-srv")).servers} == {"10.2.0.1", "10.2.0.2"}

    await ops.pools.disable_server("p-srv", ServerSpec(ip="10.2.0.1"))
    read = await ops.pools.get("p-srv")
    server = next(s for s in read.servers if s.ip == "10.2.0.1")
    assert server.enabled is False
    assert read.num_servers_enabled == 1

    await ops.pools.enable_server("p-srv", ServerSpec(ip="10.2.0.1"))
    assert all(s.enabled for s in (await ops.pools.get("p-srv")).servers)

    await ops.pools.remove_server("p-srv", ServerSpec(ip="10.2.0.2", port=81))
    assert [s.ip for s in (await ops.pools.get("p-srv")).servers] == ["10.2.0.1"]

    with pytest.raises(AviNotFoundError, match=r"no server 10\.9\.9\.9"):
        await ops.pools.remove_server("p-srv", ServerSpec(ip="10.9.9.9"))


async def test_scale_out_and_in(ops: AviOperations) -> None:
    await ops.pools.create(PoolCreate(name="p-scale", servers=[ServerSpec(ip="10.3.0.1")]))
    out = await ops.pools.scale_out("p-scale", [ServerSpec(ip="10.3.0.2"), ServerSpec(ip="10.3.0.3")])
    assert len(out.servers) == 3
    assert (await ops.pools.get("p-scale")).num_servers == 3
    await ops.pools.scale_in("p-scale", [ServerSpec(ip="10.3.0.3"), ServerSpec(ip="10.3.0.2")])
    assert (await ops.pools.get("p-scale")).num_servers == 1
    with pytest.raises(ValueError, match="no servers"):
        await ops.pools.scale_out("p-scale", [])


async def test_tenant_scoped_pool(ops: AviOperations) -> None:
    await ops.pools.create(PoolCreate(name="fin-pool", servers=[ServerSpec(ip="10.4.0.1")]), tenant="finance")
    with pytest.raises(AviNotFoundError):
        await ops.pools.get("fin-pool")
    read = await ops.pools.get("fin-pool", tenant="finance")
    assert read.tenant == "finance"


async def test_bad_server_address_rejected_before_sending(ops: AviOperations) -> None:
    with pytest.raises(ValueError, match="ip"):
        ServerSpec(ip="not-an-ip")  # type: ignore[arg-type]
    with pytest.raises(AviValidationError):
        await ops.client.post("/api/pool", {"name": "x", "lb_algorithm": "LB_ALGORITHM_BAD"})


async def test_autoscale_actions_change_servers(ops: AviOperations) -> None:
    await ops.pools.create(
        PoolCreate(name="p-auto", servers=[ServerSpec(ip="10.5.0.1"), ServerSpec(ip="10.5.0.2")])
    )
    result = await ops.pools.autoscale_out("p-auto")
    assert result.action == "scaleout"
    assert (await ops.pools.get("p-auto")).num_servers == 3
    await ops.pools.autoscale_in("p-auto", servers=[ServerSpec(ip="10.5.0.1")])
    after = await ops.pools.get("p-auto")
    assert "10.5.0.1" not in {s.ip for s in after.servers}
    assert after.num_servers == 2
