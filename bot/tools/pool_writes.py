"""Pool changes: update (port, algorithm, health monitors, enabled, description, rename) and delete,
each planned with a diff read from the controller and run only once confirmed.

`update_pool` works out the change from the pool as it is (at plan time for the diff, again at run
time for the PATCH), so attaching a monitor never drops one someone else attached meanwhile, and only
the fields that really change are sent. `delete_pool` refuses, before anything is pending, a pool a
virtual service or a pool group uses: the controller refuses to delete it
(`Cannot delete, object is referred by: [...]`), and that answer, should it come anyway, is worded too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from avi.errors import AviError, AviNotFoundError
from avi.models import PoolDetail, ref_name, ref_uuid
from avi.operations import PoolUpdate, PoolUsers
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptBool, OptStr, OptStrList, tenant_label, tool
from bot.tools.errors import ToolError, nothing_to_do
from bot.tools.names import Named, find_named
from bot.tools.pools import (
    LOOKUP,
    POOL_TOPICS,
    PoolNameArgs,
    after_pool,
    norm_lb,
    pool_data,
    pool_parts,
    read_pool,
    spec_label,
)
from bot.tools.render import cell, fit_object, text
from bot.types import Risk

OptInt = Annotated[int | None, WithJsonSchema({"type": "integer"})]
MONITOR_LOOKUP = "list_health_monitors"
MAX_USERS_NAMED = 10  # objects named in a refusal before "and N more"
MAX_SERVERS_SHOWN = 5  # servers named in a delete plan before "and N more"
IN_USE_HINT = (
    "switch those virtual services to another pool (update_virtual_service) or delete them first, "
    "then delete the pool"
)
CHANGE_FIELDS = (
    "new_name, default_server_port, lb_algorithm, attach_health_monitors, detach_health_monitors, "
    "enabled or description"
)


# -- update --------------------------------------------------------------------------------------


class UpdatePoolArgs(Args):
    name: str = Field(min_length=1, description="pool name (or uuid)")
    new_name: OptStr = Field(None, min_length=1, max_length=256, description="rename the pool to this")
    default_server_port: OptInt = Field(None, ge=1, le=65535, description="new default port of the servers")
    lb_algorithm: OptStr = Field(None, description="new algorithm, e.g. round_robin, least_connections")
    attach_health_monitors: OptStrList = Field(None, description="health monitor names to add to the pool")
    detach_health_monitors: OptStrList = Field(None, description="health monitor names to take off the pool")
    enabled: OptBool = Field(None, description="true to enable the pool, false to disable it")
    description: OptStr = Field(None, description="new description text")


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def _lb_short(value: str | None) -> str:
    return (value or "").removeprefix("LB_ALGORITHM_").lower()


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(none)" if value in (None, "") else str(value)


def _current_monitors(p: PoolDetail) -> list[Named]:
    refs = p.config.get("health_monitor_refs") or []
    return [Named(uuid=str(ref_uuid(r)), name=str(ref_name(r))) for r in refs if ref_uuid(r)]


async def _monitors(ctx: ToolContext, names: list[str] | None) -> list[Named]:
    return [
        await find_named(ctx, "healthmonitor", n, what="health monitor", lookup=MONITOR_LOOKUP)
        for n in names or []
    ]


async def _monitor_change(ctx: ToolContext, p: PoolDetail, args: UpdatePoolArgs) -> Change | None:
    attach = await _monitors(ctx, args.attach_health_monitors)
    detach = await _monitors(ctx, args.detach_health_monitors)
    both = {m.uuid for m in attach} & {m.uuid for m in detach}
    if both:
        named = ", ".join(m.name for m in attach if m.uuid in both)
        raise ToolError(f"{named}: asked to attach and to detach at once", "say which one you want")
    current = _current_monitors(p)
    gone = {m.uuid for m in detach}
    after = [m for m in current if m.uuid not in gone]
    for m in attach:
        if m.uuid not in {a.uuid for a in after}:
            after.append(m)
    if [m.uuid for m in after] == [m.uuid for m in current]:
        return None
    return Change("health_monitors", [m.name for m in current], after)


async def _changes(ctx: ToolContext, p: PoolDetail, args: UpdatePoolArgs) -> list[Change]:
    """What the call really changes on the pool as it is now (names resolved, values checked)."""
    out: list[Change] = []
    if args.new_name is not None and args.new_name != p.name:
        if await ctx.ops.client.get_by_name("pool", args.new_name, tenant=ctx.tenant) is not None:
            raise ToolError(f"a pool named {args.new_name!r} already exists", "choose another name")
        out.append(Change("name", p.name, args.new_name))
    if args.default_server_port is not None and args.default_server_port != p.default_server_port:
        out.append(Change("default_server_port", p.default_server_port, args.default_server_port))
    lb = norm_lb(args.lb_algorithm)
    if lb is not None and lb.lower() != _lb_short(p.lb_algorithm):
        out.append(Change("lb_algorithm", _lb_short(p.lb_algorithm) or None, lb.lower()))
    monitors = await _monitor_change(ctx, p, args)
    if monitors is not None:
        out.append(monitors)
    if args.enabled is not None and args.enabled != p.enabled:
        out.append(Change("enabled", p.enabled, args.enabled))
    description = p.config.get("description") or ""
    if args.description is not None and args.description != description:
        out.append(Change("description", description, args.description))
    return out


def _asked(args: UpdatePoolArgs) -> bool:
    fields = (
        args.new_name,
        args.default_server_port,
        args.lb_algorithm,
        args.attach_health_monitors,
        args.detach_health_monitors,
        args.enabled,
        args.description,
    )
    return any(f is not None for f in fields)


def _update(changes: list[Change]) -> PoolUpdate:
    values: dict[str, Any] = {}
    for c in changes:
        if c.field == "health_monitors":
            values["health_monitors"] = [m.uuid for m in c.after]
        else:
            values[c.field] = c.after
    return PoolUpdate(**values)


def _diff_lines(c: Change) -> list[str]:
    after = [m.name for m in c.after] if c.field == "health_monitors" else c.after
    return [f"- {c.field}: {_shown(c.before)}", f"+ {c.field}: {_shown(after)}"]


async def plan_update(ctx: ToolContext, args: UpdatePoolArgs) -> WritePlan:
    p = await read_pool(ctx, args.name)
    if not _asked(args):
        raise ToolError(f"say what to change on pool {p.name}", f"give {CHANGE_FIELDS}")
    changes = await _changes(ctx, p, args)
    if not changes:
        raise nothing_to_do(f"pool {p.name} already has those values")
    diff = [line for c in changes for line in _diff_lines(c)]
    if p.virtualservices:
        diff.append(f"  used by: {cell(p.virtualservices)}")
    fields = ", ".join(c.field for c in changes)
    return WritePlan(summary=f"Change {fields} of pool {p.name} (tenant {tenant_label(ctx)})", diff=diff)


async def run_update(ctx: ToolContext, args: UpdatePoolArgs) -> ToolResult:
    p = await read_pool(ctx, args.name)
    changes = await _changes(ctx, p, args)  # from the pool as it is now: nothing else is overwritten
    if not changes:
        return await after_pool(ctx, p.uuid, f"Pool {p.name} already had those values; nothing was sent")
    updated = await ctx.ops.pools.update(p.uuid, _update(changes), tenant=ctx.tenant)
    fields = ", ".join(c.field for c in changes)
    return await after_pool(ctx, updated.uuid, f"Changed {fields} of pool {updated.name or p.name}")


async def _pool_now(ctx: ToolContext, args: UpdatePoolArgs) -> PoolDetail | None:
    """The pool under its new name when a rename was asked and is there, else under the old one."""
    for name in (args.new_name, args.name):
        if name:
            try:
                return await read_pool(ctx, name)
            except AviNotFoundError:
                continue
    return None


async def verify_update(ctx: ToolContext, args: UpdatePoolArgs) -> bool | None:
    """Every field asked for has its new value (one PATCH: all of them or none)."""
    p = await _pool_now(ctx, args)
    if p is None:
        return None
    names = {n.lower() for n in p.health_monitors}
    checks: list[bool] = []
    if args.new_name is not None:
        checks.append(p.name == args.new_name)
    if args.default_server_port is not None:
        checks.append(p.default_server_port == args.default_server_port)
    if args.lb_algorithm is not None:
        checks.append(_lb_short(p.lb_algorithm) == (norm_lb(args.lb_algorithm) or "").lower())
    if args.enabled is not None:
        checks.append(p.enabled == args.enabled)
    if args.description is not None:
        checks.append((p.config.get("description") or "") == args.description)
    checks += [m.lower() in names for m in args.attach_health_monitors or []]
    checks += [m.lower() not in names for m in args.detach_health_monitors or []]
    return all(checks) if checks else None


async def show_update(ctx: ToolContext, args: UpdatePoolArgs) -> ToolResult:
    """The pool as the controller has it now (after a verified lost reply)."""
    p = await _pool_now(ctx, args)
    if p is None:
        raise ToolError(f"no pool named {args.name!r}", f"check the name with {LOOKUP}")
    return ToolResult(summary=f"Pool {p.name}", data=fit_object(pool_data(p)), parts=pool_parts(p))


def update_target(args: Any) -> str:
    new = getattr(args, "new_name", None)
    return f"pool {args.name}" + (f" (or {new}, its new name)" if new else "")


# -- delete --------------------------------------------------------------------------------------


def _named_list(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_USERS_NAMED])
    more = f" and {len(names) - MAX_USERS_NAMED} more" if len(names) > MAX_USERS_NAMED else ""
    return shown + more


def in_use_message(pool: str, users: PoolUsers) -> str:
    who = []
    if users.virtualservices:
        who.append(f"virtual service(s) {_named_list(users.virtualservices)}")
    if users.poolgroups:
        who.append(f"pool group(s) {_named_list(users.poolgroups)}")
    return f"pool {pool} is used by {' and '.join(who)}; the controller refuses to delete a pool in use"


def _servers_line(p: PoolDetail) -> str:
    labels = [spec_label(s, p.default_server_port) for s in p.servers]
    shown = ", ".join(labels[:MAX_SERVERS_SHOWN])
    more = f" and {len(labels) - MAX_SERVERS_SHOWN} more" if len(labels) > MAX_SERVERS_SHOWN else ""
    return f"- servers: {len(labels)}" + (f" ({shown}{more})" if labels else "")


async def plan_delete(ctx: ToolContext, args: PoolNameArgs) -> WritePlan:
    p = await read_pool(ctx, args.name)
    users = await ctx.ops.pools.used_by(p.uuid, tenant=ctx.tenant)
    if users:
        raise ToolError(in_use_message(p.name, users), IN_USE_HINT)
    lb = _lb_short(p.lb_algorithm) or "default algorithm"
    diff = [
        f"- pool: {p.name} ({lb}, default port {_shown(p.default_server_port)})",
        _servers_line(p),
        "  used by: no virtual services",
    ]
    if p.health_monitors:
        diff.append(f"  stays: health monitor(s) {cell(p.health_monitors)} are not deleted")
    return WritePlan(
        summary=f"Delete pool {p.name} with {len(p.servers)} servers (tenant {tenant_label(ctx)})", diff=diff
    )


async def run_delete(ctx: ToolContext, args: PoolNameArgs) -> ToolResult:
    p = await read_pool(ctx, args.name)
    try:
        await ctx.ops.pools.delete(p.uuid, tenant=ctx.tenant)
    except AviError as exc:
        if "refer" not in exc.message.lower():
            raise
        raise ToolError(
            f"the controller refused to delete pool {p.name}: it is still in use ({exc.message})",
            IN_USE_HINT,
        ) from exc
    summary = f"Deleted pool {p.name} ({len(p.servers)} servers)"
    return ToolResult(summary=summary, data={"deleted": p.name}, parts=[text(summary)])


async def verify_delete(ctx: ToolContext, args: PoolNameArgs) -> bool | None:
    """Gone (404): done; still there: nothing changed."""
    try:
        await read_pool(ctx, args.name)
    except AviNotFoundError:
        return True
    return False


async def show_delete(ctx: ToolContext, args: PoolNameArgs) -> ToolResult:
    """After a verified lost reply: the pool is no longer there (or, if it is, as it is now)."""
    try:
        p = await read_pool(ctx, args.name)
    except AviNotFoundError:
        said = f"Pool {args.name} is no longer on the controller."
        return ToolResult(summary=said, data={"deleted": args.name}, parts=[text(said)])
    return ToolResult(summary=f"Pool {p.name}", data=fit_object(pool_data(p)), parts=pool_parts(p))


def delete_target(args: Any) -> str:
    return f"pool {args.name}"


TOOLS: list[Tool] = [
    tool(
        "update_pool",
        "Change a pool: default server port, load-balancing algorithm, attach or detach health monitors, "
        "enable/disable it, description, or rename it. Needs confirmation.",
        UpdatePoolArgs,
        run_update,
        risk=Risk.WRITE,
        plan=plan_update,
        # Like every write, no words of a read ("which monitor", "what algorithm" ask get_pool).
        topics=(*POOL_TOPICS, "update", "change", "set", "modify", "rename", "attach", "detach"),
        lookup=LOOKUP,
        verify=verify_update,
        readback=show_update,
        target=update_target,
    ),
    tool(
        "delete_pool",
        "Delete a pool that no virtual service uses (the controller refuses one in use). Destructive; "
        "needs confirmation.",
        PoolNameArgs,
        run_delete,
        risk=Risk.DESTRUCTIVE,
        plan=plan_delete,
        topics=(*POOL_TOPICS, "delete", "remove", "destroy", "drop"),
        lookup=LOOKUP,
        verify=verify_delete,
        readback=show_delete,
        target=delete_target,
    ),
]
