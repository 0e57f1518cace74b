"""Health monitors, service engines, analytics, health questions, catalogue and the generic op."""

from __future__ import annotations

import math

import pytest

from avi.errors import AviNotFoundError, AviValidationError
from avi.models import Window
from avi.operations import AviOperations, HealthMonitorCreate, HealthMonitorUpdate
from avi.operations.generic import check_path
from avi.redact import MASK
from tests.conftest import SIM_PASSWORD, RunningSim, StartSim, ops_for

# -- health monitors -----------------------------------------------------------------------------


async def test_health_monitor_crud(ops: AviOperations) -> None:
    monitors = await ops.healthmonitors.list()
    assert "System-HTTP" in {m.name for m in monitors}
    http = await ops.healthmonitors.list(type="http")
    assert http
    assert all(m.type == "HEALTH_MONITOR_HTTP" for m in http)

    created = await ops.healthmonitors.create(
        HealthMonitorCreate(
            name="hm-test", type="https", http_request="GET /healthz HTTP/1.1", monitor_port=8443
        )
    )
    assert created.type == "HEALTH_MONITOR_HTTPS"
    await ops.healthmonitors.update("hm-test", HealthMonitorUpdate(send_interval=30, failed_checks=5))
    read = await ops.healthmonitors.get(created.uuid)
    assert (read.send_interval, read.failed_checks, read.monitor_port) == (30, 5, 8443)
    assert read.config["https_monitor"]["http_request"] == "GET /healthz HTTP/1.1"
    await ops.healthmonitors.delete("hm-test")
    with pytest.raises(AviNotFoundError):
        await ops.healthmonitors.get("hm-test")


def test_health_monitor_validation() -> None:
    with pytest.raises(ValueError, match="receive_timeout"):
        HealthMonitorCreate(name="x", send_interval=5, receive_timeout=5)
    with pytest.raises(ValueError, match="unknown monitor type"):
        HealthMonitorCreate(name="x", type="carrier-pigeon")


# -- service engines -----------------------------------------------------------------------------


async def test_service_engines_list_with_load_in_one_metrics_request(
    ops: AviOperations, sim: RunningSim
) -> None:
    ses = await ops.serviceengines.list()
    assert len(ses) >= 2
    assert all(se.uuid.startswith("se-") for se in ses)
    assert all(se.cpu_percent is not None for se in ses)
    assert any(se.num_virtualservices for se in ses)
    # one login, one inventory page, one metrics collection request, whatever the number of SEs
    assert ops.client.stats.requests == 3
    assert sim.state.stats.by_endpoint[("POST", "analytics")] == 1


async def test_service_engines_many(start_sim: StartSim) -> None:
    sim = await start_sim(objects=1000)
    ops = ops_for(sim)
    try:
        ses = await ops.serviceengines.list()
        assert ops.client.stats.requests == math.ceil(len(ses) / 200) + 2
    finally:
        await ops.client.aclose()


async def test_service_engine_get(ops: AviOperations) -> None:
    se = (await ops.serviceengines.list())[0]
    by_name = await ops.serviceengines.get(se.name)
    by_uuid = await ops.serviceengines.get(se.uuid)
    assert by_name.uuid == by_uuid.uuid == se.uuid
    assert by_name.cpu_percent is not None
    assert by_name.runtime


# -- analytics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "step", "points"),
    [(Window.HOUR, 300, 12), (Window.SIX_HOURS, 300, 72), (Window.DAY, 3600, 24), (Window.WEEK, 86400, 7)],
)
async def test_vs_metrics_windows(ops: AviOperations, window: Window, step: int, points: int) -> None:
    vs = (await ops.virtualservices.list())[0]
    result = await ops.analytics.metrics("virtualservice", vs.name, window=window)
    assert result.step == step
    assert result.limit == points
    assert result.series
    series = result.series[0]
    assert series.metric_id
    assert len(series.points) == points
    assert series.units


async def test_pool_and_se_metrics(ops: AviOperations) -> None:
    pool = (await ops.pools.list())[0]
    res = await ops.analytics.metrics("pool", pool.uuid, window="day", metrics=["l4_server.avg_open_conns"])
    assert [s.metric_id for s in res.series] == ["l4_server.avg_open_conns"]
    se = (await ops.serviceengines.list())[0]
    res = await ops.analytics.metrics("serviceengine", se.name)
    cpu = next(s for s in res.series if s.metric_id == "se_stats.avg_cpu_usage")
    assert cpu.latest is not None
    assert 0 <= cpu.latest <= 100
    assert cpu.statistics is not None


def test_window_aliases() -> None:
    assert Window.parse("last hour") is Window.HOUR
    assert Window.parse("6 hours") is Window.SIX_HOURS
    assert Window.parse("24h") is Window.DAY
    assert Window.parse("7d") is Window.WEEK
    assert Window.parse(Window.DAY) is Window.DAY
    with pytest.raises(ValueError, match="unknown window"):
        Window.parse("fortnight")


# -- unhealthy questions -------------------------------------------------------------------------


async def test_unhealthy_questions_cost_pages_not_objects(start_sim: StartSim) -> None:
    sim = await start_sim(objects=600)
    ops = ops_for(sim, cache_seconds=0)  # the cost of each question on its own, none shared
    try:
        vs_report = await ops.health.unhealthy_virtual_services(tenant="*")
        assert vs_report.virtualservices
        assert all(vs.enabled and vs.oper_status.state != "OPER_UP" for vs in vs_report.virtualservices)
        assert vs_report.requests == math.ceil(vs_report.scanned / 200) + 1  # + the lazy login

        pool_report = await ops.health.unhealthy_pools(tenant="*")
        assert pool_report.pools
        assert pool_report.requests == math.ceil(pool_report.scanned / 200)

        down = await ops.health.pools_with_servers_down(tenant="*", detail_limit=3)
        affected = down.pools_with_servers_down
        assert len(affected) > 3
        assert all(entry.pool.servers_down > 0 for entry in affected)
        detailed = [e for e in affected if e.down_servers is not None]
        assert len(detailed) == 3
        assert all(len(e.down_servers or []) == e.pool.servers_down for e in detailed)
        assert down.requests == math.ceil(down.scanned / 200) + 3
        assert sim.state.stats.logins == 1
    finally:
        await ops.client.aclose()


# -- catalogue and generic -----------------------------------------------------------------------


async def test_catalogue(ops: AviOperations) -> None:
    types = ops.objects.object_types()
    names = {t.name for t in types}
    assert {"virtualservice", "pool", "sslkeyandcertificate"} <= names
    vs_type = next(t for t in types if t.name == "virtualservice")
    assert vs_type.description
    assert vs_type.has_inventory
    listed = await ops.objects.list_objects("applicationprofile", name_contains="system")
    assert listed.count >= 1
    assert all("system" in i["name"].lower() for i in listed.items)
    few = await ops.objects.list_objects("virtualservice", limit=5)
    assert len(few.items) == 5
    assert few.truncated
    assert few.count > 5
    one = await ops.objects.get_object("applicationprofile", "System-HTTP")
    assert one["name"] == "System-HTTP"
    singleton = await ops.objects.get_object("systemconfiguration", "default")
    assert "portal_configuration" in singleton
    with pytest.raises(AviValidationError):
        await ops.objects.list_objects("nonsense")


async def test_no_secret_ever_leaves_through_reads(ops: AviOperations, sim: RunningSim) -> None:
    texts = []
    for obj_type in ("sslkeyandcertificate", "user", "cloud", "useraccountprofile"):
        listed = await ops.objects.list_objects(obj_type, limit=200)
        texts.append(str(listed.model_dump()))
        for item in listed.items:
            texts.append(str(await ops.objects.get_object(obj_type, item["uuid"])))
        generic = await ops.generic.execute("GET", f"/api/{obj_type}", query={"export_key": "true"})
        texts.append(str(generic.body))
    blob = "\n".join(texts)
    assert "PRIVATE KEY" not in blob
    assert SIM_PASSWORD not in blob
    assert "VMware1!-sim" not in blob
    assert "sim/secret/key" not in blob
    assert MASK in blob


async def test_generic_operation(ops: AviOperations) -> None:
    res = await ops.generic.execute("get", "/api/pool", query={"page_size": 2})
    assert res.status == 200
    assert len(res.body["results"]) == 2
    created = await ops.generic.execute("POST", "api/pool", body={"name": "generic-pool"})
    assert created.status == 201
    gone = await ops.generic.execute("DELETE", f"/api/pool/{created.body['uuid']}")
    assert gone.status == 204
    assert gone.body is None
    same_host = await ops.generic.execute("GET", f"{ops.client.base_url}/api/tenant?name=admin")
    assert same_host.body["count"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/logout",
        "/api/../login",
        "/api/pool/%2e%2e/%2e%2e/login",
        "https://evil.example.com/api/pool",
        "//evil.example.com/api/pool",
        "/apix/pool",
        "/api/pool#frag",
        "/api\\..\\login",
        "",
        "/api/pool\n",
    ],
)
def test_generic_rejects_paths(path: str) -> None:
    with pytest.raises(AviValidationError):
        check_path(path, "http://127.0.0.1:9000")


async def test_generic_rejects_method(ops: AviOperations) -> None:
    with pytest.raises(AviValidationError):
        await ops.generic.execute("TRACE", "/api/pool")
