"""The agent core: `Agent.handle(Inbound) -> Reply`, shared by every channel.

One turn: resolve who is asking (role, tenant); a structured command runs directly; anything else
goes to the model with a few routed tools, in a bounded loop. A write never runs inside the loop:
it becomes a pending action that a person confirms (`Agent.confirm`). When the model is
unreachable the turn falls back to command mode and says so.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from avi.operations import AviOperations
from bot.audit import AuditEntry, AuditLog
from bot.commands import CommandError, CoreCommand, ToolCommand, help_text, match_plain_english, parse_command
from bot.history import ConversationStore
from bot.pending import PendingAction, PendingStore, Status, resolve
from bot.permissions import Access, AccessSettings, resolve_access
from bot.prompt import system_prompt
from bot.routing import select_tools
from bot.tools import ToolCatalogue, ToolError
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    Fact,
    FactsPart,
    Inbound,
    Part,
    Reply,
    Risk,
    TablePart,
    TextPart,
    ToolCallRecord,
    utcnow,
)
from llm.budget import fit_messages
from llm.client import ModelCheck, ModelInfo, OllamaChat
from llm.errors import LLMError, LLMUnavailable
from llm.schema import flat_tool

log = logging.getLogger("avibot.agent")


class AgentSettings(BaseModel):
    """Bounds of one turn (the `agent` section of config.yaml)."""

    max_tool_rounds: int = Field(6, ge=1, le=20)
    max_tools: int = Field(8, ge=2, le=40)
    max_invalid_calls: int = Field(3, ge=0, le=10)
    answer_reserve_tokens: int = Field(1024, ge=128)
    history_tool_chars: int = Field(1200, ge=200, description="tool results kept in history, characters")
    llm_retry_after_seconds: float = Field(
        15.0, ge=0, description="skip the model this long after it was down"
    )
    pending_ttl_seconds: int = Field(600, ge=1, le=86400)


@dataclass
class Delta:
    """A piece of the answer's text, streamed before the final Reply."""

    text: str


@dataclass
class Invocation:
    """The outcome of one tool call, in the loop or from a command."""

    record: ToolCallRecord
    result: ToolResult | None = None
    pending: PendingAction | None = None
    error: str = ""
    hint: str = ""

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


@dataclass
class Turn:
    """What one turn collects on its way to a Reply."""

    inbound: Inbound
    access: Access
    ctx: ToolContext
    records: list[ToolCallRecord] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    pending: PendingAction | None = None


class Agent:
    """The brain behind every channel."""

    def __init__(
        self,
        *,
        ops: AviOperations,
        catalogue: ToolCatalogue,
        history: ConversationStore,
        pending: PendingStore,
        audit: AuditLog,
        access: AccessSettings,
        llm: OllamaChat | None,
        num_ctx: int,
        default_tenant: str,
        settings: AgentSettings | None = None,
    ) -> None:
        self.ops = ops
        self.catalogue = catalogue
        self.history = history
        self.pending = pending
        self.audit = audit
        self.access_settings = access
        self.llm = llm
        self.num_ctx = num_ctx
        self.default_tenant = default_tenant
        self.settings = settings or AgentSettings()
        self._llm_down_until = 0.0
        # Said in command mode when there is no model; the composition root sets why (probe result).
        self.offline_reason = "no language model is configured"
        self._models: dict[str, str] = {}  # conversation key -> model chosen with `model use`
        self._schemas: dict[str, dict[str, Any]] = {}  # tool name -> flat schema, built once

    # -- entry points -----------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> Reply:
        """Answer one message; the whole reply at once."""
        reply: Reply | None = None
        async for event in self.stream(inbound):
            if isinstance(event, Reply):
                reply = event
        assert reply is not None
        return reply

    async def stream(self, inbound: Inbound) -> AsyncIterator[Delta | Reply]:
        """Answer one message: text deltas while the model writes, then the Reply."""
        turn = self._turn(inbound)
        try:
            parsed = parse_command(inbound.text)
            if isinstance(parsed, CommandError):
                yield self._reply(
                    turn, "command", [ErrorPart(message=parsed.message, hint=f"Usage: {parsed.usage}")]
                )
            elif isinstance(parsed, CoreCommand):
                yield await self._core_command(turn, parsed)
            elif isinstance(parsed, ToolCommand):
                yield await self._tool_command(turn, parsed.tool, parsed.arguments)
            else:
                async for event in self._llm_turn(turn):
                    yield event
        except Exception:  # the last line of defence: no traceback reaches a user
            log.exception("turn failed for %s", inbound.conversation_key)
            yield self._reply(
                turn,
                "command",
                [ErrorPart(message="Something went wrong answering that.", hint="Try again.")],
            )

    async def confirm(self, action_id: str, inbound: Inbound) -> Reply:
        """Run a pending write if this person may, here; exactly once across replicas."""
        turn = self._turn(inbound)
        res = await resolve(self.pending, action_id.strip(), "confirm", inbound, turn.access)
        if res.status is Status.READY and res.action is not None:
            return await self._execute(turn, res.action)
        if res.status is Status.NOT_ALLOWED and res.action is not None:
            await self._audit(turn, res.action, "denied", res.message)
        return self._reply(turn, "command", [ErrorPart(message=res.message, hint="Nothing was changed.")])

    async def cancel(self, action_id: str, inbound: Inbound) -> Reply:
        """Drop a pending write; the requester or anyone allowed to run it may."""
        turn = self._turn(inbound)
        res = await resolve(self.pending, action_id.strip(), "cancel", inbound, turn.access)
        if res.status is Status.CANCELLED and res.action is not None:
            await self._audit(turn, res.action, "cancelled", "")
            text = f"Cancelled: {res.action.summary}. Nothing changed."
            await self._note(res.action, text)
            return self._reply(turn, "command", [TextPart(markdown=text)])
        return self._reply(turn, "command", [ErrorPart(message=res.message)])

    async def propose(self, inbound: Inbound, tool: str, arguments: dict[str, Any]) -> Reply:
        """Run one tool directly (no model): a read answers, a write becomes a pending action.

        For channels with their own structured entry points (the web API's controller proxy), so
        their writes take the same confirmation, permission and audit path as every other write.
        """
        turn = self._turn(inbound)
        return await self._tool_command(turn, tool, arguments)

    # -- for channels: history, models, status ---------------------------------------------------

    @property
    def mode(self) -> str:
        """`llm` when a model is configured and was reachable at start, `command` otherwise."""
        return "llm" if self.llm is not None else "command"

    async def conversation(self, key: str) -> list[dict[str, Any]]:
        """The stored messages of a conversation, oldest first (tool results in compact form)."""
        return await self.history.load(key)

    async def clear_conversation(self, key: str) -> None:
        await self.history.clear(key)
        self._models.pop(key, None)

    async def list_models(self) -> list[ModelInfo]:
        """Models Ollama has pulled; raises LLMError (message + hint) when it cannot say."""
        if self.llm is None:
            raise LLMUnavailable(self.offline_reason, "start Ollama and restart avibot, or set OLLAMA_HOST")
        return await self.llm.list_models()

    async def validate_model(self, name: str | None) -> ModelCheck:
        if self.llm is None:
            raise LLMUnavailable(self.offline_reason, "start Ollama and restart avibot, or set OLLAMA_HOST")
        return await self.llm.validate_model(name)

    def model_for(self, key: str) -> str | None:
        """The model a conversation uses (chosen with `model use`, else the configured one)."""
        if self.llm is None:
            return None
        return self._models.get(key, self.llm.model)

    def use_model(self, key: str, name: str) -> None:
        """Pin a conversation to a model already checked with `validate_model`."""
        self._models[key] = name

    # -- building blocks --------------------------------------------------------------------------

    def _turn(self, inbound: Inbound) -> Turn:
        access = resolve_access(self.access_settings, inbound)
        tenant = access.tenant or self.default_tenant
        ctx = ToolContext(
            ops=self.ops, tenant=tenant, user=inbound.user, platform=inbound.platform, channel=inbound.channel
        )
        return Turn(inbound=inbound, access=access, ctx=ctx)

    def _reply(self, turn: Turn, mode: str, parts: list[Part]) -> Reply:
        all_parts = [*parts]
        view = None
        if turn.pending is not None:
            view = turn.pending.view()
            all_parts.append(
                ConfirmationPart(
                    action_id=view.id,
                    summary=view.summary,
                    diff=view.diff,
                    risk=view.risk,
                    expires_at=view.expires_at,
                )
            )
        return Reply(
            parts=all_parts,
            tool_calls=turn.records,
            mode="llm" if mode == "llm" else "command",
            conversation_key=turn.inbound.conversation_key,
            pending_action=view,
        )

    def _schema(self, tool: Tool) -> dict[str, Any]:
        """The tool's flat schema; building it costs ~0.3 ms, so once per tool, not per turn."""
        schema = self._schemas.get(tool.name)
        if schema is None:
            schema = self._schemas[tool.name] = flat_tool(
                tool.name, tool.description, tool.args.model_json_schema()
            )
        return schema

    def _allowed_tools(self, access: Access) -> list[Tool]:
        allowed = {risk for risk in Risk if access.allows(risk)}
        return [tool for tool in self.catalogue.all() if tool.risk in allowed or tool.risk_of is not None]

    async def _invoke(self, turn: Turn, name: str, raw: Any, argument_error: str | None = None) -> Invocation:
        """Validate, check the role, then run a read or plan a write; never raises."""
        arguments = raw if isinstance(raw, dict) else {}
        record = ToolCallRecord(name=name, arguments=arguments, ok=False)
        turn.records.append(record)
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
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors(include_input=False)
            )
            record.error = problems
            return Invocation(
                record,
                error=f"Invalid arguments for {name}: {problems}",
                hint="Fix the arguments and call again.",
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
            return Invocation(record, error=f"Not allowed: {name} is a {risk.value} action ({why}).")
        try:
            if risk is Risk.READ:
                result = await tool.run(turn.ctx, args)
                record.ok = True
                return Invocation(record, result=result)
            if turn.pending is not None:
                record.error = "one change at a time"
                return Invocation(
                    record, error="Another change is already awaiting confirmation in this turn."
                )
            assert tool.plan is not None
            plan = await tool.plan(turn.ctx, args)
        except ToolError as exc:
            record.error = exc.message
            return Invocation(record, error=exc.message, hint=exc.hint)
        action = PendingAction.new(
            tool=name,
            arguments=record.arguments,
            risk=risk,
            summary=plan.summary,
            diff=plan.diff,
            requested_by=turn.inbound.user,
            platform=turn.inbound.platform,
            conversation_key=turn.inbound.conversation_key,
            channel=turn.inbound.channel,
            tenant=turn.ctx.tenant,
            ttl_seconds=self.settings.pending_ttl_seconds,
        )
        await self.pending.put(action)
        turn.pending = action
        record.ok = True
        return Invocation(record, pending=action)

    async def _execute(self, turn: Turn, action: PendingAction) -> Reply:
        """Run a confirmed write, audit it, note it in the conversation."""
        tool = self.catalogue.get(action.tool)
        ctx = ToolContext(
            ops=self.ops,
            tenant=action.tenant,
            user=turn.inbound.user,
            platform=turn.inbound.platform,
            channel=turn.inbound.channel,
        )
        record = ToolCallRecord(name=action.tool, arguments=action.arguments, ok=False)
        turn.records.append(record)
        if tool is None:
            record.error = "tool no longer exists"
            await self._audit(turn, action, "error", record.error)
            return self._reply(
                turn, "command", [ErrorPart(message=f"Cannot run {action.tool}: unknown tool.")]
            )
        try:
            result = await tool.run(ctx, tool.args.model_validate(action.arguments))
        except (ToolError, ValidationError) as exc:
            message = exc.message if isinstance(exc, ToolError) else str(exc)
            record.error = message
            await self._audit(turn, action, "error", message)
            await self._note(action, f"{action.summary}: failed ({message})")
            return self._reply(turn, "command", [ErrorPart(message=f"{action.summary} failed: {message}")])
        record.ok = True
        await self._audit(turn, action, "ok", result.summary)
        await self._note(
            action,
            f"Done (confirmed by {turn.inbound.user.name or turn.inbound.user.id}): "
            f"{action.summary}. {result.summary}",
        )
        parts: list[Part] = [TextPart(markdown=f"Done: {action.summary}. {result.summary}"), *result.parts]
        return self._reply(turn, "command", parts)

    async def _note(self, action: PendingAction, text: str) -> None:
        await self.history.append(action.conversation_key, [{"role": "assistant", "content": text}])

    async def _audit(self, turn: Turn, action: PendingAction, result: str, detail: str) -> None:
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
            )
        )

    # -- command mode -----------------------------------------------------------------------------

    async def _tool_command(self, turn: Turn, name: str, arguments: dict[str, Any], note: str = "") -> Reply:
        inv = await self._invoke(turn, name, arguments)
        parts: list[Part] = [TextPart(markdown=note)] if note else []
        if inv.result is not None:
            parts += inv.result.parts or [TextPart(markdown=inv.result.summary)]
        elif inv.pending is None:
            parts.append(ErrorPart(message=inv.error, hint=inv.hint))
        await self.history.append(
            turn.inbound.conversation_key,
            [
                {"role": "user", "content": turn.inbound.text},
                {"role": "assistant", "content": self._summary_line(inv)},
            ],
        )
        return self._reply(turn, "command", parts)

    @staticmethod
    def _summary_line(inv: Invocation) -> str:
        if inv.result is not None:
            return f"[{inv.record.name}] {inv.result.summary}"
        if inv.pending is not None:
            return f"[{inv.record.name}] awaiting confirmation: {inv.pending.summary}"
        return f"[{inv.record.name}] error: {inv.error}"

    async def _core_command(self, turn: Turn, cmd: CoreCommand) -> Reply:
        key = turn.inbound.conversation_key
        if cmd.name == "help":
            return self._reply(turn, "command", [TextPart(markdown=help_text(cmd.argument))])
        if cmd.name == "reset":
            await self.history.clear(key)
            self._models.pop(key, None)
            return self._reply(turn, "command", [TextPart(markdown="Conversation history cleared.")])
        if cmd.name == "confirm" and cmd.argument:
            return await self.confirm(cmd.argument, turn.inbound)
        if cmd.name == "cancel" and cmd.argument:
            return await self.cancel(cmd.argument, turn.inbound)
        if cmd.name == "audit":
            limit = int(cmd.argument) if cmd.argument and cmd.argument.isdigit() else 20
            entries = await self.audit.recent(min(limit, 200))
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
            return self._reply(
                turn, "command", [table if rows else TextPart(markdown="The audit log is empty.")]
            )
        if cmd.name in ("model_list", "model_use"):
            return await self._model_command(turn, cmd)
        return self._reply(turn, "command", [ErrorPart(message=f"Usage: {cmd.name} <id>")])

    async def _model_command(self, turn: Turn, cmd: CoreCommand) -> Reply:
        if self.llm is None:
            return self._reply(turn, "command", [ErrorPart(message="No language model is configured.")])
        try:
            if cmd.name == "model_list":
                models = await self.llm.list_models()
                current = self._models.get(turn.inbound.conversation_key, self.llm.model)
                rows = [
                    [
                        m.name + (" (in use)" if m.name == current else ""),
                        m.parameter_size or "",
                        m.quantization or "",
                    ]
                    for m in models
                ]
                return self._reply(
                    turn,
                    "command",
                    [TablePart(title="Models", columns=["model", "size", "quant"], rows=rows)],
                )
            check = await self.llm.validate_model(cmd.argument)
        except LLMError as exc:
            return self._reply(turn, "command", [ErrorPart(message=exc.message, hint=exc.hint)])
        if not check.ok:
            return self._reply(turn, "command", [ErrorPart(message=check.message, hint=check.hint)])
        self._models[turn.inbound.conversation_key] = cmd.argument or self.llm.model
        facts = [
            Fact(label="model", value=cmd.argument or self.llm.model),
            Fact(label="tools", value="yes" if check.supports_tools else "no"),
        ]
        return self._reply(turn, "command", [FactsPart(title="Model for this conversation", facts=facts)])

    async def _fallback(self, turn: Turn, why: str) -> Reply:
        """Command mode for a question, when the model cannot answer."""
        note = f"_Command mode: {why}_"
        match = match_plain_english(turn.inbound.text)
        if match is not None:
            return await self._tool_command(turn, match.tool, match.arguments, note=note)
        return self._reply(turn, "command", [TextPart(markdown=note), TextPart(markdown=help_text(None))])

    # -- the model loop ---------------------------------------------------------------------------

    async def _llm_turn(self, turn: Turn) -> AsyncIterator[Delta | Reply]:
        if self.llm is None:
            yield await self._fallback(turn, f"{self.offline_reason}; answering directly.")
            return
        if time.monotonic() < self._llm_down_until:
            yield await self._fallback(turn, "the language model is unreachable; answering directly.")
            return
        key = turn.inbound.conversation_key
        history = await self.history.load(key)
        previous = [c["function"]["name"] for m in history[-6:] for c in m.get("tool_calls") or []]
        tools = select_tools(
            turn.inbound.text,
            self._allowed_tools(turn.access),
            limit=self.settings.max_tools,
            previous=previous,
        )
        schemas = [self._schema(t) for t in tools]
        system = system_prompt(
            turn.ctx.tenant or self.default_tenant, turn.access.role, turn.access.read_only
        )
        user_message = {"role": "user", "content": turn.inbound.text}
        fitted = fit_messages(
            system, history, [user_message], schemas, self.num_ctx, self.settings.answer_reserve_tokens
        )
        messages = list(fitted.messages)
        new_messages: list[dict[str, Any]] = [user_message]
        model = self._models.get(key)
        seen: set[str] = set()
        invalid = 0
        answer = ""
        results: list[ToolResult] = []
        try:
            for _round in range(self.settings.max_tool_rounds):
                response = None
                async for event in self.llm.stream(messages, schemas, model=model):
                    if event.delta:
                        yield Delta(event.delta)
                    if event.response is not None:
                        response = event.response
                assert response is not None
                calls = response.tool_calls
                if not calls:
                    answer = response.content.strip()
                    break
                assistant = {
                    "role": "assistant",
                    "content": response.content or "",
                    "tool_calls": [{"function": {"name": c.name, "arguments": c.arguments}} for c in calls],
                }
                messages.append(assistant)
                new_messages.append(assistant)
                repeated = 0
                for call in calls:
                    signature = call.name + json.dumps(call.arguments, sort_keys=True, default=str)
                    if signature in seen:
                        repeated += 1
                        content = json.dumps(
                            {
                                "error": "You already made this exact call; its result is above.",
                                "hint": "Answer the user now.",
                            }
                        )
                    else:
                        seen.add(signature)
                        inv = await self._invoke(turn, call.name, call.arguments, call.argument_error)
                        if inv.result is not None:
                            results.append(inv.result)
                        if inv.record.error and inv.pending is None and inv.result is None:
                            invalid += 1
                        content = inv.for_model()
                    tool_message = {"role": "tool", "tool_name": call.name, "content": content}
                    messages.append(tool_message)
                    new_messages.append(
                        {**tool_message, "content": content[: self.settings.history_tool_chars]}
                    )
                if invalid > self.settings.max_invalid_calls or (repeated == len(calls) and repeated > 1):
                    break
            else:
                log.info("turn %s hit the %d-round bound", key, self.settings.max_tool_rounds)
        except LLMUnavailable as exc:
            self._llm_down_until = time.monotonic() + self.settings.llm_retry_after_seconds
            yield await self._fallback(turn, f"{exc.message} Answering directly.")
            return
        except LLMError as exc:
            yield await self._fallback(turn, f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
            return
        if not answer:
            answer = self._bounded_summary(turn, results)
        new_messages.append({"role": "assistant", "content": answer})
        await self.history.append(key, new_messages)
        parts: list[Part] = [TextPart(markdown=answer)]
        for result in results[-3:]:
            parts.extend(p for p in result.parts if not isinstance(p, TextPart))
        yield self._reply(turn, "llm", parts)

    @staticmethod
    def _bounded_summary(turn: Turn, results: list[ToolResult]) -> str:
        if turn.pending is not None:
            return f"This needs your confirmation: {turn.pending.summary}."
        if not results:
            return "I could not get an answer from the controller for that. Try rephrasing, or `help`."
        found = "\n".join(f"- {r.summary}" for r in results[-5:])
        return f"I stopped after the step limit. Here is what I found:\n{found}"
