"""`avibot serve` killed (SIGKILL: no drain, no cleanup) while a confirmed write is on its way to the
controller, then started again on the same store: Redis, or the embedded SQLite file when there is no
REDIS_URL. Real processes all through: the server, `avibot audit`, a redis-server, and the fault proxy
in front of the simulator holding the controller's answer.

- The audit already holds the write-ahead `requested` entry (who, what, the diff), with no result:
  exactly what tells an operator to check the object, since the controller did apply it.
- The restarted server has lost nothing: the conversation's history, and a change proposed before
  the crash, which can still be confirmed, once. The change the crash interrupted is never sent again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import RunningSim, ops_for
from tests.faults.serve_process import audit_entries, environment, serve, write_config
from tests.support.fault_proxy import FaultProxy
from tests.support.redis_process import RedisProcess

BOUND = 60.0  # seconds: only so that a hang fails the test instead of blocking the suite
CID = "crash-1"


@pytest.fixture
async def proxy(sim: RunningSim) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(sim.url) as running:
        yield running


async def post(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(path, json=body) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == 200, data
        return data


async def until_sent(proxy: FaultProxy, line: str) -> None:
    deadline = time.monotonic() + BOUND
    while not any(seen.startswith(line) for seen in proxy.seen):
        assert time.monotonic() < deadline, proxy.seen
        await asyncio.sleep(0.01)


async def enabled_names(sim: RunningSim) -> list[str]:
    ops = ops_for(sim)
    try:
        return [v.name for v in await ops.virtualservices.list() if v.enabled]
    finally:
        await ops.client.aclose()


@pytest.mark.parametrize("store", ["redis", "sqlite"])
async def test_a_crash_mid_write_leaves_the_write_ahead_entry_and_loses_nothing(
    sim: RunningSim, proxy: FaultProxy, redis_proc: RedisProcess, tmp_path: Path, store: str
) -> None:
    extra = {"AVIBOT_STATE_DIR": str(tmp_path / "state")}
    if store == "redis":
        extra["REDIS_URL"] = redis_proc.url
    environ = environment(proxy.url, **extra)
    config = write_config(tmp_path / "config.yaml")

    first = await serve(environ, config)
    try:
        assert ("store:      redis" if store == "redis" else "store:      SQLite at") in first.banner
        async with aiohttp.ClientSession(first.url) as http:
            listed = await post(http, "/api/chat", {"message": "vs list", "conversation_id": CID})
            assert listed["outcome"] == "answered"
            cut, kept = (await enabled_names(sim))[:2]
            ask_cut = {"message": f"vs disable {cut}", "conversation_id": CID}
            interrupted = await post(http, "/api/chat", ask_cut)
            waiting = await post(http, "/api/chat", {"message": f"vs disable {kept}", "conversation_id": CID})
            cut_id, kept_id = interrupted["pending_action"]["id"], waiting["pending_action"]["id"]

            patches = sim.state.stats.by_endpoint[("PATCH", "virtualservice")]
            proxy.delay("PATCH", "/api/virtualservice/", seconds=BOUND)  # the answer never comes back
            confirming = asyncio.create_task(
                http.post(f"/api/actions/{cut_id}/confirm", json={"conversation_id": CID})
            )
            await until_sent(proxy, "PATCH /api/virtualservice/")
            await first.kill()
            with pytest.raises(aiohttp.ClientError):
                await asyncio.wait_for(confirming, BOUND)
    finally:
        await first.stop()
    # The controller got the write (and applied it) before the process died.
    assert sim.state.stats.by_endpoint[("PATCH", "virtualservice")] == patches + 1

    proxy.clear()
    second = await serve(environ, config)
    try:
        async with aiohttp.ClientSession(second.url) as http:
            async with http.get("/api/chat/history", params={"conversation_id": CID}) as resp:
                history = await resp.json()
            said = [m["content"] for m in history["messages"] if m["role"] == "user"]
            assert said == ["vs list", f"vs disable {cut}", f"vs disable {kept}"]

            again = await post(http, f"/api/actions/{cut_id}/confirm", {"conversation_id": CID})
            assert again["outcome"] == "already_settled", again  # taken before the crash: never re-sent
            done = await post(http, f"/api/actions/{kept_id}/confirm", {"conversation_id": CID})
            assert done["outcome"] == "done", done  # proposed before the crash, confirmed after it
            twice = await post(http, f"/api/actions/{kept_id}/confirm", {"conversation_id": CID})
            assert twice["outcome"] == "already_settled"
    finally:
        err = await second.stop()
    assert "Traceback" not in err, err
    assert sim.state.stats.by_endpoint[("PATCH", "virtualservice")] == patches + 2
    audit = await audit_entries(environ, config)  # `avibot audit --json`, as an operator reads it
    cut_entries = [e for e in audit if e.get("action_id") == cut_id]
    # The interrupted write: the write-ahead entry (written before the request went out), and no
    # result, since the process died waiting for it; the restarted server neither re-sent nor re-audited it.
    assert [e["result"] for e in cut_entries] == ["requested"], cut_entries
    assert cut_entries[0]["user_id"] == "local"
    assert cut_entries[0]["arguments"] == {"name": cut}
    assert "+ enabled: false" in cut_entries[0]["detail"]
    assert [e["result"] for e in audit if e.get("action_id") == kept_id] == ["requested", "ok"]
