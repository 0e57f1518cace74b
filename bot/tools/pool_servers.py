"""Pool server tools: add and remove servers (one or several), enable and disable one.

Each is a write with a plan whose diff lists the pool's servers before and after; after a lost reply
the pool is read back to tell whether the change is there (bot/invocation.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from avi.models import PoolDetail
from avi.operations import ServerSpec
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, StrList, tenant_label, tool
from bot.tools.errors import ToolError, nothing_to_do
from bot.tools.pools import (
    LOOKUP,
    MAX_CONTEXT_LINES,
    POOL_TOPICS,
    after_pool,
    matches,
    parse_server,
    pool_name,
    pool_target,
    read_pool,
    show,
    spec_label,
)
from bot.types import Risk


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
        label = spec_label(s, p.default_server_port)
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
        found = {i for i, s in enumerate(p.servers) if matches(spec, s)}
        if not found:
            raise ToolError(
                f"pool {p.name} has no server {spec_label(spec)}", "list its servers with get_pool"
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
        p = await read_pool(ctx, name)
        labels = ", ".join(spec_label(s, p.default_server_port) for s in specs)
        if add:
            present = [s for s in specs if any(matches(s, x) for x in p.servers)]
            if present:
                raise ToolError(
                    f"pool {p.name} already has server {spec_label(present[0])}", "nothing to add"
                )
            diff = _server_diff(p, {}, [spec_label(s, p.default_server_port) for s in specs])
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
        return await after_pool(
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
        p = await read_pool(ctx, args.pool)
        hits = _find(p, [spec])
        if all(p.servers[i].enabled == enabled for i in hits):
            raise nothing_to_do(f"server {spec_label(spec)} of pool {p.name} is already {word}")
        diff = _server_diff(p, dict.fromkeys(hits, word), [])
        return WritePlan(
            summary=f"{verb} server {spec_label(spec, p.default_server_port)} in pool {p.name} "
            f"(tenant {tenant_label(ctx)})",
            diff=diff,
        )

    async def run(ctx: ToolContext, args: ServerArgs) -> ToolResult:
        spec = parse_server(args.server)
        op = ctx.ops.pools.enable_server if enabled else ctx.ops.pools.disable_server
        p = await op(args.pool, spec, tenant=ctx.tenant)
        return await after_pool(ctx, p.uuid, f"{verb}d server {spec_label(spec)} in pool {p.name}")

    return plan, run


_W, _D = Risk.WRITE, Risk.DESTRUCTIVE
plan_scale_out, run_scale_out = _membership(add=True, many=True)
plan_scale_in, run_scale_in = _membership(add=False, many=True)
plan_add, run_add = _membership(add=True, many=False)
plan_remove, run_remove = _membership(add=False, many=False)
plan_enable, run_enable = _switch(True)
plan_disable, run_disable = _switch(False)


def _specs(args: Any) -> list[ServerSpec]:
    if isinstance(args, ServerArgs):
        return [parse_server(args.server)]
    return [parse_server(s) for s in args.servers]


def _verify_membership(*, add: bool) -> Callable[[ToolContext, Any], Awaitable[bool | None]]:
    """Added: every server named is in the pool; removed: none is. One PATCH `add` or one PUT makes
    the whole change or none of it, so anything else means it was not applied."""

    async def verify(ctx: ToolContext, args: Any) -> bool | None:
        p = await read_pool(ctx, pool_name(args))
        present = [any(matches(spec, s) for s in p.servers) for spec in _specs(args)]
        return all(present) if add else not any(present)

    return verify


def _verify_switch(enabled: bool) -> Callable[[ToolContext, ServerArgs], Awaitable[bool | None]]:
    """Every server the address names has the new state (one PUT: all of them or none)."""

    async def verify(ctx: ToolContext, args: ServerArgs) -> bool | None:
        p = await read_pool(ctx, args.pool)
        spec = parse_server(args.server)
        hits = [s for s in p.servers if matches(spec, s)]
        if not hits:
            return None  # the server is gone meanwhile: neither state
        return all(s.enabled == enabled for s in hits)

    return verify


TOOLS: list[Tool] = [
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
        target=pool_target,
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
        target=pool_target,
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
        target=pool_target,
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
        target=pool_target,
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
        target=pool_target,
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
        target=pool_target,
    ),
]
