"""Two controllers behind the real server app: a config with controllers a and b (b labelled Staging),
the real config loader and composition root, and uncached reads of each simulator for the checks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from avi.operations import AviOperations
from avibot.config import load_settings
from avibot.factory import Runtime, build_runtime
from avibot.server import create_server_app
from tests.conftest import RunningSim, ops_for
from tests.support.two_controllers import entry, set_passwords

ADMIN = {"X-Forwarded-User": "bob"}


def write_config(
    path: Path, a_url: str, b_url: str, redis_url: str, b_name: str = "b", trusted: bool = True
) -> Path:
    """`trusted`: behind a trusted proxy (bob is an admin); else loopback without a login (operators)."""
    config = {
        "controllers": [
            entry("a", a_url, "TEST_A_PASSWORD"),
            entry(b_name, b_url, "TEST_B_PASSWORD", label="Staging"),
        ],
        "access": {"default_role": "operator", "users": {"web:bob": "admin"}},
        "web": {"trusted_proxies": ["127.0.0.1/32"] if trusted else [], "rate_limit_per_minute": 0},
        "llm": {"host": "http://127.0.0.1:9"},
        "redis": {"url": redis_url, "prefix": f"ts{secrets.token_hex(3)}:"},
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(autouse=True)  # autouse in each module that imports it
def passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    set_passwords(
        monkeypatch, "TEST_A_PASSWORD", "TEST_B_PASSWORD", clear=("AVI_", "OLLAMA_", "LLM_", "REDIS_")
    )


@dataclass
class Served:
    client: TestClient
    runtime: Runtime
    ops_a: AviOperations
    ops_b: AviOperations

    async def names(self, ops: AviOperations) -> set[str]:
        return {vs.name for vs in await ops.virtualservices.list(tenant="*")}

    async def admin(self) -> dict[str, str]:
        csrf = (await (await self.client.get("/api/session", headers=ADMIN)).json())["csrf_token"]
        return {**ADMIN, "X-CSRF-Token": csrf}


@asynccontextmanager
async def serving(
    config: Path, a: RunningSim, b: RunningSim, headers: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """The server app on a loopback port; the client sends `headers` (bob's, by default)."""
    settings = load_settings(config)
    runtime = await build_runtime(settings, use_llm=False)
    ops_a, ops_b = ops_for(a, cache_seconds=0), ops_for(b, cache_seconds=0)
    try:
        async with TestClient(
            TestServer(create_server_app(runtime, settings)), headers=ADMIN if headers is None else headers
        ) as client:
            yield Served(client, runtime, ops_a, ops_b)
    finally:
        await runtime.aclose()
        await ops_a.client.aclose()
        await ops_b.client.aclose()
