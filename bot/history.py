"""Conversation history: the last N chat messages of a conversation, kept for a while, then forgotten.

Messages are plain chat dicts (`{"role": "user" | "assistant" | "tool", "content": ..., optional
"tool_calls", "tool_name"}`), stored as JSON so both stores behave the same way, and an append is one
turn's messages at once.

Trimming keeps the newest `max_messages`, which can cut a turn in half; `load` therefore drops leading
messages until the first is a `user` message, so the model never sees a `tool` result without its call
or an assistant `tool_calls` message without its results. A single turn longer than `max_messages`
loads as nothing (keep `max_messages` above the agent's tool-iteration bound).
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

log = logging.getLogger(__name__)

Message = dict[str, Any]


class HistorySettings(BaseModel):
    """How much of a conversation is remembered, and for how long after its last turn."""

    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(20, ge=2, le=200)
    ttl_seconds: int = Field(7 * 86400, ge=1, description="forget a conversation idle this long")


class ConversationStore(Protocol):
    async def load(self, key: str) -> list[Message]:
        """The conversation's messages, oldest first, starting at a user message."""
        ...

    async def append(self, key: str, messages: list[Message]) -> None:
        """Add one turn's messages, trim to the newest `max_messages`, renew the TTL."""
        ...

    async def clear(self, key: str) -> None:
        """Forget the messages and the conversation's model choice."""
        ...

    async def get_model(self, key: str) -> str | None:
        """The model chosen for this conversation with `model use`, if any (every replica agrees)."""
        ...

    async def set_model(self, key: str, name: str) -> None:
        """Keep a model choice as long as the conversation's history is kept."""
        ...

    async def close(self) -> None: ...


def trim_to_turn(messages: list[Message]) -> list[Message]:
    """Drop leading messages until the first is a `user` message (a turn boundary)."""
    for i, message in enumerate(messages):
        if message.get("role") == "user":
            return messages[i:]
    return []


def _encode(messages: list[Message]) -> list[str]:
    # Fails before anything is written when a message is not JSON (a bug in the caller, not data loss).
    return [json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in messages]


def _decode(raw: Sequence[str | bytes], key: str) -> list[Message]:
    out: list[Message] = []
    for item in raw:
        try:
            message = json.loads(item)
        except ValueError:
            message = None
        if isinstance(message, dict):
            out.append(message)
        else:
            log.warning("skipping a malformed history entry in conversation %s", key)
    return out


class RedisConversationStore:
    """A LIST `<prefix>chat:<key>` of JSON messages; every replica sees the same history."""

    def __init__(
        self,
        redis: Redis,
        *,
        max_messages: int = 20,
        ttl_seconds: int = 7 * 86400,
        prefix: str = "avibot:",
        owns_client: bool = False,
    ) -> None:
        self.redis = redis
        self.max_messages = max_messages
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self._owns_client = owns_client

    @classmethod
    def from_settings(
        cls, redis: Redis, settings: HistorySettings, *, prefix: str = "avibot:"
    ) -> RedisConversationStore:
        return cls(redis, max_messages=settings.max_messages, ttl_seconds=settings.ttl_seconds, prefix=prefix)

    def key(self, key: str) -> str:
        return f"{self.prefix}chat:{key}"

    async def load(self, key: str) -> list[Message]:
        # -N: a store written with a larger max_messages still loads only N.
        raw = await self.redis.lrange(self.key(key), -self.max_messages, -1)
        return trim_to_turn(_decode(raw, key))

    async def append(self, key: str, messages: list[Message]) -> None:
        """One round trip: MULTI RPUSH LTRIM EXPIRE EXEC."""
        if not messages:
            return
        encoded = _encode(messages)
        k = self.key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(k, *encoded)
            pipe.ltrim(k, -self.max_messages, -1)
            pipe.expire(k, self.ttl_seconds)
            await pipe.execute()

    def model_key(self, key: str) -> str:
        return f"{self.prefix}chatmodel:{key}"

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.key(key), self.model_key(key))

    async def get_model(self, key: str) -> str | None:
        value = await self.redis.get(self.model_key(key))
        return value.decode() if isinstance(value, bytes) else value

    async def set_model(self, key: str, name: str) -> None:
        await self.redis.set(self.model_key(key), name, ex=self.ttl_seconds)

    async def close(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


class MemoryConversationStore:
    """The same semantics in one process, for the demo without Redis (state is lost on restart).

    At most `max_conversations` conversations (and as many model choices) are kept: a flood of new
    conversation ids evicts the least recently written first, so memory stays bounded.
    """

    def __init__(
        self,
        *,
        max_messages: int = 20,
        ttl_seconds: float = 7 * 86400,
        max_conversations: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_messages = max_messages
        self.ttl_seconds = ttl_seconds
        self.max_conversations = max_conversations
        self._clock = clock
        # key -> (JSON messages, monotonic deadline), least recently written first: with one TTL for
        # all, that is also earliest deadline first. No await inside a method: each call is atomic.
        self._data: OrderedDict[str, tuple[list[str], float]] = OrderedDict()
        self._models: OrderedDict[str, tuple[str, float]] = OrderedDict()  # key -> (model, deadline)

    @classmethod
    def from_settings(cls, settings: HistorySettings) -> MemoryConversationStore:
        return cls(max_messages=settings.max_messages, ttl_seconds=settings.ttl_seconds)

    def _live(self, key: str) -> list[str]:
        entry = self._data.get(key)
        if entry is None:
            return []
        if entry[1] <= self._clock():
            del self._data[key]
            return []
        return entry[0]

    async def load(self, key: str) -> list[Message]:
        return trim_to_turn(_decode(self._live(key)[-self.max_messages :], key))

    async def append(self, key: str, messages: list[Message]) -> None:
        if not messages:
            return
        encoded = _encode(messages)
        now = self._clock()
        kept = (self._live(key) + encoded)[-self.max_messages :]
        self._put(self._data, key, (kept, now + self.ttl_seconds), now)

    async def clear(self, key: str) -> None:
        self._data.pop(key, None)
        self._models.pop(key, None)

    async def get_model(self, key: str) -> str | None:
        entry = self._models.get(key)
        if entry is None or entry[1] <= self._clock():
            self._models.pop(key, None)
            return None
        return entry[0]

    async def set_model(self, key: str, name: str) -> None:
        now = self._clock()
        self._put(self._models, key, (name, now + self.ttl_seconds), now)

    async def close(self) -> None:
        self._data.clear()
        self._models.clear()

    def _put(
        self, table: OrderedDict[str, tuple[Any, float]], key: str, value: tuple[Any, float], now: float
    ) -> None:
        """Write `key` as the newest entry, after forgetting expired ones and evicting the oldest
        beyond `max_conversations`."""
        table.pop(key, None)
        self._sweep(now)
        while len(table) >= self.max_conversations:
            table.popitem(last=False)
        table[key] = value

    def _sweep(self, now: float) -> None:
        """Forget expired conversations, so a long-running demo does not grow without bound. Oldest
        first, stopping at the first live one: O(expired), not O(kept)."""
        for table in (self._data, self._models):
            while table:
                _key, (_value, deadline) = next(iter(table.items()))
                if deadline > now:
                    break
                table.popitem(last=False)
