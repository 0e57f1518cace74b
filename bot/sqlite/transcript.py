"""The transcript in SQLite, with the Redis store's semantics (see bot/transcript.py).

One row per entry in `transcript`, oldest first by `seq`, each carrying the conversation's deadline
(renewed for all of its rows by every append, as the Redis key's TTL is). The table is created here on
first use (`CREATE ... IF NOT EXISTS`), so the file's schema version does not change; expired rows are
deleted by every append, since `bot.sqlite.schema.PRUNE` does not know this table.
"""

from __future__ import annotations

import sqlite3

from bot.sqlite.db import Database, transaction
from bot.transcript import (
    DEFAULT_TTL_SECONDS,
    MAX_CHARS,
    MAX_PARTS,
    MAX_TURNS,
    TranscriptEntry,
    decode,
    encode,
)

TABLE = """
CREATE TABLE IF NOT EXISTS transcript (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    entry TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transcript_key ON transcript (key, seq);
CREATE INDEX IF NOT EXISTS transcript_expiry ON transcript (expires_at);
"""
_LOAD = "SELECT entry FROM transcript WHERE key = ?1 AND expires_at > ?2 ORDER BY seq DESC LIMIT ?3"
_TRIM = """
DELETE FROM transcript WHERE key = ?1 AND seq < (
    SELECT min(seq) FROM (SELECT seq FROM transcript WHERE key = ?1 ORDER BY seq DESC LIMIT ?2)
)
"""


class SQLiteTranscriptStore:
    """Transcripts that survive a restart, shared by the processes that open the same file."""

    def __init__(
        self,
        db: Database,
        *,
        max_turns: int = MAX_TURNS,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_parts: int = MAX_PARTS,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self.db = db
        self.max_turns = max_turns
        self.ttl_seconds = ttl_seconds
        self.max_parts = max_parts
        self.max_chars = max_chars
        self._ready = False

    async def _table(self) -> None:
        if not self._ready:
            await self.db.run(lambda conn: conn.executescript(TABLE).close())
            self._ready = True

    async def load(self, key: str) -> list[TranscriptEntry]:
        await self._table()
        args = (key, self.db.now(), self.max_turns)
        rows = await self.db.run(lambda conn: conn.execute(_LOAD, args).fetchall())
        return decode([raw for (raw,) in reversed(rows)], key)

    async def append(self, key: str, entry: TranscriptEntry) -> None:
        """One transaction: forget expired rows, insert, renew the conversation's deadline, trim."""
        await self._table()
        encoded = encode(entry, self.max_parts, self.max_chars)
        now = self.db.now()
        deadline = now + self.ttl_seconds

        def job(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute("DELETE FROM transcript WHERE expires_at <= ?", (now,))
                conn.execute(
                    "INSERT INTO transcript (key, entry, expires_at) VALUES (?, ?, ?)",
                    (key, encoded, deadline),
                )
                conn.execute("UPDATE transcript SET expires_at = ? WHERE key = ?", (deadline, key))
                conn.execute(_TRIM, (key, self.max_turns))

        await self.db.write(job, now)

    async def clear(self, key: str) -> None:
        await self._table()
        await self.db.write(
            lambda conn: conn.execute("DELETE FROM transcript WHERE key = ?", (key,)).close(), self.db.now()
        )

    async def close(self) -> None:
        """Nothing: the shared database is closed by `SQLiteStores.aclose()`."""
