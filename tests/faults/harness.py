"""The bot as `avibot serve` builds it (`build_runtime`, `create_server_app`), for the fault suite."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from adapters.web.settings import WebSettings
from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from avibot.server import create_server_app
from bot.history import HistorySettings
from bot.model_loop import AgentSettings
from bot.permissions import AccessSettings
from bot.types import Inbound, Role, User
from llm.settings import LLMSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME

CLOSED = "http://127.0.0.1:9"  # nothing listens there: no Ollama, command mode
OPERATOR = User(id="U-op", name="olivia")
ACCESS = AccessSettings(users={"slack:U-op": Role.OPERATOR, "web:local": Role.OPERATOR})


def settings_for(
    avi_url: str,
    redis_url: str | None,
    *,
    avi_timeout: float = 30.0,
    password: str = SIM_PASSWORD,
    **agent: Any,
) -> Settings:
    return Settings(
        server=ServerSettings(),
        avi=AviSettings(
            host=avi_url, username=SIM_USERNAME, password=SecretStr(password), timeout=avi_timeout
        ),
        llm=LLMSettings(host=CLOSED, model="llama3.1:8b", timeout=5),
        log=LogSettings(),
        redis=RedisSettings(url=redis_url, prefix=f"f{secrets.token_hex(3)}:"),
        history=HistorySettings(),
        access=ACCESS.model_copy(deep=True),
        agent=AgentSettings(**agent),
        web=WebSettings(rate_limit_per_minute=0),
    )


async def runtime_for(settings: Settings) -> Runtime:
    return await build_runtime(settings, use_llm=False)


@asynccontextmanager
async def http_for(
    runtime: Runtime, settings: Settings
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The server app over real HTTP on loopback; JSON without a cookie needs no CSRF token."""
    async with TestClient(TestServer(create_server_app(runtime, settings))) as client:
        yield client


def ask(text: str, key: str = "slack:T1:C1:1.1") -> Inbound:
    return Inbound(platform="slack", conversation_key=key, channel="C1", user=OPERATOR, text=text)


async def enabled_vs_names(runtime: Runtime) -> list[str]:
    return [v.name for v in await runtime.agent.ops.virtualservices.list() if v.enabled]
