"""Write tools: the plan shows the right diff (read from the controller), the run changes the
controller (seen by a second read), and a plan for a missing object fails before anything is pending."""

from __future__ import annotations

import pytest

from avi.errors import AviNotFoundError
from avi.operations import AviOperations
from bot.tools import ToolError
from bot.types import FactsPart
from tests.support.tools_helpers import call, plan


async def _down_server_pool(ops: AviOperations) -> tuple[str, str, str]:
    """A pool with an enabled server and the server's "ip:port" label."""
    pool = next(p for p in await ops.pools.list() if p.servers_down and p.virtualservices)
    detail = await ops.pools.get(pool.name)
    server = next(s for s in detail.servers if s.enabled)
    return pool.name, f"{server.ip}:{server.port or detail.default_server_port}", server.ip


async def test_disable_and_enable_virtual_service(ops: AviOperations) -> None:
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    p = await plan(ops, "disable_virtual_service", name=vs.name)
    assert p.summary == f"Disable virtual service {vs.name} (tenant admin)"
    assert p.diff == ["- enabled: true", "+ enabled: false"]
    assert (await ops.virtualservices.get(vs.name)).enabled  # planning changes nothing
    result = await call(ops, "disable_virtual_service", name=vs.name)
    assert result.data["enabled"] is False
    assert (await ops.virtualservices.get(vs.name)).enabled is False
    with pytest.raises(ToolError, match="already disabled"):
        await plan(ops, "disable_virtual_service", name=vs.name)
    p = await plan(ops, "enable_virtual_service", name=vs.name)
    assert p.diff == ["- enabled: false", "+ enabled: true"]
    await call(ops, "enable_virtual_service", name=vs.name)
    assert (await ops.virtualservices.get(vs.name)).enabled is True


async def test_plan_on_missing_objects_fails(ops: AviOperations) -> None:
    for tool_name, kwargs, hint in (
        ("disable_virtual_service", {"name": "ghost-vs"}, "list_virtual_services"),
        ("delete_virtual_service", {"name": "ghost-vs"}, "list_virtual_services"),
        ("update_virtual_service", {"name": "ghost-vs", "enabled": False}, "list_virtual_services"),
        ("scale_out_virtual_service", {"name": "ghost-vs"}, "list_virtual_services"),
        ("disable_pool_server", {"pool": "ghost-pool", "server": "10.0.0.1"}, "list_pools"),
        ("scale_in_pool", {"name": "ghost-pool", "servers": "10.0.0.1"}, "list_pools"),
        ("execute_generic_operation", {"method": "DELETE", "path": "/api/pool/pool-ghost"}, ""),
    ):
        with pytest.raises(ToolError) as err:
            await plan(ops, tool_name, **kwargs)
        assert "ghost" in err.value.message or "not found" in err.value.message.lower(), tool_name
        assert hint in err.value.hint, tool_name
    pool, _, _ = await _down_server_pool(ops)
    with pytest.raises(ToolError, match=r"has no server 10\.99\.99\.99") as err:
        await plan(ops, "disable_pool_server", pool=pool, server="10.99.99.99")
    assert "get_pool" in err.value.hint
    with pytest.raises(ToolError, match="list_pools"):
        await plan(
            ops, "update_virtual_service", name=(await ops.virtualservices.list())[0].name, pool="ghost"
        )


async def test_create_update_delete_virtual_service(ops: AviOperations) -> None:
    pool = (await ops.pools.list())[0].name
    p = await plan(
        ops, "create_virtual_service", name="tool-vs", vip="10.55.0.9", port="443", ssl="true", pool=pool
    )
    assert p.diff[:3] == ["+ name: tool-vs", "+ vip: 10.55.0.9", "+ port: 443 (ssl)"]
    assert f"+ pool: {pool}" in p.diff
    created = await call(
        ops, "create_virtual_service", name="tool-vs", vip="10.55.0.9", port=443, ssl=True, pool=pool
    )
    assert created.data["vip"] == ["10.55.0.9:443(ssl)"]
    read = await ops.virtualservices.get("tool-vs")
    assert read.pool == pool
    assert read.services[0].enable_ssl
    with pytest.raises(ToolError, match="already exists"):
        await plan(ops, "create_virtual_service", name="tool-vs", vip="10.55.0.10")

    p = await plan(ops, "update_virtual_service", name="tool-vs", description="edge", enabled="false")
    assert p.diff == ["- enabled: true", "+ enabled: false", "- description: (none)", "+ description: edge"]
    await call(ops, "update_virtual_service", name="tool-vs", description="edge", enabled=False)
    read = await ops.virtualservices.get("tool-vs")
    assert read.config["description"] == "edge"
    assert read.enabled is False
    with pytest.raises(ToolError, match="nothing to change"):
        await plan(ops, "update_virtual_service", name="tool-vs", description="edge")

    p = await plan(ops, "delete_virtual_service", name="tool-vs")
    assert p.diff[0] == "- virtual service: tool-vs"
    assert "pool and VIP stay" in p.summary
    assert any(line.startswith("  stays:") and pool in line for line in p.diff)
    result = await call(ops, "delete_virtual_service", name="tool-vs")
    assert result.data == {"deleted": "tool-vs", "pool_kept": pool}
    with pytest.raises(AviNotFoundError):
        await ops.virtualservices.get("tool-vs")
    assert (await ops.pools.get(pool)).name == pool  # the pool stays


async def test_placement_actions(ops: AviOperations) -> None:
    vs = next(v for v in await ops.virtualservices.list() if v.enabled and v.num_se_assigned == 1)
    with pytest.raises(ToolError, match="only one service engine"):
        await plan(ops, "scale_in_virtual_service", name=vs.name)
    with pytest.raises(ToolError, match="no standby"):
        await plan(ops, "switchover_virtual_service", name=vs.name)
    p = await plan(ops, "scale_out_virtual_service", name=vs.name)
    assert p.diff[0] == f"- service engines: {vs.service_engines[0]} (1)"
    out = await call(ops, "scale_out_virtual_service", name=vs.name, vip_id=0)
    assert out.data["num_se_assigned"] == 2
    assert len((await ops.virtualservices.get(vs.name)).service_engines) == 2

    before = (await ops.virtualservices.get(vs.name)).service_engines
    p = await plan(ops, "switchover_virtual_service", name=vs.name)
    assert p.diff == [f"- primary: {before[0]}", f"+ primary: {before[1]}"]
    await call(ops, "switchover_virtual_service", name=vs.name)
    assert (await ops.virtualservices.get(vs.name)).service_engines[0] == before[1]

    p = await plan(ops, "scale_in_virtual_service", name=vs.name)
    assert "(2)" in p.diff[0]
    await call(ops, "scale_in_virtual_service", name=vs.name)
    assert len((await ops.virtualservices.get(vs.name)).service_engines) == 1

    current = (await ops.virtualservices.get(vs.name)).service_engines[0]
    engines = await ops.serviceengines.list()
    other = next(se.name for se in engines if se.name != current and se.se_group == vs.se_group)
    elsewhere = next(se.name for se in engines if se.se_group != vs.se_group)
    with pytest.raises(ToolError, match="SE group"):
        await plan(ops, "migrate_virtual_service", name=vs.name, to_service_engine=elsewhere)
    with pytest.raises(ToolError, match="already runs on"):
        await plan(ops, "migrate_virtual_service", name=vs.name, to_service_engine=current)
    p = await plan(ops, "migrate_virtual_service", name=vs.name, to_service_engine=other)
    assert p.diff[-1] == f"+ moved to: {other}"
    with pytest.raises(ToolError, match="list_service_engines"):
        await plan(ops, "migrate_virtual_service", name=vs.name, to_service_engine="Avi-se-ghost")
    result = await call(ops, "migrate_virtual_service", name=vs.name, to_service_engine=other)
    assert isinstance(result.parts[-1], FactsPart)
    assert (await ops.virtualservices.get(vs.name)).service_engines == [other]


async def test_disable_and_enable_pool_server(ops: AviOperations) -> None:
    pool, label, ip = await _down_server_pool(ops)
    p = await plan(ops, "disable_pool_server", pool=pool, server=label)
    assert f"- server {label} (enabled)" in p.diff
    assert f"+ server {label} (disabled)" in p.diff
    assert sum(1 for line in p.diff if line[0] in "+-") == 2
    await call(ops, "disable_pool_server", pool=pool, server=label)
    got = await call(ops, "get_pool", name=pool)
    assert next(s for s in got.data["servers"] if s["server"] == label)["enabled"] is False
    with pytest.raises(ToolError, match="already disabled"):
        await plan(ops, "disable_pool_server", pool=pool, server=ip)
    await call(ops, "enable_pool_server", pool=pool, server=ip)  # ip alone matches the server
    detail = await ops.pools.get(pool)
    assert next(s for s in detail.servers if s.ip == ip).enabled is True


async def test_pool_membership(ops: AviOperations) -> None:
    p = await plan(
        ops,
        "create_pool",
        name="tool-pool",
        servers="10.9.0.1, 10.9.0.2:8443",
        port="8080",
        lb_algorithm="least connections",
    )
    assert p.diff == [
        "+ name: tool-pool",
        "+ default_server_port: 8080",
        "+ lb_algorithm: least_connections",
        "+ server: 10.9.0.1:8080",
        "+ server: 10.9.0.2:8443",
    ]
    with pytest.raises(ToolError, match="lb_algorithm"):
        await plan(ops, "create_pool", name="x", lb_algorithm="fastest")
    with pytest.raises(ToolError, match="not a server address"):
        await plan(ops, "create_pool", name="x", servers="web01")
    await call(
        ops,
        "create_pool",
        name="tool-pool",
        servers=["10.9.0.1", "10.9.0.2:8443"],
        port=8080,
        lb_algorithm="least_connections",
    )
    created = await ops.pools.get("tool-pool")
    assert created.lb_algorithm == "LB_ALGORITHM_LEAST_CONNECTIONS"
    assert [(s.ip, s.port) for s in created.servers] == [("10.9.0.1", None), ("10.9.0.2", 8443)]

    p = await plan(ops, "scale_out_pool", name="tool-pool", servers="10.9.0.3,10.9.0.4")
    assert p.diff == [
        "  server 10.9.0.1:8080 (enabled)",
        "  server 10.9.0.2:8443 (enabled)",
        "+ server 10.9.0.3:8080 (enabled)",
        "+ server 10.9.0.4:8080 (enabled)",
    ]
    with pytest.raises(ToolError, match="already has server"):
        await plan(ops, "add_pool_server", pool="tool-pool", server="10.9.0.1")
    await call(ops, "scale_out_pool", name="tool-pool", servers="10.9.0.3,10.9.0.4")
    await call(ops, "add_pool_server", pool="tool-pool", server="10.9.0.5:9000")
    ips = [s.ip for s in (await ops.pools.get("tool-pool")).servers]
    assert ips == ["10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5"]

    p = await plan(ops, "scale_in_pool", name="tool-pool", servers=["10.9.0.3", "10.9.0.4"])
    assert [line for line in p.diff if line.startswith("-")] == [
        "- server 10.9.0.3:8080 (enabled)",
        "- server 10.9.0.4:8080 (enabled)",
    ]
    assert not any(line.startswith("+") for line in p.diff)
    await call(ops, "scale_in_pool", name="tool-pool", servers=["10.9.0.3", "10.9.0.4"])
    p = await plan(ops, "remove_pool_server", pool="tool-pool", server="10.9.0.5:9000")
    assert "- server 10.9.0.5:9000 (enabled)" in p.diff
    result = await call(ops, "remove_pool_server", pool="tool-pool", server="10.9.0.5:9000")
    assert "Removed 1 server" in result.summary
    ips = [s.ip for s in (await ops.pools.get("tool-pool")).servers]
    assert ips == ["10.9.0.1", "10.9.0.2"]


async def test_generic_write(ops: AviOperations) -> None:
    body = '{"name": "generic-pool", "default_server_port": 81}'
    p = await plan(ops, "execute_generic_operation", method="post", path="/api/pool", body=body)
    assert p.summary == "POST /api/pool: create pool generic-pool (tenant admin)"
    assert "  method: POST" in p.diff
    assert "  path: /api/pool" in p.diff
    assert '+ name: "generic-pool"' in p.diff
    result = await call(ops, "execute_generic_operation", method="POST", path="/api/pool", body=body)
    assert result.data["status"] == 201 or result.data["status"] == 200
    uuid = result.data["body"]["uuid"]
    assert (await ops.pools.get("generic-pool")).default_server_port == 81

    p = await plan(ops, "execute_generic_operation", method="DELETE", path=f"/api/pool/{uuid}")
    assert f"- pool generic-pool ({uuid})" in p.diff
    await call(ops, "execute_generic_operation", method="DELETE", path=f"/api/pool/{uuid}")
    with pytest.raises(AviNotFoundError):
        await ops.pools.get("generic-pool")
    with pytest.raises(ToolError, match="traversal"):
        await plan(ops, "execute_generic_operation", method="POST", path="/api/../admin", body="{}")
