"""Config events recorded on API writes, served by `/api/analytics/logs?type=2`."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from .store import Obj


def iso_us(ts: float) -> str:
    """ISO 8601 with microseconds, UTC."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="microseconds")


@dataclass
class EventLog:
    """Config events recorded on API writes (newest last)."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def record(self, event_id: str, obj_type: str, obj: Obj, tenant: str | None, user: str) -> None:
        self.events.append(
            {
                "report_timestamp": iso_us(time.time()),
                "_ts": time.time(),
                "event_id": event_id,
                "module": "CONFIG",
                "obj_type": obj_type,
                "obj_uuid": obj["uuid"],
                "obj_name": obj.get("name", ""),
                "tenant": tenant or "admin",
                "event_details": {"config_update_details": {"resource_type": obj_type, "username": user}},
            }
        )
        del self.events[:-5000]
