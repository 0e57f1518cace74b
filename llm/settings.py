"""Ollama settings: the `llm` section of config.yaml, overridden by `OLLAMA_HOST` and `LLM_*` variables."""

from __future__ import annotations

from typing import Literal

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
    think: bool | Literal["low", "medium", "high"] | None = Field(
        None, description="sent as `think` when set; None leaves the model's default (gpt-oss takes levels)"
    )
