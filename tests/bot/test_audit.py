"""The audit trail on a real redis-server stream and in memory, plus its one-line log record."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.audit import AuditEntry, AuditLog, MemoryAuditLog, RedisAuditLog
from bot.sqlite import Database, SQLiteAuditLog
from bot.types import Risk


def entry(n: int = 0, **over: object) -> AuditEntry:
    fields: dict[str, object] = {
        "user_id": "U1",
        "user_name": "alice",
        "platform": "slack",
        "channel": "C1",
        "conversation_key": "slack:T1:C1:1",
        "action": "vs_disable",
        "arguments": {"name": f"vs-{n}", "nested": {"ports": [80, 443]}},
        "risk": Risk.WRITE,
        "result": "ok",
        "detail": "",
        "action_id": f"act{n:07d}",
    }
    return AuditEntry.model_validate({**fields, **over})


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An embedded store file in the test's own directory, closed after the test."""
    db = await Database.open(tmp_path / "avibot.db")
    yield db
    await db.close()


@pytest.fixture(params=["redis", "memory", "sqlite"])
def audit(request: pytest.FixtureRequest) -> AuditLog:
    if request.param == "redis":
        return RedisAuditLog(request.getfixturevalue("redis_client"), prefix="t:", max_entries=1000)
    if request.param == "sqlite":
        return SQLiteAuditLog(request.getfixturevalue("sqlite_db"))
    return MemoryAuditLog(max_entries=1000)


async def test_recent_is_newest_first_and_round_trips(audit: AuditLog) -> None:
    entries = [entry(n) for n in range(5)]
    for e in entries:
        await audit.record(e)
    assert await audit.recent(3) == [entries[4], entries[3], entries[2]]
    assert await audit.recent() == list(reversed(entries))
    assert await audit.recent(0) == []


async def test_optional_fields_survive(audit: AuditLog) -> None:
    e = entry(action_id=None, tenant="prod", detail='pool "web" has 0 servers up', result="error")
    await audit.record(e)
    assert await audit.recent(1) == [e]


async def test_redis_stream_fields_are_readable(redis_client: aioredis.Redis) -> None:
    await RedisAuditLog(redis_client, prefix="t:").record(entry(1))
    [(_id, fields)] = await redis_client.xrange("t:audit")
    assert fields["action"] == "vs_disable"
    assert fields["risk"] == "write"
    assert json.loads(fields["arguments"]) == {"name": "vs-1", "nested": {"ports": [80, 443]}}


async def test_redis_stream_is_capped(redis_client: aioredis.Redis) -> None:
    # MAXLEN ~ trims whole stream nodes (100 entries each by default): never below the cap, and far
    # below the number written.
    log = RedisAuditLog(redis_client, prefix="t:", max_entries=50)
    for n in range(400):
        await log.record(entry(n))
    length = await redis_client.xlen("t:audit")
    assert 50 <= length <= 200
    assert (await log.recent(1))[0].action_id == entry(399).action_id


async def test_memory_log_is_capped() -> None:
    log = MemoryAuditLog(max_entries=3)
    for n in range(5):
        await log.record(entry(n))
    assert [e.action_id for e in await log.recent(10)] == [entry(n).action_id for n in (4, 3, 2)]


async def test_one_structured_log_line(audit: AuditLog, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="avibot.audit")
    await audit.record(entry(7, detail="disabled by request", result="ok"))
    [record] = [r for r in caplog.records if r.name == "avibot.audit"]
    line = record.getMessage()
    assert "\n" not in line
    assert line.startswith("audit user_id=U1 user_name=alice platform=slack channel=C1 ")
    assert 'detail="disabled by request"' in line
    assert "result=ok" in line
    assert line.endswith('arguments={"name":"vs-7","nested":{"ports":[80,443]}}')
    assert record.audit["action_id"] == "act0000007"  # type: ignore[attr-defined]


async def test_a_redis_outage_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    no_retry = Retry(NoBackoff(), 0)
    dead = aioredis.Redis(unix_socket_path="/nonexistent/avibot.sock", decode_responses=True, retry=no_retry)
    caplog.set_level(logging.INFO, logger="avibot.audit")
    await RedisAuditLog(dead).record(entry(1))
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("audit ")
    assert "audit stream write failed (ConnectionError)" in messages[1]
    await dead.aclose()


def test_result_is_validated() -> None:
    with pytest.raises(ValueError, match="result"):
        entry(result="maybe")
