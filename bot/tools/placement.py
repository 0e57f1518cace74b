"""Placement tools: where a virtual service's VIP runs (scale out/in, migrate, switchover).

Each is a write with a plan; after a lost reply their effect cannot be read back as one field, so
their outcome is then reported as unknown with what to check (bot/invocation.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from avi.models import VirtualServiceDetail
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, IdStr, OptStr, tool
from bot.tools.errors import ToolError, translate
from bot.tools.render import cell
from bot.tools.virtualservices import LOOKUP, VS_TOPICS, after_vs, read_vs, show
from bot.types import Risk


class VipArgs(Args):
    name: str = Field(min_length=1, description="virtual service name (or uuid)")
    vip_id: IdStr = Field("0", description="which VIP of the virtual service; usually 0")


class MigrateArgs(VipArgs):
    to_service_engine: OptStr = Field(
        None, description="service engine to move to; empty = let the controller choose"
    )


def _engines(vs: VirtualServiceDetail) -> str:
    return f"{cell(vs.service_engines)} ({vs.num_se_assigned or len(vs.service_engines)})"


async def plan_scale_out(ctx: ToolContext, args: VipArgs) -> WritePlan:
    vs = await read_vs(ctx, args.name)
    return WritePlan(
        summary=f"Scale out virtual service {vs.name} vip {args.vip_id} to one more service engine",
        diff=[f"- service engines: {_engines(vs)}", "+ service engines: the same plus one more"],
    )


async def plan_scale_in(ctx: ToolContext, args: VipArgs) -> WritePlan:
    vs = await read_vs(ctx, args.name)
    if (vs.num_se_assigned or len(vs.service_engines)) <= 1:
        raise ToolError(
            f"virtual service {vs.name} is on only one service engine", "scaling in would leave it on none"
        )
    return WritePlan(
        summary=f"Scale in virtual service {vs.name} vip {args.vip_id} by one service engine",
        diff=[f"- service engines: {_engines(vs)}", "+ service engines: one fewer"],
    )


async def plan_migrate(ctx: ToolContext, args: MigrateArgs) -> WritePlan:
    vs = await read_vs(ctx, args.name)
    target = "another engine chosen by the controller"
    if args.to_service_engine:
        try:
            se = await ctx.ops.serviceengines.get(args.to_service_engine)
        except Exception as exc:
            raise translate(exc, "list_service_engines") from exc
        if se.name in vs.service_engines:
            raise ToolError(f"{vs.name} already runs on {se.name}", "pick an engine it is not on", no_op=True)
        if vs.se_group and se.se_group and se.se_group != vs.se_group:
            raise ToolError(
                f"{se.name} is in SE group {se.se_group}, {vs.name} in {vs.se_group}",
                f"pick an engine of {vs.se_group} (list_service_engines)",
            )
        target = se.name
    return WritePlan(
        summary=f"Migrate virtual service {vs.name} vip {args.vip_id} to {target}",
        diff=[f"- service engines: {_engines(vs)}", f"+ moved to: {target}"],
    )


async def plan_switchover(ctx: ToolContext, args: VipArgs) -> WritePlan:
    vs = await read_vs(ctx, args.name)
    if len(vs.service_engines) < 2:
        raise ToolError(
            f"virtual service {vs.name} has no standby service engine to switch to",
            "scale it out first (scale_out_virtual_service)",
        )
    return WritePlan(
        summary=f"Switch over virtual service {vs.name} vip {args.vip_id} to another primary service engine",
        diff=[f"- primary: {vs.service_engines[0]}", f"+ primary: {vs.service_engines[1]}"],
    )


def _action(method: str, verb: str) -> Callable[..., Awaitable[ToolResult]]:
    async def run(ctx: ToolContext, args: VipArgs) -> ToolResult:
        ops = ctx.ops.virtualservices
        kwargs: dict[str, Any] = {"vip_id": args.vip_id, "tenant": ctx.tenant}
        if isinstance(args, MigrateArgs) and args.to_service_engine:
            kwargs["to_se"] = args.to_service_engine
        result = await getattr(ops, method)(args.name, **kwargs)
        return await after_vs(ctx, result.uuid, f"{verb} of {args.name} vip {args.vip_id} done")

    return run


def _placement_target(args: Any) -> str:
    return f"the service engines of virtual service {args.name}"


async def verify_placement(ctx: ToolContext, args: VipArgs) -> bool | None:
    """Scale out/in, migrate, switchover: where a VIP runs is not one field to compare; cannot tell."""
    return None


_W = Risk.WRITE

TOOLS: list[Tool] = [
    tool(
        "scale_out_virtual_service",
        "Place a virtual service's VIP on one more service engine (more capacity). Needs confirmation.",
        VipArgs,
        _action("scale_out", "Scale out"),
        risk=_W,
        plan=plan_scale_out,
        topics=(*VS_TOPICS, "scale", "out", "scaleout", "capacity", "engine", "se", "more"),
        lookup=LOOKUP,
        verify=verify_placement,
        readback=show,
        target=_placement_target,
    ),
    tool(
        "scale_in_virtual_service",
        "Remove a virtual service's VIP from one of its service engines (less capacity). Needs confirmation.",
        VipArgs,
        _action("scale_in", "Scale in"),
        risk=_W,
        plan=plan_scale_in,
        topics=(*VS_TOPICS, "scale", "in", "scalein", "capacity", "engine", "se", "fewer"),
        lookup=LOOKUP,
        verify=verify_placement,
        readback=show,
        target=_placement_target,
    ),
    tool(
        "migrate_virtual_service",
        "Move a virtual service's VIP from its service engine to another one. Needs confirmation.",
        MigrateArgs,
        _action("migrate", "Migrate"),
        risk=_W,
        plan=plan_migrate,
        topics=(*VS_TOPICS, "migrate", "move", "engine", "se"),
        lookup=LOOKUP,
        verify=verify_placement,
        readback=show,
        target=_placement_target,
    ),
    tool(
        "switchover_virtual_service",
        "Make the standby service engine of a virtual service the primary one. Needs confirmation.",
        VipArgs,
        _action("switchover", "Switchover"),
        risk=_W,
        plan=plan_switchover,
        topics=(*VS_TOPICS, "switchover", "switch", "failover", "primary", "standby", "engine", "se"),
        lookup=LOOKUP,
        verify=verify_placement,
        readback=show,
        target=_placement_target,
    ),
]
