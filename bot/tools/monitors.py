"""Health monitor tools: list and get (what checks a pool's servers, how often, how strictly)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from avi.models import HealthMonitorSummary
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, OptStr, tool
from bot.tools.render import facts, fit_list, fit_object, prune, table

TOPICS = ("monitor", "monitors", "healthmonitor", "health", "check", "checks", "probe", "hm")


def _type(value: str) -> str:
    return value.removeprefix("HEALTH_MONITOR_").lower()


def monitor_row(m: HealthMonitorSummary) -> dict[str, Any]:
    return prune(
        {
            "name": m.name,
            "type": _type(m.type),
            "interval_s": m.send_interval,
            "timeout_s": m.receive_timeout,
            "up_after": m.successful_checks,
            "down_after": m.failed_checks,
            "port": m.monitor_port,
        }
    )


def monitor_data(m: HealthMonitorSummary) -> dict[str, Any]:
    """The row plus what the check sends and expects (HTTP request, response codes)."""
    http = m.config.get("http_monitor") or m.config.get("https_monitor") or {}
    return prune(
        {
            **monitor_row(m),
            "tenant": m.tenant,
            "http_request": http.get("http_request"),
            "http_response_codes": http.get("http_response_code"),
            "description": m.config.get("description"),
            "uuid": m.uuid,
        }
    )


class ListArgs(Args):
    name_contains: OptStr = Field(None, description="only names containing this text (case-insensitive)")
    type: OptStr = Field(None, description="only this kind: http, https, tcp, udp, ping, dns ...")
    limit: int = Field(50, ge=1, le=500, description="at most this many in the answer")


async def list_health_monitors(ctx: ToolContext, args: ListArgs) -> ToolResult:
    found = await ctx.ops.healthmonitors.list(
        name_contains=args.name_contains, type=args.type, tenant=ctx.tenant
    )
    shown = found[: args.limit]
    summary = f"{len(found)} health monitors"
    rows = [[m.name, _type(m.type), m.send_interval, m.receive_timeout, m.failed_checks] for m in shown]
    return ToolResult(
        summary=summary,
        data=fit_list([monitor_row(m) for m in shown], total=len(found)),
        parts=[
            table(summary, ["Name", "Type", "Interval (s)", "Timeout (s)", "Down after"], rows, len(found))
        ],
    )


class NameArgs(Args):
    name: str = Field(min_length=1, description="health monitor name (or uuid)")


async def get_health_monitor(ctx: ToolContext, args: NameArgs) -> ToolResult:
    m = await ctx.ops.healthmonitors.get(args.name, tenant=ctx.tenant)
    data = monitor_data(m)
    return ToolResult(
        summary=f"Health monitor {m.name} ({data['type']})",
        data=fit_object(data),
        parts=[facts(f"Health monitor {m.name}", data)],
    )


TOOLS: list[Tool] = [
    tool(
        "list_health_monitors",
        "List health monitors (the checks that decide if a server is up) with type and timing. Use for "
        "questions like 'which health monitors exist?', 'show http monitors'.",
        ListArgs,
        list_health_monitors,
        topics=(*TOPICS, "list", "all", "show"),
    ),
    tool(
        "get_health_monitor",
        "Details of ONE health monitor: type, interval, timeout, checks to mark up/down, HTTP request and "
        "expected codes.",
        NameArgs,
        get_health_monitor,
        topics=(*TOPICS, "details", "show", "interval", "timeout"),
        lookup="list_health_monitors",
    ),
]
