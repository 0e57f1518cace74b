"""Error mapping, retries and TLS: the simulator, plus tiny real aiohttp servers for 503s and TLS."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from avi.client import AviClient
from avi.errors import (
    AviConflictError,
    AviError,
    AviNotFoundError,
    AviOutcomeUnknown,
    AviUnavailableError,
    AviValidationError,
)
from avi.settings import AviSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim

# -- errors from the simulator -----------------------------------------------------------------


def make_client(url: str, **settings: Any) -> AviClient:
    values: dict[str, Any] = {"host": url, "username": SIM_USERNAME, "password": SIM_PASSWORD}
    values.update(settings)
    return AviClient(AviSettings(**values), retry_backoff=0.01)


async def test_404_keeps_controller_message(sim: RunningSim) -> None:
    async with make_client(sim.url) as client:
        with pytest.raises(AviNotFoundError) as info:
            await client.get("/api/pool/pool-00000000-0000-4000-8000-000000000000")
    err = info.value
    assert err.status == 404
    assert "object not found" in err.message
    assert err.method == "GET"
    assert err.path.startswith("/api/pool/")


async def test_400_on_bad_field(sim: RunningSim) -> None:
    async with make_client(sim.url) as client:
        with pytest.raises(AviValidationError) as info:
            await client.post("/api/pool", {"name": "bad", "lb_algorithm": "LB_ALGORITHM_NOPE"})
    assert info.value.status == 400


async def test_409_on_duplicate_name(sim: RunningSim) -> None:
    async with make_client(sim.url) as client:
        await client.post("/api/pool", {"name": "dup"})
        with pytest.raises(AviConflictError) as info:
            await client.post("/api/pool", {"name": "dup"})
    assert info.value.status == 409


async def test_405_unsupported_method(sim: RunningSim) -> None:
    async with make_client(sim.url) as client:
        with pytest.raises(AviError) as info:
            await client.request("DELETE", "/api/cluster/some-uuid")
    assert info.value.status in (404, 405)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_closed_port_is_unavailable_fast() -> None:
    port = _closed_port()
    started = time.perf_counter()
    async with make_client(f"http://127.0.0.1:{port}", retries=1, password="topsecret") as client:
        with pytest.raises(AviUnavailableError) as info:
            await client.get("/api/pool")
    assert time.perf_counter() - started < 3
    text = str(info.value)
    assert f"127.0.0.1:{port}" in text
    assert "unreachable" in text
    assert "topsecret" not in text


# -- a tiny real controller for retries --------------------------------------------------------


class Flaky:
    """Login works; `/api/flaky` answers 503 `failures` times, then 200; writes always 503."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: dict[str, int] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/login", self.login)
        app.router.add_route("*", "/api/flaky", self.flaky)
        app.router.add_get("/api/slow", self.slow)
        return app

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True})

    async def login(self, request: web.Request) -> web.Response:
        resp = web.json_response({"version": {"Version": "30.2.1"}, "session_cookie_name": "avi-sessionid"})
        resp.set_cookie("csrftoken", "csrf1")
        resp.set_cookie("sessionid", "sess1")
        resp.set_cookie("avi-sessionid", "sess1")
        return resp

    async def flaky(self, request: web.Request) -> web.Response:
        key = request.method
        self.calls[key] = self.calls.get(key, 0) + 1
        if request.method != "GET" or self.calls[key] <= self.failures:
            return web.json_response({"error": "Service Unavailable"}, status=503)
        return web.json_response({"ok": True})


Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def _serve(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield _serve
    for runner in runners:
        await runner.cleanup()


async def test_get_retried_on_503_until_success(serve: Serve) -> None:
    flaky = Flaky(failures=2)
    url = await serve(flaky.app())
    async with make_client(url, retries=3) as client:
        assert await client.get("/api/flaky") == {"ok": True}
        assert flaky.calls["GET"] == 3
        assert client.stats.retries == 2


async def test_get_gives_up_after_retries(serve: Serve) -> None:
    flaky = Flaky(failures=10)
    url = await serve(flaky.app())
    async with make_client(url, retries=2) as client:
        with pytest.raises(AviUnavailableError) as info:
            await client.get("/api/flaky")
    assert info.value.status == 503
    assert f"the controller at {url} is unavailable: Service Unavailable" in str(info.value)
    assert flaky.calls["GET"] == 3


async def test_writes_never_retried(serve: Serve) -> None:
    """No write is sent twice, PUT and DELETE included: a 5xx may come after the change was made."""
    flaky = Flaky(failures=10)
    url = await serve(flaky.app())
    async with make_client(url, retries=3) as client:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            with pytest.raises(AviOutcomeUnknown) as info:
                await client.request(method, "/api/flaky", json=None if method == "DELETE" else {})
            assert (info.value.method, info.value.status) == (method, 503)
    assert flaky.calls == {"POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 1}


# -- TLS ---------------------------------------------------------------------------------------


async def test_transport_can_be_swapped() -> None:
    """The benchmark and unit tests may inject any httpx transport (here an in-memory one)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/login":
            return httpx.Response(
                200,
                json={"version": {"Version": "30.2.1"}},
                headers=[("set-cookie", "csrftoken=c; Path=/"), ("set-cookie", "sessionid=s; Path=/")],
            )
        assert request.headers["x-csrftoken"] == "c"
        assert "sessionid=s" in request.headers["cookie"]
        assert "avi-sessionid=s" in request.headers["cookie"]
        assert request.headers["x-avi-version"] == "30.2.1"
        assert request.headers["x-avi-tenant"] == "admin"
        return httpx.Response(200, json={"count": 0, "results": []})

    settings = AviSettings(host="controller.example", password="p")
    async with AviClient(settings, transport=httpx.MockTransport(handler)) as client:
        assert await client.list_all("pool") == []
    assert seen == ["POST /login", "GET /api/pool"]


async def test_timeout_is_unavailable(serve: Serve) -> None:
    url = await serve(Flaky(failures=0).app())
    started = time.perf_counter()
    async with make_client(url, timeout=0.3, retries=0) as client:
        with pytest.raises(AviUnavailableError, match="did not answer in time"):
            await client.get("/api/slow")
    assert time.perf_counter() - started < 1.5


async def test_next_link_never_leaves_the_configured_controller() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.path == "/login":
            return httpx.Response(
                200, json={}, headers=[("set-cookie", "csrftoken=c"), ("set-cookie", "sessionid=s")]
            )
        page = int(request.url.params.get("page", "1"))
        body: dict = {"count": 3, "results": [{"uuid": f"pool-{page}"}]}
        if page < 3:
            body["next"] = f"https://evil.example.com/api/pool?page_size=1&page={page + 1}"
        return httpx.Response(200, json=body)

    settings = AviSettings(host="controller.example", password="p")
    async with AviClient(settings, transport=httpx.MockTransport(handler)) as client:
        items = await client.list_all("pool", page_size=1)
    assert [i["uuid"] for i in items] == ["pool-1", "pool-2", "pool-3"]
    assert set(hosts) == {"controller.example"}
