"""list_events: what happened to an object (or to everything) lately: the controller's events and alerts."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from avi.models import EventRecord, Window
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, OptStr, tool
from bot.tools.render import fit_list, prune, table

TOPICS = (
    "event", "events", "happened", "happen", "log", "logs", "alert", "alerts", "changed", "changes",
    "history", "recent", "lately", "who", "when", "audit", "went",
)  # fmt: skip

# What people call a kind -> the API type name events carry (anything else is taken as a type name).
OBJECT_TYPES: dict[str, str] = {
    **dict.fromkeys(("vs", "virtual service", "virtualservice", "virtual_service", "app"), "virtualservice"),
    **dict.fromkeys(("pool", "pools", "server pool"), "pool"),
    **dict.fromkeys(("poolgroup", "pool group"), "poolgroup"),
    **dict.fromkeys(("se", "service engine", "serviceengine", "engine"), "serviceengine"),
    **dict.fromkeys(("hm", "monitor", "health monitor", "healthmonitor"), "healthmonitor"),
    **dict.fromkeys(
        ("cert", "certificate", "sslkeyandcertificate", "ssl certificate"), "sslkeyandcertificate"
    ),
    **dict.fromkeys(("vip", "vsvip"), "vsvip"),
}
WINDOW_WORDS = {
    Window.HOUR: "hour",
    Window.SIX_HOURS: "6 hours",
    Window.DAY: "24 hours",
    Window.WEEK: "7 days",
}


def object_type(value: str) -> str:
    key = " ".join(value.strip().lower().replace("-", " ").split())
    return OBJECT_TYPES.get(key, key.replace(" ", "").replace("_", ""))


class EventsArgs(Args):
    name: OptStr = Field(None, description="object name (any kind) or uuid, exact; empty = every object")
    object_type: OptStr = Field(
        None, description="only this kind: virtualservice (vs), pool, serviceengine (se), healthmonitor ..."
    )
    window: str = Field("24h", description="how far back: 1h, 6h, 24h or 7d")
    limit: int = Field(20, ge=1, le=200, description="at most this many events, newest first")

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        return Window.parse(value).value

    @field_validator("object_type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        return object_type(value) if value else None


def _time(e: EventRecord) -> str:
    return e.timestamp.strftime("%Y-%m-%d %H:%M:%S")


def _object(e: EventRecord) -> str:
    return " ".join(p for p in (e.object_type, e.object_name or e.object_uuid) if p) or "-"


def _level(e: EventRecord) -> str | None:
    return e.level.removeprefix("ALERT_").lower() if e.level else None


def event_row(e: EventRecord) -> dict[str, Any]:
    return prune(
        {
            "time_utc": _time(e),
            "kind": e.source,
            "event": e.event_id,
            "object": _object(e),
            "level": _level(e),
            "what": e.description,
            "by": e.user,
        }
    )


async def list_events(ctx: ToolContext, args: EventsArgs) -> ToolResult:
    found = await ctx.ops.events.list(
        args.name, object_type=args.object_type, window=args.window, limit=args.limit, tenant=ctx.tenant
    )
    span = WINDOW_WORDS[found.window]
    about = f" for {args.name}" if args.name else ""
    if not found.events:
        summary = f"No events or alerts{about} in the last {span}"
        if args.name:
            summary += " (the name must match exactly; a longer window may find older ones)"
    else:
        newest = found.events[0]
        summary = (
            f"{'1 event or alert' if found.total == 1 else f'{found.total} events and alerts'}{about} in the "
            f"last {span}; newest {_time(newest)} UTC: "
            f"{newest.event_id} ({newest.description})"
        )
    if not found.complete:
        summary += "; the controller's log search was still unfinished, so some may be missing"
    rows = [[_time(e), e.source, e.event_id, _object(e), _level(e), e.description] for e in found.events]
    return ToolResult(
        summary=summary,
        data=fit_list(
            [event_row(e) for e in found.events],
            total=found.total,
            window=span,
            newest_first=True,
        ),
        parts=[table(summary, ["Time (UTC)", "Kind", "Event", "Object", "Level", "What"], rows, found.total)],
    )


TOOLS: list[Tool] = [
    tool(
        "list_events",
        "Recent events and alerts of one object (any kind, by name) or of all objects, newest first: what "
        "went down or up, what changed and who changed it. Use for 'what happened to vs-web?', "
        "'what changed in the last hour?'.",
        EventsArgs,
        list_events,
        topics=TOPICS,
    ),
]
