"""The audit trail in SQLite: append-only, every entry kept (no cap, unlike the Redis stream).

As with Redis, the log line on `avibot.audit` is written first and a storage failure is logged,
never raised: the change already happened, and its record must not turn the reply into an error.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from bot.audit import AuditEntry, _log
from bot.sqlite.db import Database

log = logging.getLogger("avibot.audit")

_INSERT = "INSERT INTO audit (time_us, entry) VALUES (?, ?)"


def _micros(when: datetime) -> int:
    return round(when.timestamp() * 1_000_000)


class SQLiteAuditLog:
    """`audit` rows in insertion order; `recent` and `since` read them newest first."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, entry: AuditEntry) -> None:
        _log(entry)
        args = (_micros(entry.time), entry.model_dump_json())
        try:
            await self.db.write(lambda conn: conn.execute(_INSERT, args).close(), self.db.now())
        except sqlite3.Error as exc:
            log.error(
                "audit table write failed (%s: %s); the entry above is in the log only",
                type(exc).__name__,
                exc,
            )

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        if limit <= 0:
            return []
        return await self._select("SELECT entry FROM audit ORDER BY seq DESC LIMIT ?", (limit,))

    async def since(self, when: datetime, limit: int | None = None) -> list[AuditEntry]:
        """Entries whose time is `when` or later, newest first (at most `limit` of them)."""
        if limit is not None and limit <= 0:
            return []
        sql = "SELECT entry FROM audit WHERE time_us >= ? ORDER BY seq DESC LIMIT ?"
        return await self._select(sql, (_micros(when), -1 if limit is None else limit))

    async def _select(self, sql: str, args: tuple[int, ...]) -> list[AuditEntry]:
        rows = await self.db.run(lambda conn: conn.execute(sql, args).fetchall())
        return [AuditEntry.model_validate_json(raw) for (raw,) in rows]

    async def close(self) -> None:
        """Nothing: the shared database is closed by `SQLiteStores.aclose()`."""
