"""One turn id on every log line of a turn, and a start and an end line per turn: where it came
from (platform, the user id hashed), the tool calls, how many controller requests it cost, how it
ended. Never a message text, a body or a secret.

An observer of the core's events (bot/events.py) and of every controller client's requests (one
count per turn, whichever controllers it asked): a turn's `TurnStarted` is emitted inside the task
that runs the turn, so the id set here is that task's (contextvars), and concurrent turns never see
each other's.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field

from avi.client_types import RequestEvent, RequestObserver
from bot.events import Event, Observers, ToolCalled, TurnEnded, TurnStarted

log = logging.getLogger("avibot.turn")


@dataclass
class TurnTrace:
    id: str
    tools: list[str] = field(default_factory=list)
    requests: int = 0


CURRENT: ContextVar[TurnTrace | None] = ContextVar("avibot_turn", default=None)


def current_turn_id() -> str | None:
    trace = CURRENT.get()
    return trace.id if trace is not None else None


def hashed_user(platform: str, user_id: str) -> str:
    """A stable pseudonym: the same person reads the same in every line, their id in none."""
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:12]


class TurnIdFilter(logging.Filter):
    """Puts the running turn's id on each record as `turn` (None outside a turn)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.turn = current_turn_id()
        return True


class TurnLog:
    """Subscribe with `attach(observers, *each_clients_observers)`."""

    def attach(self, observers: Observers, *request_observers: list[RequestObserver]) -> None:
        observers.subscribe(self.observe)
        for client_observers in request_observers:
            client_observers.append(self.observe_request)

    def observe(self, event: Event) -> None:
        match event:
            case TurnStarted():
                CURRENT.set(TurnTrace(secrets.token_hex(4)))
                log.info(
                    "turn started: platform=%s user=%s",
                    event.platform,
                    hashed_user(event.platform, event.user_id),
                )
            case ToolCalled():
                trace = CURRENT.get()
                if trace is not None:
                    trace.tools.append(f"{event.tool}:{'ok' if event.ok else 'failed'}")
            case TurnEnded():
                trace = CURRENT.get()
                log.info(
                    "turn ended: outcome=%s mode=%s seconds=%.2f tools=%s controller_requests=%d",
                    event.outcome.value,
                    event.mode,
                    event.seconds,
                    ",".join(trace.tools) if trace and trace.tools else "-",
                    trace.requests if trace else 0,
                )
                CURRENT.set(None)
            case _:
                pass

    def observe_request(self, event: RequestEvent) -> None:
        trace = CURRENT.get()
        if trace is not None:
            trace.requests += 1
