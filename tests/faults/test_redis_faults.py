"""Redis goes away and comes back: a real redis-server killed, restarted and filled while the bot runs
(built by `build_runtime`, as `avibot serve` builds it). The bot answers clearly meanwhile (never
"Something went wrong"), nothing runs unconfirmed, and it recovers by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from bot.history import HistorySettings
from bot.model_loop import AgentSettings
from bot.permissions import AccessSettings
from bot.types import ErrorPart, Inbound, Outcome, Role, User
from llm.settings import LLMSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.redis_process import RedisProcess

OPERATOR = User(id="U-op", name="olivia")


@pytest.fixture
def redis_proc() -> Iterator[RedisProcess]:
    proc = RedisProcess()
    proc.start()
    yield proc
    proc.close()


async def runtime_for(sim: RunningSim, redis_url: str) -> Runtime:
    settings = Settings(
        server=ServerSettings(),
        avi=AviSettings(host=sim.url, username=SIM_USERNAME, password=SecretStr(SIM_PASSWORD)),
        llm=LLMSettings(host="http://127.0.0.1:9", model="llama3.1:8b", timeout=5),
        log=LogSettings(),
        redis=RedisSettings(url=redis_url),
        history=HistorySettings(),
        access=AccessSettings(users={"slack:U-op": Role.OPERATOR}),
        agent=AgentSettings(),
    )
    return await build_runtime(settings, use_llm=False)


def ask(text: str, key: str = "slack:T1:C1:1.1") -> Inbound:
    return Inbound(platform="slack", conversation_key=key, channel="C1", user=OPERATOR, text=text)


async def an_enabled_vs(runtime: Runtime) -> str:
    return next(v.name for v in await runtime.agent.ops.virtualservices.list() if v.enabled)


async def test_a_restart_costs_no_turn(sim: RunningSim, redis_proc: RedisProcess) -> None:
    runtime = await runtime_for(sim, redis_proc.url)
    try:
        # 50 turns at once fill the pool with connections to the server that is about to go away
        await asyncio.gather(
            *(runtime.turns.run(ask("vs list", key=f"slack:T1:C1:{i}.0")) for i in range(50))
        )
        redis_proc.restart()
        results = await asyncio.gather(
            *(runtime.turns.run(ask("vs list", key=f"slack:T1:C1:{i}.0")) for i in range(50))
        )
        noted = [r for r in results if "unavailable" in r.reply.text]
        assert not noted, noted[0].reply.text
        assert all(r.outcome is Outcome.ANSWERED for r in results)
    finally:
        await runtime.aclose()


async def test_redis_down_answers_clearly_and_runs_nothing(sim: RunningSim, redis_proc: RedisProcess) -> None:
    runtime = await runtime_for(sim, redis_proc.url)
    try:
        name = await an_enabled_vs(runtime)
        proposed = await runtime.turns.run(ask(f"vs disable {name}"))
        assert proposed.action is not None
        redis_proc.kill()

        listed = await runtime.turns.run(ask("vs list"))
        assert listed.outcome is Outcome.ANSWERED
        assert "History is unavailable right now; your question was answered without it." in listed.reply.text
        assert "Something went wrong" not in listed.reply.text

        again = await runtime.turns.run(ask(f"vs disable {name}"))
        assert again.action is None
        assert "could not be held for confirmation" in again.reply.text

        confirm = await runtime.turns.settle("confirm", proposed.action.id, ask("confirm"))
        assert confirm.outcome is Outcome.FAILED
        assert "Nothing was changed" in confirm.reply.text or "nothing was changed" in confirm.reply.text
        assert (await runtime.agent.ops.virtualservices.get(name)).enabled is True

        redis_proc.start()  # back: it recovers by itself, the action waited in Redis? No: Redis lost it
        later = await runtime.turns.run(ask("vs list"))
        assert "unavailable" not in later.reply.text
    finally:
        await runtime.aclose()


async def test_a_full_redis_during_a_confirmed_write_still_reports_the_outcome(
    sim: RunningSim, redis_proc: RedisProcess
) -> None:
    runtime = await runtime_for(sim, redis_proc.url)
    try:
        name = await an_enabled_vs(runtime)
        proposed = await runtime.turns.run(ask(f"vs disable {name}"))
        assert proposed.action is not None
        redis_proc.fill()  # the claim (GETDEL) still works; the history note and audit XADD fail
        done = await runtime.turns.settle("confirm", proposed.action.id, ask("confirm"))
        assert (await runtime.agent.ops.virtualservices.get(name)).enabled is False
        assert done.outcome is Outcome.DONE, done.reply.text
        assert not any(isinstance(p, ErrorPart) for p in done.reply.parts)
    finally:
        await runtime.aclose()
