"""The simulator's alert hooks over real HTTP: raise one by object name, clear it, same auth rules."""

from __future__ import annotations

from tests.conftest import RunningSim, StartSim
from tests.sim.test_sim_support import get_all, session


async def _vs_name(sim: RunningSim) -> str:
    vs = next(iter(sim.state.store.objects["virtualservice"].values()))
    return str(vs["name"])


async def test_create_alert_by_object_name_returns_the_real_fields(sim: RunningSim) -> None:
    name = await _vs_name(sim)
    async with session(sim) as (c, headers):
        r = await c.post(
            "/api/simulator/alerts",
            headers=headers,
            json={"level": "ALERT_HIGH", "obj_name": name, "summary": "VS is down", "reason": "pool_down"},
        )
        assert r.status_code == 201, r.text
        alert = r.json()
        required = {"alert_config_ref", "level", "name", "obj_key", "obj_uuid", "reason", "state", "summary"}
        assert required | {"uuid", "timestamp", "tenant_ref", "events"} <= set(alert)
        assert alert["uuid"].startswith("alert-")
        assert (alert["level"], alert["state"], alert["obj_name"]) == ("ALERT_HIGH", "ALERT_STATE_ON", name)
        assert alert["obj_uuid"].startswith("virtualservice-")
        assert alert["events"][0]["obj_type"] == "VIRTUALSERVICE"
        assert isinstance(alert["timestamp"], float)
        listed = await get_all(c, "/api/alert", headers)
        assert alert["uuid"] in {a["uuid"] for a in listed}


async def test_create_alert_on_a_pool_and_unknown_name(sim: RunningSim) -> None:
    pool = next(iter(sim.state.store.objects["pool"].values()))
    async with session(sim) as (c, headers):
        r = await c.post(
            "/api/simulator/alerts",
            headers=headers,
            json={"level": "ALERT_LOW", "obj_name": pool["name"], "summary": "s", "reason": "r"},
        )
        assert r.status_code == 201
        assert r.json()["events"][0]["obj_type"] == "POOL"
        r = await c.post(
            "/api/simulator/alerts", headers=headers, json={"obj_name": "no-such-thing", "summary": "s"}
        )
        assert r.status_code == 404
        r = await c.post(
            "/api/simulator/alerts", headers=headers, json={"obj_name": pool["name"], "level": "LOUD"}
        )
        assert r.status_code == 400


async def test_clear_alert_deletes_it(sim: RunningSim) -> None:
    name = await _vs_name(sim)
    async with session(sim) as (c, headers):
        r = await c.post("/api/simulator/alerts", headers=headers, json={"obj_name": name, "summary": "x"})
        uuid = r.json()["uuid"]
        r = await c.delete(f"/api/simulator/alerts/{uuid}", headers=headers)
        assert r.status_code == 204
        assert (await c.get(f"/api/alert/{uuid}", headers=headers)).status_code == 404
        assert (await c.delete(f"/api/simulator/alerts/{uuid}", headers=headers)).status_code == 404


async def test_alert_hooks_need_login_and_csrf(sim: RunningSim) -> None:
    name = await _vs_name(sim)
    async with session(sim) as (c, headers):
        no_csrf = {k: v for k, v in headers.items() if k != "X-CSRFToken"}
        r = await c.post("/api/simulator/alerts", headers=no_csrf, json={"obj_name": name, "summary": "x"})
        assert r.status_code == 401
        assert "CSRF" in r.text
        made = await c.post("/api/simulator/alerts", headers=headers, json={"obj_name": name, "summary": "x"})
        r = await c.delete(f"/api/simulator/alerts/{made.json()['uuid']}", headers=no_csrf)
        assert r.status_code == 401
        c.cookies.clear()
        r = await c.post("/api/simulator/alerts", headers=headers, json={"obj_name": name, "summary": "x"})
        assert r.status_code == 401


async def test_alert_every_raises_alerts_in_the_background(start_sim: StartSim) -> None:
    """Each raised alert clears when the next one comes: one of them is open at a time, and the
    ones seen come and go (a member down, then back)."""
    import asyncio

    sim = await start_sim(alert_every=0.05)
    before = {a["uuid"] for a in sim.state.store.objects["alert"].values()}
    seen: set[str] = set()
    async with session(sim) as (c, headers):
        for _ in range(8):
            await asyncio.sleep(0.05)
            listed = await get_all(c, "/api/alert", headers)
            raised = {a["uuid"] for a in listed} - before
            assert len(raised) <= 1
            seen |= raised
    assert len(seen) >= 2
