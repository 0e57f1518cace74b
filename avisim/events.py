"""Config events recorded on API writes, served by `/api/analytics/logs?type=2`.

Each is an `EventLog` (alb-sdk `Alert.json`): `event_id`, `module`, `report_timestamp`, `obj_type` (the
controller's upper-case object type enum: `VIRTUALSERVICE`, `POOL`, `HEALTHMONITOR` ...), `obj_uuid`,
`obj_name`, `event_description`, `event_details`. The wording of `event_description` is the simulator's
own (the controller's text for config events is unconfirmed).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from .store import Obj

_VERBS = {"config_create": "created", "config_update": "updated", "config_delete": "deleted"}


def iso_us(ts: float) -> str:
    """ISO 8601 with microseconds, UTC."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="microseconds")


@dataclass
class EventLog:
    """Config events recorded on API writes (newest last)."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        event_id: str,
        obj_type: str,
        obj: Obj,
        tenant: str | None,
        user: str,
        at: float | None = None,
    ) -> None:
        """One event; `at` (epoch seconds, default now) lets tests place one in the past. Kept in time
        order, so an event placed in the past goes where it belongs."""
        ts = time.time() if at is None else at
        name = obj.get("name", "")
        verb = _VERBS.get(event_id, event_id.removeprefix("config_"))
        event = {
            "report_timestamp": iso_us(ts),
            "_ts": ts,
            "event_id": event_id,
            "module": "CONFIG",
            "obj_type": obj_type.upper(),
            "obj_uuid": obj["uuid"],
            "obj_name": name,
            "tenant": tenant or "admin",
            "event_description": f"{obj_type} {name or obj['uuid']} {verb}" + (f" by {user}" if user else ""),
            "event_details": {"config_update_details": {"resource_type": obj_type, "username": user}},
        }
        i = len(self.events)
        while i and self.events[i - 1]["_ts"] > ts:
            i -= 1
        self.events.insert(i, event)
        del self.events[:-5000]
