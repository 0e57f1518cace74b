"""Who may reach /api/messages: a Bot Framework JWT when an app id is set, loopback only when not,
and the web guard stepping aside for the channel's route because it verifies its own requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from adapters.base import PlatformContext, ServiceInfo, is_self_verified
from adapters.teams import PLATFORM, TEAMS_BRIDGE, TeamsSettings, is_loopback
from adapters.web.settings import WebSettings
from avibot.factory import build_runtime
from avibot.server import create_server_app
from tests.adapters.teams.test_http import activity
from tests.adapters.web.test_api import ACCESS, CLOSED, WEB_TOKEN, make_settings
from tests.conftest import RunningSim
from tests.support.fakes.teams_connector import FakeConnector, running_fake_connector

APP_ID = "00000000-0000-0000-0000-00000000b0t1"
# Well formed, right issuer and audience, but signed with a key Microsoft never published (refused
# whether or not Microsoft's signing keys can be fetched from here).
FORGED = jwt.encode(
    {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": "http://127.0.0.1/",
        "exp": 4102444800,
    },
    "not-microsofts-key-not-microsofts-key",
    algorithm="HS256",
)


@pytest.fixture(autouse=True)
def _no_teams_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for var in [v for v in os.environ if v.startswith("TEAMS_")]:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with running_fake_connector() as fake:
        yield fake


def test_loopback_peers() -> None:
    assert all(is_loopback(p) for p in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"))
    assert not any(is_loopback(p) for p in ("10.0.0.5", "192.168.1.1", "::ffff:10.0.0.1", "", None, "x"))


def test_status_says_what_runs_and_never_the_secret() -> None:
    off = TeamsSettings(enabled=False).status()
    default = TeamsSettings().status()
    emulator = TeamsSettings(enabled=True).status()
    on = TeamsSettings(app_id=APP_ID, app_password="s3cret-pw", tenant_id="tid").status()
    missing = TeamsSettings(app_id=APP_ID).status()
    assert "off" in off
    assert default.startswith("teams: off (no TEAMS_APP_ID")
    assert "loopback-only" in emulator
    assert "NO TEAMS_APP_ID" in emulator
    assert APP_ID in on
    assert "SingleTenant" in on
    assert "JWT required" in on
    assert "s3cret" not in on
    assert "TEAMS_APP_PASSWORD is not set" in missing
    assert "TEAMS_APP_TENANT_ID" in missing


def test_environment_wins_over_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("TEAMS_APP_TENANT_ID", "tenant-from-env")
    monkeypatch.setenv("TEAMS_APP_TYPE", "MultiTenant")
    s = TeamsSettings(app_id="from-config", tenant_id="from-config")
    assert (s.app_id, s.tenant_id, s.app_type) == (APP_ID, "tenant-from-env", "MultiTenant")


def _handler(server: web.Application) -> Any:
    for route in server.router.routes():
        if (
            route.method == "POST"
            and route.resource is not None
            and route.resource.canonical == "/api/messages"
        ):
            return route.handler
    raise AssertionError("no /api/messages route")


def _context(turns: Any) -> PlatformContext:
    return PlatformContext(turns=turns, info=ServiceInfo(controller="", llm_mode="", store=""))


async def test_without_app_id_a_remote_peer_is_refused(connector: FakeConnector) -> None:
    server = web.Application()
    turns = mock.Mock()  # never reached
    assert PLATFORM.mount(server, _context(turns), TeamsSettings()) is False  # off without an app id
    assert PLATFORM.mount(server, _context(turns), TeamsSettings(enabled=True)) is True
    assert is_self_verified(_handler(server))
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("10.1.2.3", 40000) if name == "peername" else default
    )
    request = make_mocked_request(
        "POST", "/api/messages", headers={"Content-Type": "application/json"}, transport=transport
    )
    resp = await _handler(server)(request)
    assert resp.status == 403
    assert connector.calls == []
    assert turns.method_calls == []


async def test_with_app_id_a_request_without_a_valid_token_is_refused(connector: FakeConnector) -> None:
    server = web.Application()
    turns = mock.Mock()
    settings = TeamsSettings(
        app_id=APP_ID, app_password="pw", tenant_id="11111111-2222-3333-4444-555555555555"
    )
    assert PLATFORM.mount(server, _context(turns), settings)
    body = activity("vs list", service_url=connector.url)
    async with TestClient(TestServer(server, host="127.0.0.1")) as http:
        none = await http.post("/api/messages", json=body)
        bogus = await http.post("/api/messages", json=body, headers={"Authorization": "Bearer not.a.jwt"})
        basic = await http.post("/api/messages", json=body, headers={"Authorization": "Basic abc"})
        forged = await http.post("/api/messages", json=body, headers={"Authorization": f"Bearer {FORGED}"})
    assert (none.status, bogus.status, basic.status, forged.status) == (401, 401, 401, 401)
    assert connector.calls == []
    assert turns.method_calls == []


async def test_the_server_mounts_the_channel_and_the_web_guard_lets_its_route_through(
    sim: RunningSim, redis_url: str, connector: FakeConnector
) -> None:
    """Mounted by avibot/server.py from the registry, behind a web guard that wants a token: an
    ordinary route is refused without one, the Teams route (which checks its own callers) is not."""
    web_settings = WebSettings(access_token=WEB_TOKEN, rate_limit_per_minute=0)
    settings = make_settings(sim, redis_url, CLOSED, web_settings, ACCESS)
    settings.teams = TeamsSettings(enabled=True, turn_budget_seconds=5)
    runtime = await build_runtime(settings)
    try:
        app = create_server_app(runtime, settings)

        async def plain(request: web.Request) -> web.Response:
            return web.json_response({})

        app.router.add_post("/api/plain", plain)
        body = activity("help", service_url=connector.url, conversation="a:guard")
        async with TestClient(TestServer(app, host="127.0.0.1")) as http:
            assert (await http.post("/api/plain", json={})).status == 401
            resp = await http.post("/api/messages", json=body)
            assert resp.status == 201, await resp.text()
            await connector.wait_for(lambda: connector.posts("a:guard"))
            await app[TEAMS_BRIDGE].drain()
    finally:
        await runtime.aclose()
