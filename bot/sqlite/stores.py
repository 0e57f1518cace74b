"""The state directory and the four stores over one shared `avibot.db` connection."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.dedup import DEFAULT_TTL_SECONDS as DEDUP_TTL_SECONDS
from bot.pending import DEFAULT_TTL_SECONDS as PENDING_TTL_SECONDS
from bot.sqlite.audit import SQLiteAuditLog
from bot.sqlite.db import DEFAULT_BUSY_TIMEOUT, DEFAULT_PRUNE_INTERVAL, Database, StateFileError
from bot.sqlite.dedup import SQLiteDeduper
from bot.sqlite.history import SQLiteConversationStore
from bot.sqlite.pending import SQLitePendingStore

DB_FILENAME = "avibot.db"


class StateSettings(BaseModel):
    """Where `avibot serve` keeps its state when there is no Redis."""

    model_config = ConfigDict(extra="forbid")

    state_dir: Path = Field(
        Path(".avibot"),
        description="directory of avibot.db; created owner-only (0700) if missing, used as is if not",
    )

    @property
    def db_path(self) -> Path:
        return self.state_dir / DB_FILENAME


def make_state_dir(state_dir: Path) -> None:
    """Create `state_dir` (and missing parents) with mode 0700. An existing directory is left as it
    is, permissions included: it may be a mount point or shared on purpose."""
    try:
        state_dir.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not state_dir.is_dir():
            raise StateFileError(f"state directory {state_dir} exists and is not a directory") from None
        return
    except OSError as exc:
        raise StateFileError(f"cannot create state directory {state_dir}: {exc.strerror}") from exc
    os.chmod(state_dir, 0o700)  # mkdir's mode is masked by the umask


@dataclass
class SQLiteStores:
    """History, pending actions, audit and de-dup on one connection; `aclose()` closes it."""

    db: Database
    history: SQLiteConversationStore
    pending: SQLitePendingStore
    audit: SQLiteAuditLog
    deduper: SQLiteDeduper

    @property
    def path(self) -> Path:
        return self.db.path

    async def aclose(self) -> None:
        await self.db.close()


async def open_sqlite_stores(
    state_dir: Path,
    *,
    max_messages: int = 20,
    history_ttl_seconds: float = 7 * 86400,
    pending_tombstone_ttl_seconds: float = PENDING_TTL_SECONDS,
    dedup_ttl_seconds: int = DEDUP_TTL_SECONDS,
    create: bool = True,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    prune_interval: float = DEFAULT_PRUNE_INTERVAL,
    clock: Callable[[], float] = time.time,
) -> SQLiteStores:
    """Open `<state_dir>/avibot.db`, creating the directory (0700) and the file (0600) if missing.

    With `create=False` (a reader such as `avibot audit`) nothing is created: StateFileError if the
    file is not there. StateFileError also when it is not a database or is from a newer avibot."""
    if create:
        make_state_dir(state_dir)
    db = await Database.open(
        state_dir / DB_FILENAME,
        create=create,
        busy_timeout=busy_timeout,
        prune_interval=prune_interval,
        clock=clock,
    )
    return SQLiteStores(
        db=db,
        history=SQLiteConversationStore(db, max_messages=max_messages, ttl_seconds=history_ttl_seconds),
        pending=SQLitePendingStore(db, tombstone_ttl_seconds=pending_tombstone_ttl_seconds),
        audit=SQLiteAuditLog(db),
        deduper=SQLiteDeduper(db, ttl_seconds=dedup_ttl_seconds),
    )
