"""The channel-neutral turn (bot/turns.py): de-dup that fails open, order per conversation across
replicas, explicit outcomes and visibility, and observers told of every turn.

Real parts: the simulator over HTTP, a real redis-server, the fake Ollama through the real client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.dedup import RedisDeduper
from bot.events import ActionEvent, Event, ModelCalled, ToolCalled, TurnEnded, TurnStarted
from bot.serial import KeyedLock
from bot.turns import Turns
from bot.types import Delta, Outcome, TurnResult, Visibility
from tests.support.agent_env import ADMIN, VIEWER, MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


def turns_for(env: object, redis: aioredis.Redis | None) -> Turns:
    agent = env.agent  # type: ignore[attr-defined]
    if redis is None:
        return Turns(agent)
    return Turns(agent, deduper=RedisDeduper(redis, prefix="t:"), locks=KeyedLock(redis, prefix="t:"))


async def test_a_redelivered_event_is_answered_once_on_any_replica(make: MakeAgent) -> None:
    first, second = await make(), await make()
    a, b = turns_for(first, first.redis), turns_for(second, second.redis)
    assert await a.first_delivery("slack:evt:Ev1")
    assert not await b.first_delivery("slack:evt:Ev1")  # the other replica saw it first
    assert await b.first_delivery("slack:evt:Ev2")


async def test_de_dup_fails_open_with_a_log_line_when_the_store_is_down(
    make: MakeAgent, caplog: pytest.LogCaptureFixture
) -> None:
    env = await make()
    dead = aioredis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    try:
        turns = Turns(env.agent, deduper=RedisDeduper(dead))
        with caplog.at_level(logging.WARNING, logger="avibot.turns"):
            assert await turns.first_delivery("teams:act:1")
            assert await turns.first_delivery("teams:act:1")  # answering twice beats never answering
    finally:
        await dead.aclose()
    assert "de-dup unavailable" in caplog.text


async def test_turns_of_one_conversation_run_in_order_across_replicas(
    make: MakeAgent, fake: FakeOllama
) -> None:
    first, second = await make(fake.url), await make(fake.url)
    a, b = turns_for(first, first.redis), turns_for(second, second.redis)
    fake.script(Reply.say("first answer", delay=0.6), Reply.say("second answer"), Reply.say("elsewhere"))
    finished: list[str] = []

    async def ask(turns: Turns, text: str, key: str) -> None:
        result = await turns.run(first.inbound(text, key=key))
        finished.append(result.reply.text)

    started = time.monotonic()
    one = asyncio.create_task(ask(a, "how are the pools?", "slack:T1:C1:1.1"))
    await asyncio.sleep(0.15)  # the first turn holds the conversation's lock (and is waiting on the model)
    two = asyncio.create_task(ask(b, "and the virtual services?", "slack:T1:C1:1.1"))
    await asyncio.gather(one, two)
    assert finished == ["first answer", "second answer"]
    assert time.monotonic() - started >= 0.6
    history = await first.agent.conversation("slack:T1:C1:1.1")
    assert [m["content"] for m in history if m["role"] == "user"] == [
        "how are the pools?",
        "and the virtual services?",
    ]


async def test_results_say_how_the_turn_ended_and_who_sees_it(make: MakeAgent) -> None:
    env = await make()  # command mode: no model
    turns = turns_for(env, env.redis)
    vs = next(v for v in await env.ops.virtualservices.list() if v.enabled)

    listed = await turns.run(env.inbound("vs list"))
    assert (listed.outcome, listed.visibility) == (Outcome.ANSWERED, Visibility.EVERYONE)
    helped = await turns.run(env.inbound("help"))
    assert helped.visibility is Visibility.ASKER
    usage = await turns.run(env.inbound("vs show"))
    assert usage.visibility is Visibility.ASKER

    proposed = await turns.run(env.inbound(f"vs disable {vs.name}"))
    assert proposed.outcome is Outcome.PENDING
    assert proposed.action is not None
    refused = await turns.settle("confirm", proposed.action.id, env.inbound("", user=VIEWER))
    assert (refused.outcome, refused.visibility) == (Outcome.REFUSED, Visibility.ASKER)
    done = await turns.settle("confirm", proposed.action.id, env.inbound("", user=ADMIN))
    assert done.outcome is Outcome.DONE
    again = await turns.settle("cancel", proposed.action.id, env.inbound("", user=ADMIN))
    assert again.outcome is Outcome.ALREADY_SETTLED
    gone = await turns.settle("confirm", "no-such-action-id", env.inbound(""))
    assert gone.outcome is Outcome.EXPIRED


def test_visibility_is_known_before_the_turn_runs() -> None:
    assert Turns.visibility_of("") is Visibility.ASKER  # empty means help
    assert Turns.visibility_of("help pools") is Visibility.ASKER
    assert Turns.visibility_of("vs show") is Visibility.ASKER  # a usage error
    assert Turns.visibility_of("vs list") is Visibility.EVERYONE
    assert Turns.visibility_of("which pools are down?") is Visibility.EVERYONE


async def test_observers_see_turns_model_calls_tools_and_actions(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    seen: list[Event] = []
    env.agent.observers.subscribe(seen.append)
    turns = turns_for(env, env.redis)
    vs = next(v for v in await env.ops.virtualservices.list() if v.enabled)
    fake.script(
        Reply.call("get_virtual_service", {"name": vs.name}),
        Reply.call("invented_tool", {}),
        Reply.call("disable_virtual_service", {"name": vs.name}),
        Reply.say("Please confirm."),
    )
    events = [e async for e in turns.stream(env.inbound(f"look at {vs.name} and disable it", user=ADMIN))]
    assert isinstance(events[-1], TurnResult)
    assert all(isinstance(e, Delta) for e in events[:-1])

    kinds = [type(e) for e in seen]
    assert kinds[0] is TurnStarted
    assert isinstance(seen[-1], TurnEnded)
    assert seen[-1].outcome is Outcome.PENDING
    assert seen[-1].mode == "llm"
    assert [e.tool for e in seen if isinstance(e, ToolCalled)] == [
        "get_virtual_service",
        "unknown",  # a made-up name never becomes a metrics label
        "disable_virtual_service",
    ]
    calls = [e for e in seen if isinstance(e, ModelCalled)]
    assert len(calls) == 4
    assert all(c.ok and c.prompt_tokens > 0 for c in calls)
    assert [e.event for e in seen if isinstance(e, ActionEvent)] == ["proposed"]


async def test_an_observer_that_raises_does_not_break_the_turn(make: MakeAgent) -> None:
    env = await make()

    def broken(event: Event) -> None:
        raise RuntimeError("observer bug")

    env.agent.observers.subscribe(broken)
    result = await turns_for(env, None).run(env.inbound("vs list"))
    assert result.outcome is Outcome.ANSWERED


async def test_drain_cuts_a_hung_question_short_with_a_message_and_lets_a_write_finish(
    make: MakeAgent, fake: FakeOllama
) -> None:
    env = await make(fake.url)
    turns = turns_for(env, env.redis)
    vs = next(v for v in await env.ops.virtualservices.list() if v.enabled)
    proposed = await turns.run(env.inbound(f"vs disable {vs.name}"))
    assert proposed.action is not None
    fake.script(Reply.say("much too late", delay=30.0))
    question = asyncio.create_task(turns.run(env.inbound("how are the pools?", key="slack:T1:C1:2.2")))
    await asyncio.sleep(0.2)  # the question waits on the model
    write = asyncio.create_task(turns.settle("confirm", proposed.action.id, env.inbound("")))
    await asyncio.sleep(0)  # the write has started when the drain begins
    started = time.monotonic()
    await turns.drain(grace_seconds=0.5)
    assert time.monotonic() - started < 3.0
    cut = await question
    assert cut.outcome is Outcome.FAILED
    assert "restarting" in cut.reply.text
    done = await write
    assert done.outcome is Outcome.DONE  # a confirmed write is never cut short
    assert (await env.ops.virtualservices.get(vs.name)).enabled is False
    refused = await turns.run(env.inbound("vs list"))  # no new turn after the drain began
    assert "restarting" in refused.reply.text
