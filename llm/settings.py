"""Ollama settings: the `llm` section of config.yaml, overridden by `OLLAMA_HOST` and `LLM_*` variables."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from common.settings import EnvFirstSettings


class LLMSettings(EnvFirstSettings):
    """Which Ollama server and model to use, and the fixed context size sent on every call."""

    model_config = SettingsConfigDict(env_prefix="LLM_", extra="forbid", populate_by_name=True)

    host: str = Field(
        "http://127.0.0.1:11434", validation_alias=AliasChoices("OLLAMA_HOST", "LLM_HOST", "host")
    )
    model: str = "llama3.1:8b"
    num_ctx: int = Field(8192, ge=2048, le=262144)
    temperature: float = Field(0.1, ge=0, le=2)
    keep_alive: str = "30m"
    timeout: float = Field(120.0, gt=0, le=3600, description="seconds for one model call")
    max_connections: int = Field(
        512,
        ge=1,
        le=1000,
        description="HTTP connections to Ollama at once; calls beyond it wait for a free one (at most "
        "`pool_timeout`). Ollama runs OLLAMA_NUM_PARALLEL at a time and queues up to OLLAMA_MAX_QUEUE "
        "(512) more, answering 503 beyond: a connection is opened only when needed, so the default matches "
        "that queue rather than capping the bot below what the server accepts",
    )
    max_keepalive_connections: int | None = Field(
        None, ge=0, le=1000, description="idle connections kept open; default: all of `max_connections`"
    )
    pool_timeout: float = Field(
        60.0, gt=0, le=3600, description="seconds a call may wait for a free connection before it fails"
    )
    think: bool | Literal["low", "medium", "high"] | None = Field(
        None, description="sent as `think` when set; None leaves the model's default (gpt-oss takes levels)"
    )


def http_limits(settings: LLMSettings) -> httpx.Limits:
    """The connection pool for the configured concurrency (httpx's default is 100 connections, 20 kept)."""
    keep = settings.max_keepalive_connections
    return httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections
        if keep is None
        else min(keep, settings.max_connections),
        keepalive_expiry=15.0,
    )


def http_timeout(settings: LLMSettings) -> httpx.Timeout:
    """httpx's timeouts: `timeout` seconds to connect and between bytes (a short connect timeout would
    fire spuriously on a loaded event loop, and a connect timeout marks the model down for every turn),
    and a call waits for a free pooled connection at most `pool_timeout` (ollama's own default, None,
    would make the calls beyond the pool wait forever)."""
    return httpx.Timeout(settings.timeout, pool=settings.pool_timeout)
