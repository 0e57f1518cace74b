"""What happened to an object: the controller's event log and its alerts, newest first.

The swagger has no event collection. Events come from the log search,
`GET /api/analytics/logs?type=2` (contract §9, SDK `samples/get_config_logs.py`), whose answer is
`{count, results, more, percent_remaining}`: while `more` is there the search is unfinished and
fetching it gives more. Alerts are objects, `GET /api/alert` (`obj_uuid`, `obj_name`, `level`,
`state`, `summary`, `timestamp` in epoch seconds); an alert has no `obj_type`, so it comes from its
attached events or the uuid prefix (`pool-…`). Filtering alerts by time is unverified on the
controller, so they are read newest first (`sort=-timestamp`, documented) and cut here.

Cost: one log request (plus one per `more`, bounded) and one page of alerts per 200 alerts.
"""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from avi.client import looks_like_uuid
from avi.models import EventList, EventRecord, Window
from avi.operations.base import OperationGroup

MAX_MORE = 3  # follow-ups of an unfinished log search before answering with what is there
MAX_LOG_PAGE = 1000
_CONFIG_VERBS = {
    "CONFIG_CREATE": "created",
    "CONFIG_UPDATE": "changed",
    "CONFIG_DELETE": "deleted",
    "CONFIG_ACTION": "action on",
}
# uuid prefixes that are not the API type name
_PREFIX_TYPES = {"se": "serviceengine"}


def parse_timestamp(value: Any) -> dt.datetime | None:
    """An event time: ISO 8601 text, or a number of seconds, milliseconds or microseconds since 1970."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        seconds = float(value)
        while seconds > 1e11:  # ms or µs (1e11 s is the year 5138)
            seconds /= 1000.0
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    return None


def type_of_uuid(uuid: Any) -> str | None:
    """`pool-6f1c…` -> `pool`, `se-0050…` -> `serviceengine`."""
    if not isinstance(uuid, str) or "-" not in uuid:
        return None
    prefix = uuid.split("-", 1)[0].lower()
    return _PREFIX_TYPES.get(prefix, prefix)


def norm_type(value: Any) -> str | None:
    """`VIRTUALSERVICE`, `virtualservice`, `SSL_KEY_AND_CERTIFICATE` -> the API type name, lower case."""
    if not isinstance(value, str) or not value:
        return None
    return value.replace("_", "").replace("-", "").lower()


def _user(event: dict[str, Any]) -> str | None:
    details = event.get("event_details")
    if not isinstance(details, dict):
        return None
    for entry in details.values():
        if isinstance(entry, dict) and entry.get("username"):
            return str(entry["username"])
    return None


def _describe(event_id: str, obj_type: str | None, name: str | None, user: str | None) -> str:
    what = " ".join(p for p in (obj_type, name) if p) or "object"
    verb = _CONFIG_VERBS.get(event_id)
    if verb:
        return f"{what} {verb}" + (f" by {user}" if user else "")
    return f"{event_id.replace('_', ' ').lower()}: {what}"


def event_record(raw: dict[str, Any]) -> EventRecord | None:
    """One entry of the event log (`EventLog`), or None without a usable time."""
    ts = parse_timestamp(raw.get("report_timestamp"))
    if ts is None:
        return None
    event_id = str(raw.get("event_id") or "UNKNOWN").upper()
    obj_type = norm_type(raw.get("obj_type")) or type_of_uuid(raw.get("obj_uuid"))
    name = raw.get("obj_name") or None
    user = _user(raw)
    description = raw.get("event_description") or _describe(event_id, obj_type, name, user)
    return EventRecord(
        timestamp=ts,
        source="event",
        event_id=event_id,
        object_type=obj_type,
        object_name=name,
        object_uuid=raw.get("obj_uuid") or None,
        description=str(description),
        user=user,
        module=raw.get("module") or None,
    )


def alert_record(raw: dict[str, Any]) -> EventRecord | None:
    """One alert, or None without a usable time. Its type and event id may come from its events."""
    ts = parse_timestamp(raw.get("timestamp"))
    if ts is None:
        return None
    attached = [e for e in raw.get("events") or [] if isinstance(e, dict)]
    first = attached[0] if attached else {}
    event_id = str(raw.get("event_id") or first.get("event_id") or raw.get("name") or "ALERT").upper()
    obj_type = norm_type(first.get("obj_type")) or type_of_uuid(raw.get("obj_uuid"))
    return EventRecord(
        timestamp=ts,
        source="alert",
        event_id=event_id,
        object_type=obj_type,
        object_name=raw.get("obj_name") or None,
        object_uuid=raw.get("obj_uuid") or None,
        description=str(raw.get("summary") or raw.get("description") or raw.get("reason") or event_id),
        level=raw.get("level"),
        state=raw.get("state"),
    )


def _about(record: EventRecord, name: str | None, object_type: str | None) -> bool:
    if name is not None and name not in (record.object_name, record.object_uuid):
        return False
    return object_type is None or record.object_type == object_type


def _relative(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.path.startswith("/api/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


class EventOps(OperationGroup):
    async def list(
        self,
        name: str | None = None,
        *,
        object_type: str | None = None,
        window: Window | str = Window.DAY,
        limit: int = 50,
        include_alerts: bool = True,
        tenant: str | None = None,
        now: dt.datetime | None = None,
    ) -> EventList:
        """Events and alerts in the window, newest first, at most `limit`.

        `name`: an object's name (any type; exact) or uuid; None = every object. `object_type`: the
        API type name (`virtualservice`, `pool` ...) to keep only that kind.
        """
        window = Window.parse(window)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        name = name.strip() if name else None
        kind = norm_type(object_type)
        end = now or dt.datetime.now(dt.UTC)
        start = end - dt.timedelta(seconds=window.seconds)
        events, total, complete = await self._events(name, kind, window, limit, tenant)
        found = [e for e in events if start <= e.timestamp <= end]
        if include_alerts:
            alerts = await self._alerts(name, kind, start, end, tenant)
            found += alerts
            total += len(alerts)
        found.sort(key=lambda e: e.timestamp, reverse=True)
        return EventList(
            window=window,
            start=start,
            end=end,
            object_name=name,
            events=found[:limit],
            total=max(total, len(found)),
            complete=complete,
        )

    async def _events(
        self, name: str | None, kind: str | None, window: Window, limit: int, tenant: str | None
    ) -> tuple[builtins.list[EventRecord], int, bool]:
        """(events about the object, how many the log holds in the window, whether the search finished)."""
        # With a type to keep, read more than `limit`: that filter is applied here, not by the search.
        page_size = min(MAX_LOG_PAGE, limit if kind is None else max(200, limit * 5))
        params: dict[str, Any] = {
            "type": 2,
            "duration": window.seconds,
            "page_size": page_size,
            "orderby": "-report_timestamp",
        }
        if name is not None:
            # The SDK sample's filter for one object (by uuid); by name, the event's own obj_name.
            params["filter"] = f"co(all,{name})" if looks_like_uuid(name) else f"eq(obj_name,{name})"
        body = await self.client.get("/api/analytics/logs", params=params, tenant=tenant)
        for _ in range(MAX_MORE):
            more = body.get("more") if isinstance(body, dict) else None
            path = _relative(str(more)) if more else None
            if path is None:
                break
            body = await self.client.get(path, tenant=tenant)
        if not isinstance(body, dict):
            return [], 0, True
        raw = [r for r in body.get("results") or [] if isinstance(r, dict)]
        records = [rec for r in raw if (rec := event_record(r)) is not None]
        # By uuid the search matched it anywhere in the event (as the SDK sample asks); by name, the
        # event must be the object's own (a controller that ignored the filter shows nothing else).
        by_name = None if name is None or looks_like_uuid(name) else name
        matched = [rec for rec in records if _about(rec, by_name, kind)]
        count = body.get("count")
        unread = int(count) - len(raw) if isinstance(count, int) and count > len(raw) else 0
        # Beyond the page, only what the search itself filtered is known to match.
        total = len(matched) + (unread if kind is None else 0)
        complete = not body.get("more") and not body.get("percent_remaining")
        return matched, total, complete

    async def _alerts(
        self, name: str | None, kind: str | None, start: dt.datetime, end: dt.datetime, tenant: str | None
    ) -> builtins.list[EventRecord]:
        out: builtins.list[EventRecord] = []
        async for page in self.client.iter_pages("alert", params={"sort": "-timestamp"}, tenant=tenant):
            oldest: dt.datetime | None = None
            ordered = True
            for raw in page.results:
                rec = alert_record(raw)
                if rec is None:
                    continue
                if oldest is not None and rec.timestamp > oldest:
                    ordered = False
                oldest = rec.timestamp
                if start <= rec.timestamp <= end and _about(rec, name, kind):
                    out.append(rec)
            if ordered and oldest is not None and oldest < start:
                break  # newest first and already past the window: the rest is older
        return out
