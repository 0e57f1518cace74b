"""One turn at a time per conversation: two quick messages in a thread are answered in order.

In one process an `asyncio.Lock` per key queues turns in arrival order (asyncio locks are FIFO).
With Redis, a `lock:<key>` Redis lock also holds other replicas off, so a follow-up that lands on
another replica waits for the first answer (and its history) instead of racing it.

The Redis lock's value is this replica's own token, and this replica may take a lock that holds its
token: a `SET` that timed out while Redis stalled is applied when Redis wakes, and would otherwise
hold the conversation for the lock's whole lifetime with nobody holding it. That is safe because the
per-key `asyncio.Lock` already keeps this replica's turns of one conversation apart, so a lock with
our token can only be left over from one of our own calls. Release deletes only our own token.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("avibot.serial")

# Take the lock when it is free or already ours; renew its lifetime.
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
# Delete the lock only while it is ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
POLL_SECONDS = 0.1


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
        self._token = secrets.token_hex(16)  # this replica's: see the module docstring

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
        name = f"{self.prefix}lock:{key}"
        acquired, failed = False, False
        try:
            acquired = await self._acquire(name)
        except RedisError as exc:
            failed = True
            log.warning("turn lock unavailable for %s: %s", key, type(exc).__name__)
        if not acquired:
            log.warning("turn lock for %s not acquired; answering without it", key)
        try:
            yield
        finally:
            if acquired or failed:  # a failed acquire may still have been applied late
                try:
                    await self.redis.eval(_RELEASE, 1, name, self._token)
                except RedisError as exc:  # it expires by itself
                    log.warning("turn lock release failed for %s: %s", key, type(exc).__name__)

    async def _acquire(self, name: str) -> bool:
        assert self.redis is not None
        deadline = time.monotonic() + self.blocking_timeout
        while True:
            taken = await self.redis.eval(_ACQUIRE, 1, name, self._token, str(int(self.timeout * 1000)))
            if taken:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)
