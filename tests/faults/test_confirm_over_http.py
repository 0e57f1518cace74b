"""A confirmed write through the JSON API, as a script or the page sends it, while something fails: the
real server app (`build_runtime` + `create_server_app`) over HTTP, a real redis-server of the test's
own, and the fault proxy in front of the simulator.

The answer is always a 200 whose `outcome` says how the write really ended on the controller; the audit
keeps `requested` (written before the request is sent) and the result, in the stream while Redis takes
writes and in the `avibot.audit` log line always.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import RunningSim
from tests.faults.harness import enabled_vs_names, http_for, runtime_for, settings_for
from tests.support.fault_proxy import FaultProxy
from tests.support.redis_process import RedisProcess

Client = TestClient[web.Request, web.Application]
BOUND = 60.0  # seconds: only so that a hang fails the test instead of blocking the suite
HELD = 2.0  # the controller's answer to the write is held this long (well within the client's timeout)
CID = "ops-1"


@pytest.fixture
async def proxy(sim: RunningSim) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(sim.url) as running:
        yield running


async def propose(http: Client, text: str) -> str:
    resp = await http.post("/api/chat", json={"message": text, "conversation_id": CID})
    body = await resp.json()
    assert resp.status == 200, body
    assert body["outcome"] == "pending", body
    return str(body["pending_action"]["id"])


async def confirm(http: Client, action_id: str) -> tuple[int, dict[str, Any]]:
    resp = await asyncio.wait_for(
        http.post(f"/api/actions/{action_id}/confirm", json={"conversation_id": CID}), BOUND
    )
    return resp.status, await resp.json()


async def until_sent(proxy: FaultProxy, line: str) -> None:
    """Until the proxy holds the write (it has been forwarded to the controller)."""
    deadline = time.monotonic() + BOUND
    while not any(seen.startswith(line) for seen in proxy.seen):
        assert time.monotonic() < deadline, proxy.seen
        await asyncio.sleep(0.01)


def audit_lines(caplog: pytest.LogCaptureFixture, action_id: str) -> list[str]:
    """The result of each `avibot.audit` log line about the action, in order."""
    return [
        str(r.audit["result"])  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "avibot.audit" and getattr(r, "audit", {}).get("action_id") == action_id
    ]


async def stream_results(redis_proc: RedisProcess, prefix: str, action_id: str) -> list[str]:
    rows: list[tuple[bytes, dict[bytes, bytes]]] = redis_proc.client().xrange(f"{prefix}audit")  # type: ignore[assignment]
    return [f[b"result"].decode() for _id, f in rows if f.get(b"action_id") == action_id.encode()]


async def test_redis_killed_while_the_write_is_in_flight_still_says_done(
    sim: RunningSim, proxy: FaultProxy, redis_proc: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="avibot.audit")
    settings = settings_for(proxy.url, redis_proc.url)
    runtime = await runtime_for(settings)
    try:
        async with http_for(runtime, settings) as http:
            name = (await enabled_vs_names(runtime))[0]
            action_id = await propose(http, f"vs disable {name}")
            proxy.delay("PATCH", "/api/virtualservice/", seconds=HELD)
            confirming = asyncio.create_task(confirm(http, action_id))
            await until_sent(proxy, "PATCH /api/virtualservice/")
            assert await stream_results(redis_proc, settings.redis.prefix, action_id) == ["requested"]
            redis_proc.kill()  # while the controller's answer is on its way

            status, body = await confirming
            assert status == 200, body
            assert body["outcome"] == "done", body
            assert body["text"].startswith("Done: "), body["text"]
            assert name in body["text"]
            assert not [p for p in body["parts"] if p["kind"] == "error"], body["parts"]
            assert (await runtime.agent.ops.virtualservices.get(name)).enabled is False
            assert audit_lines(caplog, action_id) == ["requested", "ok"]  # the log has both

            redis_proc.start()  # an empty Redis (no persistence here): the bot goes on by itself
            after = await http.post("/api/chat", json={"message": "vs list", "conversation_id": CID})
            assert after.status == 200
            assert (await after.json())["outcome"] == "answered"
    finally:
        await runtime.aclose()


async def test_redis_full_while_the_write_is_in_flight_still_says_done(
    sim: RunningSim, proxy: FaultProxy, redis_proc: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="avibot.audit")
    settings = settings_for(proxy.url, redis_proc.url)
    runtime = await runtime_for(settings)
    try:
        async with http_for(runtime, settings) as http:
            name = (await enabled_vs_names(runtime))[0]
            action_id = await propose(http, f"vs disable {name}")
            proxy.delay("PATCH", "/api/virtualservice/", seconds=HELD)
            confirming = asyncio.create_task(confirm(http, action_id))
            await until_sent(proxy, "PATCH /api/virtualservice/")
            redis_proc.fill()  # writes fail with OOM from now on; reads still answer

            status, body = await confirming
            assert status == 200, body
            assert body["outcome"] == "done", body
            assert not [p for p in body["parts"] if p["kind"] == "error"], body["parts"]
            assert (await runtime.agent.ops.virtualservices.get(name)).enabled is False
            # The write-ahead entry made it into the stream before Redis filled up; the result is in
            # the log line only (the stream refused it), and nothing was written twice.
            assert await stream_results(redis_proc, settings.redis.prefix, action_id) == ["requested"]
            assert audit_lines(caplog, action_id) == ["requested", "ok"]

            again = await http.post(f"/api/actions/{action_id}/confirm", json={"conversation_id": CID})
            assert again.status == 200
            assert (await again.json())["outcome"] == "already_settled"
    finally:
        await runtime.aclose()


@pytest.mark.parametrize(
    ("fault", "command", "outcome", "audited"),
    [
        ("drop", "vs disable {vs}", "done", "ok"),
        ("delay", "vs disable {vs}", "done", "ok"),
        ("status", "vs disable {vs}", "failed", "error"),
        ("drop-post", "vs scaleout {vs}", "unknown", "unknown"),
    ],
)
async def test_the_api_says_how_a_write_whose_reply_was_lost_ended(
    sim: RunningSim,
    proxy: FaultProxy,
    redis_url: str,
    fault: str,
    command: str,
    outcome: str,
    audited: str,
) -> None:
    settings = settings_for(proxy.url, redis_url, avi_timeout=1.0)
    runtime = await runtime_for(settings)
    try:
        async with http_for(runtime, settings) as http:
            name = (await enabled_vs_names(runtime))[0]
            action_id = await propose(http, command.format(vs=name))
            if fault == "drop":
                proxy.drop("PATCH", "/api/virtualservice/")
            elif fault == "delay":
                proxy.delay("PATCH", "/api/virtualservice/", seconds=2.5)  # past the 1 s timeout
            elif fault == "status":
                proxy.answer("PATCH", "/api/virtualservice/", status=503)
            else:
                proxy.drop("POST", "/api/virtualservice/")

            status, body = await confirm(http, action_id)

            assert status == 200, body
            assert body["outcome"] == outcome, body
            entries = [e for e in await runtime.agent.audit.recent(10) if e.action_id == action_id]
            assert [e.result for e in entries] == [audited, "requested"]
            again = await http.post(f"/api/actions/{action_id}/confirm", json={"conversation_id": CID})
            assert (await again.json())["outcome"] == "already_settled"  # never sent twice
    finally:
        await runtime.aclose()
