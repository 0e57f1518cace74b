"""What a chat platform is to avibot: a `Platform` plug-in, mounted by the server from the registry.

Words, used one way throughout the code: a *platform* is a chat service avibot plugs into (Slack,
Teams, the web page: this protocol); a *channel* is a chat room on a platform (`Inbound.channel`,
`access.channels`).

A platform turns its events into `bot.types.Inbound`, calls `bot.turns.Turns`, and renders the
`TurnResult`; it decides nothing. Adding one is one folder under adapters/ exporting a `PLATFORM`
object, and one entry in adapters/registry.py.

Routes a platform authenticates itself (a signature or token, checked by the platform's code) are
wrapped with `verifies_own_requests`, so the web platform's guard (CSRF, sessions) lets them through
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
    """Mark a route handler whose requests the platform authenticates itself (signature, JWT)."""
    setattr(handler, VERIFIED_ATTRIBUTE, True)
    return handler


def is_self_verified(handler: Any) -> bool:
    return bool(getattr(handler, VERIFIED_ATTRIBUTE, False))


@dataclass(frozen=True)
class ServiceInfo:
    """What a platform may show about the service it fronts (banner, page header, footers)."""

    controller: str
    llm_mode: str
    store: str


@dataclass(frozen=True)
class PlatformContext:
    """Everything a platform gets when it is mounted: the turn entry and what to say about it."""

    turns: Turns
    info: ServiceInfo
    redis: Any = None  # a redis.asyncio client when state is shared (e.g. Socket Mode leases)
    prefix: str = "avibot:"


class Platform(Protocol):
    """A chat platform. `section` names its part of config.yaml, validated by `settings_type`."""

    name: str
    section: str
    settings_type: type[BaseModel]

    def status(self, settings: Any) -> str:
        """One line for the start banner: on, off and why."""
        ...

    def mount(self, app: web.Application, ctx: PlatformContext, settings: Any) -> bool:
        """Add the platform's routes (or background connections) to `app`; False when it stays off."""
        ...
