"""What the engine hands the posters (`AlertView`), what they hand back (`ThreadRef`), and what a
follow-up in an alert's thread starts with (`AlertContext`). Posters render; the engine decides."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from avi.operations.alerts import Alert


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def duration_text(seconds: float) -> str:
    """45 s, 12 min, 2 h 5 min, 3 d 4 h."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


# API object types as people say them, for every channel's alert messages and follow-ups.
OBJECT_WORDS = {
    "virtualservice": "virtual service",
    "pool": "pool",
    "serviceengine": "service engine",
    "poolgroup": "pool group",
    "healthmonitor": "health monitor",
}


def kind_word(object_type: str | None) -> str:
    return OBJECT_WORDS.get(object_type or "", object_type or "object")


def on_controller(name: str) -> str:
    """`" on controller prod-east"`; "" for no name (the bot has one controller)."""
    return f" on controller {name}" if name else ""


def object_words(object_type: str | None, name: str) -> str:
    """ "pool web-pool", "virtual service vs-1"; just the kind without a name."""
    return f"{kind_word(object_type)} {name}".strip()


class ThreadRef(BaseModel):
    """A posted root message. `thread_key` is the conversation key a reply in that thread arrives with
    (`slack:<team>:<channel>:<ts>`, `teams:<conversation id>`); `data` is the poster's own (channel,
    ts, a serialized conversation reference ...), opaque to the engine."""

    model_config = ConfigDict(frozen=True)

    platform: str
    thread_key: str
    data: dict[str, str] = Field(default_factory=dict)


class DigestLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    object_type: str | None
    object_name: str
    count: int


class AlertView(BaseModel):
    """One root message: a single alert (kind `alert`) or a storm digest (kind `digest`)."""

    kind: Literal["alert", "digest"] = "alert"
    route_to: str
    state: Literal["open", "resolved"] = "open"
    level: str = "ALERT_LOW"
    object_type: str | None = None
    object_name: str = ""
    object_uuid: str = ""
    tenant: str | None = None
    summary: str = ""
    reason: str = ""
    health: str = Field("", description="the object's current health in one line, when it could be read")
    alert_uuid: str = ""
    raised_at: dt.datetime
    fired: int = Field(1, description="alerts grouped into this thread (flapping counts here)")
    resolved_after_seconds: float | None = None
    digest: list[DigestLine] = Field(default_factory=list, description="count per object, most first")
    total: int = Field(1, description="alerts in the digest")
    controller: str = Field("", description="the controller it came from; empty when the bot has one")
    link: str | None = Field(
        None, description="its controller's UI for 'Open in controller'; None = alerts.controller_url"
    )

    @classmethod
    def of(cls, alert: Alert, route_to: str, controller: str = "", link: str | None = None) -> AlertView:
        return cls(
            route_to=route_to,
            controller=controller,
            link=link,
            level=alert.level,
            object_type=alert.obj_type,
            object_name=alert.obj_name or alert.obj_uuid,
            object_uuid=alert.obj_uuid,
            tenant=alert.tenant,
            summary=alert.summary or alert.description or alert.reason or alert.name,
            reason=alert.reason,
            alert_uuid=alert.uuid,
            raised_at=utc(alert.timestamp),
        )

    @property
    def what(self) -> str:
        """The object in words ("pool web-pool", "virtual service vs-1"), or a storm's headline."""
        if self.kind == "digest":
            return self.headline()
        return object_words(self.object_type, self.object_name)

    @property
    def level_word(self) -> str:
        return self.level.removeprefix("ALERT_").lower()

    def link_or(self, fallback: str | None) -> str | None:
        """The "Open in controller" address: the alert's own controller's when it carries one (None
        for none), else `fallback` (`alerts.controller_url`)."""
        return fallback if self.link is None else self.link or None

    @property
    def on_controller(self) -> str:
        """`" on controller prod-east"` when the bot has several controllers; "" with one."""
        return on_controller(self.controller)

    def headline(self) -> str:
        """A one-line plain-text rendering (fallback text, logs, the terminal)."""
        if self.kind == "digest":
            objects = len(self.digest)
            plural = "s" if objects != 1 else ""
            return f"Alert storm{self.on_controller}: {self.total} alerts on {objects} object{plural}"
        what = " ".join(p for p in (self.object_type, self.object_name) if p)
        text = f"[{self.level_word}] {what}{self.on_controller}: {self.summary}"
        if self.fired > 1:
            text += f" (fired {self.fired} times)"
        if self.state == "resolved" and self.resolved_after_seconds is not None:
            text += f" — resolved after {duration_text(self.resolved_after_seconds)}"
        return text


class AlertContext(BaseModel):
    """What a follow-up question in an alert's thread is about."""

    kind: Literal["alert", "digest"] = "alert"
    route_to: str = ""  # the destination the thread is in (what a mute applies to)
    object_type: str | None = None
    object_name: str = ""
    object_uuid: str = ""
    tenant: str | None = None
    summary: str = ""
    level: str = ""
    alert_uuid: str = ""
    time: dt.datetime
    digest: list[DigestLine] = Field(default_factory=list)
    controller: str = ""  # the controller the alert came from; empty = the default (one controller)

    @classmethod
    def of(cls, view: AlertView) -> AlertContext:
        return cls(
            kind=view.kind,
            controller=view.controller,
            route_to=view.route_to,
            object_type=view.object_type,
            object_name=view.object_name,
            object_uuid=view.object_uuid,
            tenant=view.tenant,
            summary=view.headline() if view.kind == "digest" else view.summary,
            level=view.level,
            alert_uuid=view.alert_uuid,
            time=view.raised_at,
            digest=view.digest,
        )

    def as_text(self) -> str:
        """A line to put before the user's question (history or system prompt)."""
        when = self.time.strftime("%Y-%m-%d %H:%M UTC")
        on = on_controller(self.controller)
        if self.kind == "digest":
            top = ", ".join(f"{d.object_name} ({d.count})" for d in self.digest[:10])
            return f"This thread is an alert storm digest{on} from {when}: {self.summary}. Objects: {top}."
        what = " ".join(p for p in (self.object_type, self.object_name) if p)
        tenant = f" in tenant {self.tenant}" if self.tenant else ""
        return (
            f"This thread is about an Avi alert ({self.level.removeprefix('ALERT_').lower()}) on {what}"
            f" (uuid {self.object_uuid}){tenant}{on}, raised {when}: {self.summary}"
        )
