"""The chat platforms avibot can serve, by name: the server mounts each one listed here.

An entry is `name: "package.module:ATTRIBUTE"`, imported only when the server starts, so a platform
whose library is not installed costs nothing until it is used.
"""

from __future__ import annotations

import importlib

from adapters.base import Platform

PLATFORMS: dict[str, str] = {
    "web": "adapters.web:PLATFORM",
    "slack": "adapters.slack:PLATFORM",
    "teams": "adapters.teams:PLATFORM",
}


def load(name: str) -> Platform:
    module, _, attribute = PLATFORMS[name].partition(":")
    platform: Platform = getattr(importlib.import_module(module), attribute)
    return platform


def platforms() -> list[Platform]:
    """Every registered platform, in registry order (the web platform first: its guard wraps the rest)."""
    return [load(name) for name in PLATFORMS]
