"""The seam between the alert engine and a chat platform: `AlertPoster`. The Slack and Teams adapters
implement it; `MemoryPoster` is the fake for tests (and a log of what would have been posted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.alerts.models import AlertView, ThreadRef
from bot.alerts.settings import AlertRoute


class AlertPoster(Protocol):
    """Renders and sends; never decides. Raise on failure: the engine retries on its next poll."""

    async def post_root(self, route: AlertRoute, view: AlertView) -> ThreadRef:
        """Start a new thread in `route.target` with `view` as its root message."""
        ...

    async def reply_in_thread(self, ref: ThreadRef, text: str) -> None:
        """A plain markdown reply in the thread."""
        ...

    async def update_root(self, ref: ThreadRef, view: AlertView) -> None:
        """Replace the root message with `view` (resolved, fired again, digest counts)."""
        ...


@dataclass
class PostedRoot:
    route_to: str
    ref: ThreadRef
    views: list[AlertView]  # the first as posted, then each update
    replies: list[str] = field(default_factory=list)

    @property
    def view(self) -> AlertView:
        return self.views[-1]


class MemoryPoster:
    """Keeps every root, update and reply in memory; `fail_next` makes the next call raise."""

    def __init__(self, platform: str = "slack") -> None:
        self.platform = platform
        self.roots: list[PostedRoot] = []
        self.fail_next = 0

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("simulated chat platform failure")

    def _find(self, ref: ThreadRef) -> PostedRoot:
        for root in self.roots:
            if root.ref.thread_key == ref.thread_key:
                return root
        raise KeyError(ref.thread_key)

    async def post_root(self, route: AlertRoute, view: AlertView) -> ThreadRef:
        self._maybe_fail()
        n = len(self.roots) + 1
        ref = ThreadRef(
            platform=self.platform,
            thread_key=f"{self.platform}:T1:{route.target}:{n}.000",
            data={"channel": route.target, "ts": f"{n}.000"},
        )
        self.roots.append(PostedRoot(route.to, ref, [view]))
        return ref

    async def reply_in_thread(self, ref: ThreadRef, text: str) -> None:
        self._maybe_fail()
        self._find(ref).replies.append(text)

    async def update_root(self, ref: ThreadRef, view: AlertView) -> None:
        self._maybe_fail()
        self._find(ref).views.append(view)

    def roots_to(self, route_to: str) -> list[PostedRoot]:
        return [r for r in self.roots if r.route_to == route_to]
