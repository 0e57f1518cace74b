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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

from bot.sqlite.schema import PRUNE, SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for another process's lock
DEFAULT_PRUNE_INTERVAL = 60.0  # seconds between sweeps of expired rows (done after a write)


class StateFileError(Exception):
    """The state file cannot be used (missing, not a database, or written by a newer avibot)."""


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE ... COMMIT`, rolled back on any error. Only inside a job."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


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
        return await asyncio.get_running_loop().run_in_executor(self._executor, job, self._conn)

    async def write(self, job: Callable[[sqlite3.Connection], T], now: float) -> T:
        """`run`, then forget expired rows if the last sweep is `prune_interval` old."""

        def write_then_prune(conn: sqlite3.Connection) -> T:
            result = job(conn)
            if now - self._pruned_at >= self.prune_interval:
                self._prune(conn, now)
            return result

        return await self.run(write_then_prune)

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
