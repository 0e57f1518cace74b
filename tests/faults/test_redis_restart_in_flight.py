"""Redis restarts while turns are in flight: each has taken its conversation's lock in the Redis that is
about to go, and waits on the controller (held by the fault proxy) while a real redis-server is killed
and started again. Those turns answer (at worst with the one sentence about the history); the turns
after them answer as if nothing had happened; nobody restarts the bot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.agent import HISTORY_DOWN
from bot.types import Outcome
from tests.conftest import RunningSim
from tests.faults.harness import ask, enabled_vs_names, runtime_for, settings_for
from tests.support.fault_proxy import FaultProxy
from tests.support.redis_process import RedisProcess

BOUND = 30.0  # seconds: only so that a hang fails the test instead of blocking the suite
IN_FLIGHT = 10
HELD = 1.0  # seconds the controller's answer to each in-flight read is held


@pytest.fixture
async def proxy(sim: RunningSim) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(sim.url) as running:
        yield running


def held(proxy: FaultProxy) -> int:
    return sum(
        1 for line in proxy.seen if line.startswith("GET /api/virtualservice-inventory") and "delay" in line
    )


async def test_a_restart_costs_at_most_the_turns_in_flight(
    sim: RunningSim, proxy: FaultProxy, redis_proc: RedisProcess
) -> None:
    runtime = await runtime_for(settings_for(proxy.url, redis_proc.url))
    try:
        keys = [f"slack:T1:C1:{i}.0" for i in range(IN_FLIGHT)]
        names = (await enabled_vs_names(runtime))[:IN_FLIGHT]
        assert len(names) == IN_FLIGHT
        for key in keys:  # the pool holds connections to the server that is about to go away
            assert (await runtime.turns.run(ask("pool list", key=key))).outcome is Outcome.ANSWERED
        proxy.delay("GET", "/api/virtualservice-inventory", seconds=HELD, times=IN_FLIGHT)
        in_flight = [  # one read each (the client shares identical reads in flight)
            asyncio.create_task(runtime.turns.run(ask(f"vs show {name}", key=key)))
            for key, name in zip(keys, names, strict=True)
        ]
        deadline = time.monotonic() + BOUND
        while held(proxy) < IN_FLIGHT:  # every turn holds its lock and waits on the controller
            assert time.monotonic() < deadline, proxy.seen
            await asyncio.sleep(0.01)
        redis_proc.restart()

        results = await asyncio.wait_for(asyncio.gather(*in_flight), BOUND)
        for name, result in zip(names, results, strict=True):
            assert result.outcome is Outcome.ANSWERED, result.reply.text
            assert name in result.reply.text
            assert "Something went wrong" not in result.reply.text
            assert result.reply.text.count(HISTORY_DOWN) <= 1

        later = await asyncio.wait_for(
            asyncio.gather(*(runtime.turns.run(ask("se list", key=key)) for key in keys)), BOUND
        )
        for result in later:
            assert result.outcome is Outcome.ANSWERED, result.reply.text
            assert HISTORY_DOWN not in result.reply.text  # only the turns in flight could pay
        for key in keys:  # the new Redis has them (the old one's data went with it: no persistence)
            assert "se list" in [m["content"] for m in await runtime.turns.history(key)]
    finally:
        await runtime.aclose()
