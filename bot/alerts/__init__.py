"""Controller alerts routed into chat threads: poll `/api/alert` with a shared cursor, claim each
(alert, destination) once across replicas, group storms and flapping, resolve, keep thread context.

The engine decides; an `AlertPoster` per platform (Slack, Teams) renders and sends.
"""

from __future__ import annotations

from bot.alerts.engine import AlertEngine, AlertSource, PollReport
from bot.alerts.events import AlertEvent, AlertPollFinished, AlertPosted, AlertPostFailed
from bot.alerts.models import AlertContext, AlertView, DigestLine, ThreadRef
from bot.alerts.poster import AlertPoster, MemoryPoster
from bot.alerts.settings import AlertRoute, AlertSettings
from bot.alerts.store import AlertStore, MemoryAlertStore, RedisAlertStore

__all__ = [
    "AlertContext",
    "AlertEngine",
    "AlertEvent",
    "AlertPollFinished",
    "AlertPostFailed",
    "AlertPosted",
    "AlertPoster",
    "AlertRoute",
    "AlertSettings",
    "AlertSource",
    "AlertStore",
    "AlertView",
    "DigestLine",
    "MemoryAlertStore",
    "MemoryPoster",
    "PollReport",
    "RedisAlertStore",
    "ThreadRef",
]
