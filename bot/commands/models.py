"""What command mode produces: a tool call, a core command, or an error with usage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ToolCommand(BaseModel):
    """Run one catalogue tool with these arguments (validated later by the tool's model)."""

    kind: Literal["tool"] = "tool"
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


CoreName = Literal["help", "audit", "reset", "model_list", "model_use", "confirm", "cancel", "more"]


class CoreCommand(BaseModel):
    """A command the core answers itself: help, audit log, history reset, model choice, confirmations."""

    kind: Literal["core"] = "core"
    name: CoreName
    argument: str | None = None


class CommandError(BaseModel):
    """Text that is clearly a command but malformed: say what is wrong and how to write it."""

    kind: Literal["error"] = "error"
    message: str
    usage: str = ""


Command = ToolCommand | CoreCommand


class UsageError(Exception):
    """Raised inside the parser; `stray` marks unexpected extra words (prose, when the verb came first)."""

    def __init__(self, message: str, usage: str = "", *, stray: bool = False) -> None:
        super().__init__(message)
        self.message, self.usage, self.stray = message, usage, stray
