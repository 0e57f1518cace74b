"""The alert pipeline as the rest of the bot sees it: platforms register their poster, the poller runs
in the background, a thread's follow-ups get its alert, Investigate and Mute act on it, pushed alerts
(the webhook) join the same pipeline, and health says how the poller is doing.

Built by the composition root (avibot/factory.py) when `alerts.routes` is set; platforms reach it
only through `bot.turns.Turns` (`investigate`, `mute`, `alert_feed`, `push_alerts`).

Several controllers: one `AlertOrigin` each (the default first). Every controller some route names
gets its own engine, polled in its own loop, so a dead controller delays only its own alerts; with
several, every post names its controller and the thread's context keeps it for follow-ups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from avi.operations.alerts import Alert
from bot.alerts.engine import AlertEngine, AlertSource, PollReport
from bot.alerts.feed import FeedItem, FeedPoster
from bot.alerts.health import ObjectHealth
from bot.alerts.models import AlertContext, object_words, on_controller
from bot.alerts.poster import AlertPoster
from bot.alerts.settings import AlertSettings
from bot.alerts.store import AlertStore, controller_scope
from bot.controllers import DEFAULT
from bot.events import Observers

log = logging.getLogger("avibot.alerts")

MAX_PUSHED = 200  # alerts in one webhook request


@dataclass(frozen=True)
class AlertOrigin:
    """One controller's alerts: where they are read, its name, its object health, its UI address."""

    source: AlertSource
    name: str = DEFAULT
    health: ObjectHealth | None = None
    link: str | None = None  # for "Open in controller"; None = alerts.controller_url


class ControllerPoll(BaseModel):
    """One controller's poller, when the bot has several."""

    name: str
    last_poll_at: float | None = None
    last_ok_at: float | None = None
    last_error: str | None = None


class PollerHealth(BaseModel):
    """What /api/health says about the poller (with several controllers: the oldest success, the first
    error, and each controller's own under `controllers`)."""

    running: bool
    routes: int
    platforms: list[str]
    last_poll_at: float | None = None
    last_ok_at: float | None = None
    lag_seconds: float | None = None  # since the last successful poll
    last_error: str | None = None
    posted: int = 0
    muted: int = 0
    controllers: list[ControllerPoll] = Field(default_factory=list)


class AlertService:
    def __init__(
        self,
        source: AlertSource | Sequence[AlertOrigin],
        store: AlertStore,
        settings: AlertSettings,
        *,
        observers: Observers | None = None,
        clock: Callable[[], float] = time.time,
        health: ObjectHealth | None = None,
    ) -> None:
        """`source` is the one controller's alerts, or an `AlertOrigin` per controller (the default
        first); ValueError when a route names a controller that is not among them."""
        origins = list(source) if isinstance(source, Sequence) else [AlertOrigin(source, health=health)]
        names = [o.name for o in origins]
        unknown = settings.unknown_controllers(names)
        if unknown:
            raise ValueError(
                f"alerts.routes: no controller named {', '.join(unknown)} (this bot has {', '.join(names)})"
            )
        self.settings = settings
        self.store = store
        self.clock = clock
        self.posters: dict[str, AlertPoster] = {}
        self.several = len(origins) > 1
        self.engines: dict[str, AlertEngine] = {}  # by lower-case controller name, the default first
        default = origins[0].name.lower()
        for origin in origins:
            name = origin.name.lower()
            routes = tuple(r for r in settings.routes if (r.controller or default) == name)
            if not routes and name != default:
                continue  # no route: never read
            self.engines[name] = AlertEngine(
                origin.source, store, self.posters, settings.model_copy(update={"routes": routes}),
                observers=observers, clock=clock, health=origin.health,
                controller=origin.name if self.several else "", link=origin.link,
                scope="" if name == default else controller_scope(origin.name),
            )  # fmt: skip
        self.engine = self.engines[default]  # the default controller's (pushed alerts go to it)
        self.feed = FeedPoster(store)
        if "web" in settings.platforms:
            self.posters["web"] = self.feed
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._health = PollerHealth(running=False, routes=len(settings.routes), platforms=[])
        self._polls = {name: ControllerPoll(name=e.controller or name) for name, e in self.engines.items()}

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
        polled = [name for name, engine in self.engines.items() if engine.settings.routes]
        await asyncio.gather(*(self._loop(name) for name in polled))

    async def _loop(self, name: str) -> None:
        """One controller's polls: its own pace, whatever the others' controllers do."""
        while not self._stop.is_set():
            await self._poll(name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.poll_seconds)

    async def poll_once(self) -> PollReport:
        """One poll of every controller (together), never raising; what it did is kept for health."""
        reports = await asyncio.gather(*(self._poll(name) for name in self.engines))
        total = reports[0]
        for report in reports[1:]:
            total.add(report)
        return total

    async def _poll(self, name: str) -> PollReport:
        now = self.clock()
        try:
            report = await self.engines[name].poll_once()
        except Exception as exc:  # a store outage: the next poll tries again
            log.warning("alert poll failed: %s", type(exc).__name__)
            report = PollReport(ok=False, errors=[f"the alert store is unavailable ({type(exc).__name__})"])
        self._note(name, now, report)
        return report

    def _note(self, name: str, now: float, report: PollReport) -> None:
        poll = self._polls[name]
        poll.last_poll_at = now
        if report.ok:
            poll.last_ok_at, poll.last_error = now, None
        else:
            error = report.errors[0] if report.errors else "unknown"
            poll.last_error = (f"{poll.name}: {error}" if self.several else error)[:200]
        self._health.posted += report.posted + report.digested
        self._health.muted += report.muted

    def health(self) -> PollerHealth:
        h = self._health.model_copy()
        polls = [p for name, p in self._polls.items() if self.engines[name].settings.routes] or list(
            self._polls.values()
        )
        times = [p.last_poll_at for p in polls if p.last_poll_at is not None]
        h.last_poll_at = max(times) if times else None
        oks = [p.last_ok_at for p in polls]
        h.last_ok_at = None if None in oks else min(p for p in oks if p is not None)
        h.last_error = next((p.last_error for p in polls if p.last_error), None)
        if self.several:
            h.controllers = [p.model_copy() for p in polls]
        h.running = self._task is not None and not self._task.done()
        h.platforms = sorted(self.posters)
        h.lag_seconds = None if h.last_ok_at is None else round(max(0.0, self.clock() - h.last_ok_at), 1)
        return h

    # -- what platforms do with it ------------------------------------------------------------------
    async def context_for(self, platform: str, thread_key: str) -> AlertContext | None:
        return await self.engine.context_for(platform, thread_key)

    def engine_of(self, controller: str | None) -> AlertEngine | None:
        """The engine of the controller named (the default's for None or ""), None when none polls it."""
        return self.engines.get(controller.lower()) if controller else self.engine

    async def mute(self, ctx: AlertContext, by: str) -> str:
        """Mute the thread's object on its route (and controller) for `mute_minutes`; the sentence."""
        minutes = self.settings.mute_minutes
        if ctx.kind != "alert" or not ctx.route_to:
            return "A storm digest cannot be muted; mute the objects in it from their own threads."
        engine = self.engine_of(ctx.controller)
        if engine is None:
            return f"Controller {ctx.controller} no longer sends alerts here; nothing was muted."
        await engine.mute(ctx.route_to, ctx.object_uuid or ctx.alert_uuid, minutes * 60, by)
        what = object_words(ctx.object_type, ctx.object_name)
        on = on_controller(ctx.controller)
        return f"Muted: no new alert about {what}{on} will be posted here for {minutes:g} min (by {by})."

    async def feed_items(self, feed: str | None = None, limit: int = 50) -> list[FeedItem]:
        return await self.feed.items(feed, limit)

    async def push(self, raw: Any, controller: str | None = None) -> PollReport:
        """Alerts pushed to the webhook (one alert object, a list, or `{"results": [...]}`), as the
        controller named's (the default's when None)."""
        engine = self.engine_of(controller)
        if engine is None:
            raise ValueError(f"no alert route takes controller {controller}'s alerts")
        items = raw.get("results", [raw]) if isinstance(raw, dict) else raw
        if not isinstance(items, list) or len(items) > MAX_PUSHED:
            raise ValueError(f"expected an alert object or a list of at most {MAX_PUSHED}")
        alerts = [a for item in items if isinstance(item, dict) and (a := Alert.from_api(item)) is not None]
        if not alerts:
            raise ValueError("no alert with a uuid and a timestamp in the body")
        return await engine.ingest(alerts)
