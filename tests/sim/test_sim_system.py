"""Simulator controller endpoints, test hooks, stats, config validation and TLS serving."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import httpx
import pytest
from aiohttp import web

from avisim import SimulatorConfig, create_app, get_state
from avisim.tls import server_context
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, StartSim
from tests.sim.test_sim_support import client, session


async def test_initial_data_and_cluster_without_auth(sim) -> None:
    async with client(sim) as c:
        r = await c.get("/api/initial-data")
        assert r.status_code == 200
        assert r.json()["version"]["Version"] == "30.2.1"
        r = await c.get("/api/cluster/runtime")
        assert r.status_code == 200
        assert r.json()["cluster_state"]["state"] == "CLUSTER_UP_NO_HA"
        assert r.json()["node_states"][0]["role"] == "CLUSTER_LEADER"
        assert (await c.get("/api/cluster/status")).status_code == 200
        assert (await c.get("/api/cluster/version")).status_code == 401
        assert (await c.get("/api/cluster")).status_code == 401


async def test_cluster_and_singletons_with_auth(start_sim: StartSim) -> None:
    sim = await start_sim(session_timeout=120)
    async with session(sim) as (c, headers):
        assert (await c.get("/api/cluster/version", headers=headers)).json()["Version"] == "30.2.1"
        cluster = (await c.get("/api/cluster", headers=headers)).json()
        assert cluster["nodes"][0]["ip"]["addr"]
        props = (await c.get("/api/controllerproperties", headers=headers)).json()
        assert props["api_idle_timeout"] == 2
        r = await c.patch(
            "/api/systemconfiguration", headers=headers, json={"replace": {"welcome_workflow_complete": True}}
        )
        assert r.status_code == 200
        r = await c.delete(f"/api/cluster/{cluster['uuid']}", headers=headers)
        assert r.status_code == 405
        assert r.json() == {"detail": "Method 'DELETE' not allowed."}


async def test_stats_count_requests_and_hooks_are_not_counted(sim) -> None:
    async with client(sim) as c:
        await c.post("/_sim/stats/reset")
        r = await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        headers = {"X-CSRFToken": r.cookies["csrftoken"]}
        await c.get("/api/virtualservice", headers=headers)
        await c.get("/api/virtualservice/virtualservice-x", headers=headers)
        await c.get("/api/pool", headers=headers)
        await c.post("/login", data={"username": SIM_USERNAME, "password": "bad"})
        stats = (await c.get("/_sim/stats")).json()
        assert stats["requests"] == 5
        assert stats["logins"] == 1
        assert stats["login_failures"] == 1
        assert stats["by_endpoint"]["GET virtualservice"] == 2
        assert stats["by_endpoint"]["POST login"] == 2
        assert sim.state.stats.requests == 5
        sim.state.stats.reset()
        assert (await c.get("/_sim/stats")).json()["requests"] == 0


async def test_hooks_absent_when_disabled(start_sim: StartSim) -> None:
    sim = await start_sim(test_hooks=False)
    async with client(sim) as c:
        assert (await c.get("/_sim/stats")).status_code == 404


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="between 10 and 10000"):
        SimulatorConfig(objects=5)
    with pytest.raises(ValueError, match="between 10 and 10000"):
        SimulatorConfig(objects=10001)
    assert SimulatorConfig().objects == 100


async def test_tls_app_sets_secure_cookies_and_https_urls() -> None:
    app = create_app(SimulatorConfig(username=SIM_USERNAME, password=SIM_PASSWORD, objects=10))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context("127.0.0.1"))
        await site.start()
        url = f"https://127.0.0.1:{runner.addresses[0][1]}"
        async with httpx.AsyncClient(base_url=url, verify=False) as c:
            r = await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
            assert r.status_code == 200
            cookies = r.headers.get_list("set-cookie")
            assert len(cookies) == 3
            assert all("secure" in h.lower() for h in cookies)
            r = await c.get("/api/pool", params={"page_size": 1})
            assert r.json()["results"][0]["url"].startswith(f"{url}/api/pool/")
        assert get_state(app).stats.logins == 1
    finally:
        await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_with_tls_in_a_subprocess() -> None:
    port = _free_port()
    code = (
        "from avisim import SimulatorConfig, serve; "
        f"serve(SimulatorConfig(objects=10, password='pw'), port={port}, tls=True)"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient(verify=False) as c:
            while True:
                try:
                    r = await c.get(f"https://127.0.0.1:{port}/api/initial-data")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve() did not come up"
                    await asyncio.sleep(0.1)
            assert r.status_code == 200
            r = await c.post(f"https://127.0.0.1:{port}/login", json={"username": "admin", "password": "pw"})
            assert all("secure" in h.lower() for h in r.headers.get_list("set-cookie"))
    finally:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=10)
    assert f"https://127.0.0.1:{port}" in out.decode()
