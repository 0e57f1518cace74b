"""The controllers one bot speaks to: each with its own client, operations, name index and tenant.

They are built once at start (avibot/factory.py) and never change while the bot runs. With one
controller (the `avi` section, named `default`) nothing about it is shown; with several, every
answer, footer, confirmation and audit entry names the controller it came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from avi.named import DEFAULT_NAME
from avi.operations import AviOperations
from bot.entities import EntityIndex

DEFAULT = DEFAULT_NAME  # the controller of the `avi` section (one name for config, chat and metrics)


@dataclass(frozen=True)
class Controller:
    """One controller: `name` in chat and config, `address` its base URL (or the demo's words)."""

    name: str
    ops: AviOperations
    tenant: str = "admin"
    address: str = ""
    label: str = ""
    public_url: str = ""
    entities: EntityIndex | None = None


class Controllers:
    """The configured controllers, in configuration order; the first is the default."""

    def __init__(self, items: Sequence[Controller]) -> None:
        if not items:
            raise ValueError("at least one controller is needed")
        self._items = list(items)
        self._by_name = {c.name.lower(): c for c in self._items}
        if len(self._by_name) != len(self._items):
            raise ValueError("controller names must be unique")

    @classmethod
    def single(
        cls,
        ops: AviOperations,
        *,
        tenant: str = "admin",
        address: str = "",
        entities: EntityIndex | None = None,
    ) -> Controllers:
        return cls([Controller(name=DEFAULT, ops=ops, tenant=tenant, address=address, entities=entities)])

    @property
    def default(self) -> Controller:
        return self._items[0]

    @property
    def several(self) -> bool:
        return len(self._items) > 1

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._items]

    def get(self, name: str | None) -> Controller | None:
        return self._by_name.get(name.lower()) if name else None

    def named(self, name: str | None) -> Controller | None:
        """The controller a recorded or requested name means: the default when there is none ("" from
        before several controllers), None when it names one this bot does not have."""
        return self.get(name) if name else self.default

    def __iter__(self) -> Iterator[Controller]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def shown(self, controller: Controller) -> str:
        """What a footer and the audit say for it: its address alone, its name among several."""
        return controller.name if self.several else controller.address

    def described(self, current: Controller) -> str:
        """One line for the model: which controllers exist and which one is current."""
        others = [c.name + (f" ({c.label})" if c.label else "") for c in self._items if c is not current]
        label = f" ({current.label})" if current.label else ""
        return (
            f"Controllers: {current.name}{label} is current; also {', '.join(others)}. Tools run on the "
            "current one; call use_controller to switch, or with name all to ask every controller."
        )
