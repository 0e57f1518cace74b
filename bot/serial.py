"""One turn at a time per conversation: two quick messages in a thread are answered in order.

In one process an `asyncio.Lock` per key queues turns in arrival order (asyncio locks are FIFO).
With Redis, a `lock:<key>` Redis lock also holds other replicas off, so a follow-up that lands on
another replica waits for the first answer (and its history) instead of racing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger("avibot.serial")


class KeyedLock:
    """`async with locks.hold(key): ...` serialises work per key; idle keys are forgotten."""

    def __init__(
        self,
        redis: Redis | None = None,
        *,
        prefix: str = "",
        timeout: float = 180.0,
        blocking_timeout: float = 60.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout = timeout
        self.blocking_timeout = blocking_timeout
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock, self._cross_replica(key):
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._locks.pop(key, None)

    @asynccontextmanager
    async def _cross_replica(self, key: str) -> AsyncIterator[None]:
        """The Redis lock, best effort: if Redis is down or the wait is too long, answer anyway."""
        if self.redis is None:
            yield
            return
        lock = self.redis.lock(
            f"{self.prefix}lock:{key}", timeout=self.timeout, blocking_timeout=self.blocking_timeout
        )
        acquired = False
        try:
            acquired = await lock.acquire()
        except (RedisError, LockError) as exc:
            log.warning("turn lock unavailable for %s: %s", key, type(exc).__name__)
        if not acquired:
            log.warning("turn lock for %s not acquired; answering without it", key)
        try:
            yield
        finally:
            if acquired:
                try:
                    await lock.release()
                except (RedisError, LockError) as exc:  # expired while we worked: nothing to undo
                    log.warning("turn lock release failed for %s: %s", key, type(exc).__name__)
