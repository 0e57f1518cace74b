"""The model loop: routed tools, a fitted prompt, and a bounded number of tool rounds.

Guards keep a small model from running away: at most `max_tool_rounds` calls, the same call twice
is answered from what it already has, too many invalid calls end the turn, and the prompt never
grows past `num_ctx` minus the answer's reserve. Model errors are raised to the agent, which falls
back to command mode.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from bot.controller_tool import use_controller_schema
from bot.events import ModelCalled, Observers
from bot.invocation import ToolInvoker
from bot.prompt import system_prompt
from bot.routing import select_tools
from bot.tools.base import ToolResult
from bot.turn_state import TurnState
from bot.types import Delta, ErrorPart, FactsPart, Part, TablePart, render_plain
from llm.budget import fit_messages
from llm.client import LLMResponse, OllamaChat
from llm.toolcalls import LLMToolCall

log = logging.getLogger("avibot.agent")

Message = dict[str, Any]
REPEATED_CALL = json.dumps(
    {"error": "You already made this exact call; its result is above.", "hint": "Answer the user now."}
)


class AgentSettings(BaseModel):
    """Bounds of one turn (the `agent` section of config.yaml)."""

    max_tool_rounds: int = Field(6, ge=1, le=20)
    max_tools: int = Field(8, ge=2, le=40)
    max_invalid_calls: int = Field(3, ge=0, le=10)
    answer_reserve_tokens: int = Field(1024, ge=128)
    history_tool_chars: int = Field(1200, ge=200, description="tool results kept in history, characters")
    llm_retry_after_seconds: float = Field(
        15.0, ge=0.1, description="while the model is down, probe it this often (seconds)"
    )
    pending_ttl_seconds: int = Field(600, ge=1, le=86400)
    everywhere_seconds: float = Field(
        10.0, gt=0, le=300, description="a read on every controller answers with what came by then"
    )
    shutdown_grace_seconds: float = Field(
        20.0, ge=0, le=300, description="at shutdown, questions still waiting on the model get this long"
    )
    data_first: bool = Field(
        False,
        description="when the model's first step is reads whose results are tables or facts, stream "
        "them at once (as text) while the model writes its summary; the reply then shows them as parts "
        "(off by default until the channels' tests expect data before the summary's deltas)",
    )


@dataclass
class LoopResult:
    """The model's answer (empty when a guard stopped it), what the tools returned, and the turn's
    messages for the history."""

    answer: str
    results: list[ToolResult]
    messages: list[Message]
    errors: list[ErrorPart] = field(default_factory=list)


@dataclass
class _Round:
    """What the guards track across the rounds of one turn."""

    messages: list[Message]
    new_messages: list[Message]
    seen: set[str] = field(default_factory=set)
    invalid: int = 0
    results: list[ToolResult] = field(default_factory=list)
    failures: dict[str, ErrorPart] = field(default_factory=dict)  # tool name -> its last failed run
    early: list[str] = field(default_factory=list)  # data to stream before the next model call

    def person_errors(self) -> list[ErrorPart]:
        """Failed runs the person must see whatever the model says, unless the same tool later
        worked (the model corrected itself), once per message."""
        unique: dict[str, ErrorPart] = {}
        for part in self.failures.values():
            unique.setdefault(part.message, part)
        return list(unique.values())


class ModelLoop:
    def __init__(
        self,
        *,
        llm: OllamaChat,
        invoker: ToolInvoker,
        observers: Observers,
        settings: AgentSettings,
        num_ctx: int,
    ) -> None:
        self.llm = llm
        self.invoker = invoker
        self.observers = observers
        self.settings = settings
        self.num_ctx = num_ctx

    async def run(
        self, turn: TurnState, history: list[Message], model: str | None
    ) -> AsyncIterator[Delta | LoopResult]:
        """Deltas while the model writes, then one LoopResult; raises LLMError."""
        previous = [c["function"]["name"] for m in history[-6:] for c in m.get("tool_calls") or []]
        tools = select_tools(
            turn.inbound.text,
            self.invoker.allowed_tools(turn.access),
            limit=self.settings.max_tools,
            previous=previous,
        )
        schemas = [self.invoker.schema(t) for t in tools]
        system = system_prompt(turn.ctx.tenant or "", turn.access.role, turn.access.read_only)
        context = [turn.inbound.about] if turn.inbound.about else []
        if turn.controllers is not None and turn.where is not None:  # several: say which, offer the switch
            schemas.append(use_controller_schema())
            context.append(turn.controllers.described(turn.where))
            if turn.everywhere:
                context.append("This question goes to every controller at once: reads run on all of them.")
        if context:
            system = {**system, "content": "\n\n".join([system["content"], *context])}
        user_message = {"role": "user", "content": turn.inbound.text}
        fitted = fit_messages(
            system, history, [user_message], schemas, self.num_ctx, self.settings.answer_reserve_tokens
        )
        state = _Round(messages=list(fitted.messages), new_messages=[user_message])
        answer = ""
        for round_ in range(self.settings.max_tool_rounds):
            response: LLMResponse | None = None
            async for event in self._call(state.messages, schemas, model):
                if isinstance(event, Delta):
                    yield event
                else:
                    response = event
            assert response is not None
            if not response.tool_calls:
                answer = response.content.strip()
                break
            stop = await self._tool_round(turn, response, state)
            if round_ == 0 and self.settings.data_first and state.early:
                yield Delta("\n\n".join(state.early) + "\n\n")
            state.early.clear()
            if stop:
                break
        else:
            log.info(
                "turn %s hit the %d-round bound", turn.inbound.conversation_key, self.settings.max_tool_rounds
            )
        yield LoopResult(
            answer=answer, results=state.results, messages=state.new_messages, errors=state.person_errors()
        )

    async def _call(
        self, messages: list[Message], schemas: list[dict[str, Any]], model: str | None
    ) -> AsyncIterator[Delta | LLMResponse]:
        """One model call, streamed, reported to the observers whether it worked or not."""
        started = time.perf_counter()
        try:
            async for event in self.llm.stream(messages, schemas, model=model):
                if event.delta:
                    yield Delta(event.delta)
                if event.response is not None:
                    self.observers.emit(
                        ModelCalled(
                            seconds=time.perf_counter() - started,
                            ok=True,
                            prompt_tokens=event.response.prompt_tokens or 0,
                            completion_tokens=event.response.completion_tokens or 0,
                        )
                    )
                    yield event.response
        except Exception:
            self.observers.emit(ModelCalled(seconds=time.perf_counter() - started, ok=False))
            raise

    async def _tool_round(self, turn: TurnState, response: LLMResponse, state: _Round) -> bool:
        """Run one round of tool calls; True when a guard says the turn must end now."""
        calls = response.tool_calls
        assistant = {
            "role": "assistant",
            "content": response.content or "",
            "tool_calls": [{"function": {"name": c.name, "arguments": c.arguments}} for c in calls],
        }
        state.messages.append(assistant)
        state.new_messages.append(assistant)
        repeated = 0
        for call in calls:
            content = await self._answer_call(turn, call, state)
            if content is None:
                repeated += 1
                content = REPEATED_CALL
            tool_message = {"role": "tool", "tool_name": call.name, "content": content}
            state.messages.append(tool_message)
            state.new_messages.append(
                {**tool_message, "content": content[: self.settings.history_tool_chars]}
            )
        return state.invalid > self.settings.max_invalid_calls or (repeated == len(calls) and repeated > 1)

    async def _answer_call(self, turn: TurnState, call: LLMToolCall, state: _Round) -> str | None:
        """The tool's answer for the model, or None for a call it already made this turn."""
        signature = call.name + json.dumps(call.arguments, sort_keys=True, default=str)
        if signature in state.seen:
            return None
        state.seen.add(signature)
        inv = await self.invoker.invoke(turn, call.name, call.arguments, call.argument_error)
        if inv.result is not None:
            state.results.append(inv.result)
            state.early.extend(_shown_early(inv.result.parts))
            state.failures.pop(call.name, None)
        if inv.failed_run and not inv.no_op:
            state.failures[call.name] = inv.person_error()
        if inv.record.error and inv.pending is None and inv.result is None:
            state.invalid += 1
        return inv.for_model()


EARLY_ROWS = 20
"At most this many rows of a table are streamed early; the reply's own table part shows them all."


def _shown_early(parts: list[Part]) -> list[str]:
    """A read's tables and facts as plain text, to stream before the model has read them: the data
    is often the answer to a listing or status question, and the person need not wait for the summary.
    (A `Delta` carries text only; the final reply replaces it with the rendered parts.)"""
    out = []
    for part in parts:
        if isinstance(part, TablePart):
            shown = part.model_copy(
                update={"rows": part.rows[:EARLY_ROWS], "total": part.total or len(part.rows)}
            )
            out.append(render_plain(shown))
        elif isinstance(part, FactsPart):
            out.append(render_plain(part))
    return out
