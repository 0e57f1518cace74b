"""The audit trail of changes: who asked for what, where, and how it ended.

Every entry goes to two places: one log line on the `avibot.audit` logger (the durable record that log
shippers keep), and a capped Redis stream `<prefix>audit` (XADD MAXLEN ~) that `recent()` reads for
`/avi audit`. Every field is redacted when the entry is built (avi/redact.py, the same rules as for
controller reads, and free text too: a proxied write keeps its JSON body as a string), so neither the
log line, its JSON form nor the stream ever holds a password someone sent.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, model_validator
from redis.asyncio import Redis
from redis.exceptions import RedisError

from avi.redact import redact_all, redact_text
from bot.types import Risk, utcnow

log = logging.getLogger("avibot.audit")

DEFAULT_MAX_ENTRIES = 10_000

# requested: a pending action was created; ok / error: it ran; cancelled: someone cancelled it;
# denied: someone not allowed tried to confirm it.
AuditResult = Literal["requested", "ok", "error", "unknown", "cancelled", "denied"]


_TEXT_FIELDS = ("user_id", "user_name", "platform", "channel", "conversation_key", "action", "detail",
                "action_id", "tenant", "controller")  # fmt: skip


class AuditEntry(BaseModel):
    time: datetime = Field(default_factory=utcnow)
    user_id: str
    user_name: str = ""
    platform: str
    channel: str = ""
    conversation_key: str = ""
    action: str = Field(description="the tool name")
    arguments: dict[str, Any] = Field(default_factory=dict, description="redacted on the way in")
    risk: Risk
    result: AuditResult
    detail: str = ""
    action_id: str | None = None
    tenant: str | None = None
    controller: str = ""

    @model_validator(mode="after")
    def _redacted(self) -> AuditEntry:
        self.arguments = redact_all(self.arguments)
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value:
                setattr(self, name, redact_text(value))
        return self

    def fields(self) -> dict[str, str]:
        """Flat string fields for a stream entry (readable with plain `redis-cli XRANGE`)."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["arguments"] = json.dumps(data["arguments"], ensure_ascii=False, separators=(",", ":"))
        return {k: str(v) for k, v in data.items()}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> AuditEntry:
        return cls.model_validate({**fields, "arguments": json.loads(fields.get("arguments") or "{}")})

    def log_line(self) -> str:
        """`audit key=value ...` on one line; values with spaces or quotes are JSON-quoted."""
        fields = self.fields()
        arguments = fields.pop("arguments")  # compact JSON, last so the other pairs stay easy to parse
        parts = []
        for key, value in fields.items():
            if value == "" or key == "time":
                continue
            quote = any(c in value for c in ' "=\n\r\t')
            parts.append(f"{key}={json.dumps(value, ensure_ascii=False) if quote else value}")
        return "audit " + " ".join([*parts, f"arguments={arguments}"])


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None:
        """Log the entry and keep it for `recent()`. Never raises for a storage failure."""
        ...

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        """The newest entries, newest first."""
        ...

    async def close(self) -> None: ...


def _log(entry: AuditEntry) -> None:
    log.info("%s", entry.log_line(), extra={"audit": entry.model_dump(mode="json")})


class RedisAuditLog:
    """A Redis stream capped near `max_entries` (approximate trimming: cheap, never below the cap)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "avibot:",
        max_entries: int = DEFAULT_MAX_ENTRIES,
        owns_client: bool = False,
    ) -> None:
        self.redis = redis
        self.key = f"{prefix}audit"
        self.max_entries = max_entries
        self._owns_client = owns_client

    async def record(self, entry: AuditEntry) -> None:
        # The log line first: the change already happened, so a Redis outage must not lose its record
        # nor turn the user's reply into an error.
        _log(entry)
        try:
            fields: dict[Any, Any] = entry.fields()
            await self.redis.xadd(self.key, fields, maxlen=self.max_entries, approximate=True)
        except RedisError as exc:
            log.error(
                "audit stream write failed (%s); the entry above is in the log only", type(exc).__name__
            )

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        if limit <= 0:
            return []
        rows = await self.redis.xrevrange(self.key, count=limit) or []
        return [
            AuditEntry.from_fields({str(k): str(v) for k, v in (fields or {}).items()})
            for _id, fields in rows
        ]

    async def close(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


class MemoryAuditLog:
    """The newest `max_entries` in a deque, for the demo without Redis."""

    def __init__(self, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._entries: deque[AuditEntry] = deque(maxlen=max_entries)

    async def record(self, entry: AuditEntry) -> None:
        _log(entry)
        self._entries.append(entry.model_copy(deep=True))

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        if limit <= 0:
            return []
        return [e.model_copy(deep=True) for e in list(reversed(self._entries))[:limit]]

    async def close(self) -> None:
        self._entries.clear()
