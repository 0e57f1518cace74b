"""update_pool and delete_pool against the simulator over HTTP: through the agent each becomes a pending
action whose diff names only what changes, nothing changes before Confirm and exactly that after; no-ops,
unknown names, pools in use and viewers are refused; after a lost reply the write is read back, never
sent again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from avi.client import AviClient
from avi.operations import AviOperations, PoolCreate, ServerSpec
from avi.settings import AviSettings
from bot.tools import ToolError
from bot.types import ConfirmationPart, ErrorPart, FactsPart, Outcome, Risk
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.agent_env import ADMIN, OPERATOR, VIEWER, AgentEnv, MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama
from tests.support.fault_proxy import FaultProxy
from tests.support.tools_helpers import CATALOGUE, call, context, plan


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


async def ask(env: AgentEnv, fake: FakeOllama, tool: str, args: dict[str, Any], user: Any = OPERATOR) -> Any:
    fake.script(Reply.call(tool, args), Reply.say("Please confirm."))
    return await env.handle(env.inbound(f"please run {tool}", user=user))


def told(fake: FakeOllama) -> dict[str, Any]:
    """What the model was told about its tool call."""
    return json.loads(fake.chat_requests[-1]["messages"][-1]["content"])  # type: ignore[no-any-return]


async def confirm(env: AgentEnv, action_id: str, user: Any = OPERATOR) -> Any:
    done = await env.agent.confirm(action_id, env.inbound(f"confirm {action_id}", user=user))
    assert done.outcome is Outcome.DONE, done.reply
    return done


async def a_pool(
    ops: AviOperations, name: str = "pw-api", monitors: tuple[str, ...] = ("System-HTTP",)
) -> str:
    """A pool no virtual service uses, with known values."""
    await ops.pools.create(
        PoolCreate(
            name=name,
            servers=[ServerSpec(ip="10.77.0.1"), ServerSpec(ip="10.77.0.2", port=8443)],  # type: ignore[arg-type]
            default_server_port=80,
            lb_algorithm="ROUND_ROBIN",
            health_monitors=list(monitors),
        )
    )
    return name


async def a_pool_in_use(ops: AviOperations) -> tuple[str, str]:
    pool = next(p for p in await ops.pools.list() if len(p.virtualservices) == 1)
    return pool.name, pool.virtualservices[0]


def test_the_tools_are_catalogued_with_their_risks_and_lost_reply_handlers() -> None:
    for name, risk in (("update_pool", Risk.WRITE), ("delete_pool", Risk.DESTRUCTIVE)):
        tool = CATALOGUE.get(name)
        assert tool is not None, name
        assert tool.risk is risk
        assert tool.plan is not None
        assert tool.verify is not None
        assert tool.readback is not None
        assert tool.target is not None
    update = CATALOGUE.get("update_pool")
    assert update is not None
    assert set(update.args.model_fields) == {
        "name",
        "new_name",
        "default_server_port",
        "lb_algorithm",
        "attach_health_monitors",
        "detach_health_monitors",
        "enabled",
        "description",
    }
    assert update.target is not None
    assert update.target(update.args.model_validate({"name": "a", "new_name": "b"})) == (
        "pool a (or b, its new name)"
    )


# -- update_pool -----------------------------------------------------------------------------------


async def test_update_pool_is_pending_with_a_field_diff_until_confirmed(
    make: MakeAgent, fake: FakeOllama
) -> None:
    env = await make(fake.url)
    name = await a_pool(env.ops)
    before = await env.ops.pools.get(name)
    change = {
        "name": name,
        "lb_algorithm": "least connections",
        "default_server_port": "8080",
        "attach_health_monitors": "System-TCP",
        "detach_health_monitors": ["System-HTTP"],
        "enabled": True,  # already enabled: not part of the change
        "description": "api backends",
    }
    reply = await ask(env, fake, "update_pool", change)
    action = reply.pending_action
    assert action is not None
    assert action.risk is Risk.WRITE
    assert action.summary == (
        "Change default_server_port, lb_algorithm, health_monitors, description "
        f"of pool {name} (tenant admin)"
    )
    assert action.diff == [
        "- default_server_port: 80",
        "+ default_server_port: 8080",
        "- lb_algorithm: round_robin",
        "+ lb_algorithm: least_connections",
        "- health_monitors: System-HTTP",
        "+ health_monitors: System-TCP",
        "- description: (none)",
        "+ description: api backends",
    ]
    assert isinstance(reply.parts[-1], ConfirmationPart)
    assert (await env.ops.pools.get(name)).config["_last_modified"] == before.config["_last_modified"]

    done = await confirm(env, action.id)
    assert any(isinstance(p, FactsPart) for p in done.reply.parts)  # the pool as the controller has it
    after = await env.ops.pools.get(name)
    assert (after.default_server_port, after.lb_algorithm) == (8080, "LB_ALGORITHM_LEAST_CONNECTIONS")
    assert after.health_monitors == ["System-TCP"]
    assert after.config["description"] == "api backends"
    assert after.enabled is True
    assert [(s.ip, s.port) for s in after.servers] == [("10.77.0.1", None), ("10.77.0.2", 8443)]


async def test_attaching_keeps_the_monitors_the_pool_has(ops: AviOperations) -> None:
    name = await a_pool(ops, monitors=("System-HTTP", "System-Ping"))
    p = await plan(ops, "update_pool", name=name, attach_health_monitors="System-TCP, System-HTTP")
    assert p.diff == [
        "- health_monitors: System-HTTP, System-Ping",
        "+ health_monitors: System-HTTP, System-Ping, System-TCP",
    ]
    await call(ops, "update_pool", name=name, attach_health_monitors="System-TCP")
    assert (await ops.pools.get(name)).health_monitors == ["System-HTTP", "System-Ping", "System-TCP"]
    await call(ops, "update_pool", name=name, detach_health_monitors="System-HTTP,System-Ping,System-TCP")
    assert (await ops.pools.get(name)).health_monitors == []


async def test_a_pool_in_use_names_its_virtual_services_in_the_plan(ops: AviOperations) -> None:
    pool, vs = await a_pool_in_use(ops)
    p = await plan(ops, "update_pool", name=pool, enabled=False)
    assert p.diff == ["- enabled: true", "+ enabled: false", f"  used by: {vs}"]


async def test_rename_then_verify_and_read_back_find_the_new_name(ops: AviOperations) -> None:
    name = await a_pool(ops)
    ctx = context(ops)
    tool = CATALOGUE.get("update_pool")
    assert tool is not None
    assert tool.verify is not None
    assert tool.readback is not None
    args = tool.args.model_validate(
        {"name": name, "new_name": "pw-api-v2", "lb_algorithm": "fastest_response"}
    )
    p = await tool.plan(ctx, args)  # type: ignore[misc]
    assert p.diff[:2] == [f"- name: {name}", "+ name: pw-api-v2"]
    assert await tool.verify(ctx, args) is False  # not applied yet
    result = await tool.run(ctx, args)
    assert result.summary == "Changed name, lb_algorithm of pool pw-api-v2"
    assert await tool.verify(ctx, args) is True
    shown = await tool.readback(ctx, args)
    assert (shown.data["name"], shown.data["lb_algorithm"]) == ("pw-api-v2", "fastest_response")
    assert await ops.client.get_by_name("pool", name) is None
    # run again (as after a lost reply nobody re-sends, but a stale confirm would): nothing is sent
    again = await call(ops, "update_pool", name="pw-api-v2", lb_algorithm="fastest_response")
    assert again.summary == "Pool pw-api-v2 already had those values; nothing was sent"


async def test_update_pool_refuses_no_ops_plainly(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    name = await a_pool(env.ops)
    with pytest.raises(ToolError) as err:
        await plan(
            env.ops, "update_pool", name=name, default_server_port=80, attach_health_monitors="System-HTTP"
        )
    assert err.value.no_op
    assert err.value.message == f"pool {name} already has those values"
    reply = await ask(
        env, fake, "update_pool", {"name": name, "lb_algorithm": "ROUND_ROBIN", "enabled": True}
    )
    assert reply.pending_action is None
    assert "already has those values" in told(fake)["error"]
    with pytest.raises(ToolError, match="say what to change") as err:
        await plan(env.ops, "update_pool", name=name)
    assert not err.value.no_op
    assert "lb_algorithm" in err.value.hint


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        ({"name": "ghost-pool", "enabled": False}, "ghost-pool", "list_pools"),
        (
            {"name": "pw-api", "attach_health_monitors": "System-HTPP"},
            "no health monitor named 'System-HTPP'; close: System-HTTP",
            "list_health_monitors",
        ),
        ({"name": "pw-api", "detach_health_monitors": "hm-nope"}, "no health monitor named 'hm-nope'", ""),
        (
            {"name": "pw-api", "lb_algorithm": "fastest"},
            "unknown lb_algorithm 'fastest'",
            "least_connections",
        ),
        (
            {"name": "pw-api", "new_name": "pw-taken"},
            "a pool named 'pw-taken' already exists",
            "another name",
        ),
        (
            {
                "name": "pw-api",
                "attach_health_monitors": "System-TCP",
                "detach_health_monitors": "System-TCP",
            },
            "attach and to detach",
            "",
        ),
    ],
)
async def test_update_pool_errors_are_said_before_anything_is_pending(
    make: MakeAgent, fake: FakeOllama, args: dict[str, Any], message: str, hint: str
) -> None:
    env = await make(fake.url)
    await a_pool(env.ops)
    await a_pool(env.ops, "pw-taken")
    before = (await env.ops.pools.get("pw-api")).config
    reply = await ask(env, fake, "update_pool", args)
    assert reply.pending_action is None
    error = told(fake)
    assert message in error["error"]
    assert hint in error["hint"]
    assert (await env.ops.pools.get("pw-api")).config == before


# -- delete_pool -----------------------------------------------------------------------------------


async def test_delete_pool_is_for_admins_and_removes_it_once_confirmed(
    make: MakeAgent, fake: FakeOllama
) -> None:
    env = await make(fake.url)
    name = await a_pool(env.ops)
    operator = await ask(env, fake, "delete_pool", {"name": name})
    assert operator.pending_action is None  # a destructive change is for admins
    assert "Not allowed" in told(fake)["error"]

    reply = await ask(env, fake, "delete_pool", {"name": name}, user=ADMIN)
    action = reply.pending_action
    assert action is not None
    assert action.risk is Risk.DESTRUCTIVE
    assert action.summary == f"Delete pool {name} with 2 servers (tenant admin)"
    assert action.diff == [
        f"- pool: {name} (round_robin, default port 80)",
        "- servers: 2 (10.77.0.1:80, 10.77.0.2:8443)",
        "  used by: no virtual services",
        "  stays: health monitor(s) System-HTTP are not deleted",
    ]
    assert await env.ops.client.get_by_name("pool", name) is not None
    for who in (VIEWER, OPERATOR):
        refused = await env.agent.confirm(action.id, env.inbound("confirm", user=who))
        assert refused.outcome is Outcome.REFUSED, who
    done = await confirm(env, action.id, user=ADMIN)
    assert f"Deleted pool {name} (2 servers)" in done.reply.text
    assert await env.ops.client.get_by_name("pool", name) is None
    assert await env.ops.client.get_by_name("healthmonitor", "System-HTTP") is not None


async def test_delete_pool_in_use_is_refused_with_its_users(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    pool, vs = await a_pool_in_use(env.ops)
    reply = await ask(env, fake, "delete_pool", {"name": pool}, user=ADMIN)
    assert reply.pending_action is None
    error = told(fake)
    assert error["error"] == (
        f"pool {pool} is used by virtual service(s) {vs}; the controller refuses to delete a pool in use"
    )
    assert "update_virtual_service" in error["hint"]
    # Should it come to the controller anyway (a VS took the pool after the plan), its refusal is worded.
    with pytest.raises(ToolError) as err:
        await call(env.ops, "delete_pool", name=pool)
    assert err.value.message == (
        f"the controller refused to delete pool {pool}: it is still in use "
        f"(Cannot delete, object is referred by: [VirtualService {vs}])"
    )
    assert await env.ops.client.get_by_name("pool", pool) is not None


async def test_a_pool_in_a_pool_group_is_refused_too(ops: AviOperations) -> None:
    group = (await ops.client.list_all("poolgroup", params={"include_name": True}))[0]
    pool = group["members"][0]["pool_ref"].rsplit("#", 1)[1]
    with pytest.raises(ToolError, match=rf"pool {pool} is used by .*pool group\(s\) {group['name']}"):
        await plan(ops, "delete_pool", name=pool)


async def test_unknown_pool_is_refused_before_anything_is_pending(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    reply = await ask(env, fake, "delete_pool", {"name": "ghost-pool"}, user=ADMIN)
    assert reply.pending_action is None
    error = told(fake)
    assert "ghost-pool" in error["error"]
    assert "list_pools" in error["hint"]


async def test_viewers_may_not_change_or_delete_pools(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    name = await a_pool(env.ops)
    before = (await env.ops.pools.get(name)).config
    for tool, args in (("update_pool", {"name": name, "enabled": False}), ("delete_pool", {"name": name})):
        reply = await ask(env, fake, tool, args, user=VIEWER)
        assert reply.pending_action is None, tool
        assert "Not allowed" in told(fake)["error"], tool
        offered = {t["function"]["name"] for t in fake.chat_requests[-2].get("tools") or []}
        assert tool not in offered
    assert (await env.ops.pools.get(name)).config == before


async def test_delete_verify_and_read_back(ops: AviOperations) -> None:
    name = await a_pool(ops)
    ctx = context(ops)
    tool = CATALOGUE.get("delete_pool")
    assert tool is not None
    assert tool.verify is not None
    assert tool.readback is not None
    args = tool.args.model_validate({"name": name})
    assert await tool.verify(ctx, args) is False
    assert (await tool.readback(ctx, args)).data["name"] == name
    await tool.run(ctx, args)
    assert await tool.verify(ctx, args) is True
    gone = await tool.readback(ctx, args)
    assert gone.summary == f"Pool {name} is no longer on the controller."


# -- a lost reply: read back, never sent again ----------------------------------------------------------


@pytest.fixture
async def proxied(
    sim: RunningSim, redis_url: str, redis_client: aioredis.Redis
) -> AsyncIterator[tuple[FaultProxy, MakeAgent]]:
    async with FaultProxy(sim.url) as proxy:
        settings = AviSettings(
            host=proxy.url, username=SIM_USERNAME, password=SecretStr(SIM_PASSWORD), timeout=2.0
        )
        ops = AviOperations(AviClient(settings, retry_backoff=0.01))
        try:
            async with agent_factory(redis_url, ops) as factory:
                yield proxy, factory
        finally:
            await ops.client.aclose()


@pytest.mark.parametrize(
    ("tool", "args", "method"),
    [
        ("update_pool", {"lb_algorithm": "least_load", "new_name": "pw-lost"}, "PATCH"),
        ("delete_pool", {}, "DELETE"),
    ],
)
async def test_a_write_whose_reply_is_lost_is_read_back(
    sim: RunningSim,
    proxied: tuple[FaultProxy, MakeAgent],
    fake: FakeOllama,
    tool: str,
    args: dict[str, Any],
    method: str,
) -> None:
    proxy, make_agent = proxied
    env = await make_agent(fake.url)
    name = await a_pool(env.ops)
    reply = await ask(env, fake, tool, {"name": name, **args}, user=ADMIN)
    assert reply.pending_action is not None
    before = sim.state.stats.by_endpoint[(method, "pool")]
    proxy.drop(method, "/api/pool/")
    done = await env.agent.confirm(reply.pending_action.id, env.inbound("confirm", user=ADMIN))
    assert done.outcome is Outcome.DONE, done.reply.text
    assert "answer was lost; reading it back shows the change is in place" in done.reply.text
    assert not any(isinstance(p, ErrorPart) for p in done.reply.parts)
    assert sim.state.stats.by_endpoint[(method, "pool")] - before == 1  # sent once
    if tool == "update_pool":
        assert (await env.ops.pools.get("pw-lost")).lb_algorithm == "LB_ALGORITHM_LEAST_LOAD"
        assert any(isinstance(p, FactsPart) for p in done.reply.parts)
    else:
        assert await env.ops.client.get_by_name("pool", name) is None
        assert f"Pool {name} is no longer on the controller." in done.reply.text
