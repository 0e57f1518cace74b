"""The real server app (avibot.server) over aiohttp's test client, against a simulator over HTTP."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.web.settings import WebSettings
from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from avibot.server import create_server_app
from bot.agent import AgentSettings
from bot.alerts.settings import AlertSettings
from bot.history import HistorySettings
from bot.permissions import AccessSettings
from bot.types import Role
from llm.settings import LLMSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port: command mode
TOKEN = "t0ken-" + "x" * 40  # long enough for the 32-character rule
ACCESS = AccessSettings(
    default_role=Role.VIEWER,
    users={
        "web:local": Role.OPERATOR,
        "web:alice": Role.VIEWER,
        "web:bob": Role.ADMIN,
        "web:token": Role.OPERATOR,
    },
)


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment first; a developer's variables must not change the tests."""
    for var in list(os.environ):
        if var != "AVIBOT_STATE_DIR" and var.startswith(
            ("AVI_", "AVIBOT_", "LOG_", "REDIS_", "SERVER_", "LLM_", "OLLAMA_")
        ):
            monkeypatch.delenv(var, raising=False)


@dataclass
class Served:
    client: TestClient
    runtime: Runtime
    settings: Settings

    @property
    def origin(self) -> str:
        return f"http://{self.client.host}:{self.client.port}"


@asynccontextmanager
async def serving(
    sim: RunningSim,
    redis_url: str | None = None,
    *,
    web: WebSettings | None = None,
    alerts: AlertSettings | None = None,
) -> AsyncIterator[Served]:
    settings = Settings(
        server=ServerSettings(),
        avi=AviSettings(host=sim.url, username=SIM_USERNAME, password=SIM_PASSWORD),
        llm=LLMSettings(host=CLOSED, model="llama3.1:8b", timeout=10),
        log=LogSettings(),
        redis=RedisSettings(url=redis_url, prefix=f"tw{secrets.token_hex(4)}:"),
        history=HistorySettings(),
        access=ACCESS.model_copy(deep=True),
        agent=AgentSettings(),
        web=web or WebSettings(rate_limit_per_minute=0),
        alerts=alerts or AlertSettings(),
    )
    runtime = await build_runtime(settings)
    try:
        async with TestClient(TestServer(create_server_app(runtime, settings))) as client:
            yield Served(client=client, runtime=runtime, settings=settings)
    finally:
        await runtime.aclose()
