"""Pending actions in SQLite, with the Redis store's semantics (see bot/pending.py).

One row per action. Confirm and Cancel each *take* it with one `UPDATE ... RETURNING` that moves
`state` from 'pending' and writes the tombstone (who took it, until when) in the same statement:
SQLite runs a write statement under the database's write lock, so across every process that opens
the file exactly one taker gets the row back; the others get nothing, and the tombstone names the
winner ("already confirmed by olivia").

Unlike Redis, the tombstone lives in the action's row, so `put` refuses an id whose tombstone is
still live (Redis would accept it and keep the old tombstone next to the new action). Ids are
random, so only a bug reuses one.
"""

from __future__ import annotations

import sqlite3

from bot.pending import DEFAULT_TTL_SECONDS, PendingAction, Settled, _ttl_ms
from bot.sqlite.db import Database
from bot.types import User

# Insert, or replace a dead row (expired, or tombstone expired but not yet pruned).
_PUT = """
INSERT INTO pending (id, action, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (id) DO UPDATE SET
    action = excluded.action, expires_at = excluded.expires_at,
    state = 'pending', settled = NULL, settled_until = NULL
WHERE (pending.state = 'pending' AND pending.expires_at <= ?4)
   OR (pending.state <> 'pending' AND pending.settled_until <= ?4)
RETURNING id
"""
_GET = "SELECT action FROM pending WHERE id = ? AND state = 'pending' AND expires_at > ?"
_TAKE = """
UPDATE pending SET state = ?1, settled = ?2, settled_until = ?3
WHERE id = ?4 AND state = 'pending' AND expires_at > ?5
RETURNING action
"""
_SETTLED = "SELECT settled FROM pending WHERE id = ? AND state <> 'pending' AND settled_until > ?"


class SQLitePendingStore:
    """Pending actions that survive a restart; claim-once across the processes sharing the file."""

    def __init__(self, db: Database, *, tombstone_ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.db = db
        self.tombstone_ttl_seconds = tombstone_ttl_seconds

    async def put(self, action: PendingAction) -> None:
        _ttl_ms(action)  # ValueError when already expired
        now = self.db.now()
        args = (action.id, action.model_dump_json(), action.expires_at.timestamp(), now)
        stored = await self.db.write(lambda conn: conn.execute(_PUT, args).fetchall(), now)
        if not stored:
            raise ValueError(f"pending action id {action.id} is already in use")

    async def get(self, action_id: str) -> PendingAction | None:
        args = (action_id, self.db.now())
        row = await self.db.run(lambda conn: conn.execute(_GET, args).fetchone())
        return PendingAction.model_validate_json(row[0]) if row else None

    async def _take_as(self, action_id: str, settled: Settled) -> PendingAction | None:
        now = self.db.now()
        args = (settled.outcome, settled.model_dump_json(), now + self.tombstone_ttl_seconds, action_id, now)

        def take(conn: sqlite3.Connection) -> list[tuple[str]]:
            # fetchall() before anything else: the statement commits when its rows are consumed.
            return conn.execute(_TAKE, args).fetchall()

        rows = await self.db.write(take, now)
        return PendingAction.model_validate_json(rows[0][0]) if rows else None

    async def claim(self, action_id: str, by: User) -> PendingAction | None:
        return await self._take_as(action_id, Settled.of("confirmed", by))

    async def cancel(self, action_id: str, by: User) -> PendingAction | None:
        return await self._take_as(action_id, Settled.of("cancelled", by))

    async def settled(self, action_id: str) -> Settled | None:
        args = (action_id, self.db.now())
        row = await self.db.run(lambda conn: conn.execute(_SETTLED, args).fetchone())
        return Settled.model_validate_json(row[0]) if row else None

    async def outcome(self, action_id: str) -> str | None:
        settled = await self.settled(action_id)
        return settled.text if settled else None

    async def close(self) -> None:
        """Nothing: the shared database is closed by `SQLiteStores.aclose()`."""
