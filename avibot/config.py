"""Load config.yaml and the environment into one validated `Settings`, or fail with a clear message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import SettingsConfigDict

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from adapters.web.settings import WebSettings
from avi.settings import AviSettings
from bot.agent import AgentSettings
from bot.history import HistorySettings
from bot.permissions import AccessSettings
from common.settings import EnvFirstSettings
from llm.settings import LLMSettings

DEFAULT_CONFIG_FILES = ("config.yaml",)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and is safe to print."""


class ServerSettings(EnvFirstSettings):
    """Where `avibot serve` listens."""

    model_config = SettingsConfigDict(env_prefix="SERVER_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)


class LogSettings(EnvFirstSettings):
    """Log level and format (json for log shippers, text for a terminal)."""

    model_config = SettingsConfigDict(env_prefix="LOG_", extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class RedisSettings(EnvFirstSettings):
    """Where shared state lives; without a URL each process keeps its own (fine for one replica or a demo)."""

    model_config = SettingsConfigDict(env_prefix="REDIS_", extra="forbid")

    url: str | None = Field(None, description="redis://host:6379/0, rediss://... or unix:///path.sock")
    prefix: str = "avibot:"


class WebSection(EnvFirstSettings, WebSettings):
    """The `web` section, with `AVIBOT_*` environment overrides (e.g. AVIBOT_ACCESS_TOKEN)."""

    model_config = SettingsConfigDict(env_prefix="AVIBOT_", extra="forbid")


class Settings(BaseModel):
    """Every section of the configuration, validated."""

    model_config = {"extra": "forbid"}

    server: ServerSettings
    avi: AviSettings
    llm: LLMSettings
    log: LogSettings
    redis: RedisSettings
    history: HistorySettings
    access: AccessSettings
    agent: AgentSettings
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    def require_avi(self) -> AviSettings:
        """The controller settings, or a ConfigError naming each one that is missing."""
        missing = self.avi.missing()
        if missing:
            raise ConfigError("missing setting: " + ", ".join(missing))
        return self.avi


_SECTIONS: dict[str, type[BaseModel]] = {
    "server": ServerSettings,
    "avi": AviSettings,
    "llm": LLMSettings,
    "log": LogSettings,
    "redis": RedisSettings,
    "history": HistorySettings,
    "access": AccessSettings,
    "agent": AgentSettings,
    "slack": SlackSettings,
    "teams": TeamsSettings,
    "web": WebSection,
}
# Sections whose fields environment variables override (the others are maps or tuning, file only).
_ENV_PREFIX = {
    "server": "SERVER_",
    "avi": "AVI_",
    "llm": "LLM_",
    "log": "LOG_",
    "redis": "REDIS_",
    "web": "AVIBOT_",
    "slack": "SLACK_",
    "teams": "TEAMS_",
}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections ({', '.join(_SECTIONS)})")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(unknown)}")
    for name, section in data.items():
        if section is not None and not isinstance(section, dict):
            raise ConfigError(f"{path}: section '{name}' must be a mapping")
    return data


def _describe(section: str, error: dict[str, Any]) -> str:
    """One line naming the setting and its environment variable, never echoing the value."""
    field = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
    prefix = _ENV_PREFIX.get(section)
    env = f"{prefix}{field.split('.')[0].upper()}" if field and prefix else ""
    name = f"{section}.{field}" if field else section
    hint = f" ({env})" if env else ""
    return f"{name}{hint}: {error.get('msg', 'invalid')}"


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read `path` (or ./config.yaml when present), apply environment overrides, validate."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_yaml(Path(path))
    else:
        for candidate in DEFAULT_CONFIG_FILES:
            if Path(candidate).is_file():
                data = _read_yaml(Path(candidate))
                break
    sections: dict[str, Any] = {}
    problems: list[str] = []
    for name, cls in _SECTIONS.items():
        try:
            sections[name] = cls(**(data.get(name) or {}))
        except ValidationError as exc:
            problems.extend(_describe(name, e) for e in exc.errors(include_input=False))
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))
    return Settings(**sections)
