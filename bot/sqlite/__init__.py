"""The embedded store: history, pending actions, audit and de-dup in one SQLite file.

For `avibot serve` on one machine without Redis, so a restart loses nothing. The stores keep the
Redis stores' semantics (the same protocols and tests); several processes may share the file
(claim-once holds across them), but replicas on several machines need Redis.

    stores = await open_sqlite_stores(Path(".avibot"), max_messages=20, history_ttl_seconds=604800,
                                      pending_tombstone_ttl_seconds=600)
    ...
    await stores.aclose()

Modules: `db` (the connection and its worker thread), `schema` (tables, pruning), one per store,
and `stores` (the state directory, the settings and the factory).
"""

from bot.sqlite.audit import SQLiteAuditLog
from bot.sqlite.db import Database, StateFileError
from bot.sqlite.dedup import SQLiteDeduper
from bot.sqlite.history import SQLiteConversationStore
from bot.sqlite.pending import SQLitePendingStore
from bot.sqlite.stores import DB_FILENAME, SQLiteStores, StateSettings, make_state_dir, open_sqlite_stores

__all__ = [
    "DB_FILENAME",
    "Database",
    "SQLiteAuditLog",
    "SQLiteConversationStore",
    "SQLiteDeduper",
    "SQLitePendingStore",
    "SQLiteStores",
    "StateFileError",
    "StateSettings",
    "make_state_dir",
    "open_sqlite_stores",
]
