"""Tool invocation: validate, permit, then run a read or plan a write; run confirmed writes; audit.

Every tool call goes through here, whether the model asked for it, a command did, or a person
confirmed a pending action, so the checks, the wording of errors and the audit are the same for
all of them. Nothing here raises: an Invocation says what happened.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.audit import AuditEntry, AuditLog, AuditResult
from bot.controller_tool import USE_CONTROLLER, UseControllerArgs
from bot.controllers import Controller
from bot.events import ActionEvent, Observers, ToolCalled
from bot.fanout import run_everywhere
from bot.history import ConversationStore
from bot.pending import PendingAction, PendingStore
from bot.permissions import Access
from bot.tools import ToolCatalogue, ToolError
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.turn_state import TurnState
from bot.types import ErrorPart, Outcome, Part, Risk, TextPart, ToolCallRecord, utcnow
from bot.validation import describe
from bot.wording import for_person, usage_for
from llm.schema import flat_tool

log = logging.getLogger("avibot.agent")
# The agent's way to move a turn to another controller: the turn and a name; an error sentence or None.
Switch = Callable[[TurnState, str], Awaitable[str | None]]
EVERYWHERE_WRITE = (
    "A change runs on one controller: say which one (e.g. `on prod-east, ...`); nothing was changed."
)


@dataclass
class Invocation:
    """The outcome of one tool call, in the loop or from a command."""

    record: ToolCallRecord
    result: ToolResult | None = None
    pending: PendingAction | None = None
    error: str = ""
    hint: str = ""
    refused: bool = False  # not allowed (role or read-only), as opposed to a failed call
    failed_run: bool = False  # the tool ran (or planned) and the controller side failed
    no_op: bool = False  # nothing needed doing (already disabled): said plainly, not as an error
    said: str = ""  # `error` in a person's words (no tool names), when it differs
    said_hint: str = ""

    def person_error(self) -> ErrorPart:
        """The error in a person's words: the command to type where the model reads a tool name."""
        return ErrorPart(
            message=self.said or for_person(self.error), hint=self.said_hint or for_person(self.hint)
        )

    def for_person(self) -> Part:
        """What a chat shows for a call that neither answered nor proposed a change."""
        if self.no_op:
            message = self.said or for_person(self.error)
            return TextPart(markdown=f"{message[:1].upper()}{message[1:]}: nothing to do.")
        return self.person_error()

    def for_model(self) -> str:
        if self.result is not None:
            return json.dumps(self.result.data, default=str, separators=(",", ":"))
        if self.pending is not None:
            return json.dumps(
                {
                    "status": "awaiting confirmation, NOT executed",
                    "action_id": self.pending.id,
                    "summary": self.pending.summary,
                    "tell_user": "show the summary and ask them to confirm or cancel",
                }
            )
        return json.dumps({"error": self.error, "hint": self.hint})

    def summary_line(self) -> str:
        """What the conversation's history keeps of a command's call."""
        if self.result is not None:
            return f"[{self.record.name}] {self.result.summary}"
        if self.pending is not None:
            return f"[{self.record.name}] awaiting confirmation: {self.pending.summary}"
        return f"[{self.record.name}] error: {self.error}"


@dataclass
class Execution:
    """A confirmed write, run: what to show and how it ended."""

    parts: list[Part]
    outcome: Outcome


class ToolInvoker:
    def __init__(
        self,
        *,
        catalogue: ToolCatalogue,
        pending: PendingStore,
        audit: AuditLog,
        history: ConversationStore,
        observers: Observers,
        pending_ttl_seconds: int,
        everywhere_seconds: float = 10.0,
    ) -> None:
        self.catalogue = catalogue
        self.pending = pending
        self.audit = audit
        self.history = history
        self.observers = observers
        self.pending_ttl_seconds = pending_ttl_seconds
        self.everywhere_seconds = everywhere_seconds
        self._schemas: dict[str, dict[str, Any]] = {}  # tool name -> flat schema, built once
        self.switch: Switch | None = None  # set by the agent when it has several controllers

    # -- what the model is offered ---------------------------------------------------------------

    def schema(self, tool: Tool) -> dict[str, Any]:
        """The tool's flat schema; building it costs ~0.3 ms, so once per tool, not per turn."""
        schema = self._schemas.get(tool.name)
        if schema is None:
            schema = self._schemas[tool.name] = flat_tool(
                tool.name, tool.description, tool.args.model_json_schema()
            )
        return schema

    def allowed_tools(self, access: Access) -> list[Tool]:
        allowed = {risk for risk in Risk if access.allows(risk)}
        return [tool for tool in self.catalogue.all() if tool.risk in allowed or tool.risk_of is not None]

    # -- one call ----------------------------------------------------------------------------------

    def _called(self, record: ToolCallRecord) -> None:
        known = record.name in self.catalogue or record.name == USE_CONTROLLER
        name = record.name if known else "unknown"
        self.observers.emit(ToolCalled(tool=name, ok=record.ok))

    async def invoke(
        self, turn: TurnState, name: str, raw: Any, argument_error: str | None = None
    ) -> Invocation:
        """Validate, check the role, then run a read or plan a write; never raises."""
        inv = await self._invoke(turn, name, raw, argument_error)
        self._called(inv.record)
        if inv.pending is not None:
            self.observers.emit(ActionEvent(event="proposed", outcome=Outcome.PENDING))
        return inv

    async def _invoke(self, turn: TurnState, name: str, raw: Any, argument_error: str | None) -> Invocation:
        arguments = raw if isinstance(raw, dict) else {}
        record = ToolCallRecord(name=name, arguments=arguments, ok=False)
        turn.records.append(record)
        if name == USE_CONTROLLER and self.switch is not None and turn.several:
            return await self._use_controller(turn, record, arguments)
        tool = self.catalogue.get(name)
        if tool is None:
            record.error = f"unknown tool {name}"
            return Invocation(
                record, error=f"There is no tool named {name!r}.", hint="Use one of the tools you were given."
            )
        if argument_error:
            record.error = argument_error
            return Invocation(record, error=f"Arguments are not valid JSON: {argument_error}")
        try:
            args = tool.args.model_validate(arguments)
        except ValidationError as exc:
            record.error = describe(exc)
            usage = usage_for(name)
            return Invocation(
                record,
                error=f"Invalid arguments for {name}: {record.error}",
                hint="Fix the arguments and call again.",
                said=f"Some values are missing or not valid: {record.error}.",
                said_hint=f"Usage: {usage}" if usage else "",
            )
        record.arguments = args.model_dump(exclude_none=True)
        risk = tool.risk_for(args)
        if not turn.access.allows(risk):
            record.error = "not allowed"
            why = (
                "the assistant is in read-only mode"
                if turn.access.read_only
                else f"role {turn.access.role.value}"
            )
            return Invocation(
                record,
                error=f"Not allowed: {name} is a {risk.value} action ({why}).",
                refused=True,
                said=turn.access.denial(risk),
                said_hint="Nothing was changed.",
            )
        try:
            if risk is Risk.READ and turn.everywhere and turn.controllers is not None:
                result = await run_everywhere(tool, args, self._everywhere(turn), self.everywhere_seconds)
                record.ok = True
                return Invocation(record, result=result)
            if risk is Risk.READ:
                result = await tool.run(turn.ctx, args)
                record.ok = True
                return Invocation(record, result=result)
            if turn.everywhere:
                record.error = "which controller"
                return Invocation(record, error=EVERYWHERE_WRITE, refused=True)
            if turn.pending is not None:
                record.error = "one change at a time"
                return Invocation(
                    record, error="Another change is already awaiting confirmation in this turn."
                )
            assert tool.plan is not None
            plan = await tool.plan(turn.ctx, args)
        except ToolError as exc:
            record.error = exc.message
            return Invocation(record, error=exc.message, hint=exc.hint, failed_run=True, no_op=exc.no_op)
        summary, diff = plan.summary, plan.diff
        if turn.several:  # which controller it will run on, whatever the conversation moves to
            summary, diff = (
                f"{summary} on controller {turn.controller_name}",
                [
                    f"  controller: {turn.controller_name}",
                    *diff,
                ],
            )
        action = PendingAction.new(
            tool=name,
            arguments=record.arguments,
            risk=risk,
            summary=summary,
            diff=diff,
            requested_by=turn.inbound.user,
            platform=turn.inbound.platform,
            conversation_key=turn.inbound.conversation_key,
            channel=turn.inbound.channel,
            tenant=turn.ctx.tenant,
            controller=turn.controller_name,
            ttl_seconds=self.pending_ttl_seconds,
        )
        try:
            await self.pending.put(action)
        except Exception as exc:  # nothing may run unconfirmed: without the store there is no proposal
            log.warning("pending store unavailable: %s", type(exc).__name__)
            record.ok = False
            record.error = "store unavailable"
            return Invocation(
                record,
                error="The change could not be held for confirmation because the store is unavailable; "
                "nothing was changed.",
                hint="Try again in a moment.",
                failed_run=True,
            )
        turn.pending = action
        record.ok = True
        return Invocation(record, pending=action)

    async def _use_controller(
        self, turn: TurnState, record: ToolCallRecord, raw: dict[str, Any]
    ) -> Invocation:
        """The model's switch: the rest of the turn runs on the controller named (or on all)."""
        assert self.switch is not None
        assert turn.controllers is not None
        try:
            name = UseControllerArgs.model_validate(raw).name
        except ValidationError as exc:
            record.error = describe(exc)
            return Invocation(record, error=f"Invalid arguments for {USE_CONTROLLER}: {record.error}")
        problem = await self.switch(turn, name)
        if problem:
            record.error = problem
            return Invocation(record, error=problem, hint=f"Controllers: {', '.join(turn.controllers.names)}")
        record.ok = True
        where = "every controller" if turn.everywhere else f"controller {turn.controller_name}"
        return Invocation(
            record, result=ToolResult(summary=f"Now on {where}", data={"controller": name, "ok": True})
        )

    @staticmethod
    def _everywhere(turn: TurnState) -> list[tuple[Controller, ToolContext]]:
        assert turn.controllers is not None
        return [
            (
                controller,
                ToolContext(
                    ops=controller.ops,
                    tenant=turn.access.tenant or controller.tenant,
                    user=turn.inbound.user,
                    platform=turn.inbound.platform,
                    channel=turn.inbound.channel,
                ),
            )
            for controller in turn.controllers
        ]

    # -- a confirmed write -----------------------------------------------------------------------

    async def execute(self, turn: TurnState, action: PendingAction) -> Execution:
        """Run a confirmed write, audit it, note it in the conversation.

        A write whose answer was lost (`ToolError.outcome_unknown`) is never sent again: the tool's
        `verify` reads the object back, and the outcome is what the controller shows (see `_lost_reply`).
        """
        tool = self.catalogue.get(action.tool)
        ctx = ToolContext(
            ops=turn.ctx.ops,
            tenant=action.tenant,
            user=turn.inbound.user,
            platform=turn.inbound.platform,
            channel=turn.inbound.channel,
        )
        record = ToolCallRecord(name=action.tool, arguments=action.arguments, ok=False)
        turn.records.append(record)
        if tool is None:
            record.error = "tool no longer exists"
            self._called(record)
            await self.record(turn, action, "error", record.error)
            return Execution([ErrorPart(message=f"Cannot run {action.tool}: unknown tool.")], Outcome.FAILED)
        # Write-ahead: who, what, the diff, where; before anything is sent (a crash mid-write still
        # leaves this record), then the final result below.
        await self.record(turn, action, "requested", " | ".join([action.summary, *action.diff]))
        try:
            args = tool.args.model_validate(action.arguments)
            result = await tool.run(ctx, args)
        except (ToolError, ValidationError) as exc:
            if isinstance(exc, ToolError) and exc.outcome_unknown:
                return await self._lost_reply(turn, action, tool, ctx, args, exc, record)
            message = exc.message if isinstance(exc, ToolError) else describe(exc)
            record.error = message
            self._called(record)
            await self.record(turn, action, "error", message)
            await self.note(action, f"{action.summary}: failed ({message})")
            return Execution([ErrorPart(message=f"{action.summary} failed: {message}")], Outcome.FAILED)
        record.ok = True
        self._called(record)
        await self.record(turn, action, "ok", result.summary)
        await self.note(
            action,
            f"Done (confirmed by {turn.inbound.user.name or turn.inbound.user.id}): "
            f"{action.summary}. {result.summary}",
        )
        # One result line: the tool's own summary says what happened ("Disabled virtual service
        # X"); the plan's summary ("Disable virtual service X") and a repeat of that line would not.
        said = result.summary or action.summary
        if turn.several and f"controller {action.controller}" not in said:
            said = f"{said.rstrip('.')} on controller {action.controller or turn.controller_name}"
        rest = [p for p in result.parts if not (isinstance(p, TextPart) and p.markdown == result.summary)]
        parts: list[Part] = [TextPart(markdown=f"Done: {said}."), *rest]
        return Execution(parts, Outcome.DONE)

    async def _lost_reply(
        self,
        turn: TurnState,
        action: PendingAction,
        tool: Tool,
        ctx: ToolContext,
        args: Any,
        exc: ToolError,
        record: ToolCallRecord,
    ) -> Execution:
        """The write was sent and its answer lost: read back (never write again) and say how it ended.

        verify True -> done (with the object as it is now), False -> failed (nothing changed),
        None or no verify -> unknown, with what to check before trying again.
        """
        verdict: bool | None = None
        if tool.verify is not None:
            try:
                verdict = await tool.verify(ctx, args)
            except Exception as err:  # a verify that fails cannot tell
                log.warning("verify of %s failed: %s", action.tool, type(err).__name__)
        message = exc.message.rstrip(". ")
        who = turn.inbound.user.name or turn.inbound.user.id
        if verdict is True:
            record.ok = True
            self._called(record)
            said = "The controller's answer was lost; reading it back shows the change is in place."
            await self.record(
                turn, action, "ok", f"verified after a lost reply: the change is in place ({message})"
            )
            await self.note(action, f"Done (confirmed by {who}): {action.summary}. {said}")
            parts: list[Part] = [TextPart(markdown=f"Done: {action.summary}. {said}")]
            if tool.readback is not None:
                try:
                    parts += (await tool.readback(ctx, args)).parts
                except Exception as err:  # verified already: the picture is a bonus
                    log.warning("read-back of %s failed: %s", action.tool, type(err).__name__)
            return Execution(parts, Outcome.DONE)
        record.error = message
        self._called(record)
        if verdict is False:
            await self.record(turn, action, "error", f"verified after a lost reply: not applied ({message})")
            await self.note(action, f"{action.summary}: not applied ({message}); nothing changed")
            return Execution(
                [
                    ErrorPart(
                        message=f"{action.summary} was not applied: {message}. "
                        "Nothing changed on the controller.",
                        hint="It is safe to ask for it again.",
                    )
                ],
                Outcome.FAILED,
            )
        what = tool.target(args) if tool.target is not None else "the object"
        summary = action.summary
        if len(summary) > 1 and summary[0].isupper() and summary[1].islower():
            summary = summary[0].lower() + summary[1:]
        said = (
            f"The controller did not confirm {summary} ({message}). "
            f"Check {what} on the controller before trying again."
        )
        # The audit has no `unknown` result yet: "error", told apart by the detail's "outcome unknown:".
        await self.record(turn, action, "unknown", f"outcome unknown: {message}; check {what}")
        await self.note(
            action, f"{action.summary}: outcome unknown ({message}); check {what} on the controller"
        )
        return Execution([ErrorPart(message=said)], Outcome.UNKNOWN)

    async def note(self, action: PendingAction, text: str) -> None:
        """A line in the requesting conversation, so a follow-up knows what happened. Best effort:
        after the controller answered, nothing may turn the outcome into an error."""
        try:
            await self.history.append(action.conversation_key, [{"role": "assistant", "content": text}])
        except Exception as exc:
            log.warning("outcome note not saved for %s: %s", action.id, type(exc).__name__)

    async def record(self, turn: TurnState, action: PendingAction, result: AuditResult, detail: str) -> None:
        """An audit entry; a store failure is logged (the entry's log line is already written)."""
        try:
            await self._record(turn, action, result, detail)
        except Exception as exc:
            log.error("audit entry for %s not stored: %s", action.id, type(exc).__name__)

    async def _record(self, turn: TurnState, action: PendingAction, result: AuditResult, detail: str) -> None:
        await self.audit.record(
            AuditEntry(
                time=utcnow(),
                user_id=turn.inbound.user.id,
                user_name=turn.inbound.user.name,
                platform=turn.inbound.platform,
                channel=turn.inbound.channel,
                conversation_key=action.conversation_key,
                action=action.tool,
                arguments=action.arguments,
                risk=action.risk,
                result=result,
                detail=detail,
                action_id=action.id,
                tenant=action.tenant,
                controller=turn.controller,
            )
        )
