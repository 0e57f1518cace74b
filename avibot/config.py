"""Load config.yaml and the environment into one validated `Settings`, or fail with a clear message."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import SettingsConfigDict, SettingsError

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from adapters.web.settings import WebSettings
from avi.named import DEFAULT_NAME, ControllerEntry
from avi.settings import AviSettings
from bot.agent import AgentSettings
from bot.alerts.settings import AlertSettings
from bot.history import HistorySettings
from bot.permissions import AccessSettings
from bot.sqlite import StateSettings
from common.settings import EnvFirstSettings
from llm.settings import LLMSettings

DEFAULT_CONFIG_FILES = ("config.yaml",)
MAX_CONFIG_DEPTH = 32  # config.yaml is a few levels deep; far deeper is a mistake or an attack


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
    """The `web` section, with `AVIBOT_*` environment overrides (e.g. AVIBOT_ACCESS_TOKEN).

    Lists come from the environment as written (`AVIBOT_TRUSTED_PROXIES=10.0.0.1,10.0.0.2`, or a JSON
    list); WebSettings splits them.
    """

    model_config = SettingsConfigDict(env_prefix="AVIBOT_", extra="forbid", enable_decoding=False)


class StateSection(EnvFirstSettings, StateSettings):
    """The `state` section (`state_dir`, AVIBOT_STATE_DIR): where the embedded store keeps its file."""

    model_config = SettingsConfigDict(env_prefix="AVIBOT_", extra="forbid")


class AlertSection(EnvFirstSettings, AlertSettings):
    """The `alerts` section; the webhook secret may come from AVIBOT_ALERT_WEBHOOK_SECRET."""

    model_config = SettingsConfigDict(env_prefix="AVIBOT_ALERT_", extra="forbid")


class NamedAvi(BaseModel):
    """One controller to connect to: its name in chat and its connection settings."""

    name: str
    avi: AviSettings
    label: str = ""
    public_url: str = ""


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
    state: StateSettings = Field(default_factory=lambda: StateSection())
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    controllers: tuple[ControllerEntry, ...] = ()

    def require_controllers(self, environ: Mapping[str, str] | None = None) -> list[NamedAvi]:
        """Every controller to talk to, the default first: `avi` (as `default`) when its host is set,
        then the `controllers` list; a ConfigError names what is missing or inconsistent."""
        found: list[NamedAvi] = []
        if self.avi.host or not self.controllers:
            found.append(NamedAvi(name=DEFAULT_NAME, avi=self.require_avi()))
        problems = []
        for entry in self.controllers:
            try:
                found.append(
                    NamedAvi(
                        name=entry.name,
                        avi=entry.avi_settings(environ),
                        label=entry.label,
                        public_url=entry.public_url,
                    )
                )
            except ValueError as exc:
                problems.append(str(exc))
        names = [c.name for c in found]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(f"controller name used twice: {', '.join(twice)} (the avi section is 'default')")
        known = set(names)
        for name in sorted(set(self.access.channel_controllers.values()) - known):
            problems.append(f"access.channel_controllers: no controller named {name}")
        for name in sorted(set(self.access.controller_roles) - known):
            problems.append(f"access.controller_roles: no controller named {name}")
        if problems:
            raise ConfigError("; ".join(problems))
        return found

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
    "state": StateSection,
    "alerts": AlertSection,
}
LIST_SECTION = "controllers"  # the one section that is a list: named controllers (avi/named.py)
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
    "state": "AVIBOT_",
    "alerts": "AVIBOT_ALERT_",
}


# `--demo` runs against its own in-process simulator with its own credentials: the controller settings a
# user exported for a real controller (AVI_HOST, AVI_PASSWORD, AVI_TENANT, ...) must not reach it.
DEMO_IGNORED_PREFIX = _ENV_PREFIX["avi"]


def demo_ignored_variables(environ: Mapping[str, str]) -> list[str]:
    """The controller variables in `environ` that `--demo` ignores (matched case-insensitively, as the
    settings read them)."""
    return sorted(name for name in environ if name.upper().startswith(DEMO_IGNORED_PREFIX))


def demo_notice(ignored: list[str]) -> str:
    """The one line the demo says at start when it ignores something (names only, never values)."""
    verb = "is" if len(ignored) == 1 else "are"
    return f"demo: using the built-in simulator; {', '.join(ignored)} from the environment {verb} ignored"


@contextmanager
def demo_environment(environ: MutableMapping[str, str] | None = None) -> Iterator[list[str]]:
    """Hide the controller variables from everything built inside the block (the settings sections,
    the demo's own simulator connection); put them back afterwards. Yields the names hidden."""
    target = os.environ if environ is None else environ
    ignored = demo_ignored_variables(target)
    saved = {name: target.pop(name) for name in ignored}
    try:
        yield ignored
    finally:
        target.update(saved)


def _depth(value: Any) -> int:
    """How deeply mappings and lists nest in `value` (iteratively: any depth is safe to measure)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply (at most {MAX_CONFIG_DEPTH} levels)") from None
    if _depth(data) > MAX_CONFIG_DEPTH:
        raise ConfigError(f"{path}: nested too deeply (at most {MAX_CONFIG_DEPTH} levels)")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections ({', '.join(_SECTIONS)})")
    unknown = sorted(set(data) - set(_SECTIONS) - {LIST_SECTION})
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(unknown)}")
    for name, section in data.items():
        if name == LIST_SECTION:
            if section is not None and not isinstance(section, list):
                raise ConfigError(f"{path}: section '{name}' must be a list of controllers")
            continue
        if section is not None and not isinstance(section, dict):
            raise ConfigError(f"{path}: section '{name}' must be a mapping")
    return data


def _describe(section: str, error: Mapping[str, Any]) -> str:
    """One line naming the setting and its environment variable, never echoing the value."""
    field = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
    prefix = _ENV_PREFIX.get(section)
    env = f"{prefix}{field.split('.')[0].upper()}" if field and prefix else ""
    name = f"{section}.{field}" if field else section
    hint = f" ({env})" if env else ""
    return f"{name}{hint}: {error.get('msg', 'invalid')}"


def _setting_problem(section: str, message: str) -> str:
    field = message.split('"')[1] if message.count('"') >= 2 else ""
    prefix = _ENV_PREFIX.get(section, "")
    if field and prefix:
        return f"{field} ({prefix}{field.upper()}): the environment value cannot be parsed"
    return "an environment value cannot be parsed"


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
        except SettingsError as exc:
            # An environment value pydantic-settings could not decode (e.g. not JSON where it wants
            # JSON); its message names the field, never the value.
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                problems.extend(_describe(name, e) for e in cause.errors(include_input=False))
            else:
                problems.append(f"{name}: {_setting_problem(name, str(exc))}")
    controllers: list[ControllerEntry] = []
    for index, entry in enumerate(data.get(LIST_SECTION) or []):
        try:
            controllers.append(ControllerEntry.model_validate(entry))
        except ValidationError as exc:
            problems.extend(_describe(f"{LIST_SECTION}[{index}]", e) for e in exc.errors(include_input=False))
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))
    return Settings(**sections, controllers=tuple(controllers))
