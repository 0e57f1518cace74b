"""The tables of `avibot.db`, and the statements that forget expired rows (SQLite has no TTL).

Times are wall-clock seconds since the epoch (`time.time()`), so an expiry means the same thing to
every process that opens the file and after a restart. Every row that can expire carries its own
deadline; readers ignore a row past it, and `PRUNE` deletes such rows now and then.
"""

from __future__ import annotations

# Bumped when a table changes; a file written by a newer avibot is refused rather than misread.
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS chat (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_expiry ON chat (expires_at);

-- One row per message, in `seq` order (a new rowid is always above every existing one).
CREATE TABLE IF NOT EXISTS chat_message (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_message_key ON chat_message (key, seq);

CREATE TABLE IF NOT EXISTS chat_model (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_model_expiry ON chat_model (expires_at);

-- A pending action and, once taken, its tombstone: `state` moves from 'pending' exactly once.
CREATE TABLE IF NOT EXISTS pending (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    expires_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'cancelled')),
    settled TEXT,
    settled_until REAL
);

-- Append-only: nothing updates or deletes an audit row.
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us INTEGER NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time_us);

CREATE TABLE IF NOT EXISTS dedup (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dedup_expiry ON dedup (expires_at);
"""

# `?1` is now. Run in order, in one transaction (messages before their conversation row).
PRUNE = (
    "DELETE FROM chat_message WHERE key IN (SELECT key FROM chat WHERE expires_at <= ?1)",
    "DELETE FROM chat WHERE expires_at <= ?1",
    "DELETE FROM chat_model WHERE expires_at <= ?1",
    "DELETE FROM pending WHERE (state = 'pending' AND expires_at <= ?1)"
    " OR (state <> 'pending' AND settled_until <= ?1)",
    "DELETE FROM dedup WHERE expires_at <= ?1",
)
