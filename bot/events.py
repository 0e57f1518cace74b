"""What the core tells observers: turns, model calls, tool calls and settled actions.

Metrics (avibot/metrics.py), logs or a future tracer subscribe to an `Observers` hub handed to the
parts that emit; nothing has to wrap or reassign a method to see what happened. An observer that
raises is logged and skipped: watching a turn must never break it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.types import Outcome

log = logging.getLogger("avibot.events")


@dataclass(frozen=True)
class TurnStarted:
    platform: str
    conversation_key: str
    user_id: str = ""


@dataclass(frozen=True)
class TurnEnded:
    platform: str
    mode: str  # "llm" or "command"
    outcome: Outcome
    seconds: float


@dataclass(frozen=True)
class ModelCalled:
    """One call to the language model, from request to its last token (or its failure)."""

    seconds: float
    ok: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class ToolCalled:
    """`tool` is a catalogue name or "unknown" (a name the model made up never becomes a label)."""

    tool: str
    ok: bool


@dataclass(frozen=True)
class ActionEvent:
    """A pending write was `proposed`, `confirmed`, `cancelled` or `refused`."""

    event: str
    outcome: Outcome


@dataclass(frozen=True)
class ModelStatusChanged:
    """The language model went down (command mode from now on) or came back."""

    up: bool
    reason: str


Event = TurnStarted | TurnEnded | ModelCalled | ToolCalled | ActionEvent | ModelStatusChanged
Observer = Callable[[Event], None]


class Observers:
    """A list of callbacks; `emit` is synchronous and cheap, so it can sit on every hot path."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def emit(self, event: Event) -> None:
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                log.exception("observer %r failed on %s", observer, type(event).__name__)
