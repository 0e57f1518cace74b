"""De-dup and per-thread ordering, against a real redis-server (two "replicas" = two clients)."""

from __future__ import annotations

import asyncio

from bot.dedup import MemoryDeduper, RedisDeduper
from bot.serial import KeyedLock
from tests.support.redis_server import MakeRedis


async def test_redis_deduper_lets_one_replica_win(make_redis: MakeRedis) -> None:
    a, b = RedisDeduper(make_redis(), prefix="t:"), RedisDeduper(make_redis(), prefix="t:")
    await a.redis.flushdb()
    results = await asyncio.gather(*(d.first_time("slack:evt:Ev1") for d in (a, b, a, b)))
    assert sorted(results) == [False, False, False, True]
    assert 0 < await a.redis.ttl("t:dedup:slack:evt:Ev1") <= 3600


async def test_memory_deduper() -> None:
    d = MemoryDeduper(ttl_seconds=60)
    assert [await d.first_time("x"), await d.first_time("x"), await d.first_time("y")] == [True, False, True]


async def test_keyed_lock_orders_turns_across_replicas(make_redis: MakeRedis) -> None:
    r1, r2 = make_redis(), make_redis()
    await r1.flushdb()
    one, two = KeyedLock(r1, prefix="t:"), KeyedLock(r2, prefix="t:")
    order: list[str] = []

    async def turn(locks: KeyedLock, key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            order.append(f"{name} start")
            await asyncio.sleep(pause)
            order.append(f"{name} end")

    first = asyncio.create_task(turn(one, "k", "a", 0.3))
    await asyncio.sleep(0.05)
    await asyncio.gather(first, turn(two, "k", "b", 0), turn(two, "other", "c", 0))
    assert order.index("a end") < order.index("b start")
    assert order.index("c end") < order.index("a end")  # other threads are not held up
    assert one._locks == {}
    assert two._locks == {}
