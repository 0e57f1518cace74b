"""What the alert engine tells observers (metrics, logs), through the same `bot.events.Observers` hub.

These are not yet members of `bot.events.Event`; until they are, `emit` casts (observers that match
on type ignore what they do not know)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from bot.events import Event, Observers

PostKind = Literal["root", "grouped", "digest", "digest_update", "resolved"]


@dataclass(frozen=True)
class AlertPosted:
    """A message went out: a new thread, an alert grouped into one, a digest, or a resolution."""

    platform: str
    kind: PostKind


@dataclass(frozen=True)
class AlertPostFailed:
    platform: str
    kind: PostKind


@dataclass(frozen=True)
class AlertMuted:
    """A new alert was not posted: its object is muted on that route."""

    platform: str


@dataclass(frozen=True)
class AlertPollFinished:
    """One read of the controller: `new` alerts past the cursor, `claimed` by this replica."""

    seconds: float
    ok: bool
    new: int = 0
    claimed: int = 0


AlertEvent = AlertPosted | AlertPostFailed | AlertMuted | AlertPollFinished


def emit(observers: Observers | None, event: AlertEvent) -> None:
    if observers is not None:
        observers.emit(cast("Event", event))
