"""Open probes neither leak nor cost: /readyz says reason codes only, keeps its verdict a few seconds,
and no probe ever logs in to the controller (a prober must not lock the service account)."""

from __future__ import annotations

from avi.settings import AviSettings
from tests.adapters.web.test_api import serving
from tests.conftest import SIM_USERNAME, RunningSim


async def test_readyz_leaks_nothing_and_never_logs_in(sim: RunningSim, redis_url: str) -> None:
    async with serving(sim, redis_url) as env:
        env.runtime.client._settings = AviSettings(host=sim.url, username=SIM_USERNAME, password="wrong")
        sim.state.stats.reset()
        for _ in range(20):
            resp = await env.client.get("/readyz")
            assert resp.status == 200  # reachable, not logged in yet: nothing is known to be wrong
            assert await resp.json() == {"ready": True, "reasons": []}
        assert sim.state.stats.logins == sim.state.stats.login_failures == 0
        assert sim.state.stats.by_endpoint[("GET", "initial-data")] == 1  # the verdict is kept

        answer = await env.ask("vs list")  # a real question tries the login, once, and it is refused
        assert "login" in answer["text"]
        health = await (await env.client.get("/api/health")).json()  # refreshes the verdict
        assert health["checks"]["avi"]["status"] == "down"
        assert health["checks"]["avi"]["detail"].startswith("login refused")
        resp = await env.client.get("/readyz")
        body = await resp.text()
        assert resp.status == 503
        assert await resp.json() == {"ready": False, "reasons": ["avi_login_failed"]}
        assert SIM_USERNAME not in body
        for _ in range(10):
            await env.client.get("/readyz")
            await env.client.get("/api/health")
        assert sim.state.stats.login_failures == 1  # probes made no login of their own


async def test_readyz_names_an_unreachable_store(sim: RunningSim) -> None:
    async with serving(sim, "redis://127.0.0.1:9/0") as env:
        resp = await env.client.get("/readyz")
        assert resp.status == 503
        assert (await resp.json())["reasons"] == ["store_unreachable"]
