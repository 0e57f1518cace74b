"""Virtual service tools: list, get, create, delete, enable/disable (changes: vs_update.py, placement:
placement.py)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field, field_validator

from avi.errors import AviError, AviNotFoundError
from avi.models import ServicePort, VirtualServiceDetail, VirtualServiceSummary, ref_name
from avi.operations import ServicePortSpec, VirtualServiceCreate, VirtualServiceFilter
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptBool, OptStr, tenant_label, tool
from bot.tools.errors import ToolError, nothing_to_do, translate
from bot.tools.paging import model_items, page_field, page_note, page_of, paged_table
from bot.tools.render import cell, facts, fit_list, fit_object, num, prune, state, text
from bot.types import Risk

LOOKUP = "list_virtual_services"
VS_TOPICS = ("vs", "virtual", "service", "virtualservice", "vip", "app", "application")
_STATES = {"up", "down", "disabled", "unknown", "initializing", "resources", "inactive"}

# -- shaping -------------------------------------------------------------------------------------


def _port(svc: ServicePort) -> str:
    end = f"-{svc.port_range_end}" if svc.port_range_end and svc.port_range_end != svc.port else ""
    return f"{svc.port}{end}{'(ssl)' if svc.enable_ssl else ''}"


def endpoints(vs: VirtualServiceSummary) -> list[str]:
    """`["10.0.0.1:80,443(ssl)"]`: each VIP with the service ports."""
    ports = ",".join(_port(s) for s in vs.services)
    return [f"{vip}:{ports}" if ports else vip for vip in vs.vips]


def vs_row(vs: VirtualServiceSummary) -> dict[str, Any]:
    return prune(
        {
            "name": vs.name,
            "enabled": vs.enabled,
            "state": state(vs.oper_status.state),
            "reason": "; ".join(vs.oper_status.reason),
            "vip": endpoints(vs),
            "pool": vs.pool or vs.pool_group,
            "health": num(vs.health_score),
        }
    )


def vs_facts(vs: VirtualServiceDetail) -> dict[str, Any]:
    """What answers "how is web-vs doing?": state, why, where it listens, its pool and engines."""
    pool = vs.pool_summary
    pool_status = (
        f"{state(pool.oper_status.state)}, {pool.num_servers_up}/{pool.num_servers_enabled} servers up"
        f" ({pool.num_servers} configured)"
        if pool
        else None
    )
    return prune(
        {
            "name": vs.name,
            "tenant": vs.tenant,
            "enabled": vs.enabled,
            "state": state(vs.oper_status.state),
            "reason": "; ".join(vs.oper_status.reason),
            "vip": endpoints(vs),
            "pool": vs.pool or vs.pool_group,
            "pool_status": pool_status,
            "service_engines": vs.service_engines,
            "num_se_assigned": vs.num_se_assigned,
            "se_group": vs.se_group,
            "health": num(vs.health_score),
            "application_profile": ref_name(vs.config.get("application_profile_ref")),
            "ssl_certificates": [ref_name(r) for r in vs.config.get("ssl_key_and_certificate_refs") or []],
            "ssl_profile": ref_name(vs.config.get("ssl_profile_ref")),
            "description": vs.config.get("description"),
            "uuid": vs.uuid,
        }
    )


def vs_parts(vs: VirtualServiceDetail, title: str) -> list[Any]:
    return [facts(title, vs_facts(vs))]


def _norm_state(value: str | None) -> str | None:
    if value is None:
        return None
    short = value.strip().lower().removeprefix("oper_")
    if short not in _STATES:
        raise ToolError(f"unknown oper_state {value!r}", "use up, down or disabled")
    return short


# -- reads ---------------------------------------------------------------------------------------


class ListVirtualServicesArgs(Args):
    name_contains: OptStr = Field(None, description="only names containing this text (case-insensitive)")
    enabled: OptBool = Field(None, description="true = only enabled, false = only disabled")
    oper_state: OptStr = Field(None, description="only this state: up, down or disabled")
    limit: int = Field(50, ge=1, le=500, description="at most this many in the answer")
    page: int = page_field()


async def list_virtual_services(ctx: ToolContext, args: ListVirtualServicesArgs) -> ToolResult:
    found = await ctx.ops.virtualservices.list(
        VirtualServiceFilter(
            name_contains=args.name_contains, enabled=args.enabled, oper_state=_norm_state(args.oper_state)
        ),
        tenant=ctx.tenant,
    )
    page = page_of(found, args)
    down = sum(1 for v in found if v.enabled and not v.oper_status.up)
    disabled = sum(1 for v in found if not v.enabled)
    summary = f"{len(found)} virtual services, {down} down, {disabled} disabled"
    rows = [
        [v.name, v.enabled, state(v.oper_status.state), endpoints(v), v.pool or v.pool_group, v.health_score]
        for v in page.items
    ]
    columns = ["Name", "Enabled", "State", "VIP", "Pool", "Health"]
    return ToolResult(
        summary=summary,
        data=fit_list(
            [vs_row(v) for v in model_items(found, page, args.limit)],
            total=len(found),
            down=down,
            disabled=disabled,
            **page_note(page),
        ),
        parts=[paged_table(summary, columns, rows, page, tool=LOOKUP, args=args)],
    )


class NameArgs(Args):
    name: str = Field(min_length=1, description="virtual service name (or uuid)")


async def get_virtual_service(ctx: ToolContext, args: NameArgs) -> ToolResult:
    vs = await ctx.ops.virtualservices.get(args.name, tenant=ctx.tenant)
    data = vs_facts(vs)
    summary = f"Virtual service {vs.name} is {'enabled' if vs.enabled else 'disabled'}, {data['state']}"
    return ToolResult(
        summary=summary, data=fit_object(data), parts=vs_parts(vs, f"Virtual service {vs.name}")
    )


# -- writes --------------------------------------------------------------------------------------


async def read_vs(ctx: ToolContext, name: str) -> VirtualServiceDetail:
    return await ctx.ops.virtualservices.get(name, tenant=ctx.tenant)


async def _pool_must_exist(ctx: ToolContext, pool: str) -> None:
    try:
        await ctx.ops.pools.get(pool, tenant=ctx.tenant)
    except Exception as exc:
        raise translate(exc, "list_pools") from exc


async def after_vs(ctx: ToolContext, name: str, summary: str) -> ToolResult:
    """Read the object back: the result shows the controller's state, not what we hoped for.

    The controller has already confirmed the write: a read-back that fails does not make it a failure.
    """
    try:
        vs = await read_vs(ctx, name)
    except AviError as exc:
        said = f"{summary}. Reading it back failed ({exc.message})."
        return ToolResult(summary=said, data={"done": summary, "read_back": exc.message}, parts=[text(said)])
    return ToolResult(summary=summary, data=vs_facts(vs), parts=[text(summary), *vs_parts(vs, vs.name)])


# -- after a lost reply: read back, never write again ---------------------------------------------


async def show(ctx: ToolContext, args: Any) -> ToolResult:
    """The virtual service as the controller has it now (shown after a verified lost reply)."""
    vs = await read_vs(ctx, args.name)
    return ToolResult(summary=f"Virtual service {vs.name}", data=vs_facts(vs), parts=vs_parts(vs, vs.name))


def vs_target(args: Any) -> str:
    return f"virtual service {args.name}"


async def _gone(ctx: ToolContext, name: str) -> bool:
    try:
        await read_vs(ctx, name)
    except AviNotFoundError:
        return True
    return False


async def verify_create(ctx: ToolContext, args: CreateArgs) -> bool | None:
    """The VS is there: done. Neither it nor its VIP object (`vsvip-<name>`, created first): nothing
    changed. Only the VIP object: half made, not for us to call either way."""
    if await ctx.ops.client.get_by_name("virtualservice", args.name, tenant=ctx.tenant) is not None:
        return True
    vsvip = await ctx.ops.client.get_by_name("vsvip", f"vsvip-{args.name}", tenant=ctx.tenant)
    return False if vsvip is None else None


async def verify_delete(ctx: ToolContext, args: NameArgs) -> bool | None:
    return await _gone(ctx, args.name)


def _verify_toggle(enabled: bool) -> Callable[[ToolContext, NameArgs], Awaitable[bool | None]]:
    async def verify(ctx: ToolContext, args: NameArgs) -> bool | None:
        return (await read_vs(ctx, args.name)).enabled == enabled

    return verify


class CreateArgs(Args):
    name: str = Field(min_length=1, max_length=256, description="name of the new virtual service")
    vip: str = Field(description="virtual IP address (IPv4 or IPv6), e.g. 10.0.0.10")
    port: int = Field(80, ge=1, le=65535, description="service port, e.g. 80 or 443")
    ssl: bool = Field(False, description="true to terminate SSL/TLS on this port")
    pool: OptStr = Field(None, description="existing pool name to send traffic to")

    @field_validator("vip")
    @classmethod
    def _ip(cls, value: str) -> str:
        return str(ipaddress.ip_address(value.strip()))


async def plan_create(ctx: ToolContext, args: CreateArgs) -> WritePlan:
    if await ctx.ops.client.get_by_name("virtualservice", args.name, tenant=ctx.tenant) is not None:
        raise ToolError(f"a virtual service named {args.name!r} already exists", "choose another name")
    if args.pool:
        await _pool_must_exist(ctx, args.pool)
    return WritePlan(
        summary=f"Create virtual service {args.name} on {args.vip}:{args.port} (tenant {tenant_label(ctx)})",
        diff=[
            f"+ name: {args.name}",
            f"+ vip: {args.vip}",
            f"+ port: {args.port}{' (ssl)' if args.ssl else ''}",
            f"+ pool: {args.pool or 'none'}",
            "+ enabled: true",
        ],
    )


async def run_create(ctx: ToolContext, args: CreateArgs) -> ToolResult:
    spec = VirtualServiceCreate(
        name=args.name,
        vip=ipaddress.ip_address(args.vip),
        services=[ServicePortSpec(port=args.port, enable_ssl=args.ssl)],
        pool=args.pool,
    )
    await ctx.ops.virtualservices.create(spec, tenant=ctx.tenant)
    return await after_vs(ctx, args.name, f"Created virtual service {args.name}")


def diff_line(sign: str, field: str, value: Any) -> str:
    shown = str(value).lower() if isinstance(value, bool) else (value if value != "" else "(none)")
    return f"{sign} {field}: {shown}"


async def plan_delete(ctx: ToolContext, args: NameArgs) -> WritePlan:
    vs = await read_vs(ctx, args.name)
    diff = [f"- virtual service: {vs.name}", f"- vip: {cell(endpoints(vs))}"]
    if vs.service_engines:
        diff.append(f"- placed on: {cell(vs.service_engines)}")
    keep = f"pool {vs.pool or vs.pool_group}" if (vs.pool or vs.pool_group) else "no pool"
    vsvip = f"VIP object {vs.vsvip.name}" if vs.vsvip else "the VIP object"
    diff.append(f"  stays: {keep} and {vsvip} are not deleted")
    return WritePlan(
        summary=f"Delete virtual service {vs.name} (tenant {tenant_label(ctx)}); its pool and VIP stay",
        diff=diff,
    )


async def run_delete(ctx: ToolContext, args: NameArgs) -> ToolResult:
    vs = await read_vs(ctx, args.name)
    await ctx.ops.virtualservices.delete(vs.uuid, tenant=ctx.tenant)
    summary = f"Deleted virtual service {vs.name}" + (f"; pool {vs.pool} stays" if vs.pool else "")
    return ToolResult(summary=summary, data={"deleted": vs.name, "pool_kept": vs.pool}, parts=[text(summary)])


def _toggle(
    enabled: bool,
) -> tuple[Callable[..., Awaitable[WritePlan]], Callable[..., Awaitable[ToolResult]]]:
    verb = "Enable" if enabled else "Disable"

    async def plan(ctx: ToolContext, args: NameArgs) -> WritePlan:
        vs = await read_vs(ctx, args.name)
        if vs.enabled == enabled:
            raise nothing_to_do(f"virtual service {vs.name} is already {verb.lower()}d")
        return WritePlan(
            summary=f"{verb} virtual service {vs.name} (tenant {tenant_label(ctx)})",
            diff=[diff_line("-", "enabled", vs.enabled), diff_line("+", "enabled", enabled)],
        )

    async def run(ctx: ToolContext, args: NameArgs) -> ToolResult:
        op = ctx.ops.virtualservices.enable if enabled else ctx.ops.virtualservices.disable
        vs = await op(args.name, tenant=ctx.tenant)
        return await after_vs(ctx, vs.uuid, f"{verb}d virtual service {vs.name}")

    return plan, run


plan_enable, run_enable = _toggle(True)
plan_disable, run_disable = _toggle(False)
_W = Risk.WRITE

TOOLS: list[Tool] = [
    tool(
        "list_virtual_services",
        "List virtual services with their state, VIP and pool. Use for questions like 'which VS are down?', "
        "'show all virtual services', 'how many VS do we have?'.",
        ListVirtualServicesArgs,
        list_virtual_services,
        topics=(*VS_TOPICS, "list", "all", "down", "up", "disabled", "how", "many", "show"),
    ),
    tool(
        "get_virtual_service",
        "Details of ONE virtual service: enabled, up or down and why, VIP and ports, pool and its servers, "
        "service engines, health score. Use for questions like 'is web-vs up?'.",
        NameArgs,
        get_virtual_service,
        topics=(*VS_TOPICS, "status", "state", "why", "down", "up", "health", "details", "show"),
        lookup=LOOKUP,
    ),
    tool(
        "create_virtual_service",
        "Create a new virtual service listening on a VIP address and port, optionally sending traffic to an "
        "existing pool. Needs confirmation.",
        CreateArgs,
        run_create,
        risk=_W,
        plan=plan_create,
        topics=(*VS_TOPICS, "create", "new", "add", "make"),
        lookup=LOOKUP,
        verify=verify_create,
        readback=show,
        target=vs_target,
    ),
    tool(
        "delete_virtual_service",
        "Delete a virtual service (its pool and VIP object are kept). Destructive; needs confirmation.",
        NameArgs,
        run_delete,
        risk=Risk.DESTRUCTIVE,
        plan=plan_delete,
        topics=(*VS_TOPICS, "delete", "remove", "destroy", "drop"),
        lookup=LOOKUP,
        verify=verify_delete,
        target=vs_target,
    ),
    tool(
        "enable_virtual_service",
        "Enable a disabled virtual service so it takes traffic again. Needs confirmation.",
        NameArgs,
        run_enable,
        risk=_W,
        plan=plan_enable,
        topics=(*VS_TOPICS, "enable", "start", "activate", "on"),
        lookup=LOOKUP,
        verify=_verify_toggle(True),
        readback=show,
        target=vs_target,
    ),
    tool(
        "disable_virtual_service",
        "Disable a virtual service so it stops taking traffic (config is kept). Needs confirmation.",
        NameArgs,
        run_disable,
        risk=_W,
        plan=plan_disable,
        topics=(*VS_TOPICS, "disable", "stop", "deactivate", "off", "maintenance"),
        lookup=LOOKUP,
        verify=_verify_toggle(False),
        readback=show,
        target=vs_target,
    ),
]
