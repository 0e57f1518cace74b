"""Service engine tools: list and get (state, connection, load, what runs on them)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from avi.models import ServiceEngineDetail, ServiceEngineSummary
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, OptStr, tool
from bot.tools.paging import model_items, page_field, page_note, page_of, paged_table
from bot.tools.render import facts, fit_list, fit_object, num, prune, state

TOPICS = (
    "se",
    "engine",
    "engines",
    "serviceengine",
    "service",
    "cpu",
    "memory",
    "mem",
    "load",
    "data",
    "plane",
)


def se_row(se: ServiceEngineSummary) -> dict[str, Any]:
    return prune(
        {
            "name": se.name,
            "state": state(se.oper_status.state),
            "reason": "; ".join(se.oper_status.reason),
            "connected": se.se_connected,
            "se_group": se.se_group,
            "mgmt_ip": se.mgmt_ip,
            "virtual_services": se.num_virtualservices,
            "cpu_percent": num(se.cpu_percent, 1),
            "mem_percent": num(se.mem_percent, 1),
            "health": num(se.health_score),
        }
    )


def se_data(se: ServiceEngineDetail) -> dict[str, Any]:
    return prune(
        {
            **se_row(se),
            "enable_state": (se.enable_state or "").removeprefix("SE_STATE_").lower() or None,
            "power_state": (se.power_state or "").removeprefix("SE_POWER_").lower() or None,
            "cloud": se.cloud,
            "virtual_service_names": se.virtualservices,
            "uuid": se.uuid,
        }
    )


class ListArgs(Args):
    name_contains: OptStr = Field(None, description="only names containing this text (case-insensitive)")
    oper_state: OptStr = Field(None, description="only this state: up or down")
    limit: int = Field(50, ge=1, le=500, description="at most this many in the answer")
    page: int = page_field()


async def list_service_engines(ctx: ToolContext, args: ListArgs) -> ToolResult:
    found = await ctx.ops.serviceengines.list(name_contains=args.name_contains, oper_state=args.oper_state)
    page = page_of(found, args)
    down = sum(1 for se in found if not se.oper_status.up)
    summary = f"{len(found)} service engines, {down} not up"
    rows = [
        [
            se.name,
            state(se.oper_status.state),
            se.se_group,
            se.num_virtualservices,
            se.cpu_percent,
            se.mem_percent,
        ]
        for se in page.items
    ]
    columns = ["Name", "State", "SE group", "VS", "CPU %", "Mem %"]
    return ToolResult(
        summary=summary,
        data=fit_list(
            [se_row(se) for se in model_items(found, page, args.limit)],
            total=len(found),
            not_up=down,
            **page_note(page),
        ),
        parts=[paged_table(summary, columns, rows, page, tool="list_service_engines", args=args)],
    )


class NameArgs(Args):
    name: str = Field(min_length=1, description="service engine name (or uuid)")


async def get_service_engine(ctx: ToolContext, args: NameArgs) -> ToolResult:
    se = await ctx.ops.serviceengines.get(args.name)
    data = se_data(se)
    cpu = f", CPU {data['cpu_percent']}%" if "cpu_percent" in data else ""
    return ToolResult(
        summary=f"Service engine {se.name}: {data['state']}{cpu}, {se.num_virtualservices} virtual services",
        data=fit_object(data),
        parts=[facts(f"Service engine {se.name}", data)],
    )


TOOLS: list[Tool] = [
    tool(
        "list_service_engines",
        "List service engines (the data-plane VMs) with state, CPU and memory use and how many virtual "
        "services each runs. Use for questions like 'are all SEs up?', 'which engine is busiest?'.",
        ListArgs,
        list_service_engines,
        topics=(*TOPICS, "list", "all", "show", "busy", "busiest", "up", "down"),
    ),
    tool(
        "get_service_engine",
        "Details of ONE service engine: state, connection, CPU and memory, group, cloud, and the virtual "
        "services placed on it.",
        NameArgs,
        get_service_engine,
        topics=(*TOPICS, "details", "show", "status"),
        lookup="list_service_engines",
    ),
]
