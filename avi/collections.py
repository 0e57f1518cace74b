"""Reads of whole collections on top of one `get`: pages that follow the controller's `next` links,
every item, a lookup by name and name -> uuid. A mixin of `AviClient` (avi/client.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from avi.client_types import Page, Params, api_path, looks_like_uuid
from avi.errors import AviError, AviNotFoundError
from avi.settings import AviSettings


class CollectionReads:
    """Needs `get(path, params=, tenant=)` and `_settings`; costs ceil(N/page_size) requests."""

    _settings: AviSettings

    async def get(self, path: str, *, params: Params | None = None, tenant: str | None = None) -> Any:
        raise NotImplementedError

    def _relative_next(self, next_url: str) -> str | None:
        """The path+query of a `next` link; the host is always the configured controller's."""
        url = httpx.URL(next_url)
        path = url.raw_path.decode("ascii")
        return path if path.startswith("/api/") else None

    async def iter_pages(
        self,
        obj_type_or_path: str,
        *,
        params: Params | None = None,
        tenant: str | None = None,
        page_size: int = 200,
        max_pages: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages of a collection, following the controller's absolute `next` links."""
        query = dict(params or {})
        query.setdefault("page_size", max(1, min(page_size, 200)))
        path: str | None = api_path(obj_type_or_path)
        request_params: Params | None = query
        number = 0
        while path is not None:
            body = await self.get(path, params=request_params, tenant=tenant)
            number += 1
            if not isinstance(body, dict):
                raise AviError(f"expected a collection at {path}", method="GET", path=path)
            results = body.get("results") or []
            yield Page(number, int(body.get("count", len(results))), results)
            nxt = body.get("next")
            if not nxt or not results or (max_pages is not None and number >= max_pages):
                return
            path, request_params = self._relative_next(str(nxt)), None

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
