"""Shared controller reads: identical GETs in flight are sent once, and their answers are kept for
`avi.cache_seconds` (5 s by default; 0 turns both off). During an incident a hundred people ask
"what is down?" at once; the controller should see one read, not a hundred.

- The key is the controller session's view: tenant, path and the encoded query.
- What is shared and kept is the answer's status and bytes; each caller of `get` decodes its own
  copy, because callers edit what they read (a pool's server list before its PUT). A caller that only
  reads asks for a value derived from the answer (`RawAnswer.derive`, as `map_pages` does): it is
  made once per answer, from one decode, and every caller of that answer gets the same object, so it
  must never be edited (the health scans parse a page into summaries once and hand out copies).
- Any write through the client drops every kept answer, before it is sent and after it ends: what a
  write touches reaches across types (a pool change shows in `virtualservice-inventory` too), and
  a cache this short is cheap to refill. A read that was in flight while a write ran is not kept,
  and reads that start after the write do not join it.
- Only 2xx answers are kept; an error is shared by the callers waiting for it, never kept.
- A caller that is cancelled does not cancel the request for the others waiting on it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import httpx

ReadKey = tuple[str, str, tuple[tuple[str, str], ...]]
T = TypeVar("T")


@dataclass(frozen=True)
class RawAnswer:
    """A controller answer before decoding: shareable, since bytes cannot be edited."""

    status: int
    content: bytes
    headers: httpx.Headers
    derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def derive(self, key: Hashable, make: Callable[[bytes], T]) -> T:
        """`make(content)`, made once per answer and `key`; every caller gets the same object, read-only.

        `key` names what `make` computes (the same key must always mean the same `make`). Nothing
        awaits in between, so concurrent callers on one event loop cannot both make it."""
        if key in self.derived:
            return cast("T", self.derived[key])
        value = self.derived[key] = make(self.content)
        return value


def read_key(tenant: str, path: str, params: dict[str, str] | None) -> ReadKey:
    return tenant, path, tuple(sorted((params or {}).items()))


class ReadShare:
    """Single flight and a short cache of GET answers for one client."""

    def __init__(
        self, seconds: float, *, max_entries: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._clock = clock
        self._kept: OrderedDict[ReadKey, tuple[float, RawAnswer]] = OrderedDict()
        self._flying: dict[ReadKey, asyncio.Task[RawAnswer]] = {}
        self._generation = 0
        self.shared = 0  # reads answered without a request of their own

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    async def read(self, key: ReadKey, fetch: Callable[[], Awaitable[RawAnswer]]) -> RawAnswer:
        kept = self._kept.get(key)
        if kept is not None:
            if kept[0] > self._clock():
                self.shared += 1
                return kept[1]
            del self._kept[key]
        task = self._flying.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, fetch, self._generation))
            task.add_done_callback(_retrieve)
            self._flying[key] = task
        else:
            self.shared += 1
        return await asyncio.shield(task)

    async def _fetch(
        self, key: ReadKey, fetch: Callable[[], Awaitable[RawAnswer]], generation: int
    ) -> RawAnswer:
        try:
            answer = await fetch()
            if generation == self._generation and 200 <= answer.status < 300:
                self._kept[key] = (self._clock() + self.seconds, answer)
                self._kept.move_to_end(key)
                while len(self._kept) > self.max_entries:
                    self._kept.popitem(last=False)
            return answer
        finally:
            if self._flying.get(key) is asyncio.current_task():
                del self._flying[key]

    def invalidate(self) -> None:
        """Forget every kept answer; reads in flight finish for their callers but are not kept."""
        self._generation += 1
        self._kept.clear()
        self._flying.clear()


def _retrieve(task: asyncio.Task[RawAnswer]) -> None:
    """Mark a failed shared read as seen, so one whose callers all left logs no warning."""
    if not task.cancelled():
        task.exception()
