"""Pool tools: list, get (with per-server state), create, and server membership changes."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from avi.errors import AviError
from avi.models import PoolDetail, PoolServer, PoolSummary
from avi.object_types import LB_ALGORITHMS
from avi.operations import PoolCreate, PoolFilter, ServerSpec
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptBool, OptStr, StrList, tenant_label, tool
from bot.tools.errors import ToolError
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


def _label(server: PoolServer | ServerSpec, default_port: int | None = None) -> str:
    return server_label(str(server.ip), server.port or default_port)


def _matches(spec: ServerSpec, server: PoolServer) -> bool:
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
            "server": _label(s, default_port),
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
        [_label(s, p.default_server_port), s.hostname, s.enabled, state(s.oper_state), "; ".join(s.reason)]
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


async def list_pools(ctx: ToolContext, args: ListPoolsArgs) -> ToolResult:
    found = await ctx.ops.pools.list(
        PoolFilter(name_contains=args.name_contains, servers_down=args.servers_down), tenant=ctx.tenant
    )
    shown = found[: args.limit]
    with_down = sum(1 for p in found if p.servers_down)
    summary = f"{len(found)} pools, {with_down} with servers down"
    rows = [
        [p.name, p.enabled, state(p.oper_status.state), _servers_text(p), p.virtualservices, p.health_score]
        for p in shown
    ]
    return ToolResult(
        summary=summary,
        data=fit_list([pool_row(p) for p in shown], total=len(found), with_servers_down=with_down),
        parts=[
            table(
                summary,
                ["Name", "Enabled", "State", "Servers", "Virtual services", "Health"],
                rows,
                len(found),
            )
        ],
    )


class PoolNameArgs(Args):
    name: str = Field(min_length=1, description="pool name (or uuid)")


async def get_pool(ctx: ToolContext, args: PoolNameArgs) -> ToolResult:
    p = await ctx.ops.pools.get(args.name, tenant=ctx.tenant)
    summary = f"Pool {p.name}: {state(p.oper_status.state)}, servers {_servers_text(p)}"
    return ToolResult(summary=summary, data=fit_object(pool_data(p)), parts=pool_parts(p))


# -- writes --------------------------------------------------------------------------------------


async def _read(ctx: ToolContext, name: str) -> PoolDetail:
    return await ctx.ops.pools.get(name, tenant=ctx.tenant)


async def _after(ctx: ToolContext, name: str, summary: str) -> ToolResult:
    """Read the pool back; the controller has confirmed the write, so a failed read-back is no failure."""
    try:
        p = await _read(ctx, name)
    except AviError as exc:
        said = f"{summary}. Reading it back failed ({exc.message})."
        return ToolResult(summary=said, data={"done": summary, "read_back": exc.message}, parts=[text(said)])
    return ToolResult(summary=summary, data=fit_object(pool_data(p)), parts=[text(summary), *pool_parts(p)])


# -- after a lost reply: read back, never write again ---------------------------------------------


def _pool_name(args: Any) -> str:
    return str(args.pool if isinstance(args, ServerArgs) else args.name)


async def show(ctx: ToolContext, args: Any) -> ToolResult:
    """The pool as the controller has it now (shown after a verified lost reply)."""
    p = await _read(ctx, _pool_name(args))
    return ToolResult(summary=f"Pool {p.name}", data=fit_object(pool_data(p)), parts=pool_parts(p))


def _pool_target(args: Any) -> str:
    return f"pool {_pool_name(args)}"


async def verify_create(ctx: ToolContext, args: CreatePoolArgs) -> bool | None:
    """The pool is there (its name was free when planned): done; not there: nothing changed."""
    return await ctx.ops.client.get_by_name("pool", args.name, tenant=ctx.tenant) is not None


def _specs(args: Any) -> list[ServerSpec]:
    if isinstance(args, ServerArgs):
        return [parse_server(args.server)]
    return [parse_server(s) for s in args.servers]


def _verify_membership(*, add: bool) -> Callable[[ToolContext, Any], Awaitable[bool | None]]:
    """Added: every server named is in the pool; removed: none is. One PATCH `add` or one PUT makes
    the whole change or none of it, so anything else means it was not applied."""

    async def verify(ctx: ToolContext, args: Any) -> bool | None:
        p = await _read(ctx, _pool_name(args))
        present = [any(_matches(spec, s) for s in p.servers) for spec in _specs(args)]
        return all(present) if add else not any(present)

    return verify


def _verify_switch(enabled: bool) -> Callable[[ToolContext, ServerArgs], Awaitable[bool | None]]:
    """Every server the address names has the new state (one PUT: all of them or none)."""

    async def verify(ctx: ToolContext, args: ServerArgs) -> bool | None:
        p = await _read(ctx, args.pool)
        spec = parse_server(args.server)
        hits = [s for s in p.servers if _matches(spec, s)]
        if not hits:
            return None  # the server is gone meanwhile: neither state
        return all(s.enabled == enabled for s in hits)

    return verify


def _lb(value: str | None) -> str | None:
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
    lb = _lb(args.lb_algorithm)
    if await ctx.ops.client.get_by_name("pool", args.name, tenant=ctx.tenant) is not None:
        raise ToolError(f"a pool named {args.name!r} already exists", "choose another name")
    diff = [f"+ name: {args.name}", f"+ default_server_port: {args.port}"]
    if lb:
        diff.append(f"+ lb_algorithm: {lb.lower()}")
    diff += [f"+ server: {_label(s, args.port)}" for s in specs] or ["+ servers: (none yet)"]
    return WritePlan(
        summary=f"Create pool {args.name} with {len(specs)} servers (tenant {tenant_label(ctx)})", diff=diff
    )


async def run_create(ctx: ToolContext, args: CreatePoolArgs) -> ToolResult:
    spec = PoolCreate(
        name=args.name,
        servers=[parse_server(s) for s in args.servers],
        default_server_port=args.port,
        lb_algorithm=_lb(args.lb_algorithm),
    )
    await ctx.ops.pools.create(spec, tenant=ctx.tenant)
    return await _after(ctx, args.name, f"Created pool {args.name}")


class ServersArgs(Args):
    name: str = Field(min_length=1, description="pool name (or uuid)")
    servers: StrList = Field(min_length=1, description='servers as "ip" or "ip:port", e.g. 10.0.0.5:8080')


class ServerArgs(Args):
    pool: str = Field(min_length=1, description="pool name (or uuid)")
    server: str = Field(min_length=1, description='server as "ip" or "ip:port", e.g. 10.0.0.5:8080')


def _server_diff(p: PoolDetail, changed: dict[int, str], added: list[str]) -> list[str]:
    """The server list before/after: `  kept`, `- removed` / `+ added`, `- old` + `+ new` for a change."""
    lines: list[str] = []
    quiet = 0
    for i, s in enumerate(p.servers):
        label = _label(s, p.default_server_port)
        now = f"{label} ({'enabled' if s.enabled else 'disabled'})"
        if i in changed:
            after = changed[i]
            lines += [f"- server {now}"] + ([f"+ server {label} ({after})"] if after != "removed" else [])
        elif quiet < MAX_CONTEXT_LINES:
            lines.append(f"  server {now}")
            quiet += 1
        else:
            quiet += 1
    if quiet > MAX_CONTEXT_LINES:
        lines.append(f"  ... and {quiet - MAX_CONTEXT_LINES} more servers unchanged")
    lines += [f"+ server {a} (enabled)" for a in added]
    return lines


def _find(p: PoolDetail, specs: list[ServerSpec]) -> set[int]:
    """Indexes of the pool's servers that `specs` name; a ToolError for one that is not there."""
    hits: set[int] = set()
    for spec in specs:
        found = {i for i, s in enumerate(p.servers) if _matches(spec, s)}
        if not found:
            raise ToolError(
                f"pool {p.name} has no server {_label(spec)}", f"see its servers with get_pool {p.name}"
            )
        hits |= found
    return hits


def _membership(
    *, add: bool, many: bool
) -> tuple[Callable[..., Awaitable[WritePlan]], Callable[..., Awaitable[ToolResult]]]:
    """Plan and run for adding or removing servers (`many`: ServersArgs, else ServerArgs)."""

    def unpack(args: Any) -> tuple[str, list[ServerSpec]]:
        if many:
            return args.name, [parse_server(s) for s in args.servers]
        return args.pool, [parse_server(args.server)]

    async def plan(ctx: ToolContext, args: Any) -> WritePlan:
        name, specs = unpack(args)
        p = await _read(ctx, name)
        labels = ", ".join(_label(s, p.default_server_port) for s in specs)
        if add:
            present = [s for s in specs if any(_matches(s, x) for x in p.servers)]
            if present:
                raise ToolError(f"pool {p.name} already has server {_label(present[0])}", "nothing to add")
            diff = _server_diff(p, {}, [_label(s, p.default_server_port) for s in specs])
            return WritePlan(summary=f"Add {labels} to pool {p.name} (tenant {tenant_label(ctx)})", diff=diff)
        hits = _find(p, specs)
        diff = _server_diff(p, dict.fromkeys(hits, "removed"), [])
        if len(hits) == len(p.servers):
            diff.append("  warning: the pool will have no servers left")
        return WritePlan(
            summary=f"Remove {labels} from pool {p.name} (tenant {tenant_label(ctx)})", diff=diff
        )

    async def run(ctx: ToolContext, args: Any) -> ToolResult:
        name, specs = unpack(args)
        ops = ctx.ops.pools
        p = await (ops.scale_out if add else ops.scale_in)(name, specs, tenant=ctx.tenant)
        verb = "Added" if add else "Removed"
        return await _after(
            ctx, p.uuid, f"{verb} {len(specs)} server(s) {'to' if add else 'from'} pool {p.name}"
        )

    return plan, run


def _switch(
    enabled: bool,
) -> tuple[Callable[..., Awaitable[WritePlan]], Callable[..., Awaitable[ToolResult]]]:
    word = "enabled" if enabled else "disabled"
    verb = "Enable" if enabled else "Disable"

    async def plan(ctx: ToolContext, args: ServerArgs) -> WritePlan:
        spec = parse_server(args.server)
        p = await _read(ctx, args.pool)
        hits = _find(p, [spec])
        if all(p.servers[i].enabled == enabled for i in hits):
            raise ToolError(f"server {_label(spec)} of pool {p.name} is already {word}", "nothing to do")
        diff = _server_diff(p, dict.fromkeys(hits, word), [])
        return WritePlan(
            summary=f"{verb} server {_label(spec, p.default_server_port)} in pool {p.name} "
            f"(tenant {tenant_label(ctx)})",
            diff=diff,
        )

    async def run(ctx: ToolContext, args: ServerArgs) -> ToolResult:
        spec = parse_server(args.server)
        op = ctx.ops.pools.enable_server if enabled else ctx.ops.pools.disable_server
        p = await op(args.pool, spec, tenant=ctx.tenant)
        return await _after(ctx, p.uuid, f"{verb}d server {_label(spec)} in pool {p.name}")

    return plan, run


_W, _D = Risk.WRITE, Risk.DESTRUCTIVE
plan_scale_out, run_scale_out = _membership(add=True, many=True)
plan_scale_in, run_scale_in = _membership(add=False, many=True)
plan_add, run_add = _membership(add=True, many=False)
plan_remove, run_remove = _membership(add=False, many=False)
plan_enable, run_enable = _switch(True)
plan_disable, run_disable = _switch(False)

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
        target=_pool_target,
    ),
    tool(
        "scale_out_pool",
        "Add several servers to an existing pool (more capacity). Needs confirmation.",
        ServersArgs,
        run_scale_out,
        risk=_W,
        plan=plan_scale_out,
        topics=(*POOL_TOPICS, "scale", "out", "add", "grow", "capacity", "more"),
        lookup=LOOKUP,
        verify=_verify_membership(add=True),
        readback=show,
        target=_pool_target,
    ),
    tool(
        "scale_in_pool",
        "Remove several servers from a pool. Destructive; needs confirmation.",
        ServersArgs,
        run_scale_in,
        risk=_D,
        plan=plan_scale_in,
        topics=(*POOL_TOPICS, "scale", "in", "remove", "shrink", "fewer"),
        lookup=LOOKUP,
        verify=_verify_membership(add=False),
        readback=show,
        target=_pool_target,
    ),
    tool(
        "add_pool_server",
        "Add one server to a pool. Needs confirmation.",
        ServerArgs,
        run_add,
        risk=_W,
        plan=plan_add,
        topics=(*POOL_TOPICS, "add", "new", "join"),
        lookup=LOOKUP,
        verify=_verify_membership(add=True),
        readback=show,
        target=_pool_target,
    ),
    tool(
        "remove_pool_server",
        "Remove one server from a pool. Destructive; needs confirmation.",
        ServerArgs,
        run_remove,
        risk=_D,
        plan=plan_remove,
        topics=(*POOL_TOPICS, "remove", "delete", "drop"),
        lookup=LOOKUP,
        verify=_verify_membership(add=False),
        readback=show,
        target=_pool_target,
    ),
    tool(
        "enable_pool_server",
        "Enable one server of a pool so it takes traffic again. Needs confirmation.",
        ServerArgs,
        run_enable,
        risk=_W,
        plan=plan_enable,
        topics=(*POOL_TOPICS, "enable", "activate", "back", "on"),
        lookup=LOOKUP,
        verify=_verify_switch(True),
        readback=show,
        target=_pool_target,
    ),
    tool(
        "disable_pool_server",
        "Disable one server of a pool (drain it, e.g. for maintenance); it stays in the pool. "
        "Needs confirmation.",
        ServerArgs,
        run_disable,
        risk=_W,
        plan=plan_disable,
        topics=(*POOL_TOPICS, "disable", "drain", "maintenance", "off"),
        lookup=LOOKUP,
        verify=_verify_switch(False),
        readback=show,
        target=_pool_target,
    ),
]
