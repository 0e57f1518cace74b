"""What a tool is: a typed Avi operation the model (or a command) may call.

A tool has a pydantic argument model (its JSON schema is what the model sees, flattened for Ollama),
a description written for a small model, a risk level, and routing topics. Reads run at once; a
write or destructive call is first *planned* (a one-line summary and a before/after diff read from
the controller) and runs only after a person confirms it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from avi.operations import AviOperations
from bot.types import Part, Risk, User


class ToolArgs(BaseModel):
    """Base of every argument model: unknown keys are an error the model is told about."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass
class ToolContext:
    """What a tool call runs with: the controller operations, the tenant and who asked."""

    ops: AviOperations
    tenant: str | None
    user: User
    platform: str = ""
    channel: str = ""


class ToolResult(BaseModel):
    """A tool's answer: `data` for the model (compact, redacted), `parts` for the person."""

    summary: str
    data: Any = None
    parts: list[Part] = []


class WritePlan(BaseModel):
    """What a write will do, shown before it runs: one line, and `- before` / `+ after` lines."""

    summary: str
    diff: list[str] = []


Handler = Callable[[ToolContext, Any], Awaitable[ToolResult]]
Planner = Callable[[ToolContext, Any], Awaitable[WritePlan]]
RiskOf = Callable[[Any], Risk]
# After a write whose answer was lost: is the planned change on the controller? True (it is), False
# (it is not: nothing changed), None (cannot be told from what the controller shows).
Verifier = Callable[[ToolContext, Any], Awaitable[bool | None]]
Target = Callable[[Any], str]


@dataclass(frozen=True)
class Tool:
    """One operation. `risk_of` refines the risk from the arguments (a generic GET is a read).

    For a write whose answer was lost (`ToolError.outcome_unknown`), without ever sending it again:
    `verify` reads the object back and says whether the planned change is there; `readback` shows the
    object as the controller has it now (what the run's result would have shown); `target` names what
    to check by hand when neither can tell (`virtual service web-vs`).
    """

    name: str
    description: str
    args: type[ToolArgs]
    risk: Risk
    run: Handler
    plan: Planner | None = None
    topics: frozenset[str] = field(default_factory=frozenset)
    risk_of: RiskOf | None = None
    verify: Verifier | None = None
    readback: Handler | None = None
    target: Target | None = None

    def risk_for(self, args: Any) -> Risk:
        return self.risk_of(args) if self.risk_of is not None else self.risk

    def __post_init__(self) -> None:
        if self.risk is not Risk.READ and self.plan is None:
            raise ValueError(f"tool {self.name}: a write needs a plan (summary and diff) before it runs")
