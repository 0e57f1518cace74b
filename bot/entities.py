"""Entity linking: which object names a question uses, from the names the controller really has.

`EntityIndex` keeps, per controller and tenant, the names (and nothing else) of the objects people ask
about by name: virtual services, pools, service engines and health monitors. One page-walk per type
builds it (`GET /api/<type>?fields=name`, 200 a page: the simulator's 10,000 objects, 18,052 names,
cost 92 requests and hold about 1.8 MB, 370 KB of it the names themselves). The first use waits for
it; after that, names older than `refresh_seconds` (60 s) are answered at once and rebuilt in the
background; `refresh` rebuilds on demand, `refresh_after_miss` after a name was not found (a
just-created object), at most every `retry_seconds`. A failed rebuild keeps the last names; with
none, the fallback reads names from the sentence alone.

`NameTable` answers the fallback's and the router's questions (`bot.commands.reading.NameLookup`):
whether a word is a name and of what kind (exact, case-insensitive), and which names are close to
one that is not ("checkout" -> `checkout-pool`, or "did you mean checkout-prod-pool?").
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from avi.operations import AviOperations
from bot import lexicon

log = logging.getLogger("avibot.entities")

PAGE_SIZE = 200  # the controller's largest page
_SUFFIXES = ("pool", "vs", "se", "hm", "vip", "monitor", "hc", "app")
_PARTS = re.compile(r"[-_.\s]+")


def indexed_kinds(lex: lexicon.Lexicon | None = None) -> dict[str, str]:
    """Controller object type -> lexicon kind, for the kinds people ask about by name."""
    lex = lex or lexicon.LEXICON
    return {k.object_type: k.key for k in lex.kinds if k.object_type and k.get_tool}


@dataclass(frozen=True)
class NameTable:
    """The names of one tenant's objects, by kind; built once, read by any number of turns.

    Kept small: each name once (its lower-case form is the same string when it is lower case already),
    the kinds of a name as bits of one small int, and the spelling only of names that have capitals."""

    by_kind: dict[str, tuple[str, ...]]
    built_at: float = 0.0
    _kinds: dict[str, int] = field(default_factory=dict, repr=False)  # lower-case name -> kind bits
    _spelled: dict[str, str] = field(default_factory=dict, repr=False)  # lower-case -> as spelt, if not

    @classmethod
    def build(cls, by_kind: Mapping[str, Iterable[str]], built_at: float = 0.0) -> NameTable:
        kinds = {kind: tuple(sorted(set(names))) for kind, names in by_kind.items()}
        bits: dict[str, int] = {}
        spelled: dict[str, str] = {}
        for bit, names in enumerate(kinds.values()):
            for name in names:
                low = name.lower()
                if low != name:
                    spelled[low] = name
                else:
                    low = name
                bits[low] = bits.get(low, 0) | (1 << bit)
        return cls(kinds, built_at, bits, spelled)

    def __len__(self) -> int:
        return sum(len(names) for names in self.by_kind.values())

    def kinds_of(self, name: str) -> list[tuple[str, str]]:
        """(kind, the name as the controller spells it) of every object named `name` (any case)."""
        low = name.lower()
        bits = self._kinds.get(low, 0)
        if not bits:
            return []
        spelt = self._spelled.get(low, low)
        return [(kind, spelt) for bit, kind in enumerate(self.by_kind) if bits >> bit & 1]

    def close(self, word: str, kind: str | None = None, n: int = 3) -> list[tuple[str, str]]:
        """Names like `word`, closest first: the word with a kind suffix or prefix (`checkout-pool`),
        names made of the word and more (`checkout-prod-pool`), then similar spellings."""
        low = word.lower()
        kinds = [kind] if kind else list(self.by_kind)
        out: list[tuple[str, str]] = []

        def add(found: Iterable[tuple[str, str]]) -> None:
            for item in found:
                if item not in out and item[0] in kinds and item[1].lower() != low:
                    out.append(item)

        for suffix in _SUFFIXES:
            for sep in ("-", "_", "."):
                add(self.kinds_of(f"{low}{sep}{suffix}"))
                add(self.kinds_of(f"{suffix}{sep}{low}"))
        parts = [p for p in _PARTS.split(low) if p]
        for k in kinds:
            names = self.by_kind.get(k, ())
            containing = [name for name in names if parts[0][:3] in name.lower() and _contains(name, parts)]
            add((k, name) for name in sorted(containing, key=lambda s: (len(s), s))[: n + 1])
        for k in kinds if len(out) < n else ():
            nearby = {
                name.lower(): name for name in self.by_kind.get(k, ()) if abs(len(name) - len(low)) <= 3
            }
            add((k, nearby[s]) for s in difflib.get_close_matches(low, list(nearby), n=n, cutoff=0.75))
        return out[:n]

    def size_bytes(self) -> int:
        """What the table holds in memory, roughly: its containers and strings (each counted once)."""
        seen: set[int] = set()

        def size(obj: object) -> int:
            if id(obj) in seen:
                return 0
            seen.add(id(obj))
            return sys.getsizeof(obj)

        total = size(self.by_kind) + size(self._kinds) + size(self._spelled)
        for kind, names in self.by_kind.items():
            total += size(kind) + size(names) + sum(size(name) for name in names)
        total += sum(size(key) for key in self._kinds)
        total += sum(size(key) + size(value) for key, value in self._spelled.items())
        return total


def _contains(name: str, parts: list[str]) -> bool:
    return _contains_parts([p for p in _PARTS.split(name.lower()) if p], parts)


def _contains_parts(name_parts: list[str], parts: list[str]) -> bool:
    """Whether `parts` appear in `name_parts` in order, each the start of a part ("check" in
    checkout-prod-pool), with at least one more part in the name."""
    if not parts or len(name_parts) <= len(parts):
        return False
    i = 0
    for piece in name_parts:
        if i < len(parts) and piece.startswith(parts[i]) and (len(parts[i]) >= 3 or piece == parts[i]):
            i += 1
    return i == len(parts)


class EntityIndex:
    """The name tables of one controller, per tenant (see the module docstring)."""

    def __init__(
        self,
        ops: AviOperations,
        *,
        controller: str = "",
        refresh_seconds: float = 60.0,
        retry_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ops = ops
        self.controller = controller
        self.refresh_seconds = refresh_seconds
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._tables: dict[tuple[str, str], NameTable] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._background: dict[tuple[str, str], asyncio.Task[NameTable | None]] = {}
        self.builds = 0  # how many tables were built (for tests and metrics)

    def _key(self, tenant: str | None) -> tuple[str, str]:
        return (self.controller, tenant or "")

    def cached(self, tenant: str | None) -> NameTable | None:
        """The table as it is, however old; None before the first build."""
        return self._tables.get(self._key(tenant))

    async def names(self, tenant: str | None) -> NameTable | None:
        """The tenant's names. The first use builds them (and waits); later, names older than
        `refresh_seconds` are answered at once while a rebuild runs in the background. None when
        the controller could never be read."""
        table = self.cached(tenant)
        if table is None:
            return await self._refresh_quietly(tenant, 0.0)
        key = self._key(tenant)
        if self._clock() - table.built_at >= self.refresh_seconds and key not in self._background:
            task = asyncio.create_task(self._refresh_quietly(tenant, self.refresh_seconds))
            self._background[key] = task
            task.add_done_callback(lambda _: self._background.pop(key, None))
        return table

    async def settle(self) -> None:
        """Wait for the background rebuilds under way (tests; shutdown)."""
        await asyncio.gather(*list(self._background.values()), return_exceptions=True)

    async def _refresh_quietly(self, tenant: str | None, older_than: float) -> NameTable | None:
        try:
            return await self.refresh(tenant, older_than=older_than)
        except Exception as exc:  # the controller is down or refuses: answer from what there is
            log.warning("entity index for tenant %r not refreshed: %s", tenant, type(exc).__name__)
            return self.cached(tenant)

    async def refresh_after_miss(self, tenant: str | None) -> NameTable | None:
        """A name was not found: rebuild now unless the table is younger than `retry_seconds`."""
        return await self._refresh_quietly(tenant, self.retry_seconds)

    async def refresh(self, tenant: str | None, *, older_than: float = 0.0) -> NameTable:
        """Rebuild the tenant's table now (one page-walk per type), unless another turn just did."""
        key = self._key(tenant)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            table = self._tables.get(key)
            if table is not None and older_than and self._clock() - table.built_at < older_than:
                return table  # built while this turn waited for the lock
            by_kind: dict[str, list[str]] = {}
            for obj_type, kind in indexed_kinds().items():
                items = await self.ops.client.list_all(
                    obj_type, params={"fields": "name"}, tenant=tenant, page_size=PAGE_SIZE
                )
                by_kind[kind] = [str(item["name"]) for item in items if item.get("name")]
            table = NameTable.build(by_kind, self._clock())
            self._tables[key] = table
            self.builds += 1
            return table

    def invalidate(self, tenant: str | None = None) -> None:
        """Forget one tenant's table (or every one): the next use rebuilds it."""
        if tenant is None:
            self._tables.clear()
        else:
            self._tables.pop(self._key(tenant), None)

    async def refresh_periodically(
        self, tenants: Iterable[str | None], interval: float | None = None
    ) -> None:
        """Keep the tables of `tenants` fresh in the background (run as a task; cancel to stop)."""
        every = interval or self.refresh_seconds
        while True:
            for tenant in tenants:
                try:
                    await self.refresh(tenant)
                except Exception as exc:
                    log.warning("entity index for tenant %r not refreshed: %s", tenant, type(exc).__name__)
            await asyncio.sleep(every)
