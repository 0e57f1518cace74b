"""The live mode: Ollama down at start is probed until it answers (then LLM mode, by itself), and a
hung Ollama costs one turn its timeout, not every turn (a circuit breaker, then probing).

Through `build_runtime`, so the real client, prober and agent are wired as `avibot serve` wires them.
"""

from __future__ import annotations

import asyncio
import socket
import time

from aiohttp.test_utils import TestClient, TestServer

from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import build_runtime
from avibot.server import create_server_app
from bot.events import Event, ModelStatusChanged
from bot.history import HistorySettings
from bot.model_loop import AgentSettings
from bot.model_status import ModelStatus
from bot.permissions import AccessSettings
from bot.types import Inbound, User
from llm.settings import LLMSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.fakes.ollama_server import Reply, running_fake_ollama


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(sim: RunningSim, llm_url: str, *, timeout: float = 10.0, probe: float = 0.2) -> Settings:
    return Settings(
        server=ServerSettings(),
        avi=AviSettings(host=sim.url, username=SIM_USERNAME, password=SIM_PASSWORD),
        llm=LLMSettings(host=llm_url, model="llama3.1:8b", timeout=timeout),
        log=LogSettings(),
        redis=RedisSettings(),
        history=HistorySettings(),
        access=AccessSettings(),
        agent=AgentSettings(llm_retry_after_seconds=probe),
    )


def ask(text: str) -> Inbound:
    return Inbound(platform="cli", conversation_key="cli:t", user=User(id="me"), text=text)


async def wait_for(predicate: object, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


async def test_ollama_down_at_start_is_probed_until_it_answers(sim: RunningSim) -> None:
    port = free_port()
    runtime_settings = settings_for(sim, f"http://127.0.0.1:{port}")
    runtime = await build_runtime(runtime_settings)
    seen: list[Event] = []
    runtime.observers.subscribe(seen.append)
    try:
        assert runtime.agent.mode == "command"
        assert "probing" in runtime.llm_mode
        first = await runtime.turns.run(ask("which pools have unhealthy servers?"))
        assert first.reply.mode == "command"
        health_app = TestClient(TestServer(create_server_app(runtime, runtime_settings)))
        await health_app.start_server()
        try:
            assert (await (await health_app.get("/api/health")).json())["mode"] == "command"
            async with running_fake_ollama(port=port) as fake:
                assert await wait_for(lambda: runtime.agent.mode == "llm", within=5.0)
                assert (await (await health_app.get("/api/health")).json())["mode"] == "llm"  # live
        finally:
            await health_app.close()
        async with running_fake_ollama(port=port) as fake:
            assert await wait_for(lambda: runtime.agent.mode == "llm", within=5.0)
            fake.script(Reply.say("All good."))
            later = await runtime.turns.run(ask("how are things?"))
        assert later.reply.mode == "llm"
        assert later.reply.text == "All good."
        assert [e.up for e in seen if isinstance(e, ModelStatusChanged)] == [True]
    finally:
        await runtime.aclose()


async def test_a_hung_ollama_costs_one_turn_then_command_mode_at_once(sim: RunningSim) -> None:
    async with running_fake_ollama() as fake:
        runtime = await build_runtime(settings_for(sim, fake.url, timeout=1.0, probe=30.0))
        try:
            assert runtime.agent.mode == "llm"
            fake.script(Reply.say("too late", delay=5.0), Reply.say("too late", delay=5.0))
            started = time.monotonic()
            hung = await runtime.turns.run(ask("which pools have unhealthy servers?"))
            assert 0.9 <= time.monotonic() - started < 4.0
            assert hung.reply.mode == "command"
            assert runtime.agent.mode == "command"  # the breaker is open
            started = time.monotonic()
            next_one = await runtime.turns.run(ask("which pools have unhealthy servers?"))
            assert time.monotonic() - started < 0.5
            assert next_one.reply.mode == "command"
            assert "did not answer" in next_one.reply.text or "time" in next_one.reply.text
            assert len(fake.chat_requests) == 1  # the second turn never waited on the model
        finally:
            await runtime.aclose()


async def test_a_failure_report_and_a_recovery_are_each_told_once() -> None:
    answers = ["still loading", None]

    async def probe() -> str | None:
        return answers.pop(0) if answers else None

    seen: list[Event] = []
    from bot.events import Observers

    observers = Observers()
    observers.subscribe(seen.append)
    status = ModelStatus(probe, up=True, probe_seconds=0.05, observers=observers)
    status.start()
    try:
        status.mark_down("Ollama is unreachable")
        assert status.reason == "Ollama is unreachable"
        assert await wait_for(lambda: status.up, within=2.0)
    finally:
        await status.stop()
    assert [(e.up, e.reason) for e in seen if isinstance(e, ModelStatusChanged)] == [
        (False, "Ollama is unreachable"),
        (True, ""),
    ]
