""" "What is broken?" tools: unhealthy virtual services, pools, and down servers, in few requests."""

from __future__ import annotations

from typing import Any

from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, tool
from bot.tools.paging import page_field, page_note, page_of, paged_table
from bot.tools.pools import pool_row
from bot.tools.render import fit_list, prune, server_label, state, text
from bot.tools.virtualservices import endpoints, vs_row

UNHEALTHY = (
    "unhealthy",
    "down",
    "broken",
    "failing",
    "failed",
    "problem",
    "problems",
    "issue",
    "issues",
    "wrong",
    "health",
    "outage",
    "status",
    "red",
)


class PageArgs(Args):
    """The unhealthy lists take only the page a person sees."""

    page: int = page_field()


async def unhealthy_virtual_services(ctx: ToolContext, args: PageArgs) -> ToolResult:
    report = await ctx.ops.health.unhealthy_virtual_services(tenant=ctx.tenant)
    found = report.virtualservices
    summary = f"{len(found)} of {report.scanned} enabled virtual services are not up"
    if not found:
        return ToolResult(
            summary=summary,
            data={"scanned": report.scanned, "total": 0, "items": []},
            parts=[text(f"All {report.scanned} virtual services are up (or disabled).")],
        )
    rows = [
        [v.name, state(v.oper_status.state), "; ".join(v.oper_status.reason), endpoints(v), v.pool]
        for v in found
    ]
    page = page_of(rows, args)
    columns = ["Name", "State", "Reason", "VIP", "Pool"]
    return ToolResult(
        summary=summary,
        data=fit_list([vs_row(v) for v in found[page.start :]], scanned=report.scanned, **page_note(page)),
        parts=[
            paged_table(summary, columns, page.items, page, tool="list_unhealthy_virtual_services", args=args)
        ],
    )


async def unhealthy_pools(ctx: ToolContext, args: PageArgs) -> ToolResult:
    report = await ctx.ops.health.unhealthy_pools(tenant=ctx.tenant)
    found = report.pools
    summary = f"{len(found)} of {report.scanned} pools are down or have servers down"
    if not found:
        return ToolResult(
            summary=summary,
            data={"scanned": report.scanned, "total": 0, "items": []},
            parts=[text(f"All {report.scanned} pools are up with all enabled servers up.")],
        )
    rows = [
        [
            p.name,
            state(p.oper_status.state),
            f"{p.num_servers_up}/{p.num_servers_enabled}",
            p.servers_down,
            p.virtualservices,
        ]
        for p in found
    ]
    page = page_of(rows, args)
    columns = ["Pool", "State", "Servers up", "Down", "Virtual services"]
    return ToolResult(
        summary=summary,
        data=fit_list([pool_row(p) for p in found[page.start :]], scanned=report.scanned, **page_note(page)),
        parts=[paged_table(summary, columns, page.items, page, tool="list_unhealthy_pools", args=args)],
    )


async def unhealthy_servers(ctx: ToolContext, args: PageArgs) -> ToolResult:
    report = await ctx.ops.health.pools_with_servers_down(tenant=ctx.tenant)
    found = report.pools_with_servers_down
    total_down = sum(p.pool.servers_down for p in found)
    summary = f"{total_down} servers down in {len(found)} of {report.scanned} pools"
    items: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    for entry in found:
        pool = entry.pool
        servers = None
        if entry.down_servers is not None:
            servers = [
                prune(
                    {
                        "server": server_label(s.ip, s.port),
                        "state": state(s.oper_state),
                        "reason": "; ".join(s.reason),
                    }
                )
                for s in entry.down_servers
            ]
            rows += [[pool.name, s["server"], s["state"], s.get("reason", "")] for s in servers]
        else:
            rows.append([pool.name, f"{pool.servers_down} down", "", ""])
        items.append(
            prune(
                {
                    "pool": pool.name,
                    "servers_down": pool.servers_down,
                    "servers_up": pool.num_servers_up,
                    "down": servers,
                    "virtual_services": pool.virtualservices,
                }
            )
        )
    if not found:
        return ToolResult(
            summary=summary,
            data={"scanned": report.scanned, "total": 0, "items": []},
            parts=[text(f"No enabled server is down in the {report.scanned} pools.")],
        )
    page = page_of(rows, args)
    columns = ["Pool", "Server", "State", "Reason"]
    return ToolResult(
        summary=summary,
        data=fit_list(items, scanned=report.scanned, servers_down=total_down),
        parts=[paged_table(summary, columns, page.items, page, tool="list_unhealthy_servers", args=args)],
    )


TOOLS: list[Tool] = [
    tool(
        "list_unhealthy_virtual_services",
        "Find every enabled virtual service that is not up, with the reason. Use for questions like "
        "'what is down?', 'any VS problems?', 'is anything broken?'.",
        PageArgs,
        unhealthy_virtual_services,
        topics=(*UNHEALTHY, "vs", "virtual", "service", "services", "app", "anything", "what"),
    ),
    tool(
        "list_unhealthy_pools",
        "Find every enabled pool that is down or has servers down. Use for questions like 'which pools "
        "are unhealthy?'.",
        PageArgs,
        unhealthy_pools,
        topics=(*UNHEALTHY, "pool", "pools", "degraded"),
    ),
    tool(
        "list_unhealthy_servers",
        "Find the back-end servers that are down, grouped by pool, with the reason (e.g. health monitor "
        "failed). Use for questions like 'which servers are down?'.",
        PageArgs,
        unhealthy_servers,
        topics=(*UNHEALTHY, "server", "servers", "backend", "member", "members", "pool"),
    ),
]
