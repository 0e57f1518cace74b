"""The alert engine's shared state, as a few atomic primitives: a claim (set if absent), plain values,
counters, sets and per-field counts, each with a TTL. Replicas share Redis; one machine shares the
embedded SQLite file (`bot/alerts/sqlite_store.py`); tests and a laptop use memory.

Every key is the engine's own (`claim:…`, `thread:…`, `cursor`); the store prefixes it. An engine of
another controller than the default sees the shared store through a `ScopedStore`, so the cursors,
claims and threads of two controllers never mix (the default controller keeps the bare keys).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

DEFAULT_PREFIX = "avibot:alerts:"


class AlertStore(Protocol):
    async def claim(self, key: str, value: str, ttl: float) -> bool:
        """Set `key` only if it is absent (or expired): True for exactly one caller."""
        ...

    async def put(self, key: str, value: str, ttl: float) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, amount: int, ttl: float) -> int:
        """Add to a counter (created at 0 with `ttl`, which is not extended) and return the new total."""
        ...

    async def add_member(self, key: str, member: str, ttl: float) -> None:
        """Add to a set; the whole set's TTL is reset to `ttl`."""
        ...

    async def remove_member(self, key: str, member: str) -> None: ...

    async def members(self, key: str) -> set[str]: ...

    async def count_field(self, key: str, field: str, amount: int, ttl: float) -> None:
        """Add to one field's count in a map of counts; the map's TTL is reset to `ttl`."""
        ...

    async def field_counts(self, key: str) -> dict[str, int]: ...


class RedisAlertStore:
    """SET NX EX for claims, INCRBY, SADD/SREM/SMEMBERS, HINCRBY/HGETALL: atomic across replicas."""

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix

    def _k(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _ms(ttl: float) -> int:
        return max(1, int(ttl * 1000))

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self.redis.set(self._k(key), value, nx=True, px=self._ms(ttl)))

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self.redis.set(self._k(key), value, px=self._ms(ttl))

    async def get(self, key: str) -> str | None:
        value = await self.redis.get(self._k(key))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self._k(key))

    async def incr(self, key: str, amount: int, ttl: float) -> int:
        k = self._k(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incrby(k, amount)
            pipe.pexpire(k, self._ms(ttl), nx=True)
            total, _ = await pipe.execute()
        return int(total)

    async def add_member(self, key: str, member: str, ttl: float) -> None:
        k = self._k(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(k, member)
            pipe.pexpire(k, self._ms(ttl))
            await pipe.execute()

    async def remove_member(self, key: str, member: str) -> None:
        await self.redis.srem(self._k(key), member)

    async def members(self, key: str) -> set[str]:
        raw = await self.redis.smembers(self._k(key))
        return {m.decode() if isinstance(m, bytes) else str(m) for m in raw}

    async def count_field(self, key: str, field: str, amount: int, ttl: float) -> None:
        k = self._k(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(k, field, amount)
            pipe.pexpire(k, self._ms(ttl))
            await pipe.execute()

    async def field_counts(self, key: str) -> dict[str, int]:
        raw = await self.redis.hgetall(self._k(key))
        return {(f.decode() if isinstance(f, bytes) else str(f)): int(v) for f, v in raw.items()}


class MemoryAlertStore:
    """One process (several engines in it may share one instance, as replicas share Redis)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[str, float]] = {}
        self._sets: dict[str, tuple[set[str], float]] = {}
        self._counts: dict[str, tuple[dict[str, int], float]] = {}

    def _live(self, deadline: float) -> bool:
        return deadline > self._clock()

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        hit = self._values.get(key)
        if hit is not None and self._live(hit[1]):
            return False
        self._values[key] = (value, self._clock() + ttl)
        return True

    async def put(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self._clock() + ttl)

    async def get(self, key: str) -> str | None:
        hit = self._values.get(key)
        if hit is None or not self._live(hit[1]):
            self._values.pop(key, None)
            return None
        return hit[0]

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def incr(self, key: str, amount: int, ttl: float) -> int:
        hit = self._values.get(key)
        if hit is None or not self._live(hit[1]):
            hit = ("0", self._clock() + ttl)
        total = int(hit[0]) + amount
        self._values[key] = (str(total), hit[1])
        return total

    async def add_member(self, key: str, member: str, ttl: float) -> None:
        hit = self._sets.get(key)
        items = hit[0] if hit is not None and self._live(hit[1]) else set()
        items.add(member)
        self._sets[key] = (items, self._clock() + ttl)

    async def remove_member(self, key: str, member: str) -> None:
        hit = self._sets.get(key)
        if hit is not None:
            hit[0].discard(member)

    async def members(self, key: str) -> set[str]:
        hit = self._sets.get(key)
        return set(hit[0]) if hit is not None and self._live(hit[1]) else set()

    async def count_field(self, key: str, field: str, amount: int, ttl: float) -> None:
        hit = self._counts.get(key)
        counts = hit[0] if hit is not None and self._live(hit[1]) else {}
        counts[field] = counts.get(field, 0) + amount
        self._counts[key] = (counts, self._clock() + ttl)

    async def field_counts(self, key: str) -> dict[str, int]:
        hit = self._counts.get(key)
        return dict(hit[0]) if hit is not None and self._live(hit[1]) else {}


class ScopedStore:
    """`inner` with every key under `scope` (e.g. `controller:prod-east:`)."""

    def __init__(self, inner: AlertStore, scope: str) -> None:
        self.inner = inner
        self.scope = scope

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        return await self.inner.claim(self.scope + key, value, ttl)

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self.inner.put(self.scope + key, value, ttl)

    async def get(self, key: str) -> str | None:
        return await self.inner.get(self.scope + key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(self.scope + key)

    async def incr(self, key: str, amount: int, ttl: float) -> int:
        return await self.inner.incr(self.scope + key, amount, ttl)

    async def add_member(self, key: str, member: str, ttl: float) -> None:
        await self.inner.add_member(self.scope + key, member, ttl)

    async def remove_member(self, key: str, member: str) -> None:
        await self.inner.remove_member(self.scope + key, member)

    async def members(self, key: str) -> set[str]:
        return await self.inner.members(self.scope + key)

    async def count_field(self, key: str, field: str, amount: int, ttl: float) -> None:
        await self.inner.count_field(self.scope + key, field, amount, ttl)

    async def field_counts(self, key: str) -> dict[str, int]:
        return await self.inner.field_counts(self.scope + key)


def controller_scope(name: str) -> str:
    """The key prefix of a controller's alert state (other than the default controller's)."""
    return f"controller:{name.lower()}:"
