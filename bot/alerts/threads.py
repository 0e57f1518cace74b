"""The threads alerts live in: opening one, grouping a repeat (flapping) into it, storm digests,
resolution, and the context a follow-up in a thread starts with.

State is in the `AlertStore`, keyed by destination (`route.to`) and object uuid, so every replica
sees the same threads:
- `thread:<to>:<obj>` the thread's record (its ref, root view, when the current episode began),
- `alerts:<to>:<obj>` the uuids of the controller alerts still open in it, `open:<to>` the objects
  with an open thread (what resolution checks), `fired:<to>:<obj>` alerts grouped so far,
- `digest:<to>` the current storm digest (sliding `DIGEST_SECONDS`) and `digest:<to>:counts`,
- `context:<platform>:<thread key>` the alert (or digest) a thread is about, with its controller: kept
  in `contexts` (the store every controller's engine shares), since a reply arrives by thread key alone.
With several controllers, `store` is the controller's own scope of the shared store (`ScopedStore`).
A one-shot step (opening a thread or a digest, resolving an episode) is a claim: one replica does it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

from pydantic import BaseModel

from avi.operations.alerts import STATE_DISMISSED, Alert, level_rank
from bot.alerts.events import AlertPosted, AlertPostFailed, PostKind, emit
from bot.alerts.health import ObjectHealth
from bot.alerts.models import AlertContext, AlertView, DigestLine, ThreadRef, duration_text, utc
from bot.alerts.poster import AlertPoster
from bot.alerts.settings import AlertRoute, AlertSettings
from bot.alerts.store import AlertStore
from bot.events import Observers

log = logging.getLogger("avibot.alerts")

DIGEST_SECONDS = 300.0  # a storm's digest takes more alerts while it was updated this recently
STEP_SECONDS = 120.0  # how long a one-shot step (open, resolve) holds its claim before another may retry


class Deferred(Exception):
    """Another replica is opening this thread right now: try the alert again on the next poll."""


class ThreadRecord(BaseModel):
    ref: ThreadRef
    view: AlertView
    since: float  # when the current episode began (the first alert's controller timestamp)
    resolved_at: float | None = None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Threads:
    def __init__(
        self,
        store: AlertStore,
        posters: Mapping[str, AlertPoster],
        settings: AlertSettings,
        *,
        clock: Callable[[], float],
        keep_seconds: float,
        observers: Observers | None = None,
        health: ObjectHealth | None = None,
        controller: str = "",
        link: str | None = None,
        contexts: AlertStore | None = None,
    ) -> None:
        self.store = store
        self.contexts = contexts or store
        self.health = health
        self.controller = controller  # put on every view: "" when the bot has one controller
        self.link = link
        self.posters = posters
        self.settings = settings
        self.clock = clock
        self.keep = keep_seconds
        self.observers = observers

    # -- helpers ------------------------------------------------------------------------------------
    def _emit(self, route_to: str, kind: PostKind, ok: bool) -> None:
        platform = route_to.split(":", 1)[0]
        emit(self.observers, AlertPosted(platform, kind) if ok else AlertPostFailed(platform, kind))

    async def _record(self, key: str) -> ThreadRecord | None:
        raw = await self.store.get(key)
        return ThreadRecord.model_validate_json(raw) if raw else None

    async def _save(self, key: str, record: ThreadRecord) -> None:
        await self.store.put(key, record.model_dump_json(), self.keep)

    async def _save_context(self, ref: ThreadRef, view: AlertView) -> None:
        context = AlertContext.of(view)
        key = f"context:{ref.platform}:{ref.thread_key}"
        await self.contexts.put(key, context.model_dump_json(), self.keep)

    async def context_for(self, platform: str, thread_key: str) -> AlertContext | None:
        raw = await self.contexts.get(f"context:{platform}:{thread_key}")
        return AlertContext.model_validate_json(raw) if raw else None

    # -- one alert ----------------------------------------------------------------------------------
    async def post_alert(self, route: AlertRoute, alert: Alert) -> None:
        """A new thread for the alert's object, or the alert grouped into the object's thread (still
        open, or resolved less than `flap_minutes` ago). Raises when the platform failed, `Deferred`
        when another replica is opening the object's thread."""
        poster = self.posters[route.platform]
        obj = alert.obj_uuid or alert.uuid
        key = f"thread:{route.to}:{obj}"
        record = await self._record(key)
        now = self.clock()
        flap_window = self.settings.flap_minutes * 60
        if record is not None and (record.resolved_at is None or now - record.resolved_at <= flap_window):
            await self._group(route, poster, key, record, alert)
            return
        opening = f"{key}:opening"
        if not await self.store.claim(opening, alert.uuid, STEP_SECONDS):
            raise Deferred(obj)
        try:
            view = AlertView.of(alert, route.to, self.controller, self.link)
            if self.health is not None:
                view = view.model_copy(update={"health": await self.health.line(alert)})
            try:
                ref = await poster.post_root(route, view)
            except Exception:
                self._emit(route.to, "root", False)
                raise
            self._emit(route.to, "root", True)
            await self._save(key, ThreadRecord(ref=ref, view=view, since=alert.timestamp))
            await self.store.put(f"fired:{route.to}:{obj}", "1", self.keep)
            await self.store.add_member(f"alerts:{route.to}:{obj}", alert.uuid, self.keep)
            await self.store.add_member(f"open:{route.to}", obj, self.keep)
            await self._save_context(ref, view)
        finally:
            await self.store.delete(opening)

    async def _group(
        self, route: AlertRoute, poster: AlertPoster, key: str, record: ThreadRecord, alert: Alert
    ) -> None:
        obj = alert.obj_uuid or alert.uuid
        fired = await self.store.incr(f"fired:{route.to}:{obj}", 1, self.keep)
        again = record.resolved_at is not None
        when = utc(alert.timestamp).strftime("%H:%M UTC")
        level = alert.level.removeprefix("ALERT_").lower()
        text = (
            f"{'Fired again' if again else 'Another alert'} at {when} ({level}): "
            f"{alert.summary or alert.reason or alert.name} — the {_ordinal(fired)} in this thread."
        )
        view = record.view.model_copy(
            update={"state": "open", "fired": fired, "resolved_after_seconds": None}
        )
        try:
            await poster.reply_in_thread(record.ref, text)
        except Exception:
            self._emit(route.to, "grouped", False)
            raise
        self._emit(route.to, "grouped", True)
        await self.store.add_member(f"alerts:{route.to}:{obj}", alert.uuid, self.keep)
        await self.store.add_member(f"open:{route.to}", obj, self.keep)
        since = alert.timestamp if again else record.since
        await self._save(key, record.model_copy(update={"view": view, "since": since, "resolved_at": None}))
        try:
            await poster.update_root(record.ref, view)
        except Exception:  # the reply is out; a stale root is not worth a second reply
            log.warning("could not update the root of %s", record.ref.thread_key, exc_info=True)

    # -- storms -------------------------------------------------------------------------------------
    async def add_to_digest(self, route: AlertRoute, alerts: list[Alert]) -> None:
        """Count the alerts into the route's current digest, posting it if there is none yet."""
        poster = self.posters[route.platform]
        key = f"digest:{route.to}"
        for alert in alerts:
            field = json.dumps([alert.obj_type, alert.obj_name or alert.obj_uuid])
            await self.store.count_field(f"{key}:counts", field, 1, DIGEST_SECONDS)
            await self.store.count_field(f"{key}:levels", alert.level, 1, DIGEST_SECONDS)
        raw = await self.store.get(key)
        if raw is None:
            if await self.store.claim(f"{key}:opening", "1", STEP_SECONDS):
                try:
                    view = await self._digest_view(route, key, utc(min(a.timestamp for a in alerts)))
                    try:
                        ref = await poster.post_root(route, view)
                    except Exception:
                        self._emit(route.to, "digest", False)
                        raise
                    self._emit(route.to, "digest", True)
                    record = ThreadRecord(ref=ref, view=view, since=view.raised_at.timestamp())
                    await self.store.put(key, record.model_dump_json(), DIGEST_SECONDS)
                    raw = record.model_dump_json()
                finally:
                    await self.store.delete(f"{key}:opening")
            else:
                return  # the replica opening it counts these in when it has posted
        record = ThreadRecord.model_validate_json(raw)
        view = await self._digest_view(route, key, record.view.raised_at)
        await self.store.put(key, record.model_copy(update={"view": view}).model_dump_json(), DIGEST_SECONDS)
        await self._save_context(record.ref, view)
        if view.total != record.view.total:
            try:
                await poster.update_root(record.ref, view)
                self._emit(route.to, "digest_update", True)
            except Exception:
                self._emit(route.to, "digest_update", False)
                log.warning("could not update the digest %s", record.ref.thread_key, exc_info=True)

    async def _digest_view(self, route: AlertRoute, key: str, raised_at: object) -> AlertView:
        counts = await self.store.field_counts(f"{key}:counts")
        lines = []
        for field, count in counts.items():
            obj_type, name = json.loads(field)
            lines.append(DigestLine(object_type=obj_type, object_name=str(name), count=count))
        lines.sort(key=lambda d: (-d.count, d.object_name))
        levels = await self.store.field_counts(f"{key}:levels")
        level = max(levels, key=level_rank, default="ALERT_LOW")  # a storm is as serious as its worst
        return AlertView.model_validate(
            {
                "kind": "digest",
                "route_to": route.to,
                "level": level,
                "raised_at": raised_at,
                "summary": f"{sum(counts.values())} alerts",
                "digest": lines,
                "total": sum(counts.values()),
                "controller": self.controller,
                "link": self.link,
            }
        )

    # -- resolution ---------------------------------------------------------------------------------
    async def open_objects(self, route: AlertRoute) -> set[str]:
        return await self.store.members(f"open:{route.to}")

    async def resolve_cleared(self, route: AlertRoute, obj: str, states: Mapping[str, str]) -> bool:
        """Forget the object's alerts the controller no longer holds (or dismissed); when none is left,
        reply once in the thread and update its root. True when this call resolved it."""
        alerts_key = f"alerts:{route.to}:{obj}"
        for uuid in await self.store.members(alerts_key):
            if states.get(uuid, STATE_DISMISSED) == STATE_DISMISSED:
                await self.store.remove_member(alerts_key, uuid)
        if await self.store.members(alerts_key):
            return False
        key = f"thread:{route.to}:{obj}"
        record = await self._record(key)
        if record is None or record.resolved_at is not None:
            await self.store.remove_member(f"open:{route.to}", obj)
            return False
        fired = await self.store.get(f"fired:{route.to}:{obj}") or "1"
        if not await self.store.claim(f"resolved:{route.to}:{obj}:{record.since}:{fired}", "1", self.keep):
            return False
        now = self.clock()
        after = max(0.0, now - record.since)
        poster = self.posters[route.platform]
        view = record.view.model_copy(update={"state": "resolved", "resolved_after_seconds": after})
        try:
            await poster.reply_in_thread(
                record.ref, f"Resolved: the controller cleared the alert after {duration_text(after)}."
            )
        except Exception:
            await self.store.delete(f"resolved:{route.to}:{obj}:{record.since}:{fired}")
            self._emit(route.to, "resolved", False)
            raise
        self._emit(route.to, "resolved", True)
        await self._save(key, record.model_copy(update={"view": view, "resolved_at": now}))
        await self.store.remove_member(f"open:{route.to}", obj)
        try:
            await poster.update_root(record.ref, view)
        except Exception:
            log.warning("could not update the root of %s", record.ref.thread_key, exc_info=True)
        return True
