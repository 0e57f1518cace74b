"""The built-in commands that need no tool: help, reset, confirm/cancel by id, audit, models.

A table maps each command name to its handler, so a new one is one function and one entry. Each
handler gets the turn and the parsed command and returns the turn's TurnResult.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.audit import AuditLog
from bot.commands import CoreCommand, help_text
from bot.history import ConversationStore
from bot.turn_state import TurnState
from bot.types import ErrorPart, Fact, FactsPart, TablePart, TextPart, TurnResult, Visibility
from llm.client import OllamaChat
from llm.errors import LLMError

log = logging.getLogger("avibot.agent")
STORE_DOWN = "That needs the conversation store, which is unavailable right now."
Settle = Callable[[str, str, TurnState], Awaitable[TurnResult]]  # (verb, action id, turn) -> TurnResult
Handler = Callable[["Builtins", TurnState, CoreCommand], Awaitable[TurnResult]]


@dataclass
class Builtins:
    history: ConversationStore
    audit: AuditLog
    llm: Callable[[], OllamaChat | None]  # the model when it is up (it can come and go)
    settle: Settle

    async def run(self, turn: TurnState, cmd: CoreCommand) -> TurnResult:
        handler = HANDLERS.get(cmd.name)
        if handler is None or (cmd.name in NEEDS_ARGUMENT and not cmd.argument):
            return turn.finish("command", [ErrorPart(message=f"Usage: {cmd.name} <id>")])
        try:
            return await handler(self, turn, cmd)
        except Exception as exc:  # reset, audit, model use: the store they need is down
            log.warning("%s failed: %s", cmd.name, type(exc).__name__)
            return turn.finish("command", [ErrorPart(message=STORE_DOWN, hint="Try again in a moment.")])


async def _help(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    return turn.finish(
        "command",
        [TextPart(markdown=help_text(cmd.argument, turn.inbound.platform))],
        visibility=Visibility.ASKER,
    )


async def _reset(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    await b.history.clear(turn.inbound.conversation_key)
    return turn.finish("command", [TextPart(markdown="Conversation history cleared.")])


async def _confirm(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    return await b.settle("confirm", cmd.argument or "", turn)


async def _cancel(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    return await b.settle("cancel", cmd.argument or "", turn)


async def _audit(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    limit = int(cmd.argument) if cmd.argument and cmd.argument.isdigit() else 20
    entries = await b.audit.recent(min(limit, 200))
    rows = [
        [
            e.time.strftime("%Y-%m-%d %H:%M:%S"),
            e.user_name or e.user_id,
            e.platform,
            e.action,
            e.result,
            e.detail[:80],
        ]
        for e in entries
    ]
    table = TablePart(
        title="Audit log (newest first)",
        columns=["time (UTC)", "who", "where", "action", "result", "detail"],
        rows=rows,
    )
    return turn.finish("command", [table if rows else TextPart(markdown="The audit log is empty.")])


async def _model_list(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    llm = b.llm()
    if llm is None:
        return turn.finish("command", [ErrorPart(message="No language model is configured.")])
    try:
        models = await llm.list_models()
    except LLMError as exc:
        return turn.finish("command", [ErrorPart(message=exc.message, hint=exc.hint)])
    current = await b.history.get_model(turn.inbound.conversation_key) or llm.model
    rows = [
        [m.name + (" (in use)" if m.name == current else ""), m.parameter_size or "", m.quantization or ""]
        for m in models
    ]
    return turn.finish("command", [TablePart(title="Models", columns=["model", "size", "quant"], rows=rows)])


async def _model_use(b: Builtins, turn: TurnState, cmd: CoreCommand) -> TurnResult:
    llm = b.llm()
    if llm is None:
        return turn.finish("command", [ErrorPart(message="No language model is configured.")])
    try:
        check = await llm.validate_model(cmd.argument)
    except LLMError as exc:
        return turn.finish("command", [ErrorPart(message=exc.message, hint=exc.hint)])
    if not check.ok:
        return turn.finish("command", [ErrorPart(message=check.message, hint=check.hint)])
    name = cmd.argument or llm.model
    await b.history.set_model(turn.inbound.conversation_key, name)
    facts = [
        Fact(label="model", value=name),
        Fact(label="tools", value="yes" if check.supports_tools else "no"),
    ]
    return turn.finish("command", [FactsPart(title="Model for this conversation", facts=facts)])


HANDLERS: dict[str, Handler] = {
    "help": _help,
    "reset": _reset,
    "confirm": _confirm,
    "cancel": _cancel,
    "audit": _audit,
    "model_list": _model_list,
    "model_use": _model_use,
}
NEEDS_ARGUMENT = frozenset({"confirm", "cancel"})
