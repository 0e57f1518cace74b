"""Read tools against the simulator over real HTTP: sensible parts, compact redacted data, budgets."""

from __future__ import annotations

import json

import pytest

from avi.operations import AviOperations
from bot.tools import ToolError
from bot.tools.render import LIST_BUDGET
from bot.types import FactsPart, SeriesPart, TablePart, TextPart
from tests.conftest import StartSim, ops_for
from tests.support.tools_helpers import call


def size(data: object) -> int:
    return len(json.dumps(data, default=str))


async def test_list_virtual_services(ops: AviOperations) -> None:
    result = await call(ops, "list_virtual_services")
    vs_all = await ops.virtualservices.list()
    assert result.summary.startswith(f"{len(vs_all)} virtual services")
    assert result.data["total"] == len(vs_all)
    first = result.data["items"][0]
    assert {"name", "enabled", "state", "vip", "pool"} <= set(first)
    assert first["state"] in {"up", "down", "disabled"}
    assert ":" in first["vip"][0]  # address:port
    table = result.parts[0]
    assert isinstance(table, TablePart)
    assert table.rows[0][0] == vs_all[0].name

    down = await call(ops, "list_virtual_services", oper_state="down", limit="2")
    assert down.data["items"]
    assert all(i["state"] == "down" for i in down.data["items"])
    assert len(down.data["items"]) <= 2
    disabled = await call(ops, "list_virtual_services", enabled="false")
    assert disabled.data["items"]
    assert all(i["enabled"] is False for i in disabled.data["items"])
    with pytest.raises(ToolError, match="oper_state"):
        await call(ops, "list_virtual_services", oper_state="sideways")


async def test_big_lists_stay_within_budget(start_sim: StartSim) -> None:
    sim = await start_sim(objects=300)
    ops = ops_for(sim)
    try:
        for name, kwargs in (
            ("list_virtual_services", {"limit": 500}),
            ("list_pools", {"limit": 500}),
            ("list_objects", {"object_type": "vsvip", "limit": 200}),
            ("list_object_types", {}),
        ):
            result = await call(ops, name, **kwargs)
            assert size(result.data) <= LIST_BUDGET, name
            assert result.data["truncated"] is True, name
            assert result.data["total"] > len(result.data["items"]) > 5, name
            table = result.parts[-1]
            assert isinstance(table, TablePart)
            assert len(table.rows) <= 50, name
            assert table.hidden > 0, name
        vs = await call(ops, "list_virtual_services", limit=500)
        assert vs.data["total"] >= 250  # the rest live in the second tenant
        unhealthy = await call(ops, "list_unhealthy_servers")
        assert size(unhealthy.data) <= LIST_BUDGET
    finally:
        await ops.client.aclose()


async def test_get_virtual_service(ops: AviOperations) -> None:
    down = (await call(ops, "list_virtual_services", oper_state="down")).data["items"][0]
    result = await call(ops, "get_virtual_service", name=down["name"])
    data = result.data
    assert data["name"] == down["name"]
    assert data["state"] == "down"
    assert data["reason"]
    assert data["pool"]
    assert "servers up" in data["pool_status"]
    assert data["vip"] == down["vip"]
    assert "config" not in data
    assert "runtime" not in data
    facts = result.parts[0]
    assert isinstance(facts, FactsPart)
    assert {"Name", "State", "VIP", "Pool"} <= {f.label for f in facts.facts}
    with pytest.raises(ToolError) as err:
        await call(ops, "get_virtual_service", name="no-such-vs")
    assert "list_virtual_services" in err.value.hint


async def test_pools_and_servers(ops: AviOperations) -> None:
    listed = await call(ops, "list_pools", servers_down="true")
    assert listed.data["items"]
    assert all(i["servers_down"] > 0 for i in listed.data["items"])
    name = listed.data["items"][0]["name"]
    result = await call(ops, "get_pool", name=name)
    assert result.data["name"] == name
    servers = result.data["servers"]
    assert servers
    assert all(":" in s["server"] for s in servers)
    assert any(s["state"] == "down" and s["reason"] for s in servers)
    facts, table = result.parts
    assert isinstance(facts, FactsPart)
    assert isinstance(table, TablePart)
    assert len(table.rows) == len(servers)


async def test_monitors_and_engines(ops: AviOperations) -> None:
    monitors = await call(ops, "list_health_monitors", type="http")
    assert monitors.data["items"]
    assert all(m["type"] == "http" for m in monitors.data["items"])
    one = await call(ops, "get_health_monitor", name=monitors.data["items"][0]["name"])
    assert one.data["type"] == "http"
    assert one.data["http_request"]
    with pytest.raises(ToolError, match="unknown monitor type"):
        await call(ops, "list_health_monitors", type="carrier-pigeon")

    engines = await call(ops, "list_service_engines")
    assert engines.data["total"] >= 1
    se = engines.data["items"][0]
    assert se["state"] == "up"
    assert isinstance(se["cpu_percent"], float | int)
    detail = await call(ops, "get_service_engine", name=se["name"])
    assert detail.data["virtual_service_names"]
    assert isinstance(detail.parts[0], FactsPart)
    with pytest.raises(ToolError) as err:
        await call(ops, "get_service_engine", name="Avi-se-nope")
    assert "list_service_engines" in err.value.hint


async def test_analytics(ops: AviOperations) -> None:
    vs = (await ops.virtualservices.list())[0]
    result = await call(ops, "get_analytics", entity_type="vs", name=vs.name, window="last hour")
    assert result.data["window"] == "hour"
    metrics = result.data["metrics"]
    assert next(m["metric"] for m in metrics) == "l4_client.avg_bandwidth"
    assert len(metrics) == 5
    first = metrics[0]
    assert first["min"] <= first["mean"] <= first["max"]
    assert first["latest"] is not None
    assert len(first["last_points"]) <= 4
    assert all(isinstance(p, SeriesPart) and len(p.points) == 12 for p in result.parts)

    se = (await ops.serviceengines.list())[0]
    cpu = await call(
        ops, "get_analytics", entity_type="se", name=se.name, window="24h", metrics="se_stats.avg_cpu_usage"
    )
    assert [m["metric"] for m in cpu.data["metrics"]] == ["se_stats.avg_cpu_usage"]
    assert cpu.data["window"] == "day"
    assert len(cpu.parts) == 1
    with pytest.raises(ToolError):
        await call(ops, "get_analytics", entity_type="pool", name="no-such-pool")


async def test_unhealthy(ops: AviOperations) -> None:
    vs = await call(ops, "list_unhealthy_virtual_services")
    assert vs.data["items"]
    assert all(i["state"] != "up" and i["enabled"] for i in vs.data["items"])
    assert vs.data["scanned"] >= vs.data["total"]
    pools = await call(ops, "list_unhealthy_pools")
    assert pools.data["items"]
    servers = await call(ops, "list_unhealthy_servers")
    first = servers.data["items"][0]
    assert first["servers_down"] >= 1
    assert first["down"][0]["reason"]
    assert "servers down" in servers.summary
    assert isinstance(servers.parts[0], TablePart)


async def test_object_types_and_objects(ops: AviOperations) -> None:
    types = await call(ops, "list_object_types", name_contains="ssl")
    assert "sslkeyandcertificate" in {i["type"] for i in types.data["items"]}
    clouds = await call(ops, "list_objects", object_type="clouds")
    assert clouds.data["object_type"] == "cloud"
    assert {"Default-Cloud", "aws-east"} <= {i["name"] for i in clouds.data["items"]}
    vs = (await ops.virtualservices.list())[0]
    obj = await call(ops, "get_object", object_type="Virtual Service", name=vs.name)
    assert obj.data["name"] == vs.name
    assert obj.data["pool_ref"] == vs.pool  # refs shortened to names
    assert isinstance(obj.parts[0], FactsPart)
    with pytest.raises(ToolError) as err:
        await call(ops, "get_object", object_type="cloud", name="no-such-cloud")
    assert "list_objects" in err.value.hint


SECRETS = ("PRIVATE KEY", "sim-Passw0rd!", "sim-passphrase-", "VMware1!-sim")


@pytest.mark.parametrize(
    ("object_type", "name"),
    [
        ("sslkeyandcertificate", "System-Default-Cert"),
        ("cloud", "Default-Cloud"),
        ("cloud", "aws-east"),
        ("user", "admin"),
    ],
)
async def test_get_object_is_redacted(ops: AviOperations, object_type: str, name: str) -> None:
    raw = await ops.client.get_by_name(object_type, name)
    assert raw is not None
    result = await call(ops, "get_object", object_type=object_type, name=name)
    dumped = json.dumps(result.data) + json.dumps([p.model_dump() for p in result.parts])
    for secret in SECRETS:
        assert secret not in dumped, (object_type, secret)
    assert result.data["name"] == name
    assert "url" not in result.data
    assert result.data.get("key") in (None, "<redacted>")
    if object_type == "sslkeyandcertificate":
        assert "BEGIN CERTIFICATE" in json.dumps(result.data)  # the public part stays
    assert size(result.data) <= 3100
    listed = await call(ops, "list_objects", object_type=object_type)
    assert "PRIVATE KEY" not in json.dumps(listed.data)


async def test_generic_get(ops: AviOperations) -> None:
    result = await call(ops, "execute_generic_operation", path="/api/cloud", query="name=Default-Cloud")
    assert result.data["status"] == 200
    assert result.data["body"]["count"] == 1
    assert isinstance(result.parts[0], TextPart)
    assert isinstance(result.parts[1], TablePart)
    with pytest.raises(ToolError, match="under /api"):
        await call(ops, "execute_generic_operation", path="/etc/passwd")
    with pytest.raises(ToolError):
        await call(ops, "execute_generic_operation", path="/api/pool/pool-does-not-exist")


async def test_exported_key_is_redacted(ops: AviOperations) -> None:
    """With export_key the controller does send the private key: the tool must still hide it."""
    params = {"name": "System-Default-Cert", "export_key": "true"}
    raw = await ops.client.get("/api/sslkeyandcertificate", params=params)
    assert "PRIVATE KEY" in json.dumps(raw)  # otherwise this test proves nothing
    result = await call(
        ops,
        "execute_generic_operation",
        path="/api/sslkeyandcertificate",
        query="name=System-Default-Cert&export_key=true",
    )
    dumped = json.dumps(result.data) + json.dumps([p.model_dump() for p in result.parts])
    assert "PRIVATE KEY" not in dumped
    assert "sim-passphrase-" not in dumped
    assert result.data["body"]["results"][0]["key"] == "<redacted>"
