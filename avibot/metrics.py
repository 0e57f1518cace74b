"""Prometheus metrics, counted where they happen: around the agent, the model and the controller client.

The composition root owns every part, so it wraps them here (instance attributes, no change to
bot/, llm/ or avi/): `Agent.stream/confirm/cancel` for turns, tool calls and pending actions,
`OllamaChat.stream` for model latency and tokens, `AviClient._send` for controller requests by
status. Each app has its own registry, so tests and several apps in one process do not collide.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from avi.client import AviClient
from bot.agent import Agent, Delta
from bot.types import ErrorPart, Inbound, Reply
from llm.client import LLMEvent, OllamaChat

TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)
_in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("avibot_in_turn", default=False)


class Metrics:
    """The counters and histograms of one server."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.turns = Counter("avibot_turns", "Answered messages, by mode", ["mode"], registry=r)
        self.turn_seconds = Histogram(
            "avibot_turn_seconds", "Time to answer one message", ["mode"], buckets=TURN_BUCKETS, registry=r
        )
        self.llm_seconds = Histogram(
            "avibot_llm_seconds", "One model call, request to last token", buckets=TURN_BUCKETS, registry=r
        )
        self.llm_tokens = Counter("avibot_llm_tokens", "Tokens, by kind", ["kind"], registry=r)
        self.llm_errors = Counter("avibot_llm_errors", "Model calls that failed", registry=r)
        self.tool_calls = Counter(
            "avibot_tool_calls", "Tool calls, by tool and outcome", ["tool", "ok"], registry=r
        )
        self.avi_requests = Counter(
            "avibot_avi_requests", "HTTP requests to the controller, by status", ["status"], registry=r
        )
        self.pending = Counter(
            "avibot_pending_actions", "Pending writes, by event (proposed, confirmed, cancelled, refused)",
            ["event"], registry=r,
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- observations ------------------------------------------------------------------------------

    def _tools(self, reply: Reply) -> None:
        for call in reply.tool_calls:
            self.tool_calls.labels(tool=call.name, ok=str(call.ok).lower()).inc()

    def observe_turn(self, reply: Reply | None, seconds: float) -> None:
        mode = reply.mode if reply is not None else "command"
        self.turns.labels(mode=mode).inc()
        self.turn_seconds.labels(mode=mode).observe(seconds)
        if reply is not None:
            self._tools(reply)
            if reply.pending_action is not None:
                self.pending.labels(event="proposed").inc()

    def observe_action(self, intent: str, reply: Reply, nested: bool) -> None:
        refused = any(isinstance(p, ErrorPart) for p in reply.parts)
        if intent == "confirm":
            event = "confirmed" if any(c.ok for c in reply.tool_calls) else "refused"
        else:
            event = "refused" if refused else "cancelled"
        self.pending.labels(event=event).inc()
        if not nested:  # a `confirm <id>` typed in a turn is counted by observe_turn
            self._tools(reply)

    # -- instrumentation ---------------------------------------------------------------------------

    def instrument_agent(self, agent: Agent) -> None:
        stream, confirm, cancel = agent.stream, agent.confirm, agent.cancel

        async def metered_stream(inbound: Inbound) -> AsyncIterator[Delta | Reply]:
            started, reply = time.perf_counter(), None
            token = _in_turn.set(True)
            try:
                async for event in stream(inbound):
                    if isinstance(event, Reply):
                        reply = event
                    yield event
            finally:
                _in_turn.reset(token)
            self.observe_turn(reply, time.perf_counter() - started)

        def metered(intent: str, fn: Callable[[str, Inbound], Awaitable[Reply]]) -> Any:
            async def wrapper(action_id: str, inbound: Inbound) -> Reply:
                reply = await fn(action_id, inbound)
                self.observe_action(intent, reply, nested=_in_turn.get())
                return reply

            return wrapper

        agent.stream = metered_stream  # type: ignore[method-assign]
        agent.confirm = metered("confirm", confirm)  # type: ignore[method-assign]
        agent.cancel = metered("cancel", cancel)  # type: ignore[method-assign]

    def instrument_llm(self, llm: OllamaChat) -> None:
        stream = llm.stream

        async def metered_stream(*args: Any, **kwargs: Any) -> AsyncIterator[LLMEvent]:
            started = time.perf_counter()
            try:
                async for event in stream(*args, **kwargs):
                    if event.response is not None:
                        self.llm_seconds.observe(time.perf_counter() - started)
                        self.llm_tokens.labels(kind="prompt").inc(event.response.prompt_tokens or 0)
                        self.llm_tokens.labels(kind="completion").inc(event.response.completion_tokens or 0)
                    yield event
            except Exception:
                self.llm_errors.inc()
                raise

        llm.stream = metered_stream  # type: ignore[method-assign]

    def instrument_client(self, client: AviClient) -> None:
        send = client._send

        async def metered_send(*args: Any, **kwargs: Any) -> Any:
            try:
                resp = await send(*args, **kwargs)
            except Exception:
                self.avi_requests.labels(status="unreachable").inc()
                raise
            self.avi_requests.labels(status=str(resp.status_code)).inc()
            return resp

        client._send = metered_send  # type: ignore[method-assign]
