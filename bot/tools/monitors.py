"""Health monitor tools: list and get (what checks a pool's servers, how often, how strictly), and
create, update and delete, each planned with a before/after diff and run only once confirmed."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema, field_validator

from avi.errors import AviError, AviNotFoundError
from avi.models import HealthMonitorSummary
from avi.operations import HealthMonitorCreate, HealthMonitorUpdate
from avi.operations.healthmonitors import HTTP_KEYS, response_code
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptStr, OptStrList, tenant_label, tool
from bot.tools.errors import ToolError
from bot.tools.paging import model_items, page_field, page_note, page_of, paged_table
from bot.tools.render import facts, fit_list, fit_object, prune, text
from bot.types import Risk

LOOKUP = "list_health_monitors"
TOPICS = ("monitor", "monitors", "healthmonitor", "health", "check", "checks", "probe", "hm")
# Writes leave out "health": "how healthy is web-vs?" is no reason to offer a monitor change.
WRITE_TOPICS = ("monitor", "monitors", "healthmonitor", "check", "checks", "probe", "hm")
CREATE_TYPES = ("http", "https", "tcp", "udp", "ping")
MAX_POOLS_NAMED = 10  # pools named in a refusal before "and N more"

OptInt = Annotated[int | None, WithJsonSchema({"type": "integer"})]


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
    page: int = page_field()


async def list_health_monitors(ctx: ToolContext, args: ListArgs) -> ToolResult:
    found = await ctx.ops.healthmonitors.list(
        name_contains=args.name_contains, type=args.type, tenant=ctx.tenant
    )
    page = page_of(found, args)
    summary = f"{len(found)} health monitors"
    rows = [[m.name, _type(m.type), m.send_interval, m.receive_timeout, m.failed_checks] for m in page.items]
    columns = ["Name", "Type", "Interval (s)", "Timeout (s)", "Down after"]
    return ToolResult(
        summary=summary,
        data=fit_list(
            [monitor_row(m) for m in model_items(found, page, args.limit)],
            total=len(found),
            **page_note(page),
        ),
        parts=[paged_table(summary, columns, rows, page, tool="list_health_monitors", args=args)],
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


# -- writes --------------------------------------------------------------------------------------


def _codes_text(codes: Any) -> str:
    if not codes:
        return "(none)"
    return ", ".join(str(c).removeprefix("HTTP_").lower() for c in codes)


def _http(m: HealthMonitorSummary) -> dict[str, Any]:
    key = HTTP_KEYS.get(m.type)
    value = m.config.get(key) if key else None
    return value if isinstance(value, dict) else {}


def _norm_codes(value: list[str] | None) -> list[str] | None:
    return None if value is None else [response_code(v) for v in value]


async def show(ctx: ToolContext, args: Any) -> ToolResult:
    """The monitor as the controller has it now (after a write, or a verified lost reply)."""
    m = await ctx.ops.healthmonitors.get(args.name, tenant=ctx.tenant)
    data = monitor_data(m)
    return ToolResult(
        summary=f"Health monitor {m.name}",
        data=fit_object(data),
        parts=[facts(f"Health monitor {m.name}", data)],
    )


async def _after(ctx: ToolContext, name: str, summary: str) -> ToolResult:
    """Read the monitor back; the controller has confirmed the write, so a failed read is no failure."""
    try:
        m = await ctx.ops.healthmonitors.get(name, tenant=ctx.tenant)
    except AviError as exc:
        said = f"{summary}. Reading it back failed ({exc.message})."
        return ToolResult(summary=said, data={"done": summary, "read_back": exc.message}, parts=[text(said)])
    data = monitor_data(m)
    return ToolResult(
        summary=summary, data=fit_object(data), parts=[text(summary), facts(f"Health monitor {m.name}", data)]
    )


def _target(args: Any) -> str:
    return f"health monitor {args.name}"


async def _gone(ctx: ToolContext, name: str) -> bool:
    try:
        await ctx.ops.healthmonitors.get(name, tenant=ctx.tenant)
    except AviNotFoundError:
        return True
    return False


class CreateArgs(Args):
    name: str = Field(min_length=1, max_length=256, description="name of the new health monitor")
    type: str = Field("http", description="what to check with: http, https, tcp, udp or ping")
    send_interval: int = Field(10, ge=1, le=3600, description="seconds between two checks")
    receive_timeout: int = Field(
        4, ge=1, le=2400, description="seconds to wait for an answer; less than send_interval"
    )
    successful_checks: int = Field(2, ge=1, le=50, description="good checks in a row to mark a server up")
    failed_checks: int = Field(2, ge=1, le=50, description="failed checks in a row to mark a server down")
    port: OptInt = Field(None, ge=1, le=65535, description="port to check; empty = each server's own port")
    http_request: OptStr = Field(
        None, description='http/https only: request line, e.g. "GET /healthz HTTP/1.1"'
    )
    response_codes: OptStrList = Field(
        None, description="http/https only: answers that count as up, e.g. 2xx,3xx (default 2xx,3xx)"
    )
    description: OptStr = Field(None, description="free text about the monitor")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        short = value.strip().lower().removeprefix("health_monitor_")
        if short not in CREATE_TYPES:
            raise ValueError(f"unknown type {value!r}; use one of {', '.join(CREATE_TYPES)}")
        return short

    @field_validator("response_codes")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        return _norm_codes(value)


def _spec(args: CreateArgs) -> HealthMonitorCreate:
    return HealthMonitorCreate(
        name=args.name,
        type=args.type,
        send_interval=args.send_interval,
        receive_timeout=args.receive_timeout,
        successful_checks=args.successful_checks,
        failed_checks=args.failed_checks,
        monitor_port=args.port,
        http_request=args.http_request,
        http_response_codes=args.response_codes,
        description=args.description,
    )


async def plan_create(ctx: ToolContext, args: CreateArgs) -> WritePlan:
    spec = _spec(args)  # timing, type and HTTP fields checked before anything is read
    if await ctx.ops.client.get_by_name("healthmonitor", args.name, tenant=ctx.tenant) is not None:
        raise ToolError(f"a health monitor named {args.name!r} already exists", "choose another name")
    body = spec.to_api()
    diff = [
        f"+ name: {args.name}",
        f"+ type: {args.type}",
        f"+ send_interval: {spec.send_interval}s",
        f"+ receive_timeout: {spec.receive_timeout}s",
        f"+ successful_checks: {spec.successful_checks}",
        f"+ failed_checks: {spec.failed_checks}",
        f"+ port: {_value('monitor_port', spec.monitor_port)}",
    ]
    http = body.get("http_monitor") or body.get("https_monitor")
    if http:
        diff += [
            f"+ http_request: {http['http_request']}",
            f"+ response_codes: {_codes_text(http['http_response_code'])}",
        ]
    if spec.description:
        diff.append(f"+ description: {spec.description}")
    return WritePlan(
        summary=f"Create {args.type} health monitor {args.name}, every {spec.send_interval}s "
        f"(tenant {tenant_label(ctx)})",
        diff=diff,
    )


async def run_create(ctx: ToolContext, args: CreateArgs) -> ToolResult:
    await ctx.ops.healthmonitors.create(_spec(args), tenant=ctx.tenant)
    return await _after(ctx, args.name, f"Created health monitor {args.name}")


async def verify_create(ctx: ToolContext, args: CreateArgs) -> bool | None:
    """It is there (its name was free when planned): done; not there: nothing changed."""
    return await ctx.ops.client.get_by_name("healthmonitor", args.name, tenant=ctx.tenant) is not None


class UpdateArgs(Args):
    name: str = Field(min_length=1, description="health monitor name (or uuid)")
    send_interval: OptInt = Field(None, ge=1, le=3600, description="new seconds between two checks")
    receive_timeout: OptInt = Field(None, ge=1, le=2400, description="new seconds to wait for an answer")
    successful_checks: OptInt = Field(None, ge=1, le=50, description="new good checks in a row to mark up")
    failed_checks: OptInt = Field(None, ge=1, le=50, description="new failed checks in a row to mark down")
    port: OptInt = Field(None, ge=1, le=65535, description="new port to check")
    http_request: OptStr = Field(
        None, description='http/https only: new request line, e.g. "GET /ok HTTP/1.1"'
    )
    response_codes: OptStrList = Field(
        None, description="http/https only: new codes that count as up, e.g. 2xx"
    )
    description: OptStr = Field(None, description="new description text")

    @field_validator("response_codes")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        return _norm_codes(value)


def _update(args: UpdateArgs) -> HealthMonitorUpdate:
    return HealthMonitorUpdate(
        send_interval=args.send_interval,
        receive_timeout=args.receive_timeout,
        successful_checks=args.successful_checks,
        failed_checks=args.failed_checks,
        monitor_port=args.port,
        http_request=args.http_request,
        http_response_codes=args.response_codes,
        description=args.description,
    )


_SHOWN = {"monitor_port": "port"}
_UNITS = {"send_interval": "s", "receive_timeout": "s"}


def _value(field: str, value: Any) -> str:
    if value is None or value == "":
        return "(each server's own)" if field == "monitor_port" else "(none)"
    return f"{value}{_UNITS.get(field, '')}"


def _diff(m: HealthMonitorSummary, body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(diff lines, changed field names) of a `replace` body against the monitor as it is."""
    lines: list[str] = []
    fields: list[str] = []
    for key, after in body.items():
        if key in HTTP_KEYS.values():
            before = _http(m)
            for sub, label in (("http_request", "http_request"), ("http_response_code", "response_codes")):
                old, new = before.get(sub), after.get(sub)
                if old != new:
                    show_old = _codes_text(old) if sub == "http_response_code" else (old or "(none)")
                    show_new = _codes_text(new) if sub == "http_response_code" else (new or "(none)")
                    lines += [f"- {label}: {show_old}", f"+ {label}: {show_new}"]
                    fields.append(label)
            continue
        label = _SHOWN.get(key, key)
        lines += [f"- {label}: {_value(key, m.config.get(key))}", f"+ {label}: {_value(key, after)}"]
        fields.append(label)
    return lines, fields


async def plan_update(ctx: ToolContext, args: UpdateArgs) -> WritePlan:
    m, body = await ctx.ops.healthmonitors.changes(args.name, _update(args), tenant=ctx.tenant)
    if not body:
        raise ToolError(
            f"nothing to change on health monitor {m.name}: it already has those values",
            "give send_interval, receive_timeout, successful_checks, failed_checks, port, http_request, "
            "response_codes or description with a new value",
            no_op=True,
        )
    diff, fields = _diff(m, body)
    return WritePlan(
        summary=f"Change {', '.join(fields)} of health monitor {m.name} (tenant {tenant_label(ctx)})",
        diff=diff,
    )


async def run_update(ctx: ToolContext, args: UpdateArgs) -> ToolResult:
    m = await ctx.ops.healthmonitors.update(args.name, _update(args), tenant=ctx.tenant)
    return await _after(ctx, m.uuid, f"Updated health monitor {m.name}")


async def verify_update(ctx: ToolContext, args: UpdateArgs) -> bool | None:
    """Every field asked for has its new value (one PATCH: all of them or none)."""
    m = await ctx.ops.healthmonitors.get(args.name, tenant=ctx.tenant)
    http = _http(m)
    wanted: list[tuple[Any, Any]] = [
        (args.send_interval, m.send_interval),
        (args.receive_timeout, m.receive_timeout),
        (args.successful_checks, m.successful_checks),
        (args.failed_checks, m.failed_checks),
        (args.port, m.monitor_port),
        (args.description, m.config.get("description")),
        (args.http_request, http.get("http_request")),
        (args.response_codes, http.get("http_response_code")),
    ]
    checks = [want == have for want, have in wanted if want is not None]
    return all(checks) if checks else None


async def plan_delete(ctx: ToolContext, args: NameArgs) -> WritePlan:
    m = await ctx.ops.healthmonitors.get(args.name, tenant=ctx.tenant)
    if m.name.startswith("System-"):
        raise ToolError(
            f"health monitor {m.name} is a system default; the controller does not delete it",
            "create a monitor of your own instead (create_health_monitor)",
        )
    pools = await ctx.ops.healthmonitors.used_by(m.uuid, tenant=ctx.tenant)
    if pools:
        named = ", ".join(pools[:MAX_POOLS_NAMED])
        more = f" and {len(pools) - MAX_POOLS_NAMED} more" if len(pools) > MAX_POOLS_NAMED else ""
        raise ToolError(
            f"health monitor {m.name} is used by {len(pools)} pool(s): {named}{more}; "
            "the controller refuses to delete a monitor in use",
            "take it out of those pools' health monitors first",
        )
    diff = [
        f"- health monitor: {m.name} ({_type(m.type)}, every {m.send_interval}s, "
        f"down after {m.failed_checks} failed)",
        "  used by: no pools",
    ]
    return WritePlan(summary=f"Delete health monitor {m.name} (tenant {tenant_label(ctx)})", diff=diff)


async def run_delete(ctx: ToolContext, args: NameArgs) -> ToolResult:
    m = await ctx.ops.healthmonitors.get(args.name, tenant=ctx.tenant)
    await ctx.ops.healthmonitors.delete(m.uuid, tenant=ctx.tenant)
    summary = f"Deleted health monitor {m.name}"
    return ToolResult(summary=summary, data={"deleted": m.name}, parts=[text(summary)])


async def verify_delete(ctx: ToolContext, args: NameArgs) -> bool | None:
    return await _gone(ctx, args.name)


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
    tool(
        "create_health_monitor",
        "Create a health monitor (health check) of type http, https, tcp, udp or ping: how often to "
        "check, timeout, checks to mark up/down, port, HTTP request and expected codes. Needs confirmation.",
        CreateArgs,
        run_create,
        risk=Risk.WRITE,
        plan=plan_create,
        topics=(*WRITE_TOPICS, "create", "new", "add", "make", "configure"),
        lookup=LOOKUP,
        verify=verify_create,
        readback=show,
        target=_target,
    ),
    tool(
        "update_health_monitor",
        "Change a health monitor: interval, timeout, checks to mark up/down, port, HTTP request, expected "
        "codes or description. Needs confirmation.",
        UpdateArgs,
        run_update,
        risk=Risk.WRITE,
        plan=plan_update,
        topics=(*WRITE_TOPICS, "update", "change", "set", "modify", "configure", "interval", "timeout"),
        lookup=LOOKUP,
        verify=verify_update,
        readback=show,
        target=_target,
    ),
    tool(
        "delete_health_monitor",
        "Delete a health monitor that no pool uses (the controller refuses one in use). Destructive; "
        "needs confirmation.",
        NameArgs,
        run_delete,
        risk=Risk.DESTRUCTIVE,
        plan=plan_delete,
        topics=(*WRITE_TOPICS, "delete", "remove", "destroy", "drop"),
        lookup=LOOKUP,
        verify=verify_delete,
        target=_target,
    ),
]
