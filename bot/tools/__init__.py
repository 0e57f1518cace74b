"""Typed Avi tools for the model and the slash commands: `build_catalogue()` has them all."""

from __future__ import annotations

from bot.tools.base import Tool, ToolArgs, ToolContext, ToolResult, WritePlan
from bot.tools.catalogue import ToolCatalogue, build_catalogue
from bot.tools.errors import ToolError

__all__ = [
    "Tool",
    "ToolArgs",
    "ToolCatalogue",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "WritePlan",
    "build_catalogue",
]
