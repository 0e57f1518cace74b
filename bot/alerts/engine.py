"""The alert poller: read the controller's new alerts past a shared cursor, claim each (alert, route)
once across replicas, post it (or a storm digest), and resolve threads whose alerts were cleared.

Exactly once: a claim per (alert uuid, destination) is taken before posting (`pending`, short TTL)
and kept after it (`done`, `keep_seconds`); a failed post gives it back, so the alert is retried.
Nothing missed: the cursor (newest timestamp handled + the uuids seen at it) lives in the store and
moves only when every claimed alert of the poll was posted; re-reading after a failure or a restart
costs a page, never a second post (the claims say what is done).

Storms: when a route gets more than `storm_per_minute` new alerts in a minute (counted across
replicas, or seen in one read), that poll's alerts for it go into one digest (a count per object),
updated in place while the storm lasts.

Several controllers: one engine each (bot/alerts/service.py), over that controller's alerts and its
routes, with its state under its own `scope` of the shared store (the default controller's is the
bare keys, as before there were several); thread contexts stay in the shared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from avi.operations.alerts import STATE_DISMISSED, Alert, AlertBatch, AlertCursor
from bot.alerts.events import AlertMuted, AlertPollFinished, emit
from bot.alerts.health import ObjectHealth
from bot.alerts.models import AlertContext, on_controller
from bot.alerts.poster import AlertPoster
from bot.alerts.settings import AlertRoute, AlertSettings
from bot.alerts.store import AlertStore, ScopedStore
from bot.alerts.threads import Deferred, Threads
from bot.events import Observers

log = logging.getLogger("avibot.alerts")

KEEP_SECONDS = 8 * 86400  # claims and threads outlive the controller's alert expiry (default 1 day)
CLAIM_SECONDS = 120.0  # a replica that dies mid-post lets another retry after this
CURSOR_KEY = "cursor"


def mute_key(route_to: str, obj: str) -> str:
    return f"mute:{route_to}:{obj}"


class AlertSource(Protocol):
    """What the engine reads (`avi.operations.alerts.AlertOps` is one)."""

    async def read_since(self, cursor: AlertCursor | None) -> AlertBatch: ...

    async def open_states(self) -> dict[str, str]: ...


@dataclass
class PollReport:
    ok: bool = True
    new: int = 0
    claimed: int = 0
    posted: int = 0
    digested: int = 0
    resolved: int = 0
    muted: int = 0  # claimed but not posted: their object is muted on that route
    retry: int = 0  # failed or deferred: tried again on the next poll
    errors: list[str] = field(default_factory=list)

    def add(self, other: PollReport) -> None:
        """Count `other` (another controller's poll) in."""
        self.ok = self.ok and other.ok
        for name in ("new", "claimed", "posted", "digested", "resolved", "muted", "retry"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


class AlertEngine:
    def __init__(
        self,
        source: AlertSource,
        store: AlertStore,
        posters: Mapping[str, AlertPoster],
        settings: AlertSettings,
        *,
        observers: Observers | None = None,
        clock: Callable[[], float] = time.time,
        keep_seconds: float = KEEP_SECONDS,
        claim_seconds: float = CLAIM_SECONDS,
        health: ObjectHealth | None = None,
        controller: str = "",
        link: str | None = None,
        scope: str = "",
    ) -> None:
        """`controller` is the name its posts show ("" with one controller), `link` its UI address for
        them (None: `alerts.controller_url`), `scope` the prefix of its keys in `store` ("" = bare)."""
        self.source = source
        self.store: AlertStore = ScopedStore(store, scope) if scope else store
        self.controller = controller
        self.posters = posters
        self.settings = settings
        self.observers = observers
        self.clock = clock
        self.keep_seconds = keep_seconds
        self.claim_seconds = claim_seconds
        self.threads = Threads(
            self.store, posters, settings, clock=clock, keep_seconds=keep_seconds, observers=observers,
            health=health, controller=controller, link=link, contexts=store,
        )  # fmt: skip
        self._warned: set[str] = set()

    # -- public -------------------------------------------------------------------------------------
    async def context_for(self, platform: str, thread_key: str) -> AlertContext | None:
        """The alert a thread was opened for, so a follow-up in it can start with context."""
        return await self.threads.context_for(platform, thread_key)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Poll every `poll_seconds` until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:
                log.exception("alert poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)

    async def poll_once(self) -> PollReport:
        started = time.perf_counter()
        report = PollReport()
        routes = self._routes()
        if not routes:
            return report
        try:
            cursor = await self._cursor()
            batch = await self.source.read_since(cursor)
        except Exception as exc:
            log.warning("cannot read the controller's alerts%s: %s", on_controller(self.controller), exc)
            report.ok = False
            report.errors.append(str(exc))
            emit(self.observers, AlertPollFinished(time.perf_counter() - started, False))
            return report
        report.new = len(batch.alerts)
        for route in routes:
            await self._route_new(route, batch, report)
        await self._resolve(routes, report)
        if report.retry == 0 and (cursor is None or batch.cursor != cursor):
            await self._save_cursor(batch.cursor)
        emit(
            self.observers,
            AlertPollFinished(time.perf_counter() - started, report.ok, report.new, report.claimed),
        )
        return report

    # -- routing ------------------------------------------------------------------------------------
    def _routes(self) -> list[AlertRoute]:
        out = []
        for route in self.settings.routes:
            if route.platform in self.posters:
                out.append(route)
            elif route.to not in self._warned:
                self._warned.add(route.to)
                log.warning("alert route %s: no %s poster is running; skipped", route.to, route.platform)
        return out

    async def _route_new(self, route: AlertRoute, batch: AlertBatch, report: PollReport) -> None:
        matching = [a for a in batch.alerts if a.state != STATE_DISMISSED and route.matches(a)]
        mine = []
        for alert in matching:
            if await self.store.claim(f"claim:{route.to}:{alert.uuid}", "pending", self.claim_seconds):
                mine.append(alert)
        if not mine:
            return
        report.claimed += len(mine)
        mine = await self._unmuted(route, mine, report)
        if not mine:
            return
        minute = int(self.clock() // 60)
        total = await self.store.incr(f"rate:{route.to}:{minute}", len(mine), 120)
        limit = self.settings.storm_per_minute
        if total > limit or len(matching) > limit:
            try:
                await self.threads.add_to_digest(route, mine)
            except Exception as exc:
                await self._release(route, mine, report, exc)
                return
            report.digested += len(mine)
            for alert in mine:
                await self._done(route, alert.uuid)
            return
        for alert in mine:
            try:
                await self.threads.post_alert(route, alert)
            except Deferred:
                await self._release(route, [alert], report, None)
                continue
            except Exception as exc:
                await self._release(route, [alert], report, exc)
                continue
            report.posted += 1
            await self._done(route, alert.uuid)

    async def _unmuted(self, route: AlertRoute, alerts: list[Alert], report: PollReport) -> list[Alert]:
        """The alerts whose object is not muted on `route`; the muted ones are done (never posted)."""
        out = []
        for alert in alerts:
            if await self.store.get(mute_key(route.to, alert.obj_uuid or alert.uuid)) is None:
                out.append(alert)
                continue
            report.muted += 1
            emit(self.observers, AlertMuted(route.platform))
            await self._done(route, alert.uuid)
        return out

    async def mute(self, route_to: str, obj: str, seconds: float, by: str) -> None:
        """Post nothing new about `obj` on `route_to` for `seconds` (its open thread still resolves)."""
        await self.store.put(mute_key(route_to, obj), by, seconds)

    async def ingest(self, alerts: list[Alert]) -> PollReport:
        """Alerts pushed to the webhook: routed, claimed and posted like polled ones (the cursor is the
        poller's and does not move; the claims keep a pushed alert the poller also reads from posting
        twice)."""
        report = PollReport(new=len(alerts))
        routes = self._routes()
        if routes and alerts:
            batch = AlertBatch(alerts=alerts, cursor=AlertCursor(timestamp=0.0))
            for route in routes:
                await self._route_new(route, batch, report)
        return report

    async def _done(self, route: AlertRoute, uuid: str) -> None:
        await self.store.put(f"claim:{route.to}:{uuid}", "done", self.keep_seconds)

    async def _release(
        self, route: AlertRoute, alerts: list[Alert], report: PollReport, exc: Exception | None
    ) -> None:
        for alert in alerts:
            await self.store.delete(f"claim:{route.to}:{alert.uuid}")
        report.retry += len(alerts)
        if exc is not None:
            report.ok = False
            report.errors.append(f"{route.to}: {exc}")
            log.warning("could not post %d alert(s) to %s: %s", len(alerts), route.to, exc)

    async def _resolve(self, routes: list[AlertRoute], report: PollReport) -> None:
        open_by_route = [(route, await self.threads.open_objects(route)) for route in routes]
        if not any(objs for _, objs in open_by_route):
            return
        try:
            states = await self.source.open_states()
        except Exception as exc:
            log.warning("cannot read alert states%s: %s", on_controller(self.controller), exc)
            report.ok = False
            report.errors.append(str(exc))
            return
        for route, objs in open_by_route:
            for obj in sorted(objs):
                try:
                    if await self.threads.resolve_cleared(route, obj, states):
                        report.resolved += 1
                except Exception as exc:
                    report.ok = False
                    report.errors.append(f"{route.to}: {exc}")
                    log.warning("could not resolve %s in %s: %s", obj, route.to, exc)

    # -- cursor -------------------------------------------------------------------------------------
    async def _cursor(self) -> AlertCursor | None:
        raw = await self.store.get(CURSOR_KEY)
        return AlertCursor.model_validate_json(raw) if raw else None

    async def _save_cursor(self, cursor: AlertCursor) -> None:
        """Never move it back (another replica may have gone further meanwhile)."""
        current = await self._cursor()
        if current is not None and current.timestamp > cursor.timestamp:
            return
        if current is not None and current.timestamp == cursor.timestamp:
            cursor = AlertCursor(timestamp=cursor.timestamp, seen=cursor.seen | current.seen)
        await self.store.put(CURSOR_KEY, cursor.model_dump_json(), self.keep_seconds)
