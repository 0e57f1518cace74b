"""What every tool module shares: the argument base and field types, and `tool()`, the constructor
that makes every run and plan turn errors into `ToolError`.

Argument schemas stay FLAT for Ollama (it keeps only type/description/enum/items per property):
optional fields are declared as their plain type (no `anyOf` with null), lists are lists of strings.
Small models send "5", "true", "a,b", null and "" — all accepted here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, WithJsonSchema, model_validator

from bot.tools.base import Tool, ToolArgs, ToolContext, ToolResult, Verifier, WritePlan
from bot.tools.errors import translate
from bot.types import Risk

log = logging.getLogger("avibot.tools")


def split_csv(value: Any) -> Any:
    """`"a, b"` -> `["a", "b"]`; a JSON-looking list string is split the same way."""
    if isinstance(value, str):
        text = value.strip().strip("[]")
        return [p.strip().strip("'\"") for p in text.split(",") if p.strip().strip("'\"")]
    return value


def _number_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


# A string the model may send as a number (`vip_id: 0`).
IdStr = Annotated[str, BeforeValidator(_number_to_str), WithJsonSchema({"type": "string"})]
OptStr = Annotated[str | None, WithJsonSchema({"type": "string"})]
OptBool = Annotated[bool | None, WithJsonSchema({"type": "boolean"})]
StrList = Annotated[
    list[str], BeforeValidator(split_csv), WithJsonSchema({"type": "array", "items": {"type": "string"}})
]
OptStrList = Annotated[
    list[str] | None,
    BeforeValidator(split_csv),
    WithJsonSchema({"type": "array", "items": {"type": "string"}}),
]


class Args(ToolArgs):
    """ToolArgs that treat null and "" as "not given", so defaults apply (models send both)."""

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data


class NoArgs(Args):
    """For tools that take no arguments."""


A = TypeVar("A")
R = TypeVar("R")


def guarded(fn: Callable[[ToolContext, A], Awaitable[R]], lookup_tool: str) -> Callable[..., Awaitable[R]]:
    """`fn` with every AviError / ValueError turned into a ToolError (hint: `lookup_tool`)."""

    @functools.wraps(fn)
    async def wrapper(ctx: ToolContext, args: A) -> R:
        try:
            return await fn(ctx, args)
        except Exception as exc:
            raise translate(exc, lookup_tool) from exc

    return wrapper


def safe_verify(fn: Verifier, name: str) -> Verifier:
    """`fn`, where any failure (the controller still away, an unexpected shape) means "cannot tell"."""

    @functools.wraps(fn)
    async def wrapper(ctx: ToolContext, args: Any) -> bool | None:
        try:
            return await fn(ctx, args)
        except Exception as exc:
            log.warning("verify of %s failed: %s: %s", name, type(exc).__name__, exc)
            return None

    return wrapper


def tool(
    name: str,
    description: str,
    args: type[ToolArgs],
    run: Callable[[ToolContext, Any], Awaitable[ToolResult]],
    *,
    risk: Risk = Risk.READ,
    plan: Callable[[ToolContext, Any], Awaitable[WritePlan]] | None = None,
    topics: Iterable[str] = (),
    lookup: str = "",
    risk_of: Callable[[Any], Risk] | None = None,
    verify: Verifier | None = None,
    readback: Callable[[ToolContext, Any], Awaitable[ToolResult]] | None = None,
    target: Callable[[Any], str] | None = None,
) -> Tool:
    """A Tool whose run and plan never let a controller error out as anything but ToolError; its
    `verify` never raises (a failure is None: cannot tell)."""
    return Tool(
        name=name,
        description=description,
        args=args,
        risk=risk,
        run=guarded(run, lookup),
        plan=guarded(plan, lookup) if plan is not None else None,
        topics=frozenset(t.lower() for t in topics),
        risk_of=risk_of,
        verify=safe_verify(verify, name) if verify is not None else None,
        readback=guarded(readback, lookup) if readback is not None else None,
        target=target,
    )


def tenant_label(ctx: ToolContext) -> str:
    return ctx.tenant or ctx.ops.client.settings.tenant or "admin"
