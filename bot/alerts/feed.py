"""The web page's alert feed: an `AlertPoster` for `web:<feed name>` routes that keeps each thread
(its root as the engine last rendered it, and the replies in it) in the shared `AlertStore`, so every
replica's page shows the same feed. The page reads it through `Turns.alert_feed`.

Keys: `feed:<name>` the set of thread keys, `feed:item:<thread key>` one thread (JSON), both kept
`FEED_SECONDS`; the page shows the newest `limit`.
"""

from __future__ import annotations

import datetime as dt
import secrets

from pydantic import BaseModel, Field

from bot.alerts.models import AlertView, ThreadRef
from bot.alerts.settings import AlertRoute
from bot.alerts.store import AlertStore

FEED_SECONDS = 86400.0
PLATFORM = "web"


class FeedReply(BaseModel):
    text: str
    at: dt.datetime


class FeedItem(BaseModel):
    """One thread of the feed: what the page renders as an alert card."""

    thread_key: str
    feed: str
    view: AlertView
    replies: list[FeedReply] = Field(default_factory=list)
    updated_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FeedPoster:
    """Posting is writing to the store; reading is `items`."""

    def __init__(self, store: AlertStore, *, keep_seconds: float = FEED_SECONDS) -> None:
        self.store = store
        self.keep = keep_seconds

    async def _load(self, thread_key: str) -> FeedItem | None:
        raw = await self.store.get(f"feed:item:{thread_key}")
        return FeedItem.model_validate_json(raw) if raw else None

    async def _save(self, item: FeedItem) -> None:
        await self.store.put(f"feed:item:{item.thread_key}", item.model_dump_json(), self.keep)

    async def post_root(self, route: AlertRoute, view: AlertView) -> ThreadRef:
        thread_key = f"{PLATFORM}:alert:{secrets.token_hex(8)}"
        await self._save(FeedItem(thread_key=thread_key, feed=route.target, view=view, updated_at=_now()))
        await self.store.add_member(f"feed:{route.target}", thread_key, self.keep)
        return ThreadRef(platform=PLATFORM, thread_key=thread_key, data={"feed": route.target})

    async def reply_in_thread(self, ref: ThreadRef, text: str) -> None:
        item = await self._load(ref.thread_key)
        if item is not None:
            now = _now()
            item.replies.append(FeedReply(text=text, at=now))
            item.updated_at = now
            await self._save(item)

    async def update_root(self, ref: ThreadRef, view: AlertView) -> None:
        item = await self._load(ref.thread_key)
        if item is not None:
            await self._save(item.model_copy(update={"view": view, "updated_at": _now()}))

    async def items(self, feed: str | None = None, limit: int = 50) -> list[FeedItem]:
        """The newest threads first (by their last change), of one feed or of every feed."""
        keys: set[str] = set()
        for name in [feed] if feed else await self.store.members("feeds"):
            keys |= await self.store.members(f"feed:{name}")
        found = [item for key in keys if (item := await self._load(key)) is not None]
        found.sort(key=lambda i: i.updated_at, reverse=True)
        return found[:limit]

    async def register(self, feed: str) -> None:
        """Remember a feed's name so `items()` without a name finds it."""
        await self.store.add_member("feeds", feed, self.keep * 7)
