"""What a person reads has no tool names: a refusal, a wrong name or a bad value is said in words and
commands (`pool list`), and a change that is already in place is not shown as a failure. The model
keeps reading tool names (`Invocation.for_model`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.tools import build_catalogue
from bot.types import ErrorPart, Reply, TextPart
from bot.wording import for_person
from tests.support.agent_env import OPERATOR, VIEWER, MakeAgent, agent_factory

TOOL_NAMES = sorted(t.name for t in build_catalogue().all())


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


def words(reply: Reply) -> str:
    return " ".join(str(part.model_dump()) for part in reply.parts)


def no_tool_name(text: str) -> None:
    named = [name for name in TOOL_NAMES if name in text]
    assert not named, f"{named} shown to a person: {text}"


async def test_a_refusal_says_the_role_not_the_tool(make: MakeAgent, ops: AviOperations) -> None:
    env = await make()
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    reply = await env.handle(env.inbound(f"vs disable {vs.name}", user=VIEWER))
    errors = [p for p in reply.parts if isinstance(p, ErrorPart)]
    assert errors
    assert "Your role is viewer" in errors[0].message
    assert "Nothing was changed" in errors[0].hint
    no_tool_name(words(reply))


async def test_a_wrong_name_points_to_the_command_that_lists_names(make: MakeAgent) -> None:
    env = await make()
    reply = await env.handle(env.inbound("pool show no-such-pool-anywhere"))
    errors = [p for p in reply.parts if isinstance(p, ErrorPart)]
    assert errors
    assert "`pool list`" in errors[0].hint
    no_tool_name(words(reply))


async def test_a_change_already_in_place_is_not_a_failure(make: MakeAgent, ops: AviOperations) -> None:
    env = await make()
    summary = next(p for p in await ops.pools.list() if p.num_servers_enabled)
    pool = await ops.pools.get(summary.name)
    server = next(s for s in pool.servers if s.enabled)
    reply = await env.handle(env.inbound(f"pool enable-server {pool.name} {server.ip}", user=OPERATOR))
    assert not [p for p in reply.parts if isinstance(p, ErrorPart)]
    said = [p.markdown for p in reply.parts if isinstance(p, TextPart)]
    assert any("already enabled: nothing to do." in s for s in said), said


async def test_bad_values_are_said_with_the_usage(make: MakeAgent) -> None:
    env = await make()
    turn = env.agent._turn(env.inbound("vs list"))
    inv = await env.agent.invoker.invoke(turn, "list_virtual_services", {"limit": "lots"})
    person = inv.person_error()
    assert "limit" in person.message
    assert person.hint.startswith("Usage: vs list")
    no_tool_name(person.message + person.hint)
    assert "list_virtual_services" in inv.for_model()  # the model still reads the tool's name


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_every_tool_name_becomes_words(name: str) -> None:
    text = for_person(f"try {name} next; lb_algorithm stays")
    assert name not in text
    assert "lb_algorithm stays" in text  # a field name is not a tool


async def test_enabling_an_enabled_virtual_service_is_not_a_failure(
    make: MakeAgent, ops: AviOperations
) -> None:
    env = await make()
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    reply = await env.handle(env.inbound(f"vs enable {vs.name}", user=OPERATOR))
    assert not [p for p in reply.parts if isinstance(p, ErrorPart)]
    assert any(
        "already enabled: nothing to do." in p.markdown for p in reply.parts if isinstance(p, TextPart)
    )
