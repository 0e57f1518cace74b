"""Redis stalls: a real redis-server that takes nobody's command for a while (`DEBUG SLEEP`, as a
stuck fork, a swapping host or a full network buffer does) while the bot, built as `avibot serve`
builds it, answers turns, proposals, confirmations and health checks.

- A stall shorter than the client's socket timeout only delays: every turn answers after it, whole
  (history kept), and a write confirmed meanwhile is done and audited once.
- A stall longer than the socket timeout costs each Redis call that timeout, not the stall: turns
  answer while Redis is still asleep, saying the history is unavailable; nothing is proposed or run
  without the store; health says Redis is down. When Redis wakes, the same bot works again, with no
  restart: the confirmation that could not be checked runs now.
"""

from __future__ import annotations

import asyncio
from typing import Any

from avibot.factory import Runtime
from bot.agent import HISTORY_DOWN, STORE_DOWN
from bot.types import Outcome, TurnResult
from tests.conftest import RunningSim
from tests.faults.harness import ask, enabled_vs_names, http_for, runtime_for, settings_for
from tests.support.redis_process import RedisProcess

BOUND = 60.0  # seconds: only so that a hang fails the test instead of blocking the suite
SHORT_TIMEOUT = 1.0  # socket timeout for the long-stall tests (set in the URL, as a deployment may)
LONG_STALL = 8.0  # far longer than everything a turn does at SHORT_TIMEOUT per Redis call


async def bounded(*turns: Any) -> list[Any]:
    return list(await asyncio.wait_for(asyncio.gather(*turns), BOUND))


def socket_timeout(runtime: Runtime) -> float | None:
    kwargs = runtime.redis.connection_pool.connection_kwargs
    return None if kwargs.get("socket_timeout") is None else float(kwargs["socket_timeout"])


def assert_answered(result: TurnResult) -> None:
    assert result.outcome is Outcome.ANSWERED, result.reply.text
    assert "Something went wrong" not in result.reply.text
    assert result.reply.text.count(HISTORY_DOWN) <= 1  # said once, however many calls failed


async def audit_of(runtime: Runtime, action_id: str) -> list[str]:
    return [e.result for e in await runtime.agent.audit.recent(50) if e.action_id == action_id]


async def test_the_configured_client_bounds_every_redis_call(
    sim: RunningSim, redis_proc: RedisProcess
) -> None:
    """`avibot serve`'s Redis client has a finite socket timeout: a stalled server costs a call that
    long at most (redis-py's `from_url` default would be 5 s; None would wait for the stall)."""
    runtime = await runtime_for(settings_for(sim.url, redis_proc.url))
    try:
        timeout = socket_timeout(runtime)
        assert timeout is not None
        assert 0 < timeout <= 10, timeout
        connect = runtime.redis.connection_pool.connection_kwargs.get("socket_connect_timeout")
        assert connect is not None
        assert 0 < float(connect) <= 10, connect
    finally:
        await runtime.aclose()


async def test_a_stall_shorter_than_the_socket_timeout_only_delays(
    sim: RunningSim, redis_proc: RedisProcess
) -> None:
    runtime = await runtime_for(settings_for(sim.url, redis_proc.url))  # the shipped timeouts
    try:
        timeout = socket_timeout(runtime)
        assert timeout is not None
        stall_seconds = min(3.0, timeout * 0.6)
        keys = [f"slack:T1:C1:{i}.0" for i in range(3)]
        for key in keys:
            assert_answered(await runtime.turns.run(ask("vs list", key=key)))
        name = (await enabled_vs_names(runtime))[0]
        proposed = await runtime.turns.run(ask(f"vs disable {name}", key="slack:T1:C9:9.0"))
        assert proposed.action is not None

        sleeper = redis_proc.stall(stall_seconds)
        *turns, confirmed = await bounded(
            *(runtime.turns.run(ask("pool list", key=key)) for key in keys),
            runtime.turns.run(ask("vs list", key="slack:T1:C1:new.0")),
            runtime.turns.settle("confirm", proposed.action.id, ask("confirm", key="slack:T1:C9:9.0")),
        )
        redis_proc.wait_awake(sleeper)

        for turn in turns:
            assert_answered(turn)
            assert HISTORY_DOWN not in turn.reply.text  # no call timed out: they waited, then went on
        assert confirmed.outcome is Outcome.DONE, confirmed.reply.text
        assert (await runtime.agent.ops.virtualservices.get(name)).enabled is False
        assert await audit_of(runtime, proposed.action.id) == ["ok", "requested"]  # once each
        for key in keys:  # nothing lost: both turns of each conversation are in its history
            said = [m["content"] for m in await runtime.turns.history(key) if m["role"] == "user"]
            assert said == ["vs list", "pool list"]
    finally:
        await runtime.aclose()


async def test_a_stall_longer_than_the_socket_timeout_costs_the_timeout_not_the_stall(
    sim: RunningSim, redis_proc: RedisProcess
) -> None:
    settings = settings_for(sim.url, f"{redis_proc.url}?socket_timeout={SHORT_TIMEOUT:g}")
    runtime = await runtime_for(settings)
    try:
        assert socket_timeout(runtime) == SHORT_TIMEOUT
        first, second = (await enabled_vs_names(runtime))[:2]
        warm = "slack:T1:C1:1.0"
        assert_answered(await runtime.turns.run(ask("vs list", key=warm)))
        proposed = await runtime.turns.run(ask(f"vs disable {first}", key="slack:T1:C9:9.0"))
        assert proposed.action is not None
        async with http_for(runtime, settings) as http:
            sleeper = redis_proc.stall(LONG_STALL)

            async def over_http() -> tuple[int, Any, Any]:
                chat = await http.post("/api/chat", json={"message": "se list", "conversation_id": "s1"})
                health = await (await http.get("/api/health")).json()
                return chat.status, await chat.json(), health

            old, new, refused, unchecked, (status, chat, health) = await bounded(
                runtime.turns.run(ask("pool list", key=warm)),
                runtime.turns.run(ask("vs list", key="slack:T1:C1:2.0")),
                runtime.turns.run(ask(f"vs disable {second}", key="slack:T1:C1:3.0")),
                runtime.turns.settle("confirm", proposed.action.id, ask("confirm", key="slack:T1:C9:9.0")),
                over_http(),
            )
            still_asleep = sleeper.poll() is None  # all of that came back before Redis woke up
            redis_proc.wait_awake(sleeper)
            assert still_asleep, "the turns waited for the stall instead of the socket timeout"

            for turn in (old, new):
                assert_answered(turn)
                assert HISTORY_DOWN in turn.reply.text
            assert refused.action is None
            assert "could not be held for confirmation" in refused.reply.text
            assert unchecked.outcome is Outcome.FAILED
            assert STORE_DOWN in unchecked.reply.text
            assert status == 200, chat
            assert chat["outcome"] == "answered"
            assert HISTORY_DOWN in chat["text"]
            assert health["checks"]["redis"]["status"] == "down"
            assert health["status"] == "degraded"
            for name in (first, second):
                assert (await runtime.agent.ops.virtualservices.get(name)).enabled is True

            # Awake again: the same bot, no restart.
            health = await (await http.get("/api/health")).json()
            assert health["checks"]["redis"]["status"] == "ok", health
            later = await asyncio.wait_for(runtime.turns.run(ask("vs list", key="slack:T1:C1:4.0")), BOUND)
            assert_answered(later)
            assert HISTORY_DOWN not in later.reply.text
            done = await asyncio.wait_for(
                runtime.turns.settle("confirm", proposed.action.id, ask("confirm", key="slack:T1:C9:9.0")),
                BOUND,
            )
            assert done.outcome is Outcome.DONE, done.reply.text  # it was never taken: it runs now
            assert (await runtime.agent.ops.virtualservices.get(first)).enabled is False
    finally:
        await runtime.aclose()


async def test_after_a_stall_the_conversation_is_not_held_by_a_lock_nobody_holds(
    sim: RunningSim, redis_proc: RedisProcess
) -> None:
    settings = settings_for(sim.url, f"{redis_proc.url}?socket_timeout={SHORT_TIMEOUT:g}")
    runtime = await runtime_for(settings)
    try:
        key = "slack:T1:C1:1.0"
        assert_answered(await runtime.turns.run(ask("vs list", key=key)))  # a pooled connection
        sleeper = redis_proc.stall(SHORT_TIMEOUT * 4)
        during = await asyncio.wait_for(runtime.turns.run(ask("pool list", key=key)), BOUND)
        redis_proc.wait_awake(sleeper)
        assert_answered(during)
        # The follow-up in the same thread, after Redis is back: it must not wait for anything.
        after = await asyncio.wait_for(runtime.turns.run(ask("se list", key=key)), 15.0)
        assert_answered(after)
    finally:
        await runtime.aclose()
