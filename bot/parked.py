"""Questions parked between a web page's `POST /htmx/chat` and the stream that answers it.

The browser's EventSource connects back within milliseconds, but behind a Service without session
affinity it lands on another replica about half the time: with Redis the parked question is shared
(`SET ... EX`, taken once with `GETDEL`), so any replica can answer it. Without Redis there is one
replica, and memory is enough. A question is for the session that asked it, once, for a minute.
While Redis is unreachable a question is parked in this replica's memory instead: its stream most
likely comes back here, and a question answered without history beats none.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("avibot.parked")

PARK_SECONDS = 60
MAX_PARKED = 2000  # per process, in memory


class ParkedQuestions(Protocol):
    async def park(self, session_id: str, text: str) -> str: ...

    async def take(self, turn_id: str, session_id: str) -> str | None:
        """The question, once, for the session that asked it; None when unknown or expired."""
        ...


@dataclass
class _Parked:
    session_id: str
    text: str
    expires: float


class MemoryParkedQuestions:
    def __init__(self, ttl: float = PARK_SECONDS, limit: int = MAX_PARKED) -> None:
        self.ttl = ttl
        self.limit = limit
        self._parked: dict[str, _Parked] = {}

    async def park(self, session_id: str, text: str) -> str:
        now = time.monotonic()
        self._parked = {k: p for k, p in self._parked.items() if p.expires > now}
        while len(self._parked) >= self.limit:
            self._parked.pop(next(iter(self._parked)))
        turn_id = secrets.token_urlsafe(18)
        self._parked[turn_id] = _Parked(session_id, text, now + self.ttl)
        return turn_id

    async def take(self, turn_id: str, session_id: str) -> str | None:
        parked = self._parked.get(turn_id)
        if parked is None or parked.session_id != session_id:
            return None
        del self._parked[turn_id]
        return parked.text if parked.expires > time.monotonic() else None

    def __len__(self) -> int:
        return len(self._parked)


class RedisParkedQuestions:
    def __init__(self, redis: Any, *, prefix: str = "", ttl: int = PARK_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.local = MemoryParkedQuestions(ttl)  # while Redis is away

    def _key(self, turn_id: str) -> str:
        return f"{self.prefix}parked:{turn_id}"

    async def park(self, session_id: str, text: str) -> str:
        turn_id = secrets.token_urlsafe(18)
        try:
            await self.redis.set(self._key(turn_id), json.dumps([session_id, text]), ex=self.ttl)
        except Exception as exc:
            log.warning("Redis unavailable, parking a question in memory: %s", type(exc).__name__)
            return await self.local.park(session_id, text)
        return turn_id

    async def take(self, turn_id: str, session_id: str) -> str | None:
        local = await self.local.take(turn_id, session_id)
        if local is not None or len(turn_id) > 64:
            return local
        try:
            raw = await self.redis.getdel(self._key(turn_id))
        except Exception as exc:
            log.warning("Redis unavailable, a parked question cannot be read: %s", type(exc).__name__)
            return None
        if raw is None:
            return None
        owner, text = json.loads(raw)
        return str(text) if owner == session_id else None
