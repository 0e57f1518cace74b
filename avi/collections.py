"""Reads of whole collections on top of one `get`: pages that follow the controller's `next` links,
every item, a lookup by name and name -> uuid. A mixin of `AviClient` (avi/client.py).

`map_pages` is for callers that only read: what it returns is made once per shared answer
(avi/read_share.py) and handed to every caller of that answer, so it must never be edited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import httpx

from avi.client_types import Page, Params, api_path, decode_body, looks_like_uuid
from avi.errors import AviError, AviNotFoundError
from avi.read_share import RawAnswer
from avi.settings import AviSettings

T = TypeVar("T")


@dataclass(frozen=True)
class ParsedPage(Generic[T]):
    """One collection page with each item parsed: shared by every reader of the answer, never edited."""

    count: int
    next: str | None
    items: tuple[T, ...]


class CollectionReads:
    """Needs `get` and `get_raw` (path, params=, tenant=) and `_settings`; ceil(N/page_size) requests."""

    _settings: AviSettings

    async def get(self, path: str, *, params: Params | None = None, tenant: str | None = None) -> Any:
        raise NotImplementedError

    async def get_raw(
        self, path: str, *, params: Params | None = None, tenant: str | None = None
    ) -> RawAnswer:
        raise NotImplementedError

    def _relative_next(self, next_url: str) -> str | None:
        """The path+query of a `next` link; the host is always the configured controller's."""
        url = httpx.URL(next_url)
        path = url.raw_path.decode("ascii")
        return path if path.startswith("/api/") else None

    async def _walk(
        self,
        obj_type_or_path: str,
        fetch: Callable[[str, Params | None], Awaitable[ParsedPage[T]]],
        *,
        params: Params | None,
        page_size: int,
        max_pages: int | None = None,
    ) -> AsyncIterator[ParsedPage[T]]:
        """The pages `fetch(path, params)` reads, following the controller's absolute `next` links."""
        query = dict(params or {})
        query.setdefault("page_size", max(1, min(page_size, 200)))
        path: str | None = api_path(obj_type_or_path)
        request_params: Params | None = query
        number = 0
        while path is not None:
            page = await fetch(path, request_params)
            number += 1
            yield page
            if not page.next or not page.items or (max_pages is not None and number >= max_pages):
                return
            path, request_params = self._relative_next(page.next), None

    async def iter_pages(
        self,
        obj_type_or_path: str,
        *,
        params: Params | None = None,
        tenant: str | None = None,
        page_size: int = 200,
        max_pages: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages of a collection, following the controller's absolute `next` links; each caller gets
        its own decoded items (it may edit them)."""

        async def fetch(path: str, query: Params | None) -> ParsedPage[dict[str, Any]]:
            return _collection(await self.get(path, params=query, tenant=tenant), path, _same)

        number = 0
        async for page in self._walk(
            obj_type_or_path, fetch, params=params, page_size=page_size, max_pages=max_pages
        ):
            number += 1
            yield Page(number, page.count, list(page.items))

    async def list_all(
        self,
        obj_type_or_path: str,
        *,
        params: Params | None = None,
        tenant: str | None = None,
        page_size: int = 200,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection (or the first `limit`), in ceil(N/page_size) requests."""
        out: list[dict[str, Any]] = []
        async for page in self.iter_pages(
            obj_type_or_path, params=params, tenant=tenant, page_size=page_size
        ):
            out.extend(page.results)
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    async def map_pages(
        self,
        obj_type_or_path: str,
        parse: Callable[[dict[str, Any]], T],
        *,
        params: Params | None = None,
        tenant: str | None = None,
        page_size: int = 200,
    ) -> list[T]:
        """`[parse(item) for item in list_all(...)]`, each page decoded and parsed once per shared answer:
        the items are shared with every other caller of the same pages, so read them, never edit them."""

        async def fetch(path: str, query: Params | None) -> ParsedPage[T]:
            raw = await self.get_raw(path, params=query, tenant=tenant)
            return raw.derive((ParsedPage, parse), partial(_parsed, parse=parse, path=path))

        out: list[T] = []
        async for page in self._walk(obj_type_or_path, fetch, params=params, page_size=page_size):
            out.extend(page.items)
        return out

    async def get_by_name(
        self, obj_type: str, name: str, *, tenant: str | None = None, params: Params | None = None
    ) -> dict[str, Any] | None:
        """The object named `name` in the tenant (names are unique per type per tenant), or None."""
        body = await self.get(api_path(obj_type), params={**(params or {}), "name": name}, tenant=tenant)
        results = body.get("results") if isinstance(body, dict) else None
        return results[0] if results else None

    async def resolve_uuid(self, obj_type: str, name_or_uuid: str, *, tenant: str | None = None) -> str:
        """A uuid passes through; a name is looked up with `?name=` in the tenant (one request)."""
        if looks_like_uuid(name_or_uuid):
            return name_or_uuid
        found = await self.get_by_name(obj_type, name_or_uuid, tenant=tenant, params={"fields": "name"})
        if found is None and "/" not in name_or_uuid:
            # Not a name: maybe an id outside the `<type>-<uuid4>` form (`admin`, `user-1`, `default`).
            try:
                found = await self.get(f"{api_path(obj_type)}/{name_or_uuid}", tenant=tenant)
            except AviNotFoundError:
                found = None
        if not isinstance(found, dict) or not found.get("uuid"):
            raise AviNotFoundError(
                f"no {obj_type} named {name_or_uuid!r} in tenant {tenant or self._settings.tenant!r}",
                status=404,
                method="GET",
                path=api_path(obj_type),
            )
        return str(found["uuid"])


def _same(item: dict[str, Any]) -> dict[str, Any]:
    return item


def _collection(body: Any, path: str, parse: Callable[[dict[str, Any]], T]) -> ParsedPage[T]:
    """A decoded collection page, each item parsed; AviError when the answer is no collection."""
    if not isinstance(body, dict):
        raise AviError(f"expected a collection at {path}", method="GET", path=path)
    results = body.get("results") or []
    nxt = body.get("next")
    return ParsedPage(
        int(body.get("count", len(results))), str(nxt) if nxt else None, tuple(map(parse, results))
    )


def _parsed(content: bytes, parse: Callable[[dict[str, Any]], T], path: str) -> ParsedPage[T]:
    return _collection(decode_body(content), path, parse)
