"""A new chat platform costs one folder and one registry entry: tests/support/echo_platform, mounted by
the real server over a real demo runtime, answers over HTTP, and is listed in the start banner."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters import registry
from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from avibot.server import MOUNTED, create_server_app, platform_statuses
from bot.agent import AgentSettings
from bot.history import HistorySettings
from bot.permissions import AccessSettings
from llm.settings import LLMSettings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The echo platform registered; nothing from a developer's environment (Settings read it first)."""
    prefixes = ("AVI_", "AVIBOT_", "LOG_", "REDIS_", "SERVER_", "LLM_", "OLLAMA_", "SLACK_", "TEAMS_")
    for var in [v for v in os.environ if v.startswith(prefixes) and v != "AVIBOT_STATE_DIR"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setitem(registry.PLATFORMS, "echo", "tests.support.echo_platform:PLATFORM")
    return Settings(
        server=ServerSettings(),
        avi=AviSettings(),
        llm=LLMSettings(),
        log=LogSettings(),
        redis=RedisSettings(url=None),
        history=HistorySettings(),
        access=AccessSettings(),
        agent=AgentSettings(),
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    built = await build_runtime(settings, demo=True, use_llm=False)
    try:
        yield built
    finally:
        await built.aclose()


async def test_a_registered_channel_is_mounted_and_answers(settings: Settings, runtime: Runtime) -> None:
    assert not hasattr(settings, "echo")  # no config section yet: the platform's defaults apply
    app = create_server_app(runtime, settings)
    assert app[MOUNTED] == ["web", "echo"]  # web first; Slack and Teams are off without tokens
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            body = {"user": "u1", "text": "vs list", "conversation": "c1"}
            async with http.post(server.make_url("/echo"), json=body) as resp:
                assert resp.status == 200, await resp.text()
                answer = await resp.json()
            async with http.post(server.make_url("/echo"), json={"text": "no user"}) as bad:
                assert bad.status == 400
    finally:
        await server.close()
    assert answer["outcome"] == "answered"
    assert answer["visibility"] == "everyone"
    first_vs = (await runtime.agent.ops.virtualservices.list())[0].name
    assert first_vs in answer["text"]
    title, header, *rows = answer["text"].splitlines()
    assert "virtual services" in title
    assert header.split()[:3] == ["Name", "Enabled", "State"]  # the table, as plain text
    assert len(rows) > 1
    assert await runtime.turns.has_history("echo:c1")


def test_the_banner_lists_the_channel(settings: Settings) -> None:
    lines = platform_statuses(settings)
    assert lines[0].startswith("web: on")
    assert "echo: on at /echo" in lines
    assert any(line.startswith("slack: off") for line in lines)
    assert any(line.startswith("teams: off") for line in lines)
