"""The embedded SQLite store on real files: restarts, racing OS processes, TTLs, pruning, the state dir.

The semantic tests shared with Redis and memory run from tests/bot/test_history.py, test_pending.py and
test_audit.py (their `sqlite` parameter); this file covers what only a file on disk can show.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.audit import AuditEntry
from bot.dedup import EventDeduper, MemoryDeduper, RedisDeduper
from bot.pending import PendingAction, Status, resolve
from bot.permissions import Access
from bot.sqlite import (
    DB_FILENAME,
    SQLiteStores,
    StateFileError,
    StateSettings,
    open_sqlite_stores,
)
from bot.types import Inbound, Risk, Role, User

ROOT = Path(__file__).resolve().parents[2]
CONV = "slack:T1:C1:1700000000.0001"
ALICE = User(id="U1", name="alice")
OLIVIA = User(id="U7", name="olivia")
OPERATOR = Access(role=Role.OPERATOR)


class FakeClock:
    """Wall-clock seconds that only move when told (starts at the real time: actions carry real times)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make_action(ttl: float = 600, **over: Any) -> PendingAction:
    fields: dict[str, Any] = {
        "tool": "vs_disable",
        "arguments": {"name": "vs-web"},
        "risk": Risk.WRITE,
        "summary": "Disable virtual service vs-web",
        "requested_by": ALICE,
        "platform": "slack",
        "conversation_key": CONV,
        "channel": "C1",
    }
    return PendingAction.new(ttl_seconds=ttl, **{**fields, **over})


def inbound(who: User) -> Inbound:
    return Inbound(platform="slack", conversation_key=CONV, user=who, text="confirm", channel="C1")


def entry(n: int, **over: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "user_id": "U1",
        "user_name": "alice",
        "platform": "slack",
        "channel": "C1",
        "action": "vs_disable",
        "arguments": {"name": f"vs-{n}"},
        "risk": Risk.WRITE,
        "result": "ok",
        "action_id": f"act{n:07d}",
    }
    return AuditEntry.model_validate({**fields, **over})


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


OpenStores = Callable[..., Any]


@pytest.fixture
async def open_stores(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """`await open_stores(**kw)` on `tmp_path/state`; every one opened is closed after the test."""
    opened: list[SQLiteStores] = []

    async def _open(**kw: Any) -> SQLiteStores:
        stores = await open_sqlite_stores(kw.pop("state_dir", tmp_path / "state"), **kw)
        opened.append(stores)
        return stores

    yield _open
    for stores in opened:
        await stores.aclose()


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    conn.close()
    return int(count)


def run_python(code: str, *args: str, stdin: str = "") -> str:
    """Run `code` in a fresh interpreter (a real process of its own); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- the state directory and the file ----------------------------------------------------------------


async def test_the_state_dir_is_created_owner_only(tmp_path: Path, open_stores: OpenStores) -> None:
    state = tmp_path / "var" / "avibot"
    stores = await open_stores(state_dir=state)
    assert stores.path == state / DB_FILENAME
    assert (state.stat().st_mode & 0o777) == 0o700
    assert ((state / DB_FILENAME).stat().st_mode & 0o777) == 0o600
    with sqlite3.connect(state / DB_FILENAME) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


async def test_an_existing_state_dir_is_used_as_it_is(tmp_path: Path, open_stores: OpenStores) -> None:
    state = tmp_path / "shared"
    state.mkdir()
    state.chmod(0o750)
    await open_stores(state_dir=state)
    assert (state.stat().st_mode & 0o777) == 0o750


async def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")
    with pytest.raises(StateFileError, match="not a directory"):
        await open_sqlite_stores(tmp_path / "state")


async def test_a_reader_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="does not exist"):
        await open_sqlite_stores(tmp_path / "state", create=False)
    assert not (tmp_path / "state").exists()


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / DB_FILENAME).write_bytes(b"this is not a database, it is a text file\n" * 100)
    with pytest.raises(StateFileError, match=r"cannot open .*avibot\.db"):
        await open_sqlite_stores(tmp_path / "state")


async def test_a_file_from_a_newer_avibot_is_refused(tmp_path: Path, open_stores: OpenStores) -> None:
    stores = await open_stores()
    await stores.aclose()
    with sqlite3.connect(stores.path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StateFileError, match="newer avibot"):
        await open_sqlite_stores(tmp_path / "state")


def test_state_settings() -> None:
    assert StateSettings().state_dir == Path(".avibot")
    assert StateSettings(state_dir=Path("/var/lib/avibot")).db_path == Path("/var/lib/avibot/avibot.db")
    with pytest.raises(ValueError, match="extra"):
        StateSettings(unknown=1)  # type: ignore[call-arg]


# -- a restart loses nothing -------------------------------------------------------------------------

PUT_ACTION = """
import asyncio, sys
from pathlib import Path
from bot.pending import PendingAction
from bot.sqlite import open_sqlite_stores
from bot.types import Risk, User

async def main() -> None:
    stores = await open_sqlite_stores(Path(sys.argv[1]))
    action = PendingAction.new(
        tool="vs_disable", arguments={"name": "vs-web"}, risk=Risk.WRITE, summary="Disable vs-web",
        requested_by=User(id="U1", name="alice"), platform="slack", conversation_key=sys.argv[2],
    )
    await stores.pending.put(action)
    await stores.aclose()
    print(action.id)

asyncio.run(main())
"""


async def test_a_pending_action_put_by_a_process_that_exited_is_confirmed_once(
    tmp_path: Path, open_stores: OpenStores
) -> None:
    action_id = run_python(PUT_ACTION, str(tmp_path / "state"), CONV).strip()
    stores = await open_stores()  # the "restarted" server
    ready = await resolve(stores.pending, action_id, "confirm", inbound(OLIVIA), OPERATOR)
    assert ready.status is Status.READY
    assert ready.action is not None
    assert ready.action.summary == "Disable vs-web"
    again = await resolve(stores.pending, action_id, "confirm", inbound(ALICE), OPERATOR)
    assert again.status is Status.ALREADY_CONFIRMED
    assert again.message == f"Action {action_id} was already confirmed by olivia."


async def test_pending_history_and_audit_survive_a_reopen(open_stores: OpenStores) -> None:
    first = await open_stores()
    action = make_action()
    await first.pending.put(action)
    await first.history.append(CONV, [user("q"), assistant("a")])
    await first.history.set_model(CONV, "qwen2.5:7b")
    requested = entry(1, result="requested")
    await first.audit.record(requested)
    await first.aclose()

    second = await open_stores()
    assert await second.pending.get(action.id) == action
    assert await second.history.load(CONV) == [user("q"), assistant("a")]
    assert await second.history.get_model(CONV) == "qwen2.5:7b"
    assert await second.audit.recent() == [requested]
    assert await second.pending.claim(action.id, OLIVIA) == action
    await second.aclose()

    third = await open_stores()
    assert await third.pending.claim(action.id, ALICE) is None
    assert await third.pending.outcome(action.id) == "confirmed by olivia"


# -- racing OS processes -----------------------------------------------------------------------------

CLAIM_RACE = """
import asyncio, json, random, sys, time
from pathlib import Path
from bot.sqlite import open_sqlite_stores
from bot.types import User

async def main(state_dir: str, name: str, go: str, ids_json: str) -> None:
    ids = json.loads(ids_json)
    random.shuffle(ids)
    stores = await open_sqlite_stores(Path(state_dir))
    Path(state_dir, name + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    me = User(id=name, name=name)
    won = [i for i in ids if await stores.pending.claim(i, me) is not None]
    await stores.aclose()
    print(json.dumps(won))

asyncio.run(main(*sys.argv[1:5]))
"""


def start_racers(code: str, state: Path, names: list[str], *args: str) -> list[subprocess.Popen[str]]:
    """Start one process per name, wait until each has opened the store, then let them all go at once."""
    go = state / "go"
    procs = []
    for name in names:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(state), name, str(go), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        procs.append(proc)
    deadline = time.monotonic() + 60
    while not all((state / f"{name}.ready").exists() for name in names):
        assert all(p.poll() is None for p in procs), [p.communicate()[1] for p in procs]
        assert time.monotonic() < deadline, "the racers did not start"
        time.sleep(0.01)
    go.touch()
    return procs


def finish(procs: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out)
    return outputs


async def test_four_processes_claim_each_of_200_actions_exactly_once(open_stores: OpenStores) -> None:
    stores = await open_stores()
    actions = [make_action() for _ in range(200)]
    for action in actions:
        await stores.pending.put(action)
    ids = [a.id for a in actions]
    names = ["p1", "p2", "p3", "p4"]

    procs = await asyncio.to_thread(start_racers, CLAIM_RACE, stores.path.parent, names, json.dumps(ids))
    outputs = await asyncio.to_thread(finish, procs)

    won = {name: json.loads(out) for name, out in zip(names, outputs, strict=True)}
    every_win = [i for wins in won.values() for i in wins]
    assert sorted(every_win) == sorted(ids)  # each claimed, none twice
    for name, wins in won.items():
        for action_id in wins:
            settled = await stores.pending.settled(action_id)
            assert settled is not None
            assert (settled.outcome, settled.by_id) == ("confirmed", name)


OPEN_RACE = """
import asyncio, sys, time
from pathlib import Path
from bot.sqlite import open_sqlite_stores

async def main(state_dir: str, name: str, go: str) -> None:
    Path(state_dir, name + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.0005)
    stores = await open_sqlite_stores(Path(state_dir, "fresh"))  # every racer creates it
    print(await stores.deduper.first_time("evt"))
    await stores.aclose()

asyncio.run(main(*sys.argv[1:4]))
"""


async def test_processes_creating_a_fresh_state_dir_at_once(tmp_path: Path) -> None:
    names = [f"p{n}" for n in range(6)]
    procs = await asyncio.to_thread(start_racers, OPEN_RACE, tmp_path, names)
    outputs = await asyncio.to_thread(finish, procs)
    assert sorted(out.strip() for out in outputs) == ["False"] * 5 + ["True"]


class BusyThenWal:
    """A connection whose `PRAGMA journal_mode = WAL` answers SQLITE_BUSY `busy` times, then "wal" (what
    racing openers of a fresh file see, without the busy handler ever waiting)."""

    def __init__(self, busy: int, code: int = sqlite3.SQLITE_BUSY) -> None:
        self.busy, self.code, self.calls = busy, code, 0

    def execute(self, sql: str) -> Any:
        self.calls += 1
        if self.calls <= self.busy:
            exc = sqlite3.OperationalError("database is locked")
            exc.sqlite_errorcode = self.code
            raise exc
        return self

    def fetchone(self) -> tuple[str]:
        return ("wal",)


def test_switching_to_wal_is_retried_while_busy_until_the_timeout() -> None:
    from bot.sqlite.db import _enable_wal

    conn = BusyThenWal(busy=3)
    assert _enable_wal(conn, busy_timeout=5.0) == "wal"  # type: ignore[arg-type]
    assert conn.calls == 4
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _enable_wal(BusyThenWal(busy=10**6), busy_timeout=0.05)  # type: ignore[arg-type]
    other = BusyThenWal(busy=1, code=sqlite3.SQLITE_IOERR)
    with pytest.raises(sqlite3.OperationalError):
        _enable_wal(other, busy_timeout=5.0)  # type: ignore[arg-type]
    assert other.calls == 1  # only "busy" is retried


APPEND_RACE = """
import asyncio, sys, time
from pathlib import Path
from bot.sqlite import open_sqlite_stores

async def main(state_dir: str, name: str, go: str) -> None:
    stores = await open_sqlite_stores(Path(state_dir), max_messages=1000)
    Path(state_dir, name + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    for n in range(100):
        turn = [{"role": "user", "content": f"{name} q{n}"}, {"role": "assistant", "content": f"{name} a{n}"}]
        await stores.history.append("web:shared", turn)
    await stores.aclose()

asyncio.run(main(*sys.argv[1:4]))
"""


async def test_appends_from_two_processes_keep_whole_turns(open_stores: OpenStores) -> None:
    stores = await open_stores(max_messages=1000)
    procs = await asyncio.to_thread(start_racers, APPEND_RACE, stores.path.parent, ["a", "b"])
    await asyncio.to_thread(finish, procs)
    loaded = await stores.history.load("web:shared")
    assert len(loaded) == 400
    for q, a in zip(loaded[::2], loaded[1::2], strict=True):  # a turn is never split by the other's
        assert a["content"] == q["content"].replace(" q", " a")
    for name in ("a", "b"):
        mine = [m["content"] for m in loaded if m["content"].startswith(f"{name} q")]
        assert mine == [f"{name} q{n}" for n in range(100)]


# -- TTLs and pruning --------------------------------------------------------------------------------


async def test_ttls_with_an_injected_clock(open_stores: OpenStores) -> None:
    clock = FakeClock()
    stores = await open_stores(history_ttl_seconds=60, pending_tombstone_ttl_seconds=30, clock=clock)
    await stores.history.append(CONV, [user("q")])
    await stores.history.set_model(CONV, "llama3.1:8b")
    action = make_action(ttl=600)
    await stores.pending.put(action)
    await stores.pending.claim(action.id, OLIVIA)

    clock.now += 29
    await stores.history.append(CONV, [assistant("a")])  # renews the history, not the model choice
    assert await stores.pending.outcome(action.id) == "confirmed by olivia"
    clock.now += 1
    assert await stores.pending.settled(action.id) is None  # the tombstone is gone
    clock.now += 30
    assert await stores.history.load(CONV) == [user("q"), assistant("a")]
    assert await stores.history.get_model(CONV) is None
    clock.now += 28
    assert await stores.history.load(CONV) == [user("q"), assistant("a")]
    clock.now += 1  # 60 s after the last append
    assert await stores.history.load(CONV) == []


async def test_a_pending_action_expires_at_its_own_time(open_stores: OpenStores) -> None:
    clock = FakeClock()
    stores = await open_stores(clock=clock)
    action = make_action(ttl=120)
    await stores.pending.put(action)
    clock.now += 119
    assert await stores.pending.get(action.id) == action
    clock.now += 2
    assert await stores.pending.get(action.id) is None
    assert await stores.pending.claim(action.id, OLIVIA) is None
    assert await stores.pending.settled(action.id) is None
    await stores.pending.put(action.model_copy(update={"expires_at": action.expires_at + timedelta(hours=1)}))


async def test_an_expired_conversation_starts_afresh(open_stores: OpenStores) -> None:
    clock = FakeClock()
    stores = await open_stores(history_ttl_seconds=60, clock=clock)
    await stores.history.append(CONV, [user("old"), assistant("old")])
    clock.now += 61
    await stores.history.append(CONV, [user("new")])
    assert await stores.history.load(CONV) == [user("new")]


async def test_expired_rows_are_pruned(open_stores: OpenStores) -> None:
    clock = FakeClock()
    stores = await open_stores(
        history_ttl_seconds=60, pending_tombstone_ttl_seconds=60, dedup_ttl_seconds=60, clock=clock
    )
    for n in range(5):
        await stores.history.append(f"web:{n}", [user("q"), assistant("a")])
        await stores.history.set_model(f"web:{n}", "m")
        await stores.deduper.first_time(f"evt{n}")
        taken = make_action(ttl=30)
        await stores.pending.put(taken)
        await stores.pending.cancel(taken.id, ALICE)
        await stores.pending.put(make_action(ttl=30))
    await stores.audit.record(entry(1))
    await stores.history.append("web:live", [user("q")])
    path = stores.path
    assert rows(path, "chat_message") == 11

    clock.now += 30
    await stores.history.append("web:live", [assistant("a")])  # renewed
    clock.now += 31
    assert await stores.db.prune() == 5 * 2 + 5 + 5 + 10 + 5
    assert rows(path, "chat_message") == 2
    assert (rows(path, "chat"), rows(path, "chat_model"), rows(path, "pending"), rows(path, "dedup")) == (
        1,
        0,
        0,
        0,
    )
    assert rows(path, "audit") == 1  # the audit log is never pruned


async def test_a_write_prunes_once_the_interval_has_passed(open_stores: OpenStores) -> None:
    clock = FakeClock()
    stores = await open_stores(dedup_ttl_seconds=10, prune_interval=60, clock=clock)
    await stores.deduper.first_time("old")
    clock.now += 11
    await stores.deduper.first_time("new")  # only 11 s since the sweep at open
    assert rows(stores.path, "dedup") == 2
    clock.now += 50
    await stores.deduper.first_time("newer")  # 61 s since the last sweep: this write sweeps
    assert rows(stores.path, "dedup") == 1  # "old" and "new" have expired and are gone
    assert await stores.deduper.first_time("newer") is False


# -- the event loop, locks and failures --------------------------------------------------------------


def hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    """Another writer: hold the database's write lock for `seconds` (on a thread, its own connection)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


async def test_waiting_for_another_writer_does_not_block_the_event_loop(open_stores: OpenStores) -> None:
    stores = await open_stores()
    action = make_action()
    await stores.pending.put(action)
    locked = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(stores.path, 0.5, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)

    worst = 0.0
    stop = False

    async def ticker() -> None:
        nonlocal worst
        while not stop:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - before)

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    assert await stores.pending.claim(action.id, OLIVIA) == action  # waits for the lock, then wins
    waited = time.perf_counter() - started
    stop = True
    await tick
    await asyncio.to_thread(holder.join)
    assert waited > 0.3
    assert worst < 0.1


async def test_a_lock_held_past_the_busy_timeout_fails_the_write_not_the_audit(
    open_stores: OpenStores, caplog: pytest.LogCaptureFixture
) -> None:
    stores = await open_stores(busy_timeout=0.1)
    action = make_action()
    await stores.pending.put(action)
    locked = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(stores.path, 0.6, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await stores.pending.claim(action.id, OLIVIA)
    caplog.set_level(logging.INFO, logger="avibot.audit")
    await stores.audit.record(entry(1))  # logged, never raised
    await asyncio.to_thread(holder.join)
    messages = [r.getMessage() for r in caplog.records if r.name == "avibot.audit"]
    assert messages[0].startswith("audit ")
    assert "audit table write failed (OperationalError" in messages[1]
    assert await stores.pending.claim(action.id, OLIVIA) == action  # nothing was taken by the failure


async def test_a_closed_store_refuses_work_and_the_audit_log_still_logs(
    open_stores: OpenStores, caplog: pytest.LogCaptureFixture
) -> None:
    stores = await open_stores()
    await stores.aclose()
    await stores.aclose()  # twice is fine
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await stores.history.load(CONV)
    caplog.set_level(logging.INFO, logger="avibot.audit")
    await stores.audit.record(entry(1))
    assert "audit table write failed (ProgrammingError" in caplog.text


async def test_concurrent_coroutines_share_the_connection(open_stores: OpenStores) -> None:
    stores = await open_stores(max_messages=6)
    actions = [make_action() for _ in range(20)]
    await asyncio.gather(*(stores.pending.put(a) for a in actions))
    turns = [stores.history.append(f"web:{n % 5}", [user(f"q{n}"), assistant(f"a{n}")]) for n in range(50)]
    claims = [stores.pending.claim(a.id, OLIVIA) for a in actions for _ in range(3)]
    results = await asyncio.gather(*turns, *claims)
    assert sum(r is not None for r in results[len(turns) :]) == 20
    for k in range(5):
        loaded = await stores.history.load(f"web:{k}")
        assert [m["content"] for m in loaded] == [f"{p}{n}" for n in range(35 + k, 50, 5) for p in "qa"]


async def test_audit_since_is_newest_first(open_stores: OpenStores) -> None:
    stores = await open_stores()
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    for n in range(6):
        await stores.audit.record(entry(n, time=start + timedelta(hours=n)))
    since = await stores.audit.since(start + timedelta(hours=3))
    assert [e.action_id for e in since] == ["act0000005", "act0000004", "act0000003"]
    assert [e.action_id for e in await stores.audit.since(start, limit=2)] == ["act0000005", "act0000004"]
    assert await stores.audit.since(start, limit=0) == []
    assert await stores.audit.since(start + timedelta(days=1)) == []


# -- de-dup: the same contract in every store --------------------------------------------------------


@pytest.fixture(params=["redis", "memory", "sqlite"])
def deduper(request: pytest.FixtureRequest) -> EventDeduper:
    if request.param == "redis":
        return RedisDeduper(request.getfixturevalue("redis_client"), prefix="t:", ttl_seconds=60)
    if request.param == "sqlite":
        stores: SQLiteStores = request.getfixturevalue("sqlite_stores")
        return stores.deduper
    return MemoryDeduper(ttl_seconds=60)


@pytest.fixture
async def sqlite_stores(open_stores: OpenStores) -> SQLiteStores:
    stores: SQLiteStores = await open_stores(dedup_ttl_seconds=60)
    return stores


async def test_first_time_is_true_once_per_key(deduper: EventDeduper) -> None:
    assert await deduper.first_time("slack:evt:Ev1") is True
    assert await deduper.first_time("slack:evt:Ev1") is False
    assert await deduper.first_time("slack:evt:Ev1", ttl_seconds=5) is False
    assert await deduper.first_time("slack:evt:Ev2", ttl_seconds=5) is True
    results = await asyncio.gather(*(deduper.first_time("slack:evt:Ev3") for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]


async def test_sqlite_dedup_expires_and_holds_across_processes(open_stores: OpenStores) -> None:
    clock = FakeClock()
    a = await open_stores(dedup_ttl_seconds=60, clock=clock)
    b = await open_stores(dedup_ttl_seconds=60, clock=clock)  # a second process's connection
    assert await a.deduper.first_time("evt") is True
    assert await b.deduper.first_time("evt") is False
    clock.now += 60
    assert await b.deduper.first_time("evt") is True
    assert await a.deduper.first_time("evt", ttl_seconds=3600) is False
    assert await a.deduper.first_time("short", ttl_seconds=5) is True
    clock.now += 5
    assert await b.deduper.first_time("short") is True


async def test_memory_deduper_stays_bounded_under_a_flood() -> None:
    deduper = MemoryDeduper(ttl_seconds=3600, max_keys=10_000)
    for n in range(50_000):
        assert await deduper.first_time(f"evt{n}") is True
    assert len(deduper._seen) <= 10_000
    assert await deduper.first_time("evt49999") is False  # the newest are remembered
    assert await deduper.first_time("evt0") is True  # the oldest were evicted
