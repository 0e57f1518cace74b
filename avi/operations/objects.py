"""What can be asked about: every object type, and a generic read of any of them."""

from __future__ import annotations

from typing import Any

from avi.errors import AviValidationError
from avi.models import ObjectList, ObjectTypeInfo
from avi.object_types import DESCRIPTIONS, INVENTORY_TYPES, OBJECT_TYPES, SINGLETONS
from avi.operations._common import clean
from avi.operations.base import OperationGroup

_INVENTORY_NAMES = {f"{t}-inventory" for t in INVENTORY_TYPES}


def check_type(obj_type: str) -> str:
    obj_type = obj_type.strip().lower()
    if obj_type not in OBJECT_TYPES and obj_type not in _INVENTORY_NAMES:
        raise AviValidationError(f"unknown object type {obj_type!r}", status=400)
    return obj_type


class ObjectOps(OperationGroup):
    """Any object type by name: the list of collections, a generic list and a generic get."""

    def object_types(self) -> list[ObjectTypeInfo]:
        """Every collection of the controller (no request)."""
        inventories = set(INVENTORY_TYPES)
        return [
            ObjectTypeInfo(
                name=t,
                description=DESCRIPTIONS.get(t),
                has_inventory=t in inventories,
                singleton=t in SINGLETONS,
            )
            for t in OBJECT_TYPES
        ]

    async def list_objects(
        self,
        obj_type: str,
        *,
        name_contains: str | None = None,
        filters: dict[str, str] | None = None,
        fields: list[str] | None = None,
        tenant: str | None = None,
        limit: int = 50,
    ) -> ObjectList:
        """Objects of any type (redacted), first `limit` of them; `count` is the controller's total.

        `filters` are passed as collection parameters (`name`, `refers_to`, `cloud_ref.name` ...).
        """
        obj_type = check_type(obj_type)
        if obj_type in SINGLETONS:
            body = await self.client.get(f"/api/{obj_type}", tenant=tenant)
            return ObjectList(object_type=obj_type, count=1, items=[clean(body)])
        params: dict[str, Any] = dict(filters or {})
        if name_contains:
            params["name.icontains"] = name_contains
        if fields:
            params["fields"] = ",".join(fields)
        params.setdefault("include_name", True)
        limit = max(1, limit)
        items: list[dict[str, Any]] = []
        count = 0
        async for page in self.client.iter_pages(
            obj_type, params=params, tenant=tenant, page_size=min(200, limit)
        ):
            count = page.count
            items.extend(clean(item) for item in page.results)
            if len(items) >= limit:
                break
        return ObjectList(object_type=obj_type, count=count, items=items[:limit], truncated=count > limit)

    async def get_object(
        self, obj_type: str, name_or_uuid: str, *, tenant: str | None = None
    ) -> dict[str, Any]:
        """One object of any type by name or uuid, redacted."""
        obj_type = check_type(obj_type)
        if obj_type in SINGLETONS:
            return clean(await self.client.get(f"/api/{obj_type}", tenant=tenant))
        return clean(await self._object(obj_type, name_or_uuid, tenant))
