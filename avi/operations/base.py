"""The base of every operation group: a client, and name-or-uuid resolution in a tenant."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from avi.client import AviClient, looks_like_uuid
from avi.errors import AviNotFoundError


class OperationGroup:
    """Operations on one kind of object; every method is tenant-aware (`tenant=None` = settings)."""

    def __init__(self, client: AviClient) -> None:
        self.client = client

    async def _inventory_item(self, obj_type: str, name_or_uuid: str, tenant: str | None) -> dict[str, Any]:
        """One `<type>-inventory` item by uuid or name, in one request (no separate name lookup)."""
        if looks_like_uuid(name_or_uuid):
            # The client returns decoded JSON (Any); an inventory item is a JSON object.
            return cast(
                "dict[str, Any]",
                await self.client.get(
                    f"/api/{obj_type}-inventory/{name_or_uuid}", params={"include_name": True}, tenant=tenant
                ),
            )
        body = await self.client.get(
            f"/api/{obj_type}-inventory", params={"name": name_or_uuid, "include_name": True}, tenant=tenant
        )
        results = body.get("results") if isinstance(body, dict) else None
        if not results:
            raise AviNotFoundError(
                f"no {obj_type} named {name_or_uuid!r} in tenant {tenant or self.client.settings.tenant!r}",
                status=404,
                method="GET",
                path=f"/api/{obj_type}-inventory",
            )
        return cast("dict[str, Any]", results[0])

    async def _object(self, obj_type: str, name_or_uuid: str, tenant: str | None) -> dict[str, Any]:
        """The full object (refs with `#name`) by uuid or name."""
        if looks_like_uuid(name_or_uuid):
            # The client returns decoded JSON (Any); a configuration object is a JSON object.
            return cast(
                "dict[str, Any]",
                await self.client.get(
                    f"/api/{obj_type}/{name_or_uuid}", params={"include_name": True}, tenant=tenant
                ),
            )
        found = await self.client.get_by_name(
            obj_type, name_or_uuid, tenant=tenant, params={"include_name": True}
        )
        if found is None and "/" not in name_or_uuid:
            # Not a name: maybe an id outside the `<type>-<uuid4>` form (`admin`, `user-1`, `default`).
            try:
                found = await self.client.get(
                    f"/api/{obj_type}/{name_or_uuid}", params={"include_name": True}, tenant=tenant
                )
            except AviNotFoundError:
                found = None
        if found is None:
            raise AviNotFoundError(
                f"no {obj_type} named {name_or_uuid!r} in tenant {tenant or self.client.settings.tenant!r}",
                status=404,
                method="GET",
                path=f"/api/{obj_type}",
            )
        return found


def name_ref(obj_type: str, name_or_uuid: str) -> str:
    """A reference the controller resolves in the request's tenant: by uuid or `?name=`."""
    if looks_like_uuid(name_or_uuid):
        return f"/api/{obj_type}/{name_or_uuid}"
    return f"/api/{obj_type}?name={quote(name_or_uuid, safe='')}"
