"""The alert pipeline as the rest of the bot sees it: platforms register their poster, the poller runs
in the background, a thread's follow-ups get its alert, Investigate and Mute act on it, pushed alerts
(the webhook) join the same pipeline, and health says how the poller is doing.

Built by the composition root (avibot/factory.py) when `alerts.routes` is set; platforms reach it
only through `bot.turns.Turns` (`investigate`, `mute`, `alert_feed`, `push_alerts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from avi.operations.alerts import Alert
from bot.alerts.engine import AlertEngine, AlertSource, PollReport
from bot.alerts.feed import FeedItem, FeedPoster
from bot.alerts.health import ObjectHealth
from bot.alerts.models import AlertContext, object_words
from bot.alerts.poster import AlertPoster
from bot.alerts.settings import AlertSettings
from bot.alerts.store import AlertStore
from bot.events import Observers

log = logging.getLogger("avibot.alerts")

MAX_PUSHED = 200  # alerts in one webhook request


class PollerHealth(BaseModel):
    """What /api/health says about the poller."""

    running: bool
    routes: int
    platforms: list[str]
    last_poll_at: float | None = None
    last_ok_at: float | None = None
    lag_seconds: float | None = None  # since the last successful poll
    last_error: str | None = None
    posted: int = 0
    muted: int = 0


class AlertService:
    def __init__(
        self,
        source: AlertSource,
        store: AlertStore,
        settings: AlertSettings,
        *,
        observers: Observers | None = None,
        clock: Callable[[], float] = time.time,
        health: ObjectHealth | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.posters: dict[str, AlertPoster] = {}
        self.engine = AlertEngine(
            source, store, self.posters, settings, observers=observers, clock=clock, health=health
        )
        self.feed = FeedPoster(store)
        if "web" in settings.platforms:
            self.posters["web"] = self.feed
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._health = PollerHealth(running=False, routes=len(settings.routes), platforms=[])

    # -- wiring -------------------------------------------------------------------------------------
    def add_poster(self, platform: str, poster: AlertPoster) -> None:
        """A platform that can post (Slack, Teams) registers when it is mounted."""
        self.posters[platform] = poster

    def start(self) -> None:
        """Start polling (once; a second call does nothing)."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="avibot-alert-poller")

    async def aclose(self) -> None:
        if self._task is not None:
            self._stop.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        for route in self.settings.routes:
            if route.platform == "web":
                with contextlib.suppress(Exception):
                    await self.feed.register(route.target)
        while not self._stop.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.poll_seconds)

    async def poll_once(self) -> PollReport:
        """One poll, never raising; what it did is kept for health."""
        now = self.clock()
        try:
            report = await self.engine.poll_once()
        except Exception as exc:  # a store outage: the next poll tries again
            log.warning("alert poll failed: %s", type(exc).__name__)
            report = PollReport(ok=False, errors=[f"the alert store is unavailable ({type(exc).__name__})"])
        self._note(now, report)
        return report

    def _note(self, now: float, report: PollReport) -> None:
        h = self._health
        h.last_poll_at = now
        if report.ok:
            h.last_ok_at, h.last_error = now, None
        else:
            h.last_error = report.errors[0][:200] if report.errors else "unknown"
        h.posted += report.posted + report.digested
        h.muted += report.muted

    def health(self) -> PollerHealth:
        h = self._health.model_copy()
        h.running = self._task is not None and not self._task.done()
        h.platforms = sorted(self.posters)
        h.lag_seconds = None if h.last_ok_at is None else round(max(0.0, self.clock() - h.last_ok_at), 1)
        return h

    # -- what platforms do with it ------------------------------------------------------------------
    async def context_for(self, platform: str, thread_key: str) -> AlertContext | None:
        return await self.engine.context_for(platform, thread_key)

    async def mute(self, ctx: AlertContext, by: str) -> str:
        """Mute the thread's object on its route for `mute_minutes`; the sentence to show."""
        minutes = self.settings.mute_minutes
        if ctx.kind != "alert" or not ctx.route_to:
            return "A storm digest cannot be muted; mute the objects in it from their own threads."
        await self.engine.mute(ctx.route_to, ctx.object_uuid or ctx.alert_uuid, minutes * 60, by)
        what = object_words(ctx.object_type, ctx.object_name)
        return f"Muted: no new alert about {what} will be posted here for {minutes:g} min (by {by})."

    async def feed_items(self, feed: str | None = None, limit: int = 50) -> list[FeedItem]:
        return await self.feed.items(feed, limit)

    async def push(self, raw: Any) -> PollReport:
        """Alerts pushed to the webhook (one alert object, a list, or `{"results": [...]}`)."""
        items = raw.get("results", [raw]) if isinstance(raw, dict) else raw
        if not isinstance(items, list) or len(items) > MAX_PUSHED:
            raise ValueError(f"expected an alert object or a list of at most {MAX_PUSHED}")
        alerts = [a for item in items if isinstance(item, dict) and (a := Alert.from_api(item)) is not None]
        if not alerts:
            raise ValueError("no alert with a uuid and a timestamp in the body")
        return await self.engine.ingest(alerts)
