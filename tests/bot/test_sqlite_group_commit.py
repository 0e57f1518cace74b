"""Group commit in the SQLite store (bot/sqlite/db.py): concurrent writes share one transaction, a failing
write is rolled back alone, nothing is reported before its commit, and the order of jobs is kept."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sqlite.db import Database, transaction
from bot.sqlite.history import SQLiteConversationStore


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "avibot.db", busy_timeout=0.2)
    yield database
    await database.close()


async def commits(db: Database) -> list[str]:
    """Every COMMIT the connection runs from now on."""
    seen: list[str] = []
    trace = lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None  # noqa: E731
    await db.run(lambda conn: conn.set_trace_callback(trace))
    return seen


def insert(key: str, fail: bool = False):  # type: ignore[no-untyped-def]
    def job(conn: sqlite3.Connection) -> str:
        with transaction(conn):
            conn.execute("INSERT INTO dedup (key, expires_at) VALUES (?, ?)", (key, 1e12))
            if fail:
                raise ValueError(f"{key} failed after its insert")
        return key

    return job


def keys(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {k for (k,) in conn.execute("SELECT key FROM dedup")}


async def test_concurrent_appends_share_a_commit(db: Database) -> None:
    history = SQLiteConversationStore(db, max_messages=4)
    seen = await commits(db)
    turns = [
        history.append(
            f"web:{n}", [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": "a"}]
        )
        for n in range(50)
    ]
    await asyncio.gather(*turns)
    assert 1 <= len(seen) <= 5, len(seen)  # one for the first write, one for those that queued behind it
    loaded = await asyncio.gather(*(history.load(f"web:{n}") for n in range(50)))
    assert [[m["content"] for m in msgs] for msgs in loaded] == [[f"q{n}", "a"] for n in range(50)]


async def test_a_failing_write_is_rolled_back_alone(db: Database) -> None:
    seen = await commits(db)
    busy = asyncio.ensure_future(db.run(lambda conn: time.sleep(0.2)))  # the writes queue behind it
    await asyncio.sleep(0.05)
    outcomes = await asyncio.gather(
        db.write(insert("one"), 0),
        db.write(insert("bad", fail=True), 0),
        db.write(insert("two"), 0),
        return_exceptions=True,
    )
    await busy
    assert outcomes[0] == "one"
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == "two"
    assert keys(db.path) == {"one", "two"}
    assert len(seen) == 1  # the three ran in one transaction


async def test_a_batch_that_cannot_start_fails_every_write_and_writes_nothing(db: Database) -> None:
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(db.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    await asyncio.to_thread(locked.wait)
    busy = asyncio.ensure_future(db.run(lambda conn: time.sleep(0.1)))
    await asyncio.sleep(0.02)
    outcomes = await asyncio.gather(*(db.write(insert(f"k{n}"), 0) for n in range(3)), return_exceptions=True)
    await busy
    release.set()
    await asyncio.to_thread(holder.join)
    assert all(isinstance(o, sqlite3.OperationalError) and "locked" in str(o) for o in outcomes)
    assert keys(db.path) == set()
    assert await db.write(insert("after"), 0) == "after"  # the store works again once the lock is free


async def test_a_job_submitted_between_two_writes_sees_the_first_only(db: Database) -> None:
    busy = asyncio.ensure_future(db.run(lambda conn: time.sleep(0.1)))
    await asyncio.sleep(0.02)
    first = asyncio.ensure_future(db.write(insert("first"), 0))
    await asyncio.sleep(0)
    read = asyncio.ensure_future(db.run(lambda conn: {k for (k,) in conn.execute("SELECT key FROM dedup")}))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(db.write(insert("second"), 0))  # must not join the first one's batch
    await asyncio.gather(busy, first, second)
    assert await read == {"first"}


async def test_a_cancelled_writer_leaves_the_others_their_writes(db: Database) -> None:
    busy = asyncio.ensure_future(db.run(lambda conn: time.sleep(0.1)))
    await asyncio.sleep(0.02)
    writes = [asyncio.ensure_future(db.write(insert(f"k{n}"), 0)) for n in range(3)]
    await asyncio.sleep(0)
    writes[1].cancel()
    assert await asyncio.gather(busy, writes[0], writes[2]) == [None, "k0", "k2"]
    assert keys(db.path) == {"k0", "k1", "k2"}  # a write once queued runs, as a job on the thread does


async def test_a_write_after_close_is_refused(db: Database) -> None:
    await db.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await db.write(insert("late"), 0)
