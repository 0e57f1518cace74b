"""One SQLite file, one connection, one worker thread.

Every call is a plain function `job(conn)` run on the database's own thread (a single-worker
executor): the event loop never waits for the disk or for another process's lock, and jobs run one
at a time, in order, so a multi-statement transaction inside a job never interleaves with another
coroutine's statements on the shared connection.

Between processes SQLite's locking decides. The connection is in autocommit mode
(`isolation_level=None`); a write is either one statement (`UPDATE ... RETURNING`) or a
`BEGIN IMMEDIATE` transaction (`transaction()`), which takes the write lock before it reads, so it
waits up to `busy_timeout` for another writer instead of failing with "database is locked".
WAL lets readers run while one process writes. `synchronous` stays FULL: a claimed confirmation
must not roll back after a power loss and then run a second time.

Group commit: writes that arrive while the thread is busy wait in one batch, which then runs as one
`BEGIN IMMEDIATE ... COMMIT` with a savepoint per write (a write's own `transaction()` becomes a savepoint
of it): a hundred turns ending at once cost one commit and one sync, not a hundred. A write that fails
is rolled back alone; a commit that fails fails every write of its batch. Nothing is reported done before
its commit, and order is kept: a write joins a batch only when nothing was submitted after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.sqlite.schema import PRUNE, SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for another process's lock
DEFAULT_PRUNE_INTERVAL = 60.0  # seconds between sweeps of expired rows (done after a write)


class StateFileError(Exception):
    """The state file cannot be used (missing, not a database, or written by a newer avibot)."""


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE ... COMMIT`, rolled back on any error. Only inside a job; inside a group
    commit (see `Database.write`), a savepoint of it that is rolled back alone."""
    if conn.in_transaction:
        with _savepoint(conn, "job"):
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def _savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # an I/O or full-disk error may have rolled back everything already
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


Outcome = tuple[bool, Any]  # (True, result) or (False, exception)


@dataclass
class _Batch:
    """Writes that run in one transaction: (job, now, future) each, in the order they came."""

    writes: list[tuple[Callable[[sqlite3.Connection], Any], float, asyncio.Future[Any]]]
    started: bool = False
    outcomes: list[Outcome] = field(default_factory=list)


def _enable_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    """`PRAGMA journal_mode = WAL`, retried: while another process opens the fresh file, SQLite answers
    SQLITE_BUSY at once instead of waiting `busy_timeout` (the mode then persists in the file)."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return str(mode)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _connect(path: Path, *, create: bool, busy_timeout: float) -> sqlite3.Connection:
    if create:
        # The file is owner-only from its first byte (SQLite gives -wal and -shm the same mode).
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    elif not path.is_file():
        raise StateFileError(f"{path} does not exist")
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = _enable_wal(conn, busy_timeout)
        if mode != "wal":
            log.warning("%s: journal mode is %s, not WAL (a filesystem without shared memory?)", path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StateFileError(
                f"{path} was written by a newer avibot (schema {version}, this one knows {SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
            )
    except BaseException:
        conn.close()
        raise
    return conn


class Database:
    """An open `avibot.db`. Use `await Database.open(path)`; `await db.close()` at the end."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        *,
        clock: Callable[[], float],
        prune_interval: float,
    ) -> None:
        self.path = path
        self.prune_interval = prune_interval
        self._conn = conn
        self._executor = executor
        self._clock = clock
        self._pruned_at = -float("inf")  # read and written on the worker thread only
        self._closed = False
        self._lock = threading.Lock()  # guards `_batch` and `_Batch.started` (loop and worker thread)
        self._batch: _Batch | None = None  # the last thing submitted, when it is a batch not yet started

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        create: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        prune_interval: float = DEFAULT_PRUNE_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> Database:
        """Open (or, with `create`, create) the file, switch it to WAL, create the tables, prune.

        StateFileError when it cannot be used, naming the file."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="avibot-sqlite")
        connect = partial(_connect, path, create=create, busy_timeout=busy_timeout)
        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise StateFileError(f"cannot open {path}: {exc}") from exc
        except BaseException:
            executor.shutdown(wait=False)
            raise
        db = cls(path, conn, executor, clock=clock, prune_interval=prune_interval)
        await db.run(lambda c: db._prune(c, db.now()))
        return db

    def now(self) -> float:
        """Wall-clock seconds (injectable for tests): expiries must mean the same after a restart."""
        return self._clock()

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job(conn)` on the database thread, after every job submitted before it."""
        if self._closed:
            raise sqlite3.ProgrammingError(f"the store {self.path} is closed")
        with self._lock:
            self._batch = None  # a later write must not join a batch submitted before this job
        return await asyncio.get_running_loop().run_in_executor(self._executor, job, self._conn)

    async def write(self, job: Callable[[sqlite3.Connection], T], now: float) -> T:
        """`run` in a group commit (see the module's docstring), then forget expired rows if the last
        sweep is `prune_interval` old. `job` may use `transaction()`; its result is returned once
        committed."""
        if self._closed:
            raise sqlite3.ProgrammingError(f"the store {self.path} is closed")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        with self._lock:
            batch = self._batch
            joined = batch is not None and not batch.started
            if batch is not None and joined:
                batch.writes.append((job, now, done))
            else:
                batch = self._batch = _Batch([(job, now, done)])
        if not joined:
            try:
                ran = loop.run_in_executor(self._executor, self._write_batch, batch)
            except BaseException:
                with self._lock:  # nobody joined it: nothing was awaited since it was made
                    self._batch = None
                raise
            ran.add_done_callback(lambda _: _settle(batch))
        return await done

    def _write_batch(self, batch: _Batch) -> None:
        """On the worker thread: every write of the batch, one commit, then the sweep when it is due."""
        with self._lock:
            batch.started = True
            if self._batch is batch:
                self._batch = None
        conn = self._conn
        jobs = [job for job, _, _ in batch.writes]
        if len(jobs) == 1:
            batch.outcomes = [_outcome(jobs[0], conn)]
        else:
            batch.outcomes = _in_one_transaction(jobs, conn)
        now = max(now for _, now, _ in batch.writes)
        if now - self._pruned_at >= self.prune_interval:
            self._prune(conn, now)

    async def prune(self) -> int:
        """Delete every expired row now; returns how many."""
        return await self.run(lambda conn: self._prune(conn, self.now()))

    def _prune(self, conn: sqlite3.Connection, now: float) -> int:
        self._pruned_at = now
        try:
            with transaction(conn):
                return sum(conn.execute(sql, (now,)).rowcount for sql in PRUNE)
        except sqlite3.OperationalError as exc:  # busy past the timeout: the next write tries again
            log.warning("could not prune expired rows from %s: %s", self.path, exc)
            return 0

    async def close(self) -> None:
        """Close after every job already submitted has run (the last close also folds the WAL in)."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        finally:
            self._executor.shutdown(wait=False)


def _outcome(job: Callable[[sqlite3.Connection], Any], conn: sqlite3.Connection) -> Outcome:
    try:
        return True, job(conn)
    except Exception as exc:
        return False, exc


def _in_one_transaction(
    jobs: list[Callable[[sqlite3.Connection], Any]], conn: sqlite3.Connection
) -> list[Outcome]:
    """Each job in its own savepoint of one `BEGIN IMMEDIATE ... COMMIT`."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except Exception as exc:
        return [(False, exc)] * len(jobs)
    outcomes: list[Outcome] = []
    try:
        for job in jobs:
            try:
                with _savepoint(conn, "write"):
                    outcomes.append((True, job(conn)))
            except Exception as exc:
                outcomes.append((False, exc))
                if not conn.in_transaction:  # the whole transaction is gone: nothing of it holds
                    raise
        conn.execute("COMMIT")
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [(False, exc if ok else value) for ok, value in outcomes] + [(False, exc)] * (
            len(jobs) - len(outcomes)
        )
    return outcomes


def _settle(batch: _Batch) -> None:
    """On the event loop, once the batch ran: each writer gets its result or its exception."""
    for (_, _, done), (ok, value) in zip(batch.writes, batch.outcomes, strict=False):
        if done.done():  # its writer was cancelled; the write itself happened (or failed) all the same
            continue
        if ok:
            done.set_result(value)
        else:
            done.set_exception(value)
    for _, _, done in batch.writes[len(batch.outcomes) :]:  # the batch itself failed to run
        if not done.done():
            done.set_exception(sqlite3.OperationalError("the write did not run"))
