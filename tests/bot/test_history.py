"""Conversation history on a real redis-server and in memory: the same test bodies for both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.asyncio.connection import AbstractConnection

from bot.history import (
    ConversationStore,
    HistorySettings,
    MemoryConversationStore,
    RedisConversationStore,
    trim_to_turn,
)
from bot.sqlite import Database, SQLiteConversationStore

KEY = "slack:T1:C1:1700000000.0001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MakeStore = Callable[..., ConversationStore]


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An embedded store file in the test's own directory, closed after the test."""
    db = await Database.open(tmp_path / "avibot.db")
    yield db
    await db.close()


@pytest.fixture(params=["redis", "memory", "sqlite"])
def make_store(request: pytest.FixtureRequest) -> MakeStore:
    """`make_store(max_messages=..., ttl_seconds=...)` for the parametrized backend."""
    if request.param == "redis":
        client: aioredis.Redis = request.getfixturevalue("redis_client")
        return lambda **kw: RedisConversationStore(client, **kw)
    if request.param == "sqlite":
        db: Database = request.getfixturevalue("sqlite_db")
        return lambda **kw: SQLiteConversationStore(db, **kw)
    return lambda **kw: MemoryConversationStore(**kw)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def tool_turn(n: int) -> list[dict[str, Any]]:
    """A turn with a tool call: user, assistant(tool_calls), tool, assistant."""
    return [
        user(f"q{n}"),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "vs_list", "arguments": {"page": n}}}],
        },
        {"role": "tool", "tool_name": "vs_list", "content": f'{{"count": {n}}}'},
        assistant(f"a{n}"),
    ]


async def test_append_then_load_keeps_order_and_content(make_store: MakeStore) -> None:
    store = make_store()
    await store.append(KEY, tool_turn(1))
    await store.append(KEY, [user("q2 — ünïcode"), assistant("a2")])
    loaded = await store.load(KEY)
    assert loaded == [*tool_turn(1), user("q2 — ünïcode"), assistant("a2")]
    assert await store.load("other-key") == []


async def test_loaded_messages_are_copies(make_store: MakeStore) -> None:
    store = make_store()
    await store.append(KEY, [user("q"), assistant("a")])
    (await store.load(KEY))[0]["content"] = "changed"
    assert (await store.load(KEY))[0]["content"] == "q"


async def test_keeps_only_the_newest_max_messages(make_store: MakeStore) -> None:
    store = make_store(max_messages=4)
    for n in range(5):
        await store.append(KEY, [user(f"q{n}"), assistant(f"a{n}")])
    assert await store.load(KEY) == [user("q3"), assistant("a3"), user("q4"), assistant("a4")]


async def test_trim_never_starts_with_an_orphan_tool_message(make_store: MakeStore) -> None:
    # 4-message turns with max 6: the stored window starts mid-turn (tool, assistant, then turn 2).
    store = make_store(max_messages=6)
    await store.append(KEY, tool_turn(1))
    await store.append(KEY, tool_turn(2))
    loaded = await store.load(KEY)
    assert loaded == tool_turn(2)
    assert loaded[0]["role"] == "user"


async def test_trim_drops_an_assistant_with_unanswered_tool_calls(make_store: MakeStore) -> None:
    # max 7 keeps [assistant(tool_calls), tool, assistant, ...turn 2]: the cut lands after turn 1's user.
    store = make_store(max_messages=7)
    await store.append(KEY, tool_turn(1))
    await store.append(KEY, tool_turn(2))
    assert await store.load(KEY) == tool_turn(2)


async def test_a_turn_longer_than_the_window_loads_empty(make_store: MakeStore) -> None:
    store = make_store(max_messages=3)
    await store.append(KEY, tool_turn(1))
    assert await store.load(KEY) == []


async def test_clear_forgets_only_that_conversation(make_store: MakeStore) -> None:
    store = make_store()
    await store.append(KEY, [user("q"), assistant("a")])
    await store.append("web:other", [user("x")])
    await store.clear(KEY)
    assert await store.load(KEY) == []
    assert await store.load("web:other") == [user("x")]


async def test_empty_append_is_a_no_op(make_store: MakeStore) -> None:
    store = make_store()
    await store.append(KEY, [])
    assert await store.load(KEY) == []


async def test_non_json_message_fails_before_writing(make_store: MakeStore) -> None:
    store = make_store()
    with pytest.raises(TypeError):
        await store.append(KEY, [user("q"), {"role": "assistant", "content": object()}])
    assert await store.load(KEY) == []


# -- TTL ---------------------------------------------------------------------------------------------


async def test_redis_sets_and_renews_the_ttl(redis_client: aioredis.Redis) -> None:
    store = RedisConversationStore(redis_client, ttl_seconds=3600, prefix="t:")
    await store.append(KEY, [user("q")])
    assert 3590 <= await redis_client.ttl(f"t:chat:{KEY}") <= 3600
    await redis_client.expire(f"t:chat:{KEY}", 5)
    await store.append(KEY, [assistant("a")])
    assert 3590 <= await redis_client.ttl(f"t:chat:{KEY}") <= 3600


async def test_redis_conversation_expires(redis_client: aioredis.Redis) -> None:
    store = RedisConversationStore(redis_client, ttl_seconds=3600)
    await store.append(KEY, [user("q")])
    await redis_client.pexpire(store.key(KEY), 1)  # what the TTL does, without waiting an hour
    await asyncio.sleep(0.02)
    assert await store.load(KEY) == []


async def test_memory_ttl_with_an_injected_clock() -> None:
    clock = FakeClock()
    store = MemoryConversationStore(ttl_seconds=60, clock=clock)
    await store.append(KEY, [user("q")])
    clock.now += 59
    assert await store.load(KEY) == [user("q")]
    await store.append(KEY, [assistant("a")])  # renews the TTL
    clock.now += 59
    assert await store.load(KEY) == [user("q"), assistant("a")]
    clock.now += 1
    assert await store.load(KEY) == []


async def test_memory_sweeps_expired_conversations() -> None:
    clock = FakeClock()
    store = MemoryConversationStore(ttl_seconds=10, clock=clock)
    for n in range(50):
        await store.append(f"k{n}", [user("q")])
    clock.now += 11
    await store.append("fresh", [user("q")])
    assert list(store._data) == ["fresh"]


async def test_memory_a_flood_of_conversation_ids_stays_bounded() -> None:
    store = MemoryConversationStore(max_conversations=10_000)
    for n in range(50_000):
        await store.append(f"web:{n}", [user("q")])
        await store.set_model(f"web:{n}", "llama3.1:8b")
    assert (len(store._data), len(store._models)) == (10_000, 10_000)
    assert await store.load("web:39999") == []  # the oldest went first
    assert await store.get_model("web:39999") is None
    assert await store.load("web:40000") == [user("q")]
    assert await store.get_model("web:49999") == "llama3.1:8b"


async def test_memory_eviction_spares_the_recently_written() -> None:
    store = MemoryConversationStore(max_conversations=2)
    await store.append("a", [user("1")])
    await store.append("b", [user("2")])
    await store.append("a", [assistant("3")])  # "a" is now the most recent
    await store.append("c", [user("4")])
    assert await store.load("b") == []
    assert await store.load("a") == [user("1"), assistant("3")]
    assert await store.load("c") == [user("4")]


# -- one round trip ----------------------------------------------------------------------------------


async def _commandstats(client: aioredis.Redis) -> dict[str, int]:
    info = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in info.items()}


async def test_append_is_one_round_trip_in_one_transaction(
    make_redis: Callable[[], aioredis.Redis], redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_redis()
    await client.ping()  # connect (and HELLO) before counting
    store = RedisConversationStore(client, max_messages=5, ttl_seconds=100)

    writes = 0
    original = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        nonlocal writes
        writes += 1
        await original(self, *args, **kwargs)

    before = await _commandstats(redis_client)
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    await store.append(KEY, tool_turn(1))
    monkeypatch.undo()
    after = await _commandstats(redis_client)

    assert writes == 1
    delta = {
        cmd: after.get(cmd, 0) - before.get(cmd, 0) for cmd in ("multi", "rpush", "ltrim", "expire", "exec")
    }
    assert delta == {"multi": 1, "rpush": 1, "ltrim": 1, "expire": 1, "exec": 1}


# -- settings and the pure trim ----------------------------------------------------------------------


def test_settings_defaults_and_bounds() -> None:
    settings = HistorySettings()
    assert (settings.max_messages, settings.ttl_seconds) == (20, 604800)
    for bad in (1, 201):
        with pytest.raises(ValidationError):
            HistorySettings(max_messages=bad)
    with pytest.raises(ValidationError):
        HistorySettings(unknown=1)


def test_trim_to_turn() -> None:
    turn = tool_turn(1)
    assert trim_to_turn(turn) == turn
    assert trim_to_turn(turn[1:]) == []
    assert trim_to_turn([*turn[2:], user("next")]) == [user("next")]
    assert trim_to_turn([]) == []
