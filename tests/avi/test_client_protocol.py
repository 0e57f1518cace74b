"""The client against the simulator over real HTTP: login, CSRF, expiry, 419, tenants, versions, pages."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest

from avi.client import AviClient
from avi.errors import AviAuthError, AviError, AviNotFoundError, AviPermissionError
from avi.settings import AviSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim, StartSim


def make_client(sim: RunningSim, **settings: Any) -> AviClient:
    # These count the protocol's own requests: no shared reads (tests/avi/test_read_share.py has them).
    values: dict[str, Any] = {
        "host": sim.url,
        "username": SIM_USERNAME,
        "password": SIM_PASSWORD,
        "cache_seconds": 0,
    }
    values.update(settings)
    return AviClient(AviSettings(**values), retry_backoff=0.01)


async def test_lazy_login_and_version_from_controller(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        assert not client.logged_in
        resp = await client.request_full("GET", "/api/pool", params={"page_size": 1})
        assert client.stats.logins == 1
        assert client.stats.requests == 2
        assert sim.state.stats.logins == 1
        # No version configured: the controller's own (from the login response) is sent and echoed.
        assert client.controller_version == sim.config.version
        assert resp.headers.get("AVI_API_VERSION") == sim.config.version


async def test_configured_version_is_sent(sim: RunningSim) -> None:
    async with make_client(sim, version="22.1.3") as client:
        resp = await client.request_full("GET", "/api/pool", params={"page_size": 1})
        assert resp.headers.get("AVI_API_VERSION") == "22.1.3"


async def test_wrong_password_is_auth_error(sim: RunningSim) -> None:
    async with make_client(sim, password="wrong") as client:
        with pytest.raises(AviAuthError) as info:
            await client.get("/api/pool")
        assert "Invalid credentials" in str(info.value)
        assert info.value.status == 401
        assert "wrong" not in str(info.value)


async def test_token_login_is_used_when_configured(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        token = await client.post("/api/user-token", {"hours": "1"})
    assert isinstance(token, dict)
    assert token.get("token")
    async with make_client(sim, password=None, token=token["token"]) as client:
        body = await client.get("/api/pool", params={"page_size": 1})
        assert body["count"] >= 1


async def test_raw_write_without_csrf_fails_but_client_write_succeeds(sim: RunningSim) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as raw:
        login = await raw.post("/login", json={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        assert login.status_code == 200
        resp = await raw.post("/api/pool", json={"name": "no-csrf"}, headers={"Referer": sim.url})
        assert resp.status_code == 401
        assert "CSRF" in resp.text
    async with make_client(sim) as client:
        created = await client.post("/api/pool", {"name": "with-csrf"})
        assert created["name"] == "with-csrf"


async def test_expired_session_relogin_is_transparent(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        await client.get("/api/pool", params={"page_size": 1})
        sim.state.expire_sessions()
        await client.get("/api/pool", params={"page_size": 1})
        assert client.stats.logins == 2
        assert sim.state.stats.logins == 2


async def test_idle_timeout_relogin(start_sim: StartSim) -> None:
    sim = await start_sim(session_timeout=0.3)
    async with make_client(sim) as client:
        await client.get("/api/pool", params={"page_size": 1})
        await asyncio.sleep(0.5)
        body = await client.post("/api/pool", {"name": "after-idle"})
        assert body["name"] == "after-idle"
        assert client.stats.logins == 2


async def test_419_switch_session_recovered(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        await client.get("/api/pool", params={"page_size": 1})
        sim.state.switch_sessions()
        body = await client.get("/api/pool", params={"page_size": 1})
        assert body["count"] >= 1
        assert client.stats.relogins == 1
        assert client.stats.logins == 2


async def test_hundred_concurrent_calls_after_expiry_cost_one_login(sim: RunningSim) -> None:
    async with make_client(sim, max_connections=50) as client:
        await client.get("/api/pool", params={"page_size": 1})
        sim.state.expire_sessions()
        results = await asyncio.gather(
            *(client.get("/api/pool", params={"page_size": 1}) for _ in range(100))
        )
        assert all(r["count"] >= 1 for r in results)
        assert client.stats.logins == 2
        assert sim.state.stats.logins == 2


async def test_hundred_concurrent_first_calls_cost_one_login(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        await asyncio.gather(*(client.get("/api/tenant") for _ in range(100)))
        assert sim.state.stats.logins == 1


async def test_logout_then_next_call_logs_in(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        await client.get("/api/pool", params={"page_size": 1})
        await client.logout()
        assert not client.logged_in
        await client.get("/api/pool", params={"page_size": 1})
        assert client.stats.logins == 2


async def test_logout_invalidates_session_on_controller(sim: RunningSim) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as raw:
        await raw.post("/login", json={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        csrf = raw.cookies.get("csrftoken")
        out = await raw.post("/logout", headers={"X-CSRFToken": csrf or "", "Referer": sim.url})
        assert out.status_code < 300
        after = await raw.get("/api/pool")
        assert after.status_code == 401


async def test_tenants_scope_reads_and_writes(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        await client.post("/api/tenant", {"name": "team-a"})
        await client.post("/api/pool", {"name": "team-a-pool"}, tenant="team-a")
        in_admin = await client.get("/api/pool", params={"name": "team-a-pool"})
        assert in_admin["count"] == 0
        in_team = await client.get("/api/pool", params={"name": "team-a-pool"}, tenant="team-a")
        assert in_team["count"] == 1
        everywhere = await client.get("/api/pool", params={"name": "team-a-pool"}, tenant="*")
        assert everywhere["count"] == 1
        assert await client.get_by_name("pool", "team-a-pool", tenant="team-a") is not None
        assert await client.get_by_name("pool", "team-a-pool") is None


async def test_unknown_tenant_is_permission_error(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        with pytest.raises(AviPermissionError) as info:
            await client.get("/api/pool", tenant="no-such-tenant")
        assert "no-such-tenant" in str(info.value)
        assert info.value.status == 403


async def test_settings_tenant_is_default(sim: RunningSim) -> None:
    async with make_client(sim, tenant="nobody") as client:
        with pytest.raises(AviPermissionError):
            await client.get("/api/pool")


async def test_pagination_over_many_objects_costs_ceil_n_over_200(start_sim: StartSim) -> None:
    sim = await start_sim(objects=1050)
    async with make_client(sim) as client:
        first = await client.get("/api/virtualservice", params={"page_size": 1}, tenant="*")
        total = first["count"]
        assert total >= 1050
        await client.logout()
        client.stats.reset()
        sim.state.stats.reset()
        items = await client.list_all("virtualservice", params={"fields": "name"}, tenant="*")
        assert len(items) == total
        assert len({i["uuid"] for i in items}) == total
        pages = math.ceil(total / 200)
        assert client.stats.requests == pages + 1
        assert sim.state.stats.requests == pages + 1
        assert sim.state.stats.logins == 1


async def test_iter_pages_follows_next_with_default_page_size(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        pages = [p async for p in client.iter_pages("virtualservice", page_size=7)]
        total = pages[0].count
        assert len(pages) == math.ceil(total / 7)
        assert sum(len(p.results) for p in pages) == total
        limited = await client.list_all("virtualservice", page_size=5, limit=8)
        assert len(limited) == 8


async def test_get_by_name_and_resolve_uuid(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        created = await client.post("/api/pool", {"name": "resolve-me"})
        uuid = await client.resolve_uuid("pool", "resolve-me")
        assert uuid == created["uuid"]
        assert await client.resolve_uuid("pool", uuid) == uuid
        requests = client.stats.requests
        await client.resolve_uuid("pool", uuid)
        assert client.stats.requests == requests  # a uuid passes through without a request
        with pytest.raises(AviNotFoundError):
            await client.resolve_uuid("pool", "no-such-pool")


async def test_secrets_never_in_logs(sim: RunningSim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    async with make_client(sim) as client:
        await client.get("/api/pool", params={"page_size": 1})
        sim.state.expire_sessions()
        await client.post("/api/pool", {"name": "logged"})
        cookies = "".join(f"{k}={v}" for k, v in client._session.cookies.items())  # type: ignore[union-attr]
        csrf = client._session.csrftoken  # type: ignore[union-attr]
    text = caplog.text
    assert SIM_PASSWORD not in text
    assert csrf not in text
    assert cookies not in text


async def test_concurrent_calls_with_wrong_password_cost_one_failed_login(sim: RunningSim) -> None:
    async with make_client(sim, password="wrong") as client:
        results = await asyncio.gather(*(client.get("/api/pool") for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, AviAuthError) for r in results)
    assert sim.state.stats.login_failures == 1


async def test_locked_account_is_auth_error_with_controller_message(start_sim: StartSim) -> None:
    sim = await start_sim(lockout_failures=2)
    for _ in range(2):
        async with make_client(sim, password="wrong") as client:
            with pytest.raises(AviAuthError):
                await client.get("/api/pool")
    async with make_client(sim) as client:
        with pytest.raises(AviAuthError) as info:
            await client.get("/api/pool")
    assert "locked" in str(info.value)


async def test_version_above_controller_is_rejected(sim: RunningSim) -> None:
    async with make_client(sim, version="99.1.1") as client:
        with pytest.raises(AviError) as info:
            await client.get("/api/pool")
    assert "Invalid version" in str(info.value)


async def test_stats_measure_overhead(sim: RunningSim) -> None:
    async with make_client(sim) as client:
        for _ in range(20):
            await client.get("/api/tenant")
        stats = client.stats
        assert stats.calls == 20
        assert stats.requests == 21
        assert stats.by_method["GET"] == 20
        assert stats.http_seconds > 0
        assert stats.call_seconds >= stats.http_seconds
        assert stats.overhead_seconds < stats.call_seconds
