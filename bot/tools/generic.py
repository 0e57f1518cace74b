"""execute_generic_operation: any method on any /api path, for what no typed tool covers.

A GET is a read; anything else is destructive (it can change anything), so it is planned and
confirmed like the other writes. The path is checked by the operation layer before anything is sent.
The plan (also what a write proxied through the web API's `/api/avi/*` shows) reads the object first
and lists every field the body changes (bot/tools/body_diff.py), secrets masked.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from pydantic import Field, field_validator

from avi.errors import AviNotFoundError
from avi.operations.generic import check_path
from avi.redact import redact_all, redact_text
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.body_diff import (
    PatchFormError,
    changes,
    check_patch,
    names_line,
    patch_notes,
    patched,
    render,
    short,
    shown,
)
from bot.tools.common import Args, OptStr, tenant_label, tool
from bot.tools.errors import ToolError
from bot.tools.render import facts, fit_object, table, text
from bot.types import Risk

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class GenericArgs(Args):
    method: str = Field("GET", description="HTTP method: GET, POST, PUT, PATCH or DELETE")
    path: str = Field(min_length=1, description="API path under /api, e.g. /api/cloud or /api/vsvip?name=x")
    query: OptStr = Field(None, description='query parameters as text, e.g. "name=web&fields=name"')
    body: OptStr = Field(
        None,
        description='request body as JSON text (POST, PUT, PATCH); a PATCH is {"replace": {...}}, '
        '{"add": {...}} or {"delete": {...}}',
    )

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        verb = value.strip().upper()
        if verb not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        return verb

    @field_validator("body")
    @classmethod
    def _json(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                json.loads(value)
            except ValueError as exc:
                raise ValueError(f"body is not valid JSON: {exc}") from exc
        return value

    def parsed_body(self) -> Any:
        return json.loads(self.body) if self.body is not None else None

    def params(self) -> dict[str, str]:
        return dict(parse_qsl((self.query or "").lstrip("?"), keep_blank_values=True))


def risk_of(args: GenericArgs) -> Risk:
    return Risk.READ if args.method == "GET" else Risk.DESTRUCTIVE


def _target(path: str) -> tuple[str, str | None, bool]:
    """(object type, uuid, whether more follows: an action or a sub-resource) of `/api/<type>/<uuid>/…`."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p][1:]  # after "api"
    return (parts[0] if parts else "", parts[1] if len(parts) > 1 else None, len(parts) > 2)


def _context(args: GenericArgs, path: str, query: dict[str, str]) -> list[str]:
    lines = [f"  method: {args.method}", f"  path: {path}"]
    if query:
        lines.append(f"  query: {redact_text('&'.join(f'{k}={v}' for k, v in query.items()))}")
    return lines


def _bad_patch(exc: PatchFormError, body: Any) -> ToolError:
    example = json.dumps(redact_all({"replace": body})) if isinstance(body, dict) else '{"replace": {...}}'
    if len(example) > 200:
        example = '{"replace": {...}}'
    return ToolError(
        f"Not an Avi PATCH body: {exc}.",
        f'Avi PATCH takes {{"replace": ...}}, {{"add": ...}} or {{"delete": ...}}, e.g. {example}',
    )


async def plan(ctx: ToolContext, args: GenericArgs) -> WritePlan:
    """Name what is written and show every field it changes, read from the controller (one GET).

    POST: what is created (the body's name and the path's type), each field as `+`. PUT / PATCH: the
    object read first, then `~ field: before → after` for each field that changes (a PUT's missing
    fields as removed, a PATCH as Avi applies `replace` / `add` / `delete` / `json_patch`). DELETE: the
    object that goes. Risky fields first; values collapsed, never dropped; secrets never shown.
    """
    path, path_query = check_path(args.path, ctx.ops.client.base_url)
    query = {**path_query, **args.params()}
    obj_type, uuid, deeper = _target(path)
    tenant = f"(tenant {tenant_label(ctx)})"
    diff = _context(args, path, query)
    body = args.parsed_body()
    if args.method == "PATCH":
        try:
            check_patch(body)
        except PatchFormError as exc:
            raise _bad_patch(exc, body) from None
    if args.method == "POST":
        name = body.get("name") if isinstance(body, dict) and not deeper else None
        what = f"create {obj_type}{f' {name}' if isinstance(name, str) else ''}" if uuid is None else ""
        summary = f"POST {path}{f': {what}' if what else ''} {tenant}"
        return WritePlan(summary=summary, diff=diff + _new_fields(body, obj_type))
    # Read what is changed or goes away first: a write to something missing never becomes pending.
    current = await ctx.ops.client.get(path, params={**query, "include_name": "true"}, tenant=ctx.tenant)
    obj = current if isinstance(current, dict) and not isinstance(current.get("results"), list) else None
    if obj is None:  # a collection: no one object to read
        lines = _new_fields(body, obj_type) if args.method != "DELETE" else ["- every object this path names"]
        return WritePlan(summary=f"{args.method} {path} {tenant}", diff=diff + lines)
    label = str(obj.get("name") or obj.get("uuid") or uuid or path)
    summary = f"{args.method} {obj_type} {label} {tenant}"
    if args.method == "DELETE":
        ident = obj.get("uuid")
        return WritePlan(
            summary=summary, diff=[*diff, f"- {obj_type} {label}{f' ({ident})' if ident else ''}"]
        )
    if not isinstance(body, dict):
        return WritePlan(summary=summary, diff=diff + _new_fields(body, obj_type))
    if args.method == "PATCH":
        try:
            after, named = patched(obj, body)
        except PatchFormError as exc:
            raise _bad_patch(exc, body) from None
        found, unchanged = changes(obj, after, named, reset=True)
        diff += patch_notes(body)
    else:
        after = body
        found, unchanged = changes(obj, after)
    diff += render(found, shown(obj, obj_type), shown(after, obj_type))
    if not found:
        diff.append("  (nothing changes: the object already looks like this)")
    if unchanged and args.method == "PATCH":
        diff.append(f"  unchanged: {names_line(unchanged)}")
    elif unchanged:
        diff.append(f"  unchanged: {len(unchanged)} other fields")
    return WritePlan(summary=summary, diff=diff)


def _new_fields(body: Any, obj_type: str) -> list[str]:
    """Every field of a body written afresh, as `+ field: value` (risky first), or the whole body."""
    if body is None:
        return ["+ (no body)"]
    if not isinstance(body, dict):
        return [f"+ body: {short(shown(body, obj_type))}"]
    found, _ = changes({}, body, list(body))
    return render(found, {}, shown(body, obj_type))


async def run(ctx: ToolContext, args: GenericArgs) -> ToolResult:
    result = await ctx.ops.generic.execute(
        args.method, args.path, query=args.params() or None, body=args.parsed_body(), tenant=ctx.tenant
    )
    summary = f"{result.method} {result.path}: HTTP {result.status}"
    body = result.body
    parts: list[Any] = [text(summary)]
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        rows = [[r.get("name"), r.get("uuid")] for r in body["results"] if isinstance(r, dict)]
        parts.append(
            table(
                f"{len(rows)} of {body.get('count', len(rows))}",
                ["Name", "UUID"],
                rows,
                body.get("count") if isinstance(body.get("count"), int) else None,
            )
        )
    elif isinstance(body, dict):
        parts.append(facts(result.path, {k: v for k, v in body.items() if not isinstance(v, (dict, list))}))
    data = {"method": result.method, "path": result.path, "status": result.status, "body": fit_object(body)}
    return ToolResult(summary=summary, data=data, parts=parts)


async def verify(ctx: ToolContext, args: GenericArgs) -> bool | None:
    """After a lost reply: a DELETE is done when a GET of the same path answers 404, not done when it
    still answers. Any other method's effect is not one readable field: cannot tell."""
    if args.method != "DELETE":
        return None
    path, path_query = check_path(args.path, ctx.ops.client.base_url)
    query = {**path_query, **args.params()}
    try:
        body = await ctx.ops.client.get(path, params=query or None, tenant=ctx.tenant)
    except AviNotFoundError:
        return True
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return None  # a collection answers 200 whatever was deleted from it
    return False


def target(args: GenericArgs) -> str:
    return args.path


TOOLS: list[Tool] = [
    tool(
        "execute_generic_operation",
        "Call any controller API path directly (method, path under /api, optional query and JSON body). Use "
        "ONLY when no other tool fits. GET reads; other methods change the controller and need confirmation.",
        GenericArgs,
        run,
        risk=Risk.DESTRUCTIVE,
        plan=plan,
        risk_of=risk_of,
        topics=(
            "api",
            "generic",
            "raw",
            "call",
            "request",
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "path",
            "endpoint",
            "execute",
        ),
        lookup="list_object_types",
        verify=verify,
        target=target,
    ),
]
