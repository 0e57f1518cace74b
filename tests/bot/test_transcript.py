"""The transcript (what each turn showed) on a real redis-server, in SQLite and in memory: the same test
bodies for the three; then the bounds, and `Turns` keeping each finished turn in it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.sqlite import Database
from bot.sqlite.transcript import SQLiteTranscriptStore
from bot.transcript import (
    MAX_CHARS,
    MemoryTranscriptStore,
    RedisTranscriptStore,
    TranscriptEntry,
    TranscriptStore,
    bound,
)
from bot.turns import Turns
from bot.types import (
    ConfirmationPart,
    Outcome,
    Risk,
    SeriesPart,
    SeriesPoint,
    TablePart,
    TextPart,
)
from tests.support.agent_env import MakeAgent, agent_factory

KEY = "web:session-1"
MakeStore = Callable[..., TranscriptStore]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "avibot.db")
    yield db
    await db.close()


@pytest.fixture(params=["redis", "memory", "sqlite"])
def make_store(request: pytest.FixtureRequest) -> MakeStore:
    """`make_store(max_turns=..., ttl_seconds=..., max_parts=..., max_chars=...)` for the backend."""
    if request.param == "redis":
        client: aioredis.Redis = request.getfixturevalue("redis_client")
        return lambda **kw: RedisTranscriptStore(client, prefix="t:", **kw)
    if request.param == "sqlite":
        db: Database = request.getfixturevalue("sqlite_db")
        return lambda **kw: SQLiteTranscriptStore(db, **kw)
    return lambda **kw: MemoryTranscriptStore(**kw)


def table(rows: int, title: str = "Pools") -> TablePart:
    return TablePart(title=title, columns=["name", "state"], rows=[[f"pool-{i}", "up"] for i in range(rows)])


def confirmation(action_id: str = "act0001abc") -> ConfirmationPart:
    return ConfirmationPart(
        action_id=action_id,
        summary="disable vs-web",
        diff=["- enabled: true", "+ enabled: false"],
        risk=Risk.WRITE,
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )


def entry(question: str, *parts: Any, **over: Any) -> TranscriptEntry:
    return TranscriptEntry(question=question, parts=list(parts), **over)


# -- every backend ---------------------------------------------------------------------------------


async def test_round_trip_keeps_the_parts_as_they_were(make_store: MakeStore) -> None:
    store = make_store()
    series = SeriesPart(
        title="l4_client.avg_bandwidth",
        unit="bps",
        points=[
            SeriesPoint(timestamp=datetime(2024, 5, 1, 12, i, tzinfo=UTC), value=float(i)) for i in range(5)
        ],
    )
    first = entry("vs list", TextPart(markdown="**3** virtual services"), table(3), series)
    second = entry(
        "vs disable vs-web", confirmation(), outcome=Outcome.PENDING, action_id="act0001abc", mode="command"
    )
    await store.append(KEY, first)
    await store.append(KEY, second)
    assert await store.load(KEY) == [first, second]
    assert await store.load("web:someone-else") == []


async def test_keeps_only_the_newest_turns(make_store: MakeStore) -> None:
    store = make_store(max_turns=3)
    for i in range(5):
        await store.append(KEY, entry(f"q{i}", TextPart(markdown=f"a{i}")))
    assert [e.question for e in await store.load(KEY)] == ["q2", "q3", "q4"]


async def test_each_entry_is_bounded_in_parts_and_characters(make_store: MakeStore) -> None:
    store = make_store(max_parts=4, max_chars=6_000)
    await store.append(KEY, entry("big", *[TextPart(markdown=f"part {i}") for i in range(9)], confirmation()))
    await store.append(KEY, entry("huge table", table(2_000)))
    many, huge = await store.load(KEY)
    assert len(many.model_dump_json()) <= 6_000
    kinds = [p.kind for p in many.parts]
    assert kinds.count("text") == 4  # 3 of the 9 texts + the note that the rest were left out
    assert "confirmation" in kinds  # the card, fitted first: it can still be acted on
    assert "left out" in many.parts[-1].markdown  # type: ignore[union-attr]
    assert len(huge.model_dump_json()) <= 6_000
    cut = huge.parts[0]
    assert isinstance(cut, TablePart)
    assert 10 < len(cut.rows) < 2_000
    assert cut.total == 2_000  # the page says "… and N more"
    assert cut.rows[0] == ["pool-0", "up"]


async def test_clear_forgets_only_that_conversation(make_store: MakeStore) -> None:
    store = make_store()
    await store.append(KEY, entry("a", TextPart(markdown="x")))
    await store.append("web:other", entry("b", TextPart(markdown="y")))
    await store.clear(KEY)
    assert await store.load(KEY) == []
    assert [e.question for e in await store.load("web:other")] == ["b"]


# -- the TTL, the history's --------------------------------------------------------------------------


async def test_redis_sets_and_renews_the_ttl(redis_client: aioredis.Redis) -> None:
    store = RedisTranscriptStore(redis_client, prefix="t:", ttl_seconds=100)
    await store.append(KEY, entry("a", TextPart(markdown="x")))
    await redis_client.expire(store.key(KEY), 5)
    await store.append(KEY, entry("b", TextPart(markdown="y")))
    assert 95 < await redis_client.ttl(store.key(KEY)) <= 100


async def test_memory_forgets_an_idle_conversation() -> None:
    clock = Clock(1000.0)
    store = MemoryTranscriptStore(ttl_seconds=60, clock=clock)
    await store.append(KEY, entry("a", TextPart(markdown="x")))
    clock.now += 59
    await store.append(KEY, entry("b", TextPart(markdown="y")))  # renews
    clock.now += 59
    assert len(await store.load(KEY)) == 2
    clock.now += 2
    assert await store.load(KEY) == []


async def test_memory_a_flood_of_conversations_stays_bounded() -> None:
    store = MemoryTranscriptStore(max_conversations=10)
    for i in range(50):
        await store.append(f"web:{i}", entry("a", TextPart(markdown="x")))
    assert len(store._data) == 10
    assert await store.load("web:49") != []
    assert await store.load("web:0") == []


async def test_sqlite_forgets_an_idle_conversation_and_prunes_it(tmp_path: Path) -> None:
    clock = Clock(time.time())
    db = await Database.open(tmp_path / "avibot.db", clock=clock)
    try:
        store = SQLiteTranscriptStore(db, ttl_seconds=60)
        await store.append(KEY, entry("a", TextPart(markdown="x")))
        clock.now += 59
        await store.append(KEY, entry("b", TextPart(markdown="y")))  # renews both rows
        clock.now += 59
        assert len(await store.load(KEY)) == 2
        clock.now += 2
        assert await store.load(KEY) == []
        await store.append("web:other", entry("c", TextPart(markdown="z")))  # deletes the expired rows
        count = await db.run(lambda conn: conn.execute("SELECT count(*) FROM transcript").fetchone())
        assert count == (1,)
    finally:
        await db.close()


async def test_sqlite_transcript_survives_a_reopen(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "avibot.db")
    await SQLiteTranscriptStore(db).append(KEY, entry("vs list", table(2)))
    await db.close()
    db = await Database.open(tmp_path / "avibot.db")
    try:
        (kept,) = await SQLiteTranscriptStore(db).load(KEY)
        assert kept.parts == [table(2)]
    finally:
        await db.close()


# -- bounds ----------------------------------------------------------------------------------------


def test_an_entry_that_fits_is_kept_as_it_is() -> None:
    small = entry("vs list", table(5), confirmation())
    assert bound(small) == small


def test_a_long_chart_keeps_its_newest_points_and_a_long_text_its_beginning() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    points = [SeriesPoint(timestamp=start + timedelta(minutes=i), value=float(i)) for i in range(3_000)]
    text = TextPart(markdown="word " * 10_000)
    kept = bound(entry("q", SeriesPart(title="s", points=points), text), max_chars=MAX_CHARS)
    assert len(kept.model_dump_json()) <= MAX_CHARS
    series, shortened, note = kept.parts
    assert isinstance(series, SeriesPart)
    assert isinstance(shortened, TextPart)
    assert series.points[-1] == points[-1]
    assert 10 < len(series.points) < 3_000
    assert shortened.markdown.startswith("word word")
    assert shortened.markdown.endswith("…")
    assert isinstance(note, TextPart)
    assert "shortened" in note.markdown


# -- Turns keeps each finished turn --------------------------------------------------------------------


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


class BrokenStore(MemoryTranscriptStore):
    async def append(self, key: str, entry: TranscriptEntry) -> None:
        raise ConnectionError("the store is down")


async def test_turns_keep_each_answer_and_its_settlement(make: MakeAgent, ops: AviOperations) -> None:
    env = await make(None)
    turns = Turns(env.agent, transcript=RedisTranscriptStore(env.redis, prefix="t:"))
    key = "slack:T1:C1:100.1"
    await turns.run(env.inbound("pool list"))
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    proposed = await turns.run(env.inbound(f"vs disable {vs.name}"))
    assert proposed.action is not None
    assert await turns.pending_view(key, proposed.action.id) == proposed.action
    assert await turns.pending_view("slack:T1:C2:1.1", proposed.action.id) is None  # not that conversation's
    await turns.settle("confirm", proposed.action.id, env.inbound(f"confirm {proposed.action.id}"))
    assert await turns.pending_view(key, proposed.action.id) is None

    listed, pending, settled = await turns.transcript(key)
    assert listed.question == "pool list"
    assert any(isinstance(p, TablePart) for p in listed.parts)
    assert pending.outcome is Outcome.PENDING
    assert pending.action_id == proposed.action.id
    assert isinstance(pending.parts[-1], ConfirmationPart)
    assert settled.settles
    assert settled.final
    assert settled.outcome is Outcome.DONE
    assert settled.action_id == proposed.action.id
    # the model's history is still compact text
    assert all(isinstance(m["content"], str) for m in await turns.history(key))


async def test_a_transcript_store_failure_never_fails_the_turn(make: MakeAgent) -> None:
    env = await make(None)
    turns = Turns(env.agent, transcript=BrokenStore())
    result = await turns.run(env.inbound("pool list"))
    assert result.outcome is Outcome.ANSWERED
    assert any(isinstance(p, TablePart) for p in result.reply.parts)


async def test_forget_and_reset_clear_the_transcript(make: MakeAgent) -> None:
    env = await make(None)
    turns = Turns(env.agent, transcript=RedisTranscriptStore(env.redis, prefix="t:"))
    key = "slack:T1:C1:100.1"
    await turns.run(env.inbound("pool list"))
    await turns.forget(key)
    assert await turns.transcript(key) == []
    await turns.run(env.inbound("pool list"))
    await turns.run(env.inbound("reset"))
    assert await turns.transcript(key) == []
