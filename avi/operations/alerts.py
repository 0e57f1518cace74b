"""The controller's alerts read with a cursor: what is new since the last poll, and what is still open.

An alert is a configuration object, `GET /api/alert` (alb-sdk `swagger/Alert.json`): `level`
(`ALERT_LOW|ALERT_MEDIUM|ALERT_HIGH`), `state` (`ALERT_STATE_ON|ALERT_STATE_DISMISSED|
ALERT_STATE_THROTTLED`), `obj_uuid`, `obj_name`, `summary`, `reason`, `timestamp` (epoch seconds,
a double), `events[]` (EventLog). It has no `obj_type`: that comes from `events[i].obj_type` or the
uuid prefix (`pool-…`).

Filtering the collection by `state` or by a `timestamp` range is unverified on the controller, so
alerts are read newest first (`sort=-timestamp`, documented) and the read stops at the cursor: the
newest `timestamp` already handled plus the uuids seen at exactly that time (several alerts can share
one timestamp). An alert disappears when it is deleted or expires (`AlertConfig.expiry_time`); that,
or `ALERT_STATE_DISMISSED`, is what "cleared" means here.

Cost: one page per 200 new alerts (plus the page that reaches the cursor); `open_states` reads
`fields=uuid,state` pages, one per 200 alerts on the controller.
"""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from avi.operations.base import OperationGroup
from avi.operations.events import norm_type, parse_timestamp, type_of_uuid

ALL_TENANTS = "*"
LEVELS = ("ALERT_LOW", "ALERT_MEDIUM", "ALERT_HIGH")
STATE_ON = "ALERT_STATE_ON"
STATE_DISMISSED = "ALERT_STATE_DISMISSED"
STATE_THROTTLED = "ALERT_STATE_THROTTLED"
MAX_PAGES = 50  # 10,000 new alerts in one poll; the rest waits for the next one (the cursor stays true)


def level_rank(level: str) -> int:
    """ALERT_LOW < ALERT_MEDIUM < ALERT_HIGH; an unknown level counts as low."""
    return LEVELS.index(level) if level in LEVELS else 0


def _ref_name(ref: Any) -> str | None:
    """`https://c/api/tenant/admin#admin` -> `admin` (the `#name`), else the uuid at the end."""
    if not isinstance(ref, str) or not ref:
        return None
    if "#" in ref:
        return ref.rsplit("#", 1)[1] or None
    return ref.rstrip("/").rsplit("/", 1)[-1] or None


class Alert(BaseModel):
    """One controller alert, with the object type and tenant worked out from the real fields."""

    model_config = ConfigDict(frozen=True)

    uuid: str
    name: str = ""
    level: str = "ALERT_LOW"
    state: str = STATE_ON
    obj_uuid: str = ""
    obj_name: str = ""
    obj_type: str | None = Field(None, description="API type name (virtualservice, pool, ...), derived")
    tenant: str | None = Field(None, description="tenant name (or uuid when the name was not included)")
    summary: str = ""
    reason: str = ""
    description: str = ""
    timestamp: float = 0.0
    event_ids: tuple[str, ...] = ()

    @property
    def cleared(self) -> bool:
        return self.state == STATE_DISMISSED

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Alert | None:
        """The controller's JSON, or None without a uuid or a usable timestamp."""
        uuid = raw.get("uuid")
        when = parse_timestamp(raw.get("timestamp"))
        if not isinstance(uuid, str) or not uuid or when is None:
            return None
        events = [e for e in raw.get("events") or [] if isinstance(e, dict)]
        first = events[0] if events else {}
        obj_uuid = str(raw.get("obj_uuid") or first.get("obj_uuid") or "")
        obj_type = norm_type(first.get("obj_type")) or type_of_uuid(obj_uuid)
        tenant = _ref_name(raw.get("tenant_ref")) or (
            str(first["tenant_name"]) if first.get("tenant_name") else None
        )
        event_ids = tuple(str(e["event_id"]) for e in events if e.get("event_id"))
        if not event_ids and raw.get("event_id"):
            event_ids = (str(raw["event_id"]),)
        return cls(
            uuid=uuid,
            name=str(raw.get("name") or ""),
            level=str(raw.get("level") or "ALERT_LOW"),
            state=str(raw.get("state") or STATE_ON),
            obj_uuid=obj_uuid,
            obj_name=str(raw.get("obj_name") or first.get("obj_name") or ""),
            obj_type=obj_type,
            tenant=tenant,
            summary=str(raw.get("summary") or ""),
            reason=str(raw.get("reason") or ""),
            description=str(raw.get("description") or ""),
            timestamp=when.timestamp(),
            event_ids=event_ids,
        )


class AlertCursor(BaseModel):
    """Where the last read stopped: the newest timestamp handled and the uuids seen at exactly it."""

    model_config = ConfigDict(frozen=True)

    timestamp: float
    seen: frozenset[str] = frozenset()

    def is_new(self, alert: Alert) -> bool:
        return alert.timestamp > self.timestamp or (
            alert.timestamp == self.timestamp and alert.uuid not in self.seen
        )

    def after(self, alerts: builtins.list[Alert]) -> AlertCursor:
        """The cursor once `alerts` are handled (it never moves back)."""
        newest = max((a.timestamp for a in alerts), default=self.timestamp)
        if newest < self.timestamp:
            return self
        at_newest = {a.uuid for a in alerts if a.timestamp == newest}
        seen = at_newest | (self.seen if newest == self.timestamp else frozenset())
        return AlertCursor(timestamp=newest, seen=frozenset(seen))


class AlertBatch(BaseModel):
    """The alerts newer than the cursor, oldest first, and the cursor after them."""

    alerts: builtins.list[Alert]
    cursor: AlertCursor
    complete: bool = Field(True, description="False when MAX_PAGES stopped the read before the cursor")


class AlertOps(OperationGroup):
    async def read_since(
        self, cursor: AlertCursor | None, *, tenant: str = ALL_TENANTS, max_pages: int = MAX_PAGES
    ) -> AlertBatch:
        """Alerts newer than `cursor`, oldest first. Without a cursor: none, and a cursor at the newest
        alert (a first start does not replay the controller's whole history)."""
        params = {"sort": "-timestamp", "include_name": True}
        found: builtins.list[Alert] = []
        complete = False
        newest: Alert | None = None
        at_newest: builtins.list[Alert] = []  # every alert sharing the newest timestamp (a first start)
        pages = 0
        async for page in self.client.iter_pages("alert", params=params, tenant=tenant):
            pages += 1
            reached = False
            for raw in page.results:
                alert = Alert.from_api(raw)
                if alert is None:
                    continue
                if newest is None or alert.timestamp > newest.timestamp:
                    newest, at_newest = alert, [alert]
                elif alert.timestamp == newest.timestamp:
                    at_newest.append(alert)
                if cursor is None:
                    continue
                if cursor.is_new(alert):
                    found.append(alert)
                elif alert.timestamp < cursor.timestamp:
                    reached = True  # newest first: the rest of this page and the next are older
            if cursor is None or reached:
                complete = True
                break
            if pages >= max_pages:
                break
        else:
            complete = True
        if cursor is None:
            start = AlertCursor(timestamp=newest.timestamp if newest else 0.0, seen=frozenset())
            return AlertBatch(alerts=[], cursor=start.after(at_newest), complete=True)
        found.sort(key=lambda a: (a.timestamp, a.uuid))
        if not complete and found:
            # Only the newest part was read: handle it, but do not move past what is unread below it.
            return AlertBatch(alerts=found, cursor=cursor, complete=False)
        return AlertBatch(alerts=found, cursor=cursor.after(found), complete=complete)

    async def open_states(self, *, tenant: str = ALL_TENANTS) -> dict[str, str]:
        """uuid -> state of every alert the controller holds now (an absent uuid was cleared)."""
        out: dict[str, str] = {}
        params = {"fields": "uuid,state"}
        async for page in self.client.iter_pages("alert", params=params, tenant=tenant):
            for raw in page.results:
                if isinstance(raw, dict) and isinstance(raw.get("uuid"), str):
                    out[raw["uuid"]] = str(raw.get("state") or STATE_ON)
        return out
