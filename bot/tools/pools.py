"""Pool tools: list, get (with per-server state) and create; changes and delete are in pool_writes.py,
server changes in pool_servers.py."""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import Field

from avi.errors import AviError
from avi.models import PoolDetail, PoolServer, PoolSummary
from avi.object_types import LB_ALGORITHMS
from avi.operations import PoolCreate, PoolFilter, ServerSpec
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptBool, OptStr, StrList, tenant_label, tool
from bot.tools.errors import ToolError
from bot.tools.paging import model_items, page_field, page_note, page_of, paged_table
from bot.tools.render import facts, fit_list, fit_object, num, prune, server_label, state, table, text
from bot.types import Risk

LOOKUP = "list_pools"
POOL_TOPICS = ("pool", "pools", "server", "servers", "backend", "member", "members")
MAX_CONTEXT_LINES = 15  # unchanged servers shown in a diff before "... and N more"

# -- servers: "ip" / "ip:port" / "[v6]:port" -------------------------------------------------------


def parse_server(text_value: str) -> ServerSpec:
    raw = text_value.strip()
    host, port = raw, None
    if raw.startswith("[") and "]" in raw:
        host, _, rest = raw[1:].partition("]")
        port = rest.removeprefix(":") or None
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    try:
        ip = ipaddress.ip_address(host.strip())
        port_num = int(port) if port else None
    except ValueError as exc:
        raise ToolError(
            f"{text_value!r} is not a server address", 'use "ip" or "ip:port", e.g. 10.0.0.5:8080'
        ) from exc
    if port_num is not None and not 1 <= port_num <= 65535:
        raise ToolError(f"port {port_num} is out of range", "ports are 1 to 65535")
    return ServerSpec(ip=ip, port=port_num)


def spec_label(server: PoolServer | ServerSpec, default_port: int | None = None) -> str:
    return server_label(str(server.ip), server.port or default_port)


def matches(spec: ServerSpec, server: PoolServer) -> bool:
    return server.ip == str(spec.ip) and (spec.port is None or server.port in (None, spec.port))


# -- shaping -------------------------------------------------------------------------------------


def _servers_text(p: PoolSummary) -> str:
    return f"{p.num_servers_up}/{p.num_servers_enabled} up ({p.num_servers} total)"


def pool_row(p: PoolSummary) -> dict[str, Any]:
    return prune(
        {
            "name": p.name,
            "enabled": p.enabled,
            "state": state(p.oper_status.state),
            "reason": "; ".join(p.oper_status.reason),
            "servers": _servers_text(p),
            "servers_down": p.servers_down,
            "virtual_services": p.virtualservices,
            "health": num(p.health_score),
        }
    )


def server_row(s: PoolServer, default_port: int | None) -> dict[str, Any]:
    return prune(
        {
            "server": spec_label(s, default_port),
            "hostname": s.hostname,
            "enabled": s.enabled,
            "state": state(s.oper_state) if s.oper_state else None,
            "reason": "; ".join(s.reason),
        }
    )


def pool_data(p: PoolDetail) -> dict[str, Any]:
    head = prune(
        {
            "name": p.name,
            "tenant": p.tenant,
            "enabled": p.enabled,
            "state": state(p.oper_status.state),
            "reason": "; ".join(p.oper_status.reason),
            "servers_summary": _servers_text(p),
            "lb_algorithm": (p.lb_algorithm or "").removeprefix("LB_ALGORITHM_").lower() or None,
            "default_server_port": p.default_server_port,
            "health_monitors": p.health_monitors,
            "virtual_services": p.virtualservices,
            "health": num(p.health_score),
            "description": p.config.get("description"),
            "uuid": p.uuid,
        }
    )
    rows = [server_row(s, p.default_server_port) for s in p.servers]
    servers = fit_list(rows, budget=2200)
    head["servers"] = servers["items"]
    if servers.get("truncated"):
        head["servers_truncated"] = True
    return head


def pool_parts(p: PoolDetail) -> list[Any]:
    data = pool_data(p)
    data.pop("servers", None)
    data.pop("servers_truncated", None)
    rows = [
        [
            spec_label(s, p.default_server_port),
            s.hostname,
            s.enabled,
            state(s.oper_state),
            "; ".join(s.reason),
        ]
        for s in p.servers
    ]
    return [
        facts(f"Pool {p.name}", data),
        table(f"Servers of {p.name}", ["Server", "Hostname", "Enabled", "State", "Reason"], rows),
    ]


# -- reads ---------------------------------------------------------------------------------------


class ListPoolsArgs(Args):
    name_contains: OptStr = Field(None, description="only names containing this text (case-insensitive)")
    servers_down: OptBool = Field(None, description="true = only pools with servers down")
    limit: int = Field(50, ge=1, le=500, description="at most this many in the answer")
    page: int = page_field()


async def list_pools(ctx: ToolContext, args: ListPoolsArgs) -> ToolResult:
    found = await ctx.ops.pools.list(
        PoolFilter(name_contains=args.name_contains, servers_down=args.servers_down), tenant=ctx.tenant
    )
    page = page_of(found, args)
    with_down = sum(1 for p in found if p.servers_down)
    summary = f"{len(found)} pools, {with_down} with servers down"
    rows = [
        [p.name, p.enabled, state(p.oper_status.state), _servers_text(p), p.virtualservices, p.health_score]
        for p in page.items
    ]
    columns = ["Name", "Enabled", "State", "Servers", "Virtual services", "Health"]
    return ToolResult(
        summary=summary,
        data=fit_list(
            [pool_row(p) for p in model_items(found, page, args.limit)],
            total=len(found),
            with_servers_down=with_down,
            **page_note(page),
        ),
        parts=[paged_table(summary, columns, rows, page, tool="list_pools", args=args)],
    )


class PoolNameArgs(Args):
    name: str = Field(min_length=1, description="pool name (or uuid)")


async def get_pool(ctx: ToolContext, args: PoolNameArgs) -> ToolResult:
    p = await ctx.ops.pools.get(args.name, tenant=ctx.tenant)
    summary = f"Pool {p.name}: {state(p.oper_status.state)}, servers {_servers_text(p)}"
    return ToolResult(summary=summary, data=fit_object(pool_data(p)), parts=pool_parts(p))


# -- writes --------------------------------------------------------------------------------------


async def read_pool(ctx: ToolContext, name: str) -> PoolDetail:
    return await ctx.ops.pools.get(name, tenant=ctx.tenant)


async def after_pool(ctx: ToolContext, name: str, summary: str) -> ToolResult:
    """Read the pool back; the controller has confirmed the write, so a failed read-back is no failure."""
    try:
        p = await read_pool(ctx, name)
    except AviError as exc:
        said = f"{summary}. Reading it back failed ({exc.message})."
        return ToolResult(summary=said, data={"done": summary, "read_back": exc.message}, parts=[text(said)])
    return ToolResult(summary=summary, data=fit_object(pool_data(p)), parts=[text(summary), *pool_parts(p)])


# -- after a lost reply: read back, never write again ---------------------------------------------


def pool_name(args: Any) -> str:
    return str(getattr(args, "pool", None) or args.name)


async def show(ctx: ToolContext, args: Any) -> ToolResult:
    """The pool as the controller has it now (shown after a verified lost reply)."""
    p = await read_pool(ctx, pool_name(args))
    return ToolResult(summary=f"Pool {p.name}", data=fit_object(pool_data(p)), parts=pool_parts(p))


def pool_target(args: Any) -> str:
    return f"pool {pool_name(args)}"


async def verify_create(ctx: ToolContext, args: CreatePoolArgs) -> bool | None:
    """The pool is there (its name was free when planned): done; not there: nothing changed."""
    return await ctx.ops.client.get_by_name("pool", args.name, tenant=ctx.tenant) is not None


def norm_lb(value: str | None) -> str | None:
    if value is None:
        return None
    short = value.strip().upper().replace(" ", "_").removeprefix("LB_ALGORITHM_")
    if short not in LB_ALGORITHMS:
        raise ToolError(f"unknown lb_algorithm {value!r}", f"one of {', '.join(LB_ALGORITHMS).lower()}")
    return short


class CreatePoolArgs(Args):
    name: str = Field(min_length=1, max_length=256, description="name of the new pool")
    servers: StrList = Field(
        default_factory=list, description='servers as "ip" or "ip:port", e.g. 10.0.0.5:8080'
    )
    port: int = Field(80, ge=1, le=65535, description="default port of the servers")
    lb_algorithm: OptStr = Field(None, description="e.g. round_robin, least_connections")


async def plan_create(ctx: ToolContext, args: CreatePoolArgs) -> WritePlan:
    specs = [parse_server(s) for s in args.servers]
    lb = norm_lb(args.lb_algorithm)
    if await ctx.ops.client.get_by_name("pool", args.name, tenant=ctx.tenant) is not None:
        raise ToolError(f"a pool named {args.name!r} already exists", "choose another name")
    diff = [f"+ name: {args.name}", f"+ default_server_port: {args.port}"]
    if lb:
        diff.append(f"+ lb_algorithm: {lb.lower()}")
    diff += [f"+ server: {spec_label(s, args.port)}" for s in specs] or ["+ servers: (none yet)"]
    return WritePlan(
        summary=f"Create pool {args.name} with {len(specs)} servers (tenant {tenant_label(ctx)})", diff=diff
    )


async def run_create(ctx: ToolContext, args: CreatePoolArgs) -> ToolResult:
    spec = PoolCreate(
        name=args.name,
        servers=[parse_server(s) for s in args.servers],
        default_server_port=args.port,
        lb_algorithm=norm_lb(args.lb_algorithm),
    )
    await ctx.ops.pools.create(spec, tenant=ctx.tenant)
    return await after_pool(ctx, args.name, f"Created pool {args.name}")


_W = Risk.WRITE

TOOLS: list[Tool] = [
    tool(
        "list_pools",
        "List pools with their state and how many servers are up. Use for questions like 'show pools', "
        "'which pools have servers down?'.",
        ListPoolsArgs,
        list_pools,
        topics=(*POOL_TOPICS, "list", "all", "down", "show", "how", "many"),
    ),
    tool(
        "get_pool",
        "Details of ONE pool: state, load-balancing algorithm, health monitors, and every server with its "
        "state and the reason it is down. Use for questions like 'why is web-pool down?'.",
        PoolNameArgs,
        get_pool,
        topics=(*POOL_TOPICS, "status", "state", "why", "down", "details", "show", "health"),
        lookup=LOOKUP,
    ),
    tool(
        "create_pool",
        "Create a new pool of back-end servers. Needs confirmation.",
        CreatePoolArgs,
        run_create,
        risk=_W,
        plan=plan_create,
        topics=(*POOL_TOPICS, "create", "new", "make"),
        lookup=LOOKUP,
        verify=verify_create,
        readback=show,
        target=pool_target,
    ),
]
