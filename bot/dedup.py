"""Exactly-once delivery for chat platforms that retry: remember an event id, refuse it the second time.

Slack resends an event when it saw no 2xx within 3 s (and Teams re-delivers activities), and Bolt does
not de-duplicate. Replicas share Redis, so the first `SET key 1 NX EX ttl` wins everywhere; the memory
variant is for one process (tests, a laptop).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

from bot.serial import KeyedLock

DEFAULT_TTL_SECONDS = 3600


class EventDeduper(Protocol):
    async def first_time(self, key: str, ttl_seconds: int | None = None) -> bool:
        """True exactly once per key within the TTL (the store's own unless given); False for a repeat."""
        ...


class RedisDeduper:
    """`SET <prefix>dedup:<key> 1 NX EX <ttl>`: atomic across replicas."""

    def __init__(self, redis: Redis, *, prefix: str = "", ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    async def first_time(self, key: str, ttl_seconds: int | None = None) -> bool:
        ttl = ttl_seconds or self.ttl_seconds
        return bool(await self.redis.set(f"{self.prefix}dedup:{key}", 1, nx=True, ex=ttl))


class MemoryDeduper:
    """In-process: keys expire after the TTL; at most `max_keys` are kept, the oldest evicted first
    (a flood of live ids then forgets the oldest: a very late retry of one could be answered twice)."""

    def __init__(self, *, ttl_seconds: int = DEFAULT_TTL_SECONDS, max_keys: int = 100_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_keys = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()  # key -> monotonic deadline, oldest first

    async def first_time(self, key: str, ttl_seconds: int | None = None) -> bool:
        now = time.monotonic()
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen.pop(key, None)
        # Expired keys from the oldest on (O(expired)), then the oldest live ones beyond the bound.
        while self._seen and (next(iter(self._seen.values())) <= now or len(self._seen) >= self.max_keys):
            self._seen.popitem(last=False)
        self._seen[key] = now + (ttl_seconds or self.ttl_seconds)
        return True


def channel_guards(redis: Redis | None, *, prefix: str, ttl_seconds: int) -> tuple[EventDeduper, KeyedLock]:
    """A channel's de-dup and per-conversation ordering: across replicas with Redis, in-process without."""
    if redis is not None:
        return RedisDeduper(redis, prefix=prefix, ttl_seconds=ttl_seconds), KeyedLock(redis, prefix=prefix)
    return MemoryDeduper(ttl_seconds=ttl_seconds), KeyedLock()
