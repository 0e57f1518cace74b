"""Data first: a read's table is streamed before the model's summary, so the person sees the answer
after one model call instead of two (bot/model_loop.py, `agent.data_first`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.types import Delta, TablePart, TextPart, TurnResult
from tests.support.agent_env import MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama

SUMMARY = "Two pools have servers down."


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


async def test_the_table_arrives_before_the_models_summary(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url, data_first=True)
    fake.script(Reply.call("list_unhealthy_pools", {}), Reply.say(SUMMARY))
    events = [e async for e in env.agent.stream(env.inbound("which pools have unhealthy servers?"))]

    result = events[-1]
    assert isinstance(result, TurnResult)
    table = next(p for p in result.reply.parts if isinstance(p, TablePart))
    deltas = [e.text for e in events if isinstance(e, Delta)]
    first_row = table.rows[0][0]
    early = next(i for i, text in enumerate(deltas) if first_row in text)
    summary = next(i for i, text in enumerate(deltas) if SUMMARY.split()[0] in text)
    assert early < summary  # the data was on screen before the model's first word
    assert "".join(deltas[early + 1 :]) == SUMMARY  # and the model's text is streamed untouched
    assert result.reply.parts[0] == TextPart(markdown=SUMMARY)  # the reply itself is as before
    assert len(fake.chat_requests) == 2


async def test_data_first_is_off_by_default(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    fake.script(Reply.call("list_unhealthy_pools", {}), Reply.say(SUMMARY))
    events = [e async for e in env.agent.stream(env.inbound("which pools have unhealthy servers?"))]
    assert "".join(e.text for e in events if isinstance(e, Delta)) == SUMMARY


async def test_a_write_is_not_streamed_early(make: MakeAgent, fake: FakeOllama, ops: AviOperations) -> None:
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    env = await make(fake.url, data_first=True)
    fake.script(Reply.call("disable_virtual_service", {"name": vs.name}), Reply.say("Please confirm."))
    events = [e async for e in env.agent.stream(env.inbound(f"disable {vs.name}"))]
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "Please confirm."
