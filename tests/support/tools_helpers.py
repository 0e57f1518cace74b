"""Shared by the tool tests: a catalogue, a context on the simulator, and call/plan shortcuts."""

from __future__ import annotations

from typing import Any

from avi.operations import AviOperations
from bot.tools import ToolContext, ToolResult, WritePlan, build_catalogue
from bot.types import User

CATALOGUE = build_catalogue()


def context(ops: AviOperations, tenant: str | None = None) -> ToolContext:
    return ToolContext(ops=ops, tenant=tenant, user=User(id="u1", name="tester"), platform="test")


def _tool_and_args(tool_name: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    tool = CATALOGUE.get(tool_name)
    assert tool is not None, tool_name
    return tool, tool.args.model_validate(kwargs)


async def call(ops: AviOperations, tool_name: str, /, **kwargs: Any) -> ToolResult:
    tool, args = _tool_and_args(tool_name, kwargs)
    return await tool.run(context(ops), args)


async def plan(ops: AviOperations, tool_name: str, /, **kwargs: Any) -> WritePlan:
    tool, args = _tool_and_args(tool_name, kwargs)
    assert tool.plan is not None, tool_name
    return await tool.plan(context(ops), args)
