"""Where alerts go: `AlertSettings` (the `alerts:` section of the config) and its routes.

A route sends one controller's alerts (`controller`, by name; the default one when unset) that pass
every filter it sets to one chat destination: `slack:<channel id>`, `teams:<conversation id>` or
`web:<feed name>`. Every filter is optional; a route with none gets every alert. No route, no posting
(the poller does not even read the controller); every controller some route names is polled.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from avi.operations.alerts import Alert, level_rank

Level = Literal["ALERT_LOW", "ALERT_MEDIUM", "ALERT_HIGH"]
PLATFORMS = ("slack", "teams", "web")  # web:<feed name> is the page's alert feed


def _norm_type(value: str) -> str:
    return value.replace("_", "").replace("-", "").strip().lower()


class AlertRoute(BaseModel):
    """One destination and the alerts it wants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(description="slack:<channel id>, teams:<conversation id> or web:<feed name>")
    min_level: Level | None = Field(None, description="lowest level posted; None = every level")
    tenants: tuple[str, ...] = Field((), description="tenant names (or uuids); empty = every tenant")
    object_types: tuple[str, ...] = Field(
        (), description="API object types (virtualservice, pool, serviceengine ...); empty = every type"
    )
    names: str | None = Field(None, description="regular expression searched in the object's name")
    controller: str | None = Field(
        None, max_length=64, description="the controller whose alerts it takes, by name; None = the default"
    )

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        platform, _, target = value.partition(":")
        if platform not in PLATFORMS or not target.strip():
            raise ValueError(
                f"'to' must be slack:<channel id>, teams:<conversation id> or web:<feed name>, got {value!r}"
            )
        return f"{platform}:{target.strip()}"

    @field_validator("controller")
    @classmethod
    def _controller(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value is not None else None

    @field_validator("object_types")
    @classmethod
    def _types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_norm_type(v) for v in value if v.strip())

    @field_validator("names")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"'names' is not a valid regular expression: {exc}") from exc
        return value

    @property
    def platform(self) -> str:
        return self.to.split(":", 1)[0]

    @property
    def target(self) -> str:
        """The channel id (Slack) or conversation id (Teams)."""
        return self.to.split(":", 1)[1]

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.names) if self.names is not None else None

    def matches(self, alert: Alert) -> bool:
        if self.min_level is not None and level_rank(alert.level) < level_rank(self.min_level):
            return False
        if self.tenants and alert.tenant not in self.tenants:
            return False
        if self.object_types and (alert.obj_type or "") not in self.object_types:
            return False
        pattern = self._pattern
        return pattern is None or bool(pattern.search(alert.obj_name))


class AlertSettings(BaseModel):
    """The `alerts:` section: how often to read the controller, when a burst becomes a digest, routes."""

    model_config = ConfigDict(extra="forbid")

    poll_seconds: float = Field(30.0, gt=0, description="seconds between reads of /api/alert")
    storm_per_minute: int = Field(
        10, ge=1, description="more new alerts than this per route in a minute become one digest"
    )
    flap_minutes: float = Field(
        30.0, ge=0, description="an object that alerts again this soon after resolving reuses its thread"
    )
    mute_minutes: float = Field(60.0, gt=0, le=7 * 24 * 60, description="how long Mute silences an object")
    controller_url: str | None = Field(
        None,
        description="the controller's address as people reach it, for 'Open in controller' links; "
        "None = no link (the bot's own AVI_HOST may be internal)",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="enables POST /api/alerts/webhook, which must carry it in X-Avibot-Alert-Secret "
        "(AVIBOT_ALERT_WEBHOOK_SECRET); None = no webhook",
    )
    routes: tuple[AlertRoute, ...] = ()

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("the webhook secret must be at least 16 characters")
        return value

    @field_validator("controller_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("controller_url must start with https:// or http://")
        return value.rstrip("/") if value else None

    @property
    def enabled(self) -> bool:
        return bool(self.routes)

    def unknown_controllers(self, names: list[str]) -> list[str]:
        """The controller names routes give that are not in `names` (the bot's controllers)."""
        known = {n.lower() for n in names}
        return sorted({r.controller for r in self.routes if r.controller and r.controller not in known})

    @property
    def platforms(self) -> frozenset[str]:
        """The platforms some route posts to (slack, teams, web)."""
        return frozenset(route.platform for route in self.routes)
