"""The three alert stores keep the same contract: one claim wins, counters, sets and counts with TTLs.
SQLite's claim holds across two connections to one file (two processes on one machine)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.alerts import MemoryAlertStore, RedisAlertStore
from bot.alerts.sqlite_store import SQLiteAlertStore
from bot.alerts.store import AlertStore
from bot.sqlite.db import Database


@pytest.fixture(params=["memory", "redis", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AlertStore]:
    if request.param == "memory":
        yield MemoryAlertStore()
    elif request.param == "redis":
        redis = Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
        await redis.flushdb()
        yield RedisAlertStore(redis)
        await redis.aclose()
    else:
        db = await Database.open(tmp_path / "avibot.db")
        yield await SQLiteAlertStore.open(db)
        await db.close()


async def test_claim_wins_once_until_it_expires(store: AlertStore) -> None:
    assert await store.claim("k", "a", 0.2)
    assert not await store.claim("k", "b", 0.2)
    assert await store.get("k") == "a"
    await asyncio.sleep(0.3)
    assert await store.get("k") is None
    assert await store.claim("k", "c", 10)
    await store.put("k", "done", 10)
    assert await store.get("k") == "done"
    await store.delete("k")
    assert await store.claim("k", "d", 10)


async def test_counters_sets_and_counts(store: AlertStore) -> None:
    assert await store.incr("n", 3, 10) == 3
    assert await store.incr("n", 2, 10) == 5
    await store.add_member("s", "a", 10)
    await store.add_member("s", "b", 10)
    await store.add_member("s", "a", 10)
    assert await store.members("s") == {"a", "b"}
    await store.remove_member("s", "a")
    assert await store.members("s") == {"b"}
    assert await store.members("none") == set()
    await store.count_field("c", "x", 1, 10)
    await store.count_field("c", "x", 2, 10)
    await store.count_field("c", "y", 1, 10)
    assert await store.field_counts("c") == {"x": 3, "y": 1}


async def test_counters_start_again_after_their_ttl(store: AlertStore) -> None:
    assert await store.incr("n", 4, 0.2) == 4
    await store.count_field("c", "x", 5, 0.2)
    await asyncio.sleep(0.3)
    assert await store.incr("n", 1, 10) == 1
    assert await store.field_counts("c") == {}
    await store.count_field("c", "x", 1, 10)
    assert await store.field_counts("c") == {"x": 1}


async def test_concurrent_claims_have_one_winner(store: AlertStore) -> None:
    wins = await asyncio.gather(*(store.claim("race", str(i), 10) for i in range(20)))
    assert wins.count(True) == 1


async def test_sqlite_claim_is_shared_by_two_connections(tmp_path: Path) -> None:
    one = await Database.open(tmp_path / "avibot.db")
    two = await Database.open(tmp_path / "avibot.db")
    try:
        a, b = await SQLiteAlertStore.open(one), await SQLiteAlertStore.open(two)
        results = await asyncio.gather(*(s.claim(f"k{i}", "x", 10) for i in range(50) for s in (a, b)))
        assert results.count(True) == 50
        await a.put("cursor", "c1", 10)
        assert await b.get("cursor") == "c1"
    finally:
        await one.close()
        await two.close()
