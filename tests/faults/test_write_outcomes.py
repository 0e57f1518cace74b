"""A confirmed write is reported as it really ended on the controller, whatever happened to its reply.

The real bot (`build_runtime`, as `avibot serve` builds it, with a real redis-server) talks to the
simulator through a fault proxy that loses, delays or refuses one request. A write is never sent twice;
when its answer is lost the bot reads the object back and says done, failed or unknown accordingly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from avi.client import AviClient
from avi.errors import AviOutcomeUnknown, AviUnavailableError
from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from bot.history import HistorySettings
from bot.model_loop import AgentSettings
from bot.permissions import AccessSettings
from bot.types import ErrorPart, FactsPart, Inbound, Outcome, Role, TurnResult, User
from llm.settings import LLMSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.fault_proxy import FaultProxy

ADMIN = User(id="U-admin", name="adam")
CLIENT_TIMEOUT = 1.0  # seconds; the delayed reply comes well after it


@pytest.fixture
async def proxy(sim: RunningSim) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(sim.url) as running:
        yield running


@pytest.fixture
async def runtime(proxy: FaultProxy, redis_url: str) -> AsyncIterator[Runtime]:
    settings = Settings(
        server=ServerSettings(),
        avi=AviSettings(
            host=proxy.url, username=SIM_USERNAME, password=SecretStr(SIM_PASSWORD), timeout=CLIENT_TIMEOUT
        ),
        llm=LLMSettings(host="http://127.0.0.1:9", model="llama3.1:8b", timeout=5),
        log=LogSettings(),
        redis=RedisSettings(url=redis_url),
        history=HistorySettings(),
        access=AccessSettings(users={"slack:U-admin": Role.ADMIN}),
        agent=AgentSettings(),
    )
    built = await build_runtime(settings, use_llm=False)
    yield built
    await built.aclose()


def ask(text: str) -> Inbound:
    return Inbound(platform="slack", conversation_key="slack:T1:C1:1.1", channel="C1", user=ADMIN, text=text)


async def an_enabled_vs(runtime: Runtime) -> str:
    return next(v.name for v in await runtime.agent.ops.virtualservices.list() if v.enabled)


async def propose(runtime: Runtime, text: str) -> str:
    proposed = await runtime.turns.run(ask(text))
    assert proposed.action is not None, proposed.reply.text
    return proposed.action.id


async def confirm(runtime: Runtime, action_id: str) -> TurnResult:
    return await runtime.turns.settle("confirm", action_id, ask("confirm"))


async def assert_settled_once(runtime: Runtime, action_id: str) -> None:
    again = await confirm(runtime, action_id)
    assert again.outcome is Outcome.ALREADY_SETTLED, again.reply.text
    assert "already confirmed" in again.reply.text


async def audit_details(runtime: Runtime) -> list[str]:
    return [entry.detail for entry in await runtime.agent.audit.recent(20)]


def sent(sim: RunningSim, method: str, segment: str) -> int:
    return sim.state.stats.by_endpoint[(method, segment)]


async def test_disable_whose_reply_is_dropped_is_done(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    name = await an_enabled_vs(runtime)
    action_id = await propose(runtime, f"vs disable {name}")
    before = sent(sim, "PATCH", "virtualservice")
    proxy.drop("PATCH", "/api/virtualservice/")

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    assert (
        "The controller's answer was lost; reading it back shows the change is in place." in done.reply.text
    )
    assert not any(isinstance(p, ErrorPart) for p in done.reply.parts)
    assert any(isinstance(p, FactsPart) for p in done.reply.parts)  # the VS as the controller shows it
    assert sent(sim, "PATCH", "virtualservice") - before == 1
    assert (await runtime.agent.ops.virtualservices.get(name)).enabled is False
    assert any(d.startswith("verified after a lost reply: ") for d in await audit_details(runtime))
    await assert_settled_once(runtime, action_id)


async def test_disable_whose_reply_comes_too_late_is_done(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    name = await an_enabled_vs(runtime)
    action_id = await propose(runtime, f"vs disable {name}")
    before = sent(sim, "PATCH", "virtualservice")
    proxy.delay("PATCH", "/api/virtualservice/", seconds=CLIENT_TIMEOUT * 2.5)

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    assert "reading it back shows the change is in place" in done.reply.text
    assert sent(sim, "PATCH", "virtualservice") - before == 1
    assert (await runtime.agent.ops.virtualservices.get(name)).enabled is False
    await assert_settled_once(runtime, action_id)


async def test_a_503_that_never_reached_the_controller_failed(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    name = await an_enabled_vs(runtime)
    action_id = await propose(runtime, f"vs disable {name}")
    before = sent(sim, "PATCH", "virtualservice")
    proxy.answer("PATCH", "/api/virtualservice/", status=503)

    failed = await confirm(runtime, action_id)

    assert failed.outcome is Outcome.FAILED, failed.reply.text
    assert "was not applied" in failed.reply.text
    assert "Nothing changed on the controller." in failed.reply.text
    assert sent(sim, "PATCH", "virtualservice") == before  # not retried through the proxy either
    assert (await runtime.agent.ops.virtualservices.get(name)).enabled is True
    assert any(d.startswith("verified after a lost reply: ") for d in await audit_details(runtime))
    await assert_settled_once(runtime, action_id)


async def test_delete_whose_reply_is_dropped_is_done_not_not_found(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    name = await an_enabled_vs(runtime)
    action_id = await propose(runtime, f"vs delete {name}")
    before = sent(sim, "DELETE", "virtualservice")
    proxy.drop("DELETE", "/api/virtualservice/")

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    assert "not found" not in done.reply.text.lower()
    assert "reading it back shows the change is in place" in done.reply.text
    assert sent(sim, "DELETE", "virtualservice") - before == 1
    assert await runtime.agent.ops.client.get_by_name("virtualservice", name) is None
    await assert_settled_once(runtime, action_id)


async def test_scale_out_whose_reply_is_dropped_is_unknown(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    name = await an_enabled_vs(runtime)
    action_id = await propose(runtime, f"vs scaleout {name}")
    before = sent(sim, "POST", "virtualservice")
    proxy.drop("POST", "/api/virtualservice/")

    unknown = await confirm(runtime, action_id)

    assert unknown.outcome is Outcome.UNKNOWN, unknown.reply.text
    assert "The controller did not confirm" in unknown.reply.text
    assert f"Check the service engines of virtual service {name} on the controller before trying again." in (
        unknown.reply.text
    )
    assert sent(sim, "POST", "virtualservice") - before == 1
    assert any(d.startswith("outcome unknown: ") for d in await audit_details(runtime))
    await assert_settled_once(runtime, action_id)


# -- the other writes, through the same bot ---------------------------------------------------------


async def a_pool_with_an_enabled_server(runtime: Runtime) -> tuple[str, str]:
    ops = runtime.agent.ops
    for summary in await ops.pools.list():
        pool = await ops.pools.get(summary.name)
        for server in pool.servers:
            if server.enabled:
                return pool.name, server.ip
    raise AssertionError("no pool with an enabled server in the simulator")


async def test_pool_server_disable_whose_put_reply_is_dropped_is_done_and_sent_once(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    pool, ip = await a_pool_with_an_enabled_server(runtime)
    action_id = await propose(runtime, f"pool disable-server {pool} {ip}")
    before = sent(sim, "PUT", "pool")
    proxy.drop("PUT", "/api/pool/")

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    assert "reading it back shows the change is in place" in done.reply.text
    assert sent(sim, "PUT", "pool") - before == 1  # a PUT is not sent twice either
    servers = (await runtime.agent.ops.pools.get(pool)).servers
    assert all(not s.enabled for s in servers if s.ip == ip)
    await assert_settled_once(runtime, action_id)


async def test_pool_add_server_refused_with_503_failed(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    pool, _ = await a_pool_with_an_enabled_server(runtime)
    action_id = await propose(runtime, f"pool addserver {pool} 10.99.0.7")
    proxy.answer("PATCH", "/api/pool/", status=503)

    failed = await confirm(runtime, action_id)

    assert failed.outcome is Outcome.FAILED, failed.reply.text
    assert "Nothing changed on the controller." in failed.reply.text
    assert all(s.ip != "10.99.0.7" for s in (await runtime.agent.ops.pools.get(pool)).servers)


async def test_pool_create_whose_reply_is_dropped_is_done(proxy: FaultProxy, runtime: Runtime) -> None:
    action_id = await propose(runtime, "pool create lost-reply-pool 10.98.0.1 10.98.0.2 port 8080")
    proxy.drop("POST", "/api/pool")

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    assert any(isinstance(p, FactsPart) for p in done.reply.parts)
    assert len((await runtime.agent.ops.pools.get("lost-reply-pool")).servers) == 2


async def test_vs_create_whose_vip_post_got_a_503_failed_and_left_nothing(
    proxy: FaultProxy, runtime: Runtime
) -> None:
    action_id = await propose(runtime, "vs create lost-vs 10.97.0.10 port 443 ssl")
    proxy.answer("POST", "/api/vsvip", status=503)

    failed = await confirm(runtime, action_id)

    assert failed.outcome is Outcome.FAILED, failed.reply.text
    client = runtime.agent.ops.client
    assert await client.get_by_name("virtualservice", "lost-vs") is None
    assert await client.get_by_name("vsvip", "vsvip-lost-vs") is None


async def test_vs_create_whose_reply_is_dropped_is_done(proxy: FaultProxy, runtime: Runtime) -> None:
    action_id = await propose(runtime, "vs create lost-vs 10.97.0.11 port 80")
    proxy.drop("POST", "/api/virtualservice")

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    vs = await runtime.agent.ops.virtualservices.get("lost-vs")
    assert vs.vsvip is not None  # the cleanup of a "failed" create did not take its VIP away


async def test_generic_delete_whose_reply_is_dropped_is_done(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    created = await runtime.agent.ops.client.post("/api/pool", {"name": "generic-lost"})
    path = f"/api/pool/{created['uuid']}"
    # Proposed as the model would (the `api` command drops the /api prefix today: a parser bug).
    turn = runtime.agent._turn(ask("delete it"))
    inv = await runtime.agent.invoker.invoke(
        turn, "execute_generic_operation", {"method": "DELETE", "path": path}
    )
    assert inv.pending is not None, inv.error
    action_id = inv.pending.id
    before = sent(sim, "DELETE", "pool")
    proxy.drop("DELETE", path)

    done = await confirm(runtime, action_id)

    assert done.outcome is Outcome.DONE, done.reply.text
    assert sent(sim, "DELETE", "pool") - before == 1
    assert await runtime.agent.ops.client.get_by_name("pool", "generic-lost") is None


async def test_a_read_back_that_fails_too_leaves_the_outcome_unknown(
    sim: RunningSim, proxy: FaultProxy, runtime: Runtime
) -> None:
    name = await an_enabled_vs(runtime)
    action_id = await propose(runtime, f"vs disable {name}")
    proxy.drop("PATCH", "/api/virtualservice/")
    proxy.answer("GET", "/api/virtualservice-inventory", status=503, times=100)

    unknown = await confirm(runtime, action_id)

    assert unknown.outcome is Outcome.UNKNOWN, unknown.reply.text
    assert f"Check virtual service {name} on the controller before trying again." in unknown.reply.text
    await assert_settled_once(runtime, action_id)


# -- the client's rule: a write is sent once, and says whether it may have landed -----------------


def client_for(url: str, **settings: Any) -> AviClient:
    values: dict[str, Any] = {
        "host": url,
        "username": SIM_USERNAME,
        "password": SecretStr(SIM_PASSWORD),
        "timeout": CLIENT_TIMEOUT,
        "retries": 2,
    }
    values.update(settings)
    return AviClient(AviSettings(**values), retry_backoff=0.01)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_write_whose_reply_is_dropped_is_sent_once_and_outcome_unknown(
    sim: RunningSim, proxy: FaultProxy, method: str
) -> None:
    proxy.drop(method, "/api/pool", times=10)
    async with client_for(proxy.url) as client:
        pool = (
            await client.post("/api/pool", {"name": f"once-{method.lower()}"}) if method != "POST" else None
        )
        path = "/api/pool" if pool is None else f"/api/pool/{pool['uuid']}"
        proxy.faults[0].fired = 0
        body = {"name": "once-post"} if method == "POST" else {"replace": {"description": "x"}}
        with pytest.raises(AviOutcomeUnknown) as info:
            await client.request(method, path, json=None if method == "DELETE" else body)
    assert (info.value.method, info.value.path) == (method, path)
    assert "after the request was sent" in info.value.message
    assert [line for line in proxy.seen if line.startswith(f"{method} ") and "drop" in line] == [
        f"{method} {path} drop"
    ]


async def test_a_write_past_the_timeout_is_outcome_unknown(sim: RunningSim, proxy: FaultProxy) -> None:
    proxy.delay("POST", "/api/pool", seconds=CLIENT_TIMEOUT * 2.5)
    async with client_for(proxy.url) as client:
        with pytest.raises(AviOutcomeUnknown, match="did not answer in time after the request was sent"):
            await client.post("/api/pool", {"name": "slow-pool"})
    assert sim.state.stats.by_endpoint[("POST", "pool")] == 1


async def test_a_5xx_to_a_write_is_outcome_unknown_and_not_retried(proxy: FaultProxy) -> None:
    proxy.answer("DELETE", "/api/pool/", status=502, times=10)
    async with client_for(proxy.url) as client:
        with pytest.raises(AviOutcomeUnknown) as info:
            await client.delete("/api/pool/pool-00000000-0000-4000-8000-000000000000")
    assert info.value.status == 502
    assert sum(1 for line in proxy.seen if line.startswith("DELETE ")) == 1


async def test_a_write_that_could_not_connect_is_plainly_unavailable(proxy: FaultProxy) -> None:
    async with client_for(proxy.url) as client:
        await client.login()
        await proxy.aclose()  # nothing listens on the port any more: connection refused
        with pytest.raises(AviUnavailableError) as info:
            await client.patch("/api/pool/pool-1", {"replace": {"description": "x"}})
    assert not isinstance(info.value, AviOutcomeUnknown)
    assert "unreachable" in info.value.message


async def test_reads_are_still_retried(sim: RunningSim, proxy: FaultProxy) -> None:
    proxy.drop("GET", "/api/pool", times=2)
    async with client_for(proxy.url) as client:
        body = await client.get("/api/pool")
    assert body["count"] >= 1
    assert [line.split()[-1] for line in proxy.seen if line.startswith("GET /api/pool")] == [
        "drop",
        "drop",
        "forwarded",
    ]
