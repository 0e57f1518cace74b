"""The one line an alert's root message says about its object now ("down: no servers up; health 0"):
read once when the thread opens, so whoever looks at the alert sees whether it still matters.

Never raises and never waits long: a root without the line is better than no root, or a late one."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from avi.models import PoolSummary, VirtualServiceSummary
from avi.operations.alerts import Alert

log = logging.getLogger("avibot.alerts")

READ_SECONDS = 3.0


class ObjectReader(Protocol):
    """`avi.operations.health.HealthOps` is one."""

    async def object_now(
        self, obj_type: str | None, uuid: str, *, tenant: str | None = None
    ) -> VirtualServiceSummary | PoolSummary | None: ...


def _state(summary: VirtualServiceSummary | PoolSummary) -> str:
    if not summary.enabled:
        return "disabled"
    word = summary.oper_status.state.removeprefix("OPER_").lower().replace("_", " ")
    reasons = [r for r in summary.oper_status.reason if r][:1]
    return f"{word}: {reasons[0]}" if reasons and not summary.oper_status.up else word


def health_line(summary: VirtualServiceSummary | PoolSummary) -> str:
    """`Now: up; health 92; pool web-pool` / `Now: down: …; 1 of 4 servers up`."""
    parts = [_state(summary)]
    if summary.health_score is not None:
        parts.append(f"health {summary.health_score:g}")
    if isinstance(summary, PoolSummary):
        parts.append(f"{summary.num_servers_up} of {summary.num_servers_enabled} servers up")
    elif summary.pool:
        parts.append(f"pool {summary.pool}")
    return "Now: " + "; ".join(parts)


class ObjectHealth:
    def __init__(self, reader: ObjectReader, *, timeout: float = READ_SECONDS) -> None:
        self.reader = reader
        self.timeout = timeout

    async def line(self, alert: Alert) -> str:
        """The object's line, or "" when it cannot be read in time (or is not a VS or pool)."""
        try:
            async with asyncio.timeout(self.timeout):
                summary = await self.reader.object_now(alert.obj_type, alert.obj_uuid, tenant=alert.tenant)
        except Exception as exc:  # the root goes out without the line
            log.info("no health line for %s: %s", alert.obj_uuid, type(exc).__name__)
            return ""
        return "" if summary is None else health_line(summary)
