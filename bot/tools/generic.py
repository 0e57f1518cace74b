"""execute_generic_operation: any method on any /api path, for what no typed tool covers.

A GET is a read; anything else is destructive (it can change anything), so it is planned and
confirmed like the other writes. The path is checked by the operation layer before anything is sent.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from pydantic import Field, field_validator

from avi.errors import AviNotFoundError
from avi.operations.generic import check_path
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptStr, tenant_label, tool
from bot.tools.render import facts, fit_object, table, text
from bot.types import Risk

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_BODY_LINES = 20


class GenericArgs(Args):
    method: str = Field("GET", description="HTTP method: GET, POST, PUT, PATCH or DELETE")
    path: str = Field(min_length=1, description="API path under /api, e.g. /api/cloud or /api/vsvip?name=x")
    query: OptStr = Field(None, description='query parameters as text, e.g. "name=web&fields=name"')
    body: OptStr = Field(None, description="request body as JSON text (POST, PUT, PATCH)")

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


async def plan(ctx: ToolContext, args: GenericArgs) -> WritePlan:
    path, path_query = check_path(args.path, ctx.ops.client.base_url)
    query = {**path_query, **args.params()}
    diff = [f"  method: {args.method}", f"  path: {path}"]
    if query:
        diff.append(f"  query: {'&'.join(f'{k}={v}' for k, v in query.items())}")
    if args.method == "DELETE":
        # Read what goes away first: a DELETE of something missing never becomes a pending action.
        current = await ctx.ops.client.get(path, params=query or None, tenant=ctx.tenant)
        name = current.get("name") if isinstance(current, dict) else None
        diff.append(f"- {name or path}")
    if args.body is not None:
        lines = json.dumps(args.parsed_body(), indent=2, sort_keys=True).splitlines()
        shown = lines[:MAX_BODY_LINES] + (
            [f"... {len(lines) - MAX_BODY_LINES} more lines"] if len(lines) > MAX_BODY_LINES else []
        )
        diff += [f"+ {line}" for line in shown]
    elif args.method in ("POST", "PUT", "PATCH"):
        diff.append("+ (no body)")
    return WritePlan(summary=f"{args.method} {path} (tenant {tenant_label(ctx)})", diff=diff)


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
