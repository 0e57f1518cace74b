"""Any object type: what types exist, list objects of a type, read one (redacted, trimmed)."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import Field, field_validator

from avi.object_types import INVENTORY_TYPES, OBJECT_TYPES
from avi.redact import redact
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, OptStr, tool
from bot.tools.errors import ToolError
from bot.tools.paging import Page, asked_limit, page_field, page_note, page_size, paged_table
from bot.tools.render import cell, facts, fit_list, fit_object, prune, table

ALIASES: dict[str, str] = {
    "vs": "virtualservice",
    "virtualservices": "virtualservice",
    "se": "serviceengine",
    "engine": "serviceengine",
    "segroup": "serviceenginegroup",
    "monitor": "healthmonitor",
    "hm": "healthmonitor",
    "cert": "sslkeyandcertificate",
    "certificate": "sslkeyandcertificate",
    "certificates": "sslkeyandcertificate",
    "certs": "sslkeyandcertificate",
    "sslcert": "sslkeyandcertificate",
    "vip": "vsvip",
    "network": "network",
    "appprofile": "applicationprofile",
}
# Fields worth a column when listing an arbitrary type (in this order, the first few present win).
_LIST_FIELDS = ("type", "vtype", "enabled", "status", "state", "description", "ip_address", "fqdn")
_KNOWN = frozenset(OBJECT_TYPES) | {f"{t}-inventory" for t in INVENTORY_TYPES}


def object_type(value: str) -> str:
    """`Virtual Service`, `virtual_services`, `certs` -> the controller's type name, or a ToolError."""
    key = value.strip().lower()
    if not key.endswith("-inventory"):
        key = key.replace(" ", "").replace("_", "").replace("-", "")
    if key in _KNOWN:
        return key
    if key in ALIASES:
        return ALIASES[key]
    if key.endswith("s") and key[:-1] in _KNOWN:
        return key[:-1]
    close = difflib.get_close_matches(key, OBJECT_TYPES, n=3, cutoff=0.7)
    hint = f"did you mean {', '.join(close)}?" if close else "see the types with list_object_types"
    raise ToolError(f"unknown object type {value!r}", hint)


class TypesArgs(Args):
    name_contains: OptStr = Field(None, description="only types whose name contains this text, e.g. ssl")


async def list_object_types(ctx: ToolContext, args: TypesArgs) -> ToolResult:
    found = ctx.ops.objects.object_types()
    if args.name_contains:
        word = args.name_contains.lower().replace(" ", "")
        found = [t for t in found if word in t.name or word in (t.description or "").lower()]
    summary = f"{len(found)} object types"
    items = [prune({"type": t.name, "about": t.description}) for t in found]
    # Described types first: they are the ones people ask about.
    items.sort(key=lambda i: "about" not in i)
    rows = [[i["type"], i.get("about", "")] for i in items]
    return ToolResult(
        summary=summary,
        data=fit_list(items),
        parts=[table(summary, ["Type", "About"], rows)],
    )


class TypeArg(Args):
    object_type: str = Field(description="controller object type, e.g. cloud, sslkeyandcertificate, vsvip")

    @field_validator("object_type")
    @classmethod
    def _type(cls, value: str) -> str:
        try:
            return object_type(value)
        except ToolError as exc:
            raise ValueError(str(exc)) from exc


class ListObjectsArgs(TypeArg):
    name_contains: OptStr = Field(None, description="only names containing this text (case-insensitive)")
    limit: int = Field(25, ge=1, le=200, description="at most this many in the answer")
    page: int = page_field()


def object_row(item: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"name": item.get("name"), "uuid": item.get("uuid")}
    for key in _LIST_FIELDS:
        value = item.get(key)
        if isinstance(value, (str, int, float, bool)) and len(row) < 5:
            row[key] = value if not isinstance(value, str) else value[:120]
    return prune(row)


async def list_objects(ctx: ToolContext, args: ListObjectsArgs) -> ToolResult:
    size = page_size(asked_limit(args))
    start = (args.page - 1) * size
    result = await ctx.ops.objects.list_objects(
        args.object_type,
        name_contains=args.name_contains,
        tenant=ctx.tenant,
        limit=start + max(size, args.limit),
    )
    found = [object_row(item) for item in result.items]
    page = Page(items=found[start : start + size], number=args.page, size=size, total=result.count)
    rows = found[start : start + args.limit]  # the model's share, from where the person's page starts
    summary = f"{result.count} {args.object_type} objects" + (
        f", first {len(rows)} shown" if result.count > len(rows) and args.page == 1 else ""
    )
    columns = list(dict.fromkeys(k for r in page.items or rows for k in r)) or ["name", "uuid"]
    cells = ([r.get(c) for c in columns] for r in page.items)
    return ToolResult(
        summary=summary,
        data=fit_list(rows, total=result.count, object_type=args.object_type, **page_note(page)),
        parts=[paged_table(summary, columns, cells, page, tool="list_objects", args=args)],
    )


class GetObjectArgs(TypeArg):
    name: str = Field(min_length=1, description="object name (or uuid)")


async def get_object(ctx: ToolContext, args: GetObjectArgs) -> ToolResult:
    obj = redact(await ctx.ops.objects.get_object(args.object_type, args.name, tenant=ctx.tenant))
    data = fit_object(obj)
    top = data if isinstance(data, dict) else {"value": data}
    scalars = {k: v for k, v in top.items() if not isinstance(v, (dict, list))}
    nested = {k: v for k, v in top.items() if isinstance(v, (dict, list)) and v}
    shown = {**scalars, **{k: _brief(v) for k, v in nested.items()}}
    name = top.get("name") or args.name
    return ToolResult(
        summary=f"{args.object_type} {name}: {len(obj)} fields",
        data=data,
        parts=[facts(f"{args.object_type} {name}", dict(list(shown.items())[:30]))],
    )


def _brief(value: Any) -> str:
    text_value = cell(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    if text_value is not None and len(text_value) <= 120:
        return text_value
    return f"{len(value)} {'items' if isinstance(value, list) else 'fields'}"


TOPICS = (
    "object",
    "objects",
    "type",
    "types",
    "config",
    "configuration",
    "cloud",
    "certificate",
    "cert",
    "ssl",
    "tenant",
    "user",
    "network",
    "profile",
    "vsvip",
    "ipam",
    "dns",
    "any",
    "raw",
)

TOOLS: list[Tool] = [
    tool(
        "list_object_types",
        "List the kinds of objects the controller has (cloud, sslkeyandcertificate, vsvip ...). Use when "
        "unsure which object_type to pass to list_objects or get_object.",
        TypesArgs,
        list_object_types,
        topics=(*TOPICS, "kinds", "what", "list"),
    ),
    tool(
        "list_objects",
        "List objects of any type that has no dedicated tool, e.g. clouds, certificates, networks, "
        "profiles. Use for questions like 'list the clouds', 'which certificates do we have?'.",
        ListObjectsArgs,
        list_objects,
        topics=(*TOPICS, "list", "all", "show"),
        lookup="list_object_types",
    ),
    tool(
        "get_object",
        "Read ONE object of any type by name, all its settings (secrets hidden). Use when no dedicated get_ "
        "tool fits, e.g. a cloud, a certificate or a network.",
        GetObjectArgs,
        get_object,
        topics=(*TOPICS, "details", "show", "settings", "get"),
        lookup="list_objects",
    ),
]
