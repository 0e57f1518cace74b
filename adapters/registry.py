"""The chat platforms avibot can serve, by name: the server mounts each one listed here.

An entry is `name: "package.module:ATTRIBUTE"`, imported only when the server starts, so a platform
whose library is not installed costs nothing until it is used.
"""

from __future__ import annotations

import importlib

from adapters.base import Channel

CHANNELS: dict[str, str] = {
    "web": "adapters.web:CHANNEL",
    "slack": "adapters.slack:CHANNEL",
    "teams": "adapters.teams:CHANNEL",
}


def load(name: str) -> Channel:
    module, _, attribute = CHANNELS[name].partition(":")
    channel: Channel = getattr(importlib.import_module(module), attribute)
    return channel


def channels() -> list[Channel]:
    """Every registered channel, in registry order (the web channel first: its guard wraps the rest)."""
    return [load(name) for name in CHANNELS]
