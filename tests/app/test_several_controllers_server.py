"""The server's per-controller parts with two controllers: two simulators (different seeds, so
different names), the real config loader, composition root and server app, a real redis-server.

/api/health lists each controller and /readyz follows the default only; /metrics labels controller
requests by controller; /api/avi/b/... reads b and proposes writes on b."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from avibot.config import ConfigError, load_settings
from avibot.factory import build_runtime
from avibot.server import create_server_app
from tests.adapters.web.two_controllers import Served, passwords, serving, write_config
from tests.conftest import RunningSim, StartSim
from tests.support.fault_proxy import FaultProxy

__all__ = ["passwords"]  # the fixture, used by every test here


@pytest.fixture
async def sims(start_sim: StartSim) -> tuple[RunningSim, RunningSim]:
    return await start_sim(seed=7), await start_sim(seed=8)


async def health(served: Served) -> dict[str, Any]:
    resp = await served.client.get("/api/health")
    assert resp.status == 200
    body: dict[str, Any] = await resp.json()
    return body


async def test_health_lists_both_and_b_down_only_degrades(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path
) -> None:
    a, b = sims
    proxy = await FaultProxy(b.url).start()
    try:
        async with serving(write_config(tmp_path / "c.yaml", a.url, proxy.url, redis_url), a, b) as served:
            both = await health(served)
            assert [(c["name"], c["label"], c["status"]) for c in both["controllers"]] == [
                ("a", "", "ok"),
                ("b", "Staging", "ok"),
            ]
            assert both["checks"]["avi"]["status"] == "ok"
            assert both["status"] == "degraded"  # Ollama is off (a closed port): command mode
            await proxy.aclose()  # b is gone: connections refused
            down_b = await health(served)
            assert [(c["name"], c["status"]) for c in down_b["controllers"]] == [("a", "ok"), ("b", "down")]
            assert down_b["controllers"][1]["detail"] == "the controller does not answer"
            assert down_b["checks"]["avi"]["status"] == "ok"  # the default, as before
            assert down_b["status"] == "degraded"
            ready = await served.client.get("/readyz")
            assert ready.status == 200
            assert await ready.json() == {"ready": True, "reasons": []}
    finally:
        await proxy.aclose()


async def test_the_default_down_is_down_and_unready(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path
) -> None:
    a, b = sims
    proxy = await FaultProxy(a.url).start()
    try:
        async with serving(write_config(tmp_path / "c.yaml", proxy.url, b.url, redis_url), a, b) as served:
            await proxy.aclose()
            body = await health(served)
            assert body["status"] == "down"
            assert body["checks"]["avi"]["status"] == "down"
            assert [(c["name"], c["status"]) for c in body["controllers"]] == [("a", "down"), ("b", "ok")]
            ready = await served.client.get("/readyz")
            assert ready.status == 503
            assert await ready.json() == {"ready": False, "reasons": ["avi_unreachable"]}
    finally:
        await proxy.aclose()


async def test_metrics_label_requests_by_controller(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path
) -> None:
    a, b = sims
    async with serving(write_config(tmp_path / "c.yaml", a.url, b.url, redis_url), a, b) as served:
        assert (await served.client.get("/api/avi/b/virtualservice")).status == 200
        assert (await served.client.get("/api/avi/virtualservice")).status == 200
        text = await (await served.client.get("/metrics")).text()
    for name in ("a", "b"):
        found = re.search(rf'avibot_avi_requests_total\{{controller="{name}",status="200"\}} (\d+)', text)
        assert found, text
        assert float(found.group(1)) >= 1
        assert f'avibot_avi_request_seconds_count{{controller="{name}",method="GET"}}' in text


async def test_the_proxy_reads_b_and_the_default(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path
) -> None:
    a, b = sims
    async with serving(write_config(tmp_path / "c.yaml", a.url, b.url, redis_url), a, b) as served:
        names_a, names_b = await served.names(served.ops_a), await served.names(served.ops_b)
        resp = await served.client.get("/api/avi/b/virtualservice", params={"page_size": "200"})
        assert resp.status == 200, await resp.text()
        on_b = {vs["name"] for vs in (await resp.json())["results"]}
        assert on_b
        assert on_b <= names_b
        assert on_b - names_a
        resp = await served.client.get("/api/avi/virtualservice", params={"page_size": "200"})
        on_default = {vs["name"] for vs in (await resp.json())["results"]}
        assert on_default
        assert on_default <= names_a
        assert on_default - names_b
        resp = await served.client.get("/api/avi/a/virtualservice", params={"page_size": "200"})
        assert {vs["name"] for vs in (await resp.json())["results"]} == on_default
        unknown = await served.client.get("/api/avi/zz/virtualservice")
        assert unknown.status == 404
        assert "no controller named 'zz'" in (await unknown.json())["error"]
        bare = await served.client.get("/api/avi/b")
        assert bare.status == 400


async def test_a_write_proposed_on_b_changes_b_only(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path
) -> None:
    a, b = sims
    async with serving(write_config(tmp_path / "c.yaml", a.url, b.url, redis_url), a, b) as served:
        target = next(v for v in await served.ops_b.virtualservices.list(tenant="*") if v.enabled)
        before_a = {vs.name: vs.enabled for vs in await served.ops_a.virtualservices.list(tenant="*")}
        headers = await served.admin()
        proposed = await served.client.patch(
            f"/api/avi/b/virtualservice/{target.uuid}", json={"replace": {"enabled": False}}, headers=headers
        )
        assert proposed.status == 202, await proposed.text()
        pending = (await proposed.json())["pending_action"]
        assert "controller: b" in [line.strip() for line in pending["diff"]]
        assert (await served.ops_b.virtualservices.get(target.name)).enabled  # nothing runs before
        done = await served.client.post(
            f"/api/actions/{pending['id']}/confirm", json={"conversation_id": "avi-proxy"}, headers=headers
        )
        assert done.status == 200, await done.text()
        assert (await done.json())["outcome"] == "done"
        assert not (await served.ops_b.virtualservices.get(target.name)).enabled
        after_a = {vs.name: vs.enabled for vs in await served.ops_a.virtualservices.list(tenant="*")}
        assert after_a == before_a
        entries = await served.runtime.agent.audit.recent(5)
        assert {e.controller for e in entries if e.action_id == pending["id"]} == {"b"}


async def test_a_controller_named_like_an_avi_path_is_refused(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path
) -> None:
    a, b = sims
    settings = load_settings(write_config(tmp_path / "c.yaml", a.url, b.url, redis_url, b_name="pool"))
    runtime = await build_runtime(settings, use_llm=False)
    try:
        with pytest.raises(ConfigError, match="controller name pool is also an Avi API path"):
            create_server_app(runtime, settings)
    finally:
        await runtime.aclose()
