"""Pending actions: a write waiting for a person's Confirm, run at most once, by someone allowed.

A `PendingAction` lives under `<prefix>pending:<id>` until it expires (10 minutes by default). Confirm
and Cancel both *take* it (GETDEL), so a double click, a second approver or another replica gets
nothing; in the same atomic step a tombstone `<prefix>pending-done:<id>` records who took it, so the
loser is told "already confirmed by alice" rather than "not found".

The agent's confirm flow is `resolve(store, id, "confirm", inbound, access)`:
get (peek) -> same conversation? -> approver allowed? -> claim (GETDEL) -> the caller executes
`Resolution.action` when `status is READY`. Every other status carries a sentence to show.
"""

from __future__ import annotations

import math
import secrets
import string
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from bot.permissions import Access, required_role
from bot.types import Inbound, PendingActionView, Risk, User, utcnow

DEFAULT_TTL_SECONDS = 600
_ID_ALPHABET = string.ascii_lowercase + string.digits  # url-safe, and easy to type in `/avi confirm <id>`
ID_LENGTH = 10


def new_action_id() -> str:
    """10 random characters from [a-z0-9]: about 51 bits, unguessable within an action's lifetime."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))


class PendingAction(BaseModel):
    """A validated write: what will run, who asked, where, and what it will change."""

    id: str = Field(default_factory=new_action_id, pattern=r"^[A-Za-z0-9_-]{6,64}$")
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    risk: Risk
    summary: str
    diff: list[str] = Field(default_factory=list)
    requested_by: User
    platform: str
    conversation_key: str
    channel: str = ""
    tenant: str | None = None
    controller: str = ""  # the controller it was planned on, and will run on ("" before 2026-12: default)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime

    @classmethod
    def new(cls, *, ttl_seconds: float = DEFAULT_TTL_SECONDS, **fields: Any) -> PendingAction:
        """A fresh action expiring `ttl_seconds` from now (fields as in the model, without times)."""
        now = utcnow()
        return cls(created_at=now, expires_at=now + timedelta(seconds=ttl_seconds), **fields)

    def view(self) -> PendingActionView:
        return PendingActionView(
            id=self.id, summary=self.summary, diff=self.diff, risk=self.risk, expires_at=self.expires_at
        )

    def remaining_ms(self) -> int:
        return math.ceil((self.expires_at - utcnow()).total_seconds() * 1000)


class Settled(BaseModel):
    """The tombstone of a taken action: who confirmed or cancelled it, and when."""

    outcome: Literal["confirmed", "cancelled"]
    by_id: str
    by_name: str = ""
    at: datetime = Field(default_factory=utcnow)

    @property
    def text(self) -> str:
        return f"{self.outcome} by {self.by_name or self.by_id}"

    @classmethod
    def of(cls, outcome: Literal["confirmed", "cancelled"], user: User) -> Settled:
        return cls(outcome=outcome, by_id=user.id, by_name=user.name)


class PendingStore(Protocol):
    async def put(self, action: PendingAction) -> None:
        """Store until `action.expires_at`; ValueError if already expired or the id is taken."""
        ...

    async def get(self, action_id: str) -> PendingAction | None:
        """Peek without taking (to check the approver, or to show it again)."""
        ...

    async def claim(self, action_id: str, by: User) -> PendingAction | None:
        """Take it to run it: atomic and single-use across replicas; None if gone or expired."""
        ...

    async def cancel(self, action_id: str, by: User) -> PendingAction | None:
        """Take it to drop it; None if gone or expired."""
        ...

    async def settled(self, action_id: str) -> Settled | None:
        """Who took it, while the tombstone lasts (as long as the action could have lived)."""
        ...

    async def outcome(self, action_id: str) -> str | None:
        """`settled(...).text`: "confirmed by alice" / "cancelled by bob", or None."""
        ...

    async def close(self) -> None: ...


def _ttl_ms(action: PendingAction) -> int:
    ttl = action.remaining_ms()
    if ttl <= 0:
        raise ValueError(f"pending action {action.id} has already expired")
    return ttl


# GETDEL the action and, only if it was there, write the tombstone: one atomic round trip, so a
# second claimer can never overwrite the first one's tombstone, and an expired action gets none.
_TAKE_LUA = """
local v = redis.call('GETDEL', KEYS[1])
if v then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
return v
"""


class RedisPendingStore:
    """`<prefix>pending:<id>` = action JSON (SET NX PX); taken with GETDEL inside a tiny Lua script."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "avibot:",
        tombstone_ttl_seconds: int = DEFAULT_TTL_SECONDS,
        owns_client: bool = False,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.tombstone_ttl_ms = tombstone_ttl_seconds * 1000
        self._owns_client = owns_client
        self._take = redis.register_script(_TAKE_LUA)

    def key(self, action_id: str) -> str:
        return f"{self.prefix}pending:{action_id}"

    def done_key(self, action_id: str) -> str:
        return f"{self.prefix}pending-done:{action_id}"

    async def put(self, action: PendingAction) -> None:
        stored = await self.redis.set(
            self.key(action.id), action.model_dump_json(), px=_ttl_ms(action), nx=True
        )
        if not stored:
            raise ValueError(f"pending action id {action.id} is already in use")

    async def get(self, action_id: str) -> PendingAction | None:
        raw = await self.redis.get(self.key(action_id))
        return PendingAction.model_validate_json(raw) if raw else None

    async def _take_as(self, action_id: str, settled: Settled) -> PendingAction | None:
        raw = await self._take(
            keys=[self.key(action_id), self.done_key(action_id)],
            args=[settled.model_dump_json(), self.tombstone_ttl_ms],
        )
        return PendingAction.model_validate_json(raw) if raw else None

    async def claim(self, action_id: str, by: User) -> PendingAction | None:
        return await self._take_as(action_id, Settled.of("confirmed", by))

    async def cancel(self, action_id: str, by: User) -> PendingAction | None:
        return await self._take_as(action_id, Settled.of("cancelled", by))

    async def settled(self, action_id: str) -> Settled | None:
        raw = await self.redis.get(self.done_key(action_id))
        return Settled.model_validate_json(raw) if raw else None

    async def outcome(self, action_id: str) -> str | None:
        settled = await self.settled(action_id)
        return settled.text if settled else None

    async def close(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


class MemoryPendingStore:
    """The same semantics in one process (demo without Redis). No await inside a method: atomic.

    At most `max_actions` actions and as many tombstones are kept: a flood evicts the oldest first.
    """

    def __init__(
        self,
        *,
        tombstone_ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_actions: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tombstone_ttl_seconds = tombstone_ttl_seconds
        self.max_actions = max_actions
        self._clock = clock
        # id -> (JSON, monotonic deadline), oldest put (or taken) first.
        self._actions: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._done: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def _live(self, table: dict[str, tuple[str, float]], key: str, *, pop: bool = False) -> str | None:
        entry = table.get(key)
        if entry is None:
            return None
        raw, deadline = entry
        alive = deadline > self._clock()
        if pop or not alive:
            del table[key]
        return raw if alive else None

    def _sweep(self) -> None:
        """Forget expired entries from the oldest on, stopping at the first live one (O(expired)).
        An expired entry behind a live one waits for its turn; `_live` ignores it meanwhile."""
        now = self._clock()
        for table in (self._actions, self._done):
            while table:
                _key, (_raw, deadline) = next(iter(table.items()))
                if deadline > now:
                    break
                table.popitem(last=False)

    def _add(self, table: OrderedDict[str, tuple[str, float]], key: str, entry: tuple[str, float]) -> None:
        table.pop(key, None)
        while len(table) >= self.max_actions:
            table.popitem(last=False)
        table[key] = entry

    async def put(self, action: PendingAction) -> None:
        ttl_ms = _ttl_ms(action)
        self._sweep()
        if self._live(self._actions, action.id) is not None:
            raise ValueError(f"pending action id {action.id} is already in use")
        self._add(self._actions, action.id, (action.model_dump_json(), self._clock() + ttl_ms / 1000))

    async def get(self, action_id: str) -> PendingAction | None:
        raw = self._live(self._actions, action_id)
        return PendingAction.model_validate_json(raw) if raw else None

    def _take_as(self, action_id: str, settled: Settled) -> PendingAction | None:
        raw = self._live(self._actions, action_id, pop=True)
        if raw is None:
            return None
        self._sweep()
        self._add(
            self._done, action_id, (settled.model_dump_json(), self._clock() + self.tombstone_ttl_seconds)
        )
        return PendingAction.model_validate_json(raw)

    async def claim(self, action_id: str, by: User) -> PendingAction | None:
        return self._take_as(action_id, Settled.of("confirmed", by))

    async def cancel(self, action_id: str, by: User) -> PendingAction | None:
        return self._take_as(action_id, Settled.of("cancelled", by))

    async def settled(self, action_id: str) -> Settled | None:
        raw = self._live(self._done, action_id)
        return Settled.model_validate_json(raw) if raw else None

    async def outcome(self, action_id: str) -> str | None:
        settled = await self.settled(action_id)
        return settled.text if settled else None

    async def close(self) -> None:
        self._actions.clear()
        self._done.clear()


# -- the confirm / cancel decision ------------------------------------------------------------------


class Status(StrEnum):
    READY = "ready"  # claimed by this request: execute `action` now, then audit the result
    CANCELLED = "cancelled"  # cancelled by this request
    NOT_FOUND = "not_found"  # unknown id, or expired
    ALREADY_CONFIRMED = "already_confirmed"
    ALREADY_CANCELLED = "already_cancelled"
    NOT_ALLOWED = "not_allowed"  # the approver's role does not cover the risk (or read-only mode)
    OTHER_CONVERSATION = "other_conversation"  # the id was used outside the conversation that made it


class Resolution(BaseModel):
    """What a Confirm or Cancel came to; `message` is a sentence for the person (empty when READY)."""

    status: Status
    action: PendingAction | None = None
    settled: Settled | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (Status.READY, Status.CANCELLED)


Intent = Literal["confirm", "cancel"]


def check_approver(
    action: PendingAction, intent: Intent, inbound: Inbound, access: Access
) -> Resolution | None:
    """None when `inbound`'s sender may confirm/cancel `action` here; else the refusal. Pure.

    - Same platform and conversation: an id typed elsewhere must not borrow another channel's role
      or tenant.
    - Confirm: the approver's role *now* must allow the risk, the requester included (their role may
      have been lowered, or read-only switched on, since they asked). So a viewer may ask and an
      operator or admin approve.
    - Cancel: the requester may always withdraw their own request; anyone else needs the role.
    """
    if (inbound.platform, inbound.conversation_key) != (action.platform, action.conversation_key):
        return Resolution(
            status=Status.OTHER_CONVERSATION,
            message=f"Action {action.id} belongs to another conversation; confirm or cancel it there.",
        )
    if intent == "cancel" and inbound.user.id == action.requested_by.id:
        return None
    if access.allows(action.risk):
        return None
    if access.read_only:
        why = "the assistant is in read-only mode"
    else:
        why = f"your role is {access.role.value} and it needs {required_role(action.risk).value}"
    return Resolution(
        status=Status.NOT_ALLOWED,
        message=f"You cannot {intent} this {action.risk.value} action: {why}.",
    )


def _gone(action_id: str, settled: Settled | None) -> Resolution:
    if settled is None:
        return Resolution(
            status=Status.NOT_FOUND,
            message=f"Action {action_id} was not found or has expired; ask again to get a new one.",
        )
    status = Status.ALREADY_CONFIRMED if settled.outcome == "confirmed" else Status.ALREADY_CANCELLED
    return Resolution(
        status=status, settled=settled, message=f"Action {action_id} was already {settled.text}."
    )


async def resolve(
    store: PendingStore, action_id: str, intent: Intent, inbound: Inbound, access: Access
) -> Resolution:
    """The whole confirm/cancel flow: peek, check the approver, take it (single-use), explain."""
    action = await store.get(action_id)
    if action is None:
        return _gone(action_id, await store.settled(action_id))
    refusal = check_approver(action, intent, inbound, access)
    if refusal is not None:
        return refusal.model_copy(update={"action": action})
    take = store.claim if intent == "confirm" else store.cancel
    taken = await take(action_id, inbound.user)
    if taken is None:  # someone else took it between our get and our take, or it just expired
        return _gone(action_id, await store.settled(action_id))
    if intent == "confirm":
        return Resolution(status=Status.READY, action=taken)
    return Resolution(status=Status.CANCELLED, action=taken, message=f"Cancelled: {taken.summary}")
