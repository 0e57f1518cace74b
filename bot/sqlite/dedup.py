"""Event de-duplication in SQLite, as `RedisDeduper` (`SET key 1 NX EX ttl`) does it in Redis."""

from __future__ import annotations

from bot.dedup import DEFAULT_TTL_SECONDS
from bot.sqlite.db import Database

# One statement: insert the key, or revive it if its deadline has passed; a row comes back only then.
_FIRST = """
INSERT INTO dedup (key, expires_at) VALUES (?1, ?2)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedup.expires_at <= ?3
RETURNING 1
"""


class SQLiteDeduper:
    """True exactly once per key within its TTL, across every process that opens the file."""

    def __init__(self, db: Database, *, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.db = db
        self.ttl_seconds = ttl_seconds

    async def first_time(self, key: str, ttl_seconds: int | None = None) -> bool:
        now = self.db.now()
        args = (key, now + (ttl_seconds or self.ttl_seconds), now)
        return bool(await self.db.write(lambda conn: conn.execute(_FIRST, args).fetchall(), now))
