"""The Ollama and controller connection pools follow their settings (llm/client.py, avi/transport.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from avi.settings import AviSettings
from avi.transport import build_http_client
from llm.client import OllamaChat
from llm.errors import LLMError, LLMTimeout, LLMUnavailable
from llm.settings import LLMSettings
from llm.transport import AiohttpTransport


def _pool(client: httpx.AsyncClient) -> Any:
    return client._transport._pool  # type: ignore[attr-defined]


def _ollama_limits(llm: OllamaChat) -> httpx.Limits:
    transport = llm._client._client._transport
    assert isinstance(transport, AiohttpTransport)
    return transport._limits


async def test_ollama_pool_follows_llm_settings() -> None:
    settings = LLMSettings(max_connections=300, max_keepalive_connections=50, pool_timeout=7, timeout=90)
    llm = OllamaChat(settings)
    try:
        http = llm._client._client
        limits = _ollama_limits(llm)
        assert (limits.max_connections, limits.max_keepalive_connections) == (300, 50)
        assert http.timeout.pool == 7
        assert http.timeout.read == 90
    finally:
        await llm.aclose()


async def test_ollama_pool_defaults_keep_every_connection_alive() -> None:
    llm = OllamaChat(LLMSettings())
    try:
        limits = _ollama_limits(llm)
        assert limits.max_connections == LLMSettings().max_connections >= 300
        assert limits.max_keepalive_connections == limits.max_connections
        assert llm._client._client.timeout.pool is not None  # never wait forever for a connection
    finally:
        await llm.aclose()


def test_ollama_pool_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_MAX_CONNECTIONS", "42")
    assert LLMSettings().max_connections == 42


async def test_a_full_pool_is_not_taken_for_a_dead_model() -> None:
    llm = OllamaChat(LLMSettings(max_connections=3, pool_timeout=2))
    try:
        error = llm._error(httpx.PoolTimeout("full"), "m")
        assert type(error) is LLMError
        assert not isinstance(error, LLMTimeout | LLMUnavailable)
        assert "3 connections" in error.message
        assert "llm.max_connections" in error.hint
    finally:
        await llm.aclose()


async def test_controller_pool_follows_avi_settings() -> None:
    http = build_http_client(AviSettings(host="ctl.example", max_connections=37, timeout=12))
    try:
        pool = _pool(http)
        assert (pool._max_connections, pool._max_keepalive_connections) == (37, 37)
        assert pool._keepalive_expiry >= 30
        assert http.timeout.pool == 12
    finally:
        await http.aclose()
