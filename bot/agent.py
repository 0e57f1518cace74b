"""The agent: one message in, a `TurnResult` out, whichever channel it came from.

It decides what kind of turn this is and hands it to the part that does that job: a structured
command to the tool invoker (bot/invocation.py) or the built-ins (bot/builtins.py), anything else
to the model loop (bot/model_loop.py). A write never runs inside a turn: it becomes a pending
action that a person confirms (`settle`). When the model is unreachable the turn falls back to
command mode and says so. Channels call it through bot/turns.py, which adds de-dup and ordering.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from avi.operations import AviOperations
from bot.audit import AuditLog
from bot.builtins import Builtins
from bot.commands import (
    CommandError,
    CoreCommand,
    ToolCommand,
    looks_like_prose,
    parse_command,
    plain_fallback,
)
from bot.controller_scope import ControllerScope
from bot.controllers import Controllers
from bot.entities import EntityIndex
from bot.events import ActionEvent, Observers
from bot.history import ConversationStore
from bot.invocation import ToolInvoker
from bot.model_loop import AgentSettings, LoopResult, ModelLoop
from bot.model_status import ModelStatus
from bot.more import last_more, offer, refusal, remembered
from bot.pending import Intent, PendingAction, PendingStore, Status, resolve
from bot.permissions import AccessSettings
from bot.tools import ToolCatalogue
from bot.tools.base import ToolResult
from bot.turn_state import TurnState
from bot.types import (
    Delta,
    ErrorPart,
    Inbound,
    MoreRows,
    Outcome,
    Part,
    Risk,
    TextPart,
    TurnResult,
    Visibility,
)
from llm.client import ModelCheck, ModelInfo, OllamaChat
from llm.errors import LLMError, LLMTimeout, LLMUnavailable

log = logging.getLogger("avibot.agent")

HISTORY_DOWN = "History is unavailable right now; your question was answered without it."
MORE_NO_HISTORY = "History is unavailable right now, so there is no list to continue; ask for it again."
STORE_DOWN = (
    "Confirmations cannot be checked right now because the store is unavailable; nothing was changed."
)

__all__ = ["Agent", "AgentSettings", "Delta"]

# What each way a confirm or cancel can end means for the person and for the channel.
SETTLED: dict[Status, Outcome] = {
    Status.NOT_FOUND: Outcome.EXPIRED,
    Status.ALREADY_CONFIRMED: Outcome.ALREADY_SETTLED,
    Status.ALREADY_CANCELLED: Outcome.ALREADY_SETTLED,
    Status.NOT_ALLOWED: Outcome.REFUSED,
    Status.OTHER_CONVERSATION: Outcome.REFUSED,
}


class Agent:
    """Orchestrates one turn; every dependency comes in through the constructor."""

    def __init__(
        self,
        *,
        ops: AviOperations | None = None,
        catalogue: ToolCatalogue,
        history: ConversationStore,
        pending: PendingStore,
        audit: AuditLog,
        access: AccessSettings,
        llm: OllamaChat | None,
        num_ctx: int,
        default_tenant: str = "admin",
        settings: AgentSettings | None = None,
        offline_reason: str = "no language model is configured",
        observers: Observers | None = None,
        controller: str = "",
        model_status: ModelStatus | None = None,
        entities: EntityIndex | None = None,
        controllers: Controllers | None = None,
    ) -> None:
        if controllers is None:
            if ops is None:
                raise ValueError("an agent needs ops or controllers")
            controllers = Controllers.single(
                ops, tenant=default_tenant, address=controller, entities=entities
            )
        self.controllers = controllers
        self.ops = controllers.default.ops
        self.entities = controllers.default.entities  # names for the fallback (bot/entities.py)
        self.catalogue = catalogue
        self.history = history
        self.pending = pending
        self.audit = audit
        self.access_settings = access
        self.llm = llm
        self.default_tenant = controllers.default.tenant
        self.settings = settings or AgentSettings()
        self.observers = observers or Observers()
        self.controller = controllers.shown(controllers.default)
        self.scope = ControllerScope(controllers, access, history)
        # Whether the model answers now; without one given, the model is taken as up when configured
        # (tests, the benchmark) and nothing probes it: `mark_down` still switches to command mode.
        self.model_status = model_status or ModelStatus(
            None if llm is None else _assume_up, up=llm is not None, reason=offline_reason
        )
        self.invoker = ToolInvoker(
            catalogue=catalogue,
            pending=pending,
            audit=audit,
            history=history,
            observers=self.observers,
            pending_ttl_seconds=self.settings.pending_ttl_seconds,
            everywhere_seconds=self.settings.everywhere_seconds,
        )
        if controllers.several:
            self.invoker.switch = self.scope.switch
        self.loop = (
            ModelLoop(
                llm=llm,
                invoker=self.invoker,
                observers=self.observers,
                settings=self.settings,
                num_ctx=num_ctx,
            )
            if llm is not None
            else None
        )
        self.builtins = Builtins(history=history, audit=audit, llm=lambda: self.llm, settle=self._settle)

    # -- entry points -----------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> TurnResult:
        """Answer one message; the whole result at once."""
        result: TurnResult | None = None
        async for event in self.stream(inbound):
            if isinstance(event, TurnResult):
                result = event
        assert result is not None
        return result

    async def stream(self, inbound: Inbound) -> AsyncIterator[Delta | TurnResult]:
        """Answer one message: text deltas while the model writes, then the TurnResult."""
        turn = self._turn(inbound)
        try:
            chosen = await self.scope.choose(inbound)
            if isinstance(chosen, str):
                error = ErrorPart(message=chosen, hint="")
                yield turn.finish("command", [error], visibility=Visibility.ASKER)
                return
            turn, mention = chosen
            if mention is not None and mention.command is not None:
                yield turn.finish("command", self.scope.answer(turn, mention))
                return
            inbound = turn.inbound
            parsed = parse_command(inbound.text)
            if isinstance(parsed, CommandError) and looks_like_prose(inbound.text):
                # "metrics for the checkout vip": a sentence the grammar refused is a question
                if self.loop is not None and self.model_status.up:
                    async for event in self._llm_turn(turn):
                        yield event
                else:
                    yield await self._fallback(turn, f"{self.offline_reason}; answering directly.", parsed)
            elif isinstance(parsed, CommandError):
                yield turn.finish(
                    "command",
                    [ErrorPart(message=parsed.message, hint=f"Usage: {parsed.usage}")],
                    visibility=Visibility.ASKER,
                )
            elif isinstance(parsed, CoreCommand) and parsed.name == "more":
                yield await self._more_typed(turn)
            elif isinstance(parsed, CoreCommand):
                yield await self.builtins.run(turn, parsed)
            elif isinstance(parsed, ToolCommand):
                yield await self._tool_command(turn, parsed.tool, parsed.arguments)
            else:
                async for event in self._llm_turn(turn):
                    yield event
        except Exception:  # the last line of defence: no traceback reaches a user
            log.exception("turn failed for %s", inbound.conversation_key)
            yield turn.finish(
                "command",
                [ErrorPart(message="Something went wrong answering that.", hint="Try again.")],
                outcome=Outcome.FAILED,
            )

    async def confirm(self, action_id: str, inbound: Inbound) -> TurnResult:
        """Run a pending write if this person may, here; exactly once across replicas."""
        return await self._settle("confirm", action_id, self._turn(inbound))

    async def cancel(self, action_id: str, inbound: Inbound) -> TurnResult:
        """Drop a pending write; the requester or anyone allowed to run it may."""
        return await self._settle("cancel", action_id, self._turn(inbound))

    async def propose(self, inbound: Inbound, tool: str, arguments: dict[str, Any]) -> TurnResult:
        """Run one tool directly (no model): a read answers, a write becomes a pending action.

        For channels with their own structured entry points (the web API's controller proxy), so
        their writes take the same confirmation, permission and audit path as every other write.
        """
        where = self.controllers.named(inbound.controller)
        if where is None:
            turn = self._turn(inbound.model_copy(update={"controller": ""}))
            message = self.scope.unknown(inbound.controller)
            return turn.finish("command", [ErrorPart(message=message, hint="")], outcome=Outcome.REFUSED)
        return await self._tool_command(self.scope.turn(inbound, where), tool, arguments)

    async def more(self, inbound: Inbound, more: MoreRows) -> TurnResult:
        """The next page of a table ("Show more"): a read of the catalogue with valid arguments, run
        with the asker's own access and remembered like a command; anything else is refused."""
        if not inbound.text.strip():
            inbound = inbound.model_copy(update={"text": more.command or "more"})
        chosen = await self.scope.choose(inbound)
        turn = self._turn(inbound) if isinstance(chosen, str) else chosen[0]
        return await self._continue(turn, more)

    async def reads(
        self, inbound: Inbound, calls: list[tuple[str, dict[str, Any]]], title: str,
        controller: str | None = None,
    ) -> TurnResult:  # fmt: skip
        """A fixed list of reads without the model (an alert's Investigate), each with the asker's own
        access, on `controller` (by name; the default when None), answered together under `title` and
        remembered like a command."""
        where = self.controllers.named(controller)
        turn = self.scope.turn(inbound, where)
        if where is None:
            why = ErrorPart(message=self.scope.unknown(controller or ""), hint="Nothing was read.")
            return turn.finish("command", [why], outcome=Outcome.FAILED, visibility=Visibility.ASKER)
        parts: list[Part] = [TextPart(markdown=title)]
        lines = []
        for name, arguments in calls:
            tool = self.catalogue.get(name)
            if tool is None or tool.risk is not Risk.READ:
                raise ValueError(f"{name} is not a read")
            inv = await self.invoker.invoke(turn, name, arguments)
            if inv.result is not None:
                parts += inv.result.parts or [TextPart(markdown=inv.result.summary)]
            else:
                parts.append(inv.for_person())
            lines.append(inv.summary_line())
        parts = offer(parts)
        await self._remember(
            turn,
            [
                {"role": "user", "content": inbound.text},
                {"role": "assistant", "content": "\n".join(lines), **remembered(parts)},
            ],
        )
        return turn.finish("command", parts)

    async def _continue(self, turn: TurnState, more: MoreRows) -> TurnResult:
        why = refusal(self.catalogue, more)
        if why is not None:
            return turn.finish(
                "command",
                [ErrorPart(message=why, hint="Nothing was changed.")],
                outcome=Outcome.REFUSED,
                visibility=Visibility.ASKER,
            )
        return await self._tool_command(turn, more.tool, more.arguments)

    # -- for channels: history, models, status ---------------------------------------------------

    @property
    def mode(self) -> str:
        """`llm` while the model answers (the status is probed and updated live), else `command`."""
        return "llm" if self.llm is not None and self.model_status.up else "command"

    @property
    def offline_reason(self) -> str:
        """Why the answer comes in command mode, for the person."""
        return self.model_status.reason or "no language model is configured"

    async def conversation(self, key: str) -> list[dict[str, Any]]:
        """The stored messages of a conversation, oldest first (tool results in compact form)."""
        return await self.history.load(key)

    async def clear_conversation(self, key: str) -> None:
        await self.history.clear(key)
        if self.controllers.several:
            await self.scope.forget(key)

    async def list_models(self) -> list[ModelInfo]:
        """Models Ollama has pulled; raises LLMError (message + hint) when it cannot say."""
        return await self._require_llm().list_models()

    async def validate_model(self, name: str | None) -> ModelCheck:
        return await self._require_llm().validate_model(name)

    async def model_for(self, key: str) -> str | None:
        """The model a conversation uses (chosen with `model use`, else the configured one)."""
        if self.llm is None:
            return None
        return await self.history.get_model(key) or self.llm.model

    async def use_model(self, key: str, name: str) -> None:
        """Pin a conversation to a model already checked with `validate_model` (kept with its history)."""
        await self.history.set_model(key, name)

    def _require_llm(self) -> OllamaChat:
        if self.llm is None:
            raise LLMUnavailable(self.offline_reason, "start Ollama and restart avibot, or set OLLAMA_HOST")
        return self.llm

    # -- building blocks --------------------------------------------------------------------------

    def _turn(self, inbound: Inbound) -> TurnState:
        """The turn on the default controller (a message's own is chosen by `scope.choose`)."""
        return self.scope.turn(inbound)

    async def _settle(self, verb: str, action_id: str, turn: TurnState) -> TurnResult:
        """Confirm or cancel: the pending store decides who may, exactly once; then run or drop it."""
        intent: Intent = "confirm" if verb == "confirm" else "cancel"
        try:
            bound: TurnState | None = turn
            if self.controllers.several:  # it runs where it was planned, with the approver's access there
                bound = self.scope.bound(turn, await self.pending.get(action_id.strip()))
            turn = bound or turn
            res = await resolve(self.pending, action_id.strip(), intent, turn.inbound, turn.access)
        except Exception as exc:  # the store is down: nothing ran, say so plainly
            log.warning("pending store unavailable for %s: %s", action_id, type(exc).__name__)
            return turn.finish(
                "command",
                [ErrorPart(message=STORE_DOWN, hint="Try again in a moment.")],
                outcome=Outcome.FAILED,
                visibility=Visibility.ASKER,
            )
        view = res.action.view() if res.action is not None else None
        if res.status is Status.READY and res.action is not None and bound is None:
            return await self._controller_gone(turn, res.action)
        if res.status is Status.READY and res.action is not None:
            execution = await self.invoker.execute(turn, res.action)
            self.observers.emit(ActionEvent(event="confirmed", outcome=execution.outcome))
            return turn.finish("command", execution.parts, outcome=execution.outcome, action=view)
        if res.status is Status.CANCELLED and res.action is not None:
            await self.invoker.record(turn, res.action, "cancelled", "")
            text = f"Cancelled: {res.action.summary}. Nothing changed."
            await self.invoker.note(res.action, text)
            self.observers.emit(ActionEvent(event="cancelled", outcome=Outcome.CANCELLED))
            return turn.finish("command", [TextPart(markdown=text)], outcome=Outcome.CANCELLED, action=view)
        outcome = SETTLED[res.status]
        if res.status is Status.NOT_ALLOWED and res.action is not None:
            await self.invoker.record(turn, res.action, "denied", res.message)
        self.observers.emit(ActionEvent(event="refused", outcome=outcome))
        hint = "Nothing was changed." if intent == "confirm" else ""
        visibility = Visibility.ASKER if outcome is Outcome.REFUSED else Visibility.EVERYONE
        return turn.finish(
            "command",
            [ErrorPart(message=res.message, hint=hint)],
            outcome=outcome,
            visibility=visibility,
            action=view,
        )

    async def _controller_gone(self, turn: TurnState, action: PendingAction) -> TurnResult:
        """Claimed, but planned on a controller this bot no longer has: nothing runs anywhere."""
        said = f"{action.summary}: not run; controller {action.controller} is no longer configured"
        await self.invoker.record(turn, action, "error", said)
        await self.invoker.note(action, f"{said}. Nothing changed.")
        message = f"{said}. Nothing was changed on any controller."
        return turn.finish("command", [ErrorPart(message=message, hint="")], outcome=Outcome.FAILED)

    async def _tool_command(
        self, turn: TurnState, name: str, arguments: dict[str, Any], note: str = ""
    ) -> TurnResult:
        inv = await self.invoker.invoke(turn, name, arguments)
        parts: list[Part] = [TextPart(markdown=note)] if note else []
        if inv.result is not None:
            parts += inv.result.parts or [TextPart(markdown=inv.result.summary)]
        elif inv.pending is None:
            parts.append(inv.for_person())
        parts = offer(parts)
        await self._remember(
            turn,
            [
                {"role": "user", "content": turn.inbound.text},
                {"role": "assistant", "content": inv.summary_line(), **remembered(parts)},
            ],
        )
        return turn.finish("command", parts, outcome=Outcome.REFUSED if inv.refused else None)

    async def _more_typed(self, turn: TurnState) -> TurnResult:
        """A typed `more`: the next page of the conversation's last list, or why there is none."""
        try:
            found = last_more(await self.history.load(turn.inbound.conversation_key))
        except Exception as exc:
            log.warning("history unavailable for more: %s", type(exc).__name__)
            found = MORE_NO_HISTORY
        if isinstance(found, str):
            return turn.finish("command", [TextPart(markdown=found)])
        return await self._continue(turn, found)

    async def _fallback(self, turn: TurnState, why: str, refused: CommandError | None = None) -> TurnResult:
        """Command mode for a question, when the model cannot answer: the read it clearly asks for
        (names checked against the controller's when the entity index is there), else a short "did
        you mean" with a few commands; `refused`: the grammar's error, when the text was half a command."""
        note = f"_Command mode: {why}_"
        tenant, names = turn.ctx.tenant, None
        entities = turn.where.entities if turn.several and turn.where is not None else self.entities
        if turn.everywhere:
            entities = None  # names differ per controller: the question is read without them
        if entities is not None:
            names = await entities.names(tenant)
        answer = plain_fallback(turn.inbound.text, names)
        if answer.missing and entities is not None:  # maybe created since: look once more
            fresher = await entities.refresh_after_miss(tenant)
            if fresher is not None and fresher is not names:
                answer = plain_fallback(turn.inbound.text, fresher)
        if answer.command is not None:
            lines = "\n\n".join(line for line in (note, answer.note) if line)
            return await self._tool_command(turn, answer.command.tool, answer.command.arguments, note=lines)
        parts: list[Part] = [TextPart(markdown=note), TextPart(markdown=answer.text())]
        if refused is not None:
            parts.append(ErrorPart(message=refused.message, hint=f"Usage: {refused.usage}"))
        return turn.finish("command", parts)

    # -- the model ----------------------------------------------------------------------------------

    async def _llm_turn(self, turn: TurnState) -> AsyncIterator[Delta | TurnResult]:
        if self.loop is None or not self.model_status.up:
            yield await self._fallback(turn, f"{self.offline_reason}; answering directly.")
            return
        history, model = await self._recall(turn)
        result: LoopResult | None = None
        try:
            async for event in self.loop.run(turn, history, model):
                if isinstance(event, Delta):
                    yield event
                else:
                    result = event
        except (LLMUnavailable, LLMTimeout) as exc:  # down or hung: the next turns must not wait for it
            self.model_status.mark_down(exc.message.rstrip("."))
            yield await self._fallback(turn, f"{exc.message} Answering directly.")
            return
        except LLMError as exc:
            yield await self._fallback(turn, f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
            return
        assert result is not None
        answer = result.answer or self._bounded_summary(turn, result.results)
        parts: list[Part] = [TextPart(markdown=answer)]
        for tool_result in result.results[-3:]:
            parts.extend(p for p in tool_result.parts if not isinstance(p, TextPart))
        parts.extend(result.errors)  # what failed is shown, whatever the model made of it
        parts = offer(parts)
        last = {"role": "assistant", "content": answer, **remembered(parts)}
        await self._remember(turn, [*result.messages, last])
        yield turn.finish("llm", parts)

    async def _recall(self, turn: TurnState) -> tuple[list[dict[str, Any]], str | None]:
        """The conversation's history and model choice; without the store, none (and it is said)."""
        key = turn.inbound.conversation_key
        try:
            return await self.history.load(key), await self.history.get_model(key)
        except Exception as exc:
            log.warning("history unavailable for %s: %s", key, type(exc).__name__)
            turn.note(HISTORY_DOWN)
            return [], None

    async def _remember(self, turn: TurnState, messages: list[dict[str, Any]]) -> None:
        """Append the turn to the history, best effort: the answer stands without it."""
        try:
            await self.history.append(turn.inbound.conversation_key, messages)
        except Exception as exc:
            log.warning("history not saved for %s: %s", turn.inbound.conversation_key, type(exc).__name__)
            turn.note(HISTORY_DOWN)

    @staticmethod
    def _bounded_summary(turn: TurnState, results: list[ToolResult]) -> str:
        if turn.pending is not None:
            return f"This needs your confirmation: {turn.pending.summary}."
        if not results:
            return "I could not get an answer from the controller for that. Try rephrasing, or `help`."
        found = "\n".join(f"- {r.summary}" for r in results[-5:])
        return f"I stopped after the step limit. Here is what I found:\n{found}"


async def _assume_up() -> str | None:
    """The probe of a model nobody asked to watch: taken as usable (see Agent's model_status)."""
    return None
