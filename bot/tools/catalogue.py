"""The tool catalogue: every tool by name, and the subset a person's role may be offered."""

from __future__ import annotations

from collections.abc import Iterable

from bot.tools import (
    analytics,
    certificates,
    engines,
    events,
    generic,
    health,
    monitors,
    objects,
    placement,
    pool_servers,
    pool_writes,
    pools,
    virtualservices,
    vs_update,
)
from bot.tools.base import Tool
from bot.types import Risk

_MODULES = (
    virtualservices,
    vs_update,
    placement,
    pools,
    pool_writes,
    pool_servers,
    monitors,
    certificates,
    events,
    engines,
    analytics,
    health,
    objects,
    generic,
)


class ToolCatalogue:
    """Tools in a fixed order (the order the model sees them), looked up by name."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            if t.name in self._tools:
                raise ValueError(f"duplicate tool name {t.name!r}")
            self._tools[t.name] = t

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def all(self) -> list[Tool]:
        return list(self._tools.values())

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def for_risks(self, allowed: set[Risk]) -> list[Tool]:
        """Tools whose risk is allowed. A tool whose risk depends on its arguments (`risk_of`, the
        generic call) is offered when READ is allowed: the caller must still check `risk_for(args)`."""
        return [
            t
            for t in self._tools.values()
            if t.risk in allowed or (t.risk_of is not None and Risk.READ in allowed)
        ]


def build_catalogue() -> ToolCatalogue:
    return ToolCatalogue(t for module in _MODULES for t in module.TOOLS)
