"""The alert store in the embedded `avibot.db` (one machine, any number of processes on it).

Its own tables, created on open (`CREATE TABLE IF NOT EXISTS`, so the core schema's version is not
touched). Every operation is one statement, atomic between processes: a claim is
`INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING` (true for exactly one caller, as the
de-dup table does it); counters are `… DO UPDATE SET n = n + ? RETURNING n`. SQLite has no TTL: rows
carry `expires_at` (wall-clock seconds), readers ignore expired ones, and writes prune now and then.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.sqlite.db import Database, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_kv_expiry ON alert_kv (expires_at);
-- Sets (n = 1) and maps of counts, one row per member or field.
CREATE TABLE IF NOT EXISTS alert_item (
    key TEXT NOT NULL,
    item TEXT NOT NULL,
    n INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (key, item)
);
CREATE INDEX IF NOT EXISTS alert_item_expiry ON alert_item (expires_at);
"""

_CLAIM = """
INSERT INTO alert_kv (key, value, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
WHERE alert_kv.expires_at <= ?4
RETURNING 1
"""
_PUT = """
INSERT INTO alert_kv (key, value, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
"""
# A live counter keeps its deadline; an expired one starts again from `amount`.
_INCR = """
INSERT INTO alert_kv (key, value, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN alert_kv.expires_at <= ?4 THEN excluded.value
                 ELSE CAST(CAST(alert_kv.value AS INTEGER) + ?2 AS TEXT) END,
    expires_at = CASE WHEN alert_kv.expires_at <= ?4 THEN excluded.expires_at ELSE alert_kv.expires_at END
RETURNING value
"""
_ADD_ITEM = """
INSERT INTO alert_item (key, item, n, expires_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (key, item) DO UPDATE SET
    n = CASE WHEN alert_item.expires_at <= ?5 THEN excluded.n ELSE alert_item.n + ?6 END,
    expires_at = excluded.expires_at
"""
_PRUNE = (
    "DELETE FROM alert_kv WHERE expires_at <= ?1",
    "DELETE FROM alert_item WHERE expires_at <= ?1",
)
PRUNE_INTERVAL = 60.0


class SQLiteAlertStore:
    """`await SQLiteAlertStore.open(db)` on the shared `Database` (see bot/sqlite/stores.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pruned_at = -float("inf")

    @classmethod
    async def open(cls, db: Database) -> SQLiteAlertStore:
        await db.run(lambda conn: conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;"))
        return cls(db)

    async def _write(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        now = self.db.now()
        prune = now - self._pruned_at >= PRUNE_INTERVAL
        if prune:
            self._pruned_at = now

        def job(conn: sqlite3.Connection) -> list[Any]:
            rows = conn.execute(sql, args).fetchall()
            if prune:
                with transaction(conn):
                    for statement in _PRUNE:
                        conn.execute(statement, (now,))
            return rows

        return await self.db.run(job)

    async def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        return await self.db.run(lambda conn: conn.execute(sql, args).fetchall())

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        now = self.db.now()
        return bool(await self._write(_CLAIM, (key, value, now + ttl, now)))

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self._write(_PUT, (key, value, self.db.now() + ttl))

    async def get(self, key: str) -> str | None:
        rows = await self._read(
            "SELECT value FROM alert_kv WHERE key = ? AND expires_at > ?", (key, self.db.now())
        )
        return str(rows[0][0]) if rows else None

    async def delete(self, key: str) -> None:
        await self._write("DELETE FROM alert_kv WHERE key = ?", (key,))

    async def incr(self, key: str, amount: int, ttl: float) -> int:
        now = self.db.now()
        rows = await self._write(_INCR, (key, amount, now + ttl, now))
        return int(rows[0][0])

    async def _add(self, key: str, item: str, amount: int, ttl: float, *, add: int) -> None:
        now = self.db.now()
        deadline = now + ttl

        def job(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute(_ADD_ITEM, (key, item, amount, deadline, now, add))
                conn.execute("UPDATE alert_item SET expires_at = ? WHERE key = ?", (deadline, key))

        await self.db.run(job)

    async def add_member(self, key: str, member: str, ttl: float) -> None:
        await self._add(key, member, 1, ttl, add=0)

    async def remove_member(self, key: str, member: str) -> None:
        await self._write("DELETE FROM alert_item WHERE key = ? AND item = ?", (key, member))

    async def members(self, key: str) -> set[str]:
        rows = await self._read(
            "SELECT item FROM alert_item WHERE key = ? AND expires_at > ?", (key, self.db.now())
        )
        return {str(r[0]) for r in rows}

    async def count_field(self, key: str, field: str, amount: int, ttl: float) -> None:
        await self._add(key, field, amount, ttl, add=amount)

    async def field_counts(self, key: str) -> dict[str, int]:
        rows = await self._read(
            "SELECT item, n FROM alert_item WHERE key = ? AND expires_at > ?", (key, self.db.now())
        )
        return {str(r[0]): int(r[1]) for r in rows}
