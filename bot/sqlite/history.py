"""Conversation history in SQLite, with the Redis store's semantics (see bot/history.py).

`chat` holds a conversation's deadline, renewed by every append (the Redis key's TTL);
`chat_message` its messages, oldest first, trimmed to the newest `max_messages` in the same
transaction as the append; `chat_model` the `model use` choice with its own deadline, as in Redis.
"""

from __future__ import annotations

import sqlite3

from bot.history import HistorySettings, Message, _decode, _encode, trim_to_turn
from bot.sqlite.db import Database, transaction

_LOAD = """
SELECT message FROM chat_message
WHERE key = ?1 AND EXISTS (SELECT 1 FROM chat WHERE key = ?1 AND expires_at > ?2)
ORDER BY seq DESC LIMIT ?3
"""
# An expired conversation starts again from nothing, as an expired Redis list does.
_DROP_EXPIRED = """
DELETE FROM chat_message
WHERE key = ?1 AND NOT EXISTS (SELECT 1 FROM chat WHERE key = ?1 AND expires_at > ?2)
"""
_TRIM = """
DELETE FROM chat_message WHERE key = ?1 AND seq < (
    SELECT min(seq) FROM (SELECT seq FROM chat_message WHERE key = ?1 ORDER BY seq DESC LIMIT ?2)
)
"""
_RENEW = """
INSERT INTO chat (key, expires_at) VALUES (?1, ?2)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
"""


class SQLiteConversationStore:
    """History that survives a restart, shared by the processes that open the same file."""

    def __init__(self, db: Database, *, max_messages: int = 20, ttl_seconds: float = 7 * 86400) -> None:
        self.db = db
        self.max_messages = max_messages
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_settings(cls, db: Database, settings: HistorySettings) -> SQLiteConversationStore:
        return cls(db, max_messages=settings.max_messages, ttl_seconds=settings.ttl_seconds)

    async def load(self, key: str) -> list[Message]:
        args = (key, self.db.now(), self.max_messages)
        rows = await self.db.run(lambda conn: conn.execute(_LOAD, args).fetchall())
        return trim_to_turn(_decode([raw for (raw,) in reversed(rows)], key))

    async def append(self, key: str, messages: list[Message]) -> None:
        """One transaction: drop an expired past, insert, trim, renew the deadline."""
        if not messages:
            return
        encoded = _encode(messages)
        now = self.db.now()

        def job(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute(_DROP_EXPIRED, (key, now))
                conn.executemany(
                    "INSERT INTO chat_message (key, message) VALUES (?, ?)", [(key, m) for m in encoded]
                )
                conn.execute(_TRIM, (key, self.max_messages))
                conn.execute(_RENEW, (key, now + self.ttl_seconds))

        await self.db.write(job, now)

    async def clear(self, key: str) -> None:
        def job(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                for table in ("chat_message", "chat", "chat_model"):
                    conn.execute(f"DELETE FROM {table} WHERE key = ?", (key,))

        await self.db.write(job, self.db.now())

    async def get_model(self, key: str) -> str | None:
        args = (key, self.db.now())
        row = await self.db.run(
            lambda conn: conn.execute(
                "SELECT model FROM chat_model WHERE key = ? AND expires_at > ?", args
            ).fetchone()
        )
        return str(row[0]) if row else None

    async def set_model(self, key: str, name: str) -> None:
        now = self.db.now()
        args = (key, name, now + self.ttl_seconds)
        sql = (
            "INSERT INTO chat_model (key, model, expires_at) VALUES (?, ?, ?) ON CONFLICT (key)"
            " DO UPDATE SET model = excluded.model, expires_at = excluded.expires_at"
        )
        await self.db.write(lambda conn: conn.execute(sql, args).close(), now)

    async def close(self) -> None:
        """Nothing: the shared database is closed by `SQLiteStores.aclose()`."""
