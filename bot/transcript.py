"""The transcript: what each of a conversation's last turns showed, so a reloaded page shows it again.

Not the model's history (bot/history.py keeps compact text for the model, unchanged): each finished
turn's Reply parts are kept here as the person saw them (tables, charts, confirmation cards), with the
question, the time, how the turn ended and the action it proposed or settled. Per conversation the
newest `max_turns` entries, forgotten with the history's TTL after the last turn.

Bounded: an entry keeps at most `MAX_PARTS` parts and about `MAX_CHARS` characters of JSON. A part
that does not fit is cut where it can be (a table keeps its first rows and says how many more there
were, a chart its newest points, a text its beginning) and dropped otherwise, with a note saying so;
confirmation cards are fitted first, since they are what a person can still act on.

Writing is best effort (the turn is already answered): `bot.turns` logs a failure and goes on.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError
from redis.asyncio import Redis

from bot.types import (
    ConfirmationPart,
    ErrorPart,
    FactsPart,
    Inbound,
    Outcome,
    Part,
    SeriesPart,
    TablePart,
    TextPart,
    TurnResult,
    Visibility,
    utcnow,
)

log = logging.getLogger(__name__)

MAX_TURNS = 30
MAX_PARTS = 12
MAX_CHARS = 24_000
MAX_QUESTION = 2_000
DEFAULT_TTL_SECONDS = 7 * 86400
_NOTE_RESERVE = 200  # room kept for the "not kept" note
# A settle that ended the action for good: its card is shown as this outcome, not as buttons.
FINAL = frozenset({Outcome.DONE, Outcome.FAILED, Outcome.UNKNOWN, Outcome.CANCELLED})


class TranscriptEntry(BaseModel):
    """One finished turn as it was shown: the question, the Reply's parts and how it ended."""

    question: str = ""
    parts: list[Part] = Field(default_factory=list)
    at: datetime = Field(default_factory=utcnow)
    mode: Literal["llm", "command"] = "command"
    outcome: Outcome = Outcome.ANSWERED
    action_id: str | None = None  # the action proposed (outcome pending) or settled
    settles: bool = False  # a Confirm / Cancel click: shown in place of its card, not as a turn
    visibility: Visibility = Visibility.EVERYONE
    user_id: str = ""  # who asked (a reader for a shared conversation filters `asker` entries by it)

    @classmethod
    def of(cls, inbound: Inbound, result: TurnResult, *, settles: bool = False) -> TranscriptEntry:
        return cls(
            question=inbound.text,
            parts=list(result.reply.parts),
            mode=result.reply.mode,
            outcome=result.outcome,
            action_id=result.action.id if result.action is not None else None,
            settles=settles,
            visibility=result.visibility,
            user_id=f"{inbound.platform}:{inbound.user.id}",
        )

    @property
    def final(self) -> bool:
        """True when this entry ended its action for good (done, failed, unknown or cancelled)."""
        return self.action_id is not None and self.outcome in FINAL


# -- bounds --------------------------------------------------------------------------------------


def _size(part: Part) -> int:
    return len(part.model_dump_json())


def _longest(part: Part, field: str, budget: int, keep_tail: bool = False, **update: Any) -> Part | None:
    """`part` with the longest prefix (or suffix) of its list `field` that fits in `budget`, or None."""
    items: list[Any] = getattr(part, field)

    def cut(n: int) -> Part:
        kept = items[len(items) - n :] if keep_tail else items[:n]
        return part.model_copy(update={field: kept, **update})

    low, high = 0, len(items)  # cut(low) fits (or low == 0); find the largest n that fits
    while low < high:
        mid = (low + high + 1) // 2
        if _size(cut(mid)) <= budget:
            low = mid
        else:
            high = mid - 1
    return cut(low) if low > 0 and _size(cut(low)) <= budget else None


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(0, chars - 1)] + "…"


def _fit(part: Part, budget: int) -> Part | None:
    """`part` as it is when it fits in `budget` characters of JSON, else cut to fit, else None."""
    if _size(part) <= budget:
        return part
    if budget <= 0:
        return None
    match part:
        case TablePart():
            total = part.total if part.total is not None else len(part.rows)
            return _longest(part, "rows", budget, total=total, more=None)  # the next page no longer follows
        case SeriesPart():
            return _longest(part, "points", budget, keep_tail=True)
        case FactsPart():
            return _longest(part, "facts", budget)
        case ConfirmationPart():
            small = part.model_copy(update={"summary": _clip(part.summary, 500)})
            return _longest(small, "diff", budget) or _fit_empty_diff(small, budget)
        case TextPart():
            room = budget - _size(part.model_copy(update={"markdown": ""})) - 20
            return part.model_copy(update={"markdown": _clip(part.markdown, room)}) if room > 100 else None
        case ErrorPart():
            room = budget - _size(part.model_copy(update={"message": "", "hint": ""})) - 20
            if room <= 100:
                return None
            return part.model_copy(update={"message": _clip(part.message, room), "hint": ""})
    return None


def _fit_empty_diff(part: ConfirmationPart, budget: int) -> Part | None:
    empty = part.model_copy(update={"diff": []})
    return empty if _size(empty) <= budget else None


def bound(entry: TranscriptEntry, max_parts: int = MAX_PARTS, max_chars: int = MAX_CHARS) -> TranscriptEntry:
    """`entry` within `max_parts` parts and about `max_chars` characters of JSON.

    Confirmation cards come first; then the first other parts, sharing what is left fairly: parts
    smaller than an equal share are kept whole, the others are cut to an equal share of the rest."""
    question = _clip(entry.question, MAX_QUESTION)
    budget = max_chars - len(question) - _NOTE_RESERVE - 300  # 300: the entry's other fields
    parts = list(entry.parts)
    cards = [i for i, p in enumerate(parts) if isinstance(p, ConfirmationPart)][:max_parts]
    others = [i for i, p in enumerate(parts) if not isinstance(p, ConfirmationPart)][: max_parts - len(cards)]
    kept: dict[int, Part] = {}
    for i in cards:
        fitted = _fit(parts[i], budget)
        if fitted is not None:
            kept[i] = fitted
            budget -= _size(fitted)
    by_size = sorted(others, key=lambda i: _size(parts[i]))
    for n, i in enumerate(by_size):
        share = budget // (len(by_size) - n)  # the parts from here on are at least this one's size
        fitted = _fit(parts[i], share)
        if fitted is not None:
            kept[i] = fitted
            budget -= _size(fitted)
    out = [kept[i] for i in sorted(kept)]
    left_out = len(parts) - len(out)
    cut = sum(1 for i, p in kept.items() if p is not parts[i])
    if left_out or cut:
        said = [f"{left_out} part{'s' if left_out != 1 else ''} left out"] if left_out else []
        said += [f"{cut} shortened"] if cut else []
        out.append(TextPart(markdown=f"_This answer is kept in the history in part ({', '.join(said)})._"))
    return entry.model_copy(update={"question": question, "parts": out})


# -- stores --------------------------------------------------------------------------------------


class TranscriptStore(Protocol):
    async def load(self, key: str) -> list[TranscriptEntry]:
        """The conversation's newest `max_turns` entries, oldest first."""
        ...

    async def append(self, key: str, entry: TranscriptEntry) -> None:
        """Add one entry (bounded), keep the newest `max_turns`, renew the TTL."""
        ...

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


def encode(entry: TranscriptEntry, max_parts: int = MAX_PARTS, max_chars: int = MAX_CHARS) -> str:
    return bound(entry, max_parts, max_chars).model_dump_json()


def decode(raw: Sequence[str | bytes], key: str) -> list[TranscriptEntry]:
    out: list[TranscriptEntry] = []
    for item in raw:
        try:
            out.append(TranscriptEntry.model_validate_json(item))
        except ValidationError:
            log.warning("skipping a malformed transcript entry in conversation %s", key)
    return out


class RedisTranscriptStore:
    """A LIST `<prefix>transcript:<key>` of JSON entries; every replica sees the same transcript."""

    def __init__(
        self,
        redis: Redis,
        *,
        max_turns: int = MAX_TURNS,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        prefix: str = "avibot:",
        max_parts: int = MAX_PARTS,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self.redis = redis
        self.max_turns = max_turns
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self.max_parts = max_parts
        self.max_chars = max_chars

    def key(self, key: str) -> str:
        return f"{self.prefix}transcript:{key}"

    async def load(self, key: str) -> list[TranscriptEntry]:
        return decode(await self.redis.lrange(self.key(key), -self.max_turns, -1), key)

    async def append(self, key: str, entry: TranscriptEntry) -> None:
        """One round trip: MULTI RPUSH LTRIM EXPIRE EXEC."""
        encoded = encode(entry, self.max_parts, self.max_chars)
        k = self.key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(k, encoded)
            pipe.ltrim(k, -self.max_turns, -1)
            pipe.expire(k, self.ttl_seconds)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.key(key))

    async def close(self) -> None:
        """Nothing: the Redis client is shared and closed by its owner."""


class MemoryTranscriptStore:
    """The same semantics in one process (the demo, and `Turns` when given no store).

    At most `max_conversations` conversations are kept: the least recently written go first."""

    def __init__(
        self,
        *,
        max_turns: int = MAX_TURNS,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_conversations: int = 1_000,
        max_parts: int = MAX_PARTS,
        max_chars: int = MAX_CHARS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_turns = max_turns
        self.ttl_seconds = ttl_seconds
        self.max_conversations = max_conversations
        self.max_parts = max_parts
        self.max_chars = max_chars
        self._clock = clock
        # key -> (JSON entries, deadline), least recently written first (so also earliest deadline).
        self._data: OrderedDict[str, tuple[list[str], float]] = OrderedDict()

    def _live(self, key: str) -> list[str]:
        entry = self._data.get(key)
        if entry is None:
            return []
        if entry[1] <= self._clock():
            del self._data[key]
            return []
        return entry[0]

    async def load(self, key: str) -> list[TranscriptEntry]:
        return decode(self._live(key)[-self.max_turns :], key)

    async def append(self, key: str, entry: TranscriptEntry) -> None:
        encoded = encode(entry, self.max_parts, self.max_chars)
        now = self._clock()
        kept = [*self._live(key), encoded][-self.max_turns :]
        self._data.pop(key, None)
        while self._data:  # forget expired conversations, oldest first
            _key, (_entries, deadline) = next(iter(self._data.items()))
            if deadline > now:
                break
            self._data.popitem(last=False)
        while len(self._data) >= self.max_conversations:
            self._data.popitem(last=False)
        self._data[key] = (kept, now + self.ttl_seconds)

    async def clear(self, key: str) -> None:
        self._data.pop(key, None)

    async def close(self) -> None:
        self._data.clear()
