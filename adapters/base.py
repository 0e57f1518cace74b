"""What a chat platform is to avibot: a `Channel` plug-in, mounted by the server from the registry.

A channel turns its platform's events into `bot.types.Inbound`, calls `bot.turns.Turns`, and renders
the `TurnResult`; it decides nothing. Adding a platform is one folder under adapters/ exporting a
`CHANNEL` object, and one entry in adapters/registry.py.

Routes a channel authenticates itself (a platform signature or token, checked by the channel) are
wrapped with `verifies_own_requests`, so the web channel's guard (CSRF, sessions) lets them through
without knowing their paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aiohttp import web
from pydantic import BaseModel

from bot.turns import Turns

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)
VERIFIED_ATTRIBUTE = "__avibot_verifies_own_requests__"


def verifies_own_requests(handler: H) -> H:
    """Mark a route handler whose requests the channel authenticates itself (signature, JWT)."""
    setattr(handler, VERIFIED_ATTRIBUTE, True)
    return handler


def is_self_verified(handler: Any) -> bool:
    return bool(getattr(handler, VERIFIED_ATTRIBUTE, False))


@dataclass(frozen=True)
class ServiceInfo:
    """What a channel may show about the service it fronts (banner, page header, footers)."""

    controller: str
    llm_mode: str
    store: str


@dataclass(frozen=True)
class ChannelContext:
    """Everything a channel gets when it is mounted: the turn entry and what to say about it."""

    turns: Turns
    info: ServiceInfo
    redis: Any = None  # a redis.asyncio client when state is shared (e.g. Socket Mode leases)
    prefix: str = "avibot:"


class Channel(Protocol):
    """A chat platform. `section` names its part of config.yaml, validated by `settings_type`."""

    name: str
    section: str
    settings_type: type[BaseModel]

    def status(self, settings: Any) -> str:
        """One line for the start banner: on, off and why."""
        ...

    def mount(self, app: web.Application, ctx: ChannelContext, settings: Any) -> bool:
        """Add the channel's routes (or background connections) to `app`; False when it stays off."""
        ...
