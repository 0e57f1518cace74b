"""Configuration objects per type and tenant, with the indexes lookups need (uuid, name, references).

Objects are stored sparse (only explicitly set fields; type defaults are merged when rendered) with refs
in the host-independent form of `refs.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from .object_types import OBJECT_TYPES
from .refs import MARK, make_ref, ref_uuid

ADMIN = "admin"
ALL_TENANTS = "*"
# Types whose objects carry no tenant_ref.
GLOBAL_TYPES = frozenset({"tenant", "user", "systemconfiguration", "controllerproperties", "seproperties"})
# Admin-tenant objects of these types are visible (and referable) from every tenant, as provider objects.
SHARED_TYPES = frozenset(
    {
        "cloud",
        "serviceenginegroup",
        "serviceengine",
        "vrfcontext",
        "network",
        "applicationprofile",
        "networkprofile",
        "healthmonitor",
        "sslprofile",
        "analyticsprofile",
        "applicationpersistenceprofile",
        "pkiprofile",
        "role",
        "ipamdnsproviderprofile",
        "useraccountprofile",
    }
)
EXTRA_TYPES = ("cluster",)

Obj = dict[str, Any]


def collect_refs(value: Any, out: set[str]) -> set[str]:
    """Uuids of every stored ref inside `value`."""
    if isinstance(value, str):
        if value.startswith(MARK):
            out.add(value.rsplit("/", 1)[-1])
    elif isinstance(value, dict):
        for item in value.values():
            collect_refs(item, out)
    elif isinstance(value, list):
        for item in value:
            collect_refs(item, out)
    return out


class Store:
    """All configuration objects; every write goes through add/replace/remove so indexes stay true."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Obj]] = {t: {} for t in (*OBJECT_TYPES, *EXTRA_TYPES)}
        self.index: dict[str, tuple[str, Obj]] = {}
        self.names: dict[tuple[str, str | None, str], str] = {}
        self.tenant_of: dict[str, str | None] = {}
        self.refs_of: dict[str, set[str]] = {}
        self._last_us = 0
        self.generation = 0  # bumped on every write; keys caches of derived indexes
        self.cache: dict[str, tuple[int, Any]] = {}

    # -- time ---------------------------------------------------------------------------------------
    def stamp(self) -> str:
        """A `_last_modified` value: µs since the epoch, strictly increasing."""
        now = time.time_ns() // 1000
        self._last_us = max(now, self._last_us + 1)
        return str(self._last_us)

    # -- reads --------------------------------------------------------------------------------------
    def get(self, obj_type: str, uuid: str) -> Obj | None:
        return self.objects[obj_type].get(uuid)

    def lookup(self, uuid: str) -> tuple[str, Obj] | None:
        return self.index.get(uuid)

    def name_of(self, uuid: str) -> str | None:
        hit = self.index.get(uuid)
        return hit[1].get("name") if hit else None

    def visible(self, obj_type: str, uuid: str, tenant: str) -> bool:
        """Whether a request scoped to `tenant` (a tenant uuid or `*`) may see this object."""
        owner = self.tenant_of.get(uuid)
        return (
            tenant == ALL_TENANTS
            or owner is None
            or owner == tenant
            or (owner == ADMIN and obj_type in SHARED_TYPES)
        )

    def iter_visible(self, obj_type: str, tenant: str) -> Iterator[Obj]:
        objs = self.objects[obj_type].values()
        if tenant == ALL_TENANTS or obj_type in GLOBAL_TYPES:
            yield from objs
            return
        tenant_of = self.tenant_of
        shared = obj_type in SHARED_TYPES
        for obj in objs:
            owner = tenant_of[obj["uuid"]]
            if owner == tenant or owner is None or (shared and owner == ADMIN):
                yield obj

    def find_by_name(self, obj_type: str, name: str, tenant: str) -> Obj | None:
        """The object called `name` as seen from `tenant` (own tenant first, then shared admin objects)."""
        if tenant == ALL_TENANTS:
            for obj in self.objects[obj_type].values():
                if obj.get("name") == name:
                    return obj
            return None
        for owner in (tenant, None, ADMIN):
            uuid = self.names.get((obj_type, owner, name))
            if uuid and self.visible(obj_type, uuid, tenant):
                return self.objects[obj_type][uuid]
        return None

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A derived index, rebuilt only after a write."""
        hit = self.cache.get(key)
        if hit is None or hit[0] != self.generation:
            hit = (self.generation, build())
            self.cache[key] = hit
        return hit[1]

    def name_taken(self, obj_type: str, name: str, owner: str | None, except_uuid: str | None = None) -> bool:
        uuid = self.names.get((obj_type, owner, name))
        return uuid is not None and uuid != except_uuid

    def referrers(self, uuid: str) -> list[tuple[str, Obj]]:
        """Objects holding a ref to `uuid` (O(objects); only deletes use it)."""
        return [self.index[u] for u, refs in self.refs_of.items() if uuid in refs and u != uuid]

    # -- writes -------------------------------------------------------------------------------------
    def add(self, obj_type: str, obj: Obj, owner: str | None, stamp: str | None = None) -> Obj:
        uuid = obj["uuid"]
        if obj_type not in GLOBAL_TYPES and owner is not None:
            obj["tenant_ref"] = make_ref("tenant", owner)
        else:
            owner = None
        obj["_last_modified"] = stamp or self.stamp()
        self.generation += 1
        self.objects[obj_type][uuid] = obj
        self.index[uuid] = (obj_type, obj)
        self.tenant_of[uuid] = owner
        if "name" in obj:
            self.names[(obj_type, owner, obj["name"])] = uuid
        self.refs_of[uuid] = collect_refs(obj, set())
        return obj

    def replace(self, obj_type: str, obj: Obj) -> Obj:
        uuid = obj["uuid"]
        old = self.objects[obj_type][uuid]
        owner = ref_uuid(obj.get("tenant_ref")) if obj_type not in GLOBAL_TYPES else None
        self._unname(obj_type, old)
        return self.add(obj_type, obj, owner)

    def remove(self, obj_type: str, uuid: str) -> None:
        obj = self.objects[obj_type].pop(uuid)
        self.generation += 1
        self._unname(obj_type, obj)
        self.index.pop(uuid, None)
        self.tenant_of.pop(uuid, None)
        self.refs_of.pop(uuid, None)

    def _unname(self, obj_type: str, obj: Obj) -> None:
        key = (obj_type, self.tenant_of.get(obj["uuid"]), obj.get("name"))
        if self.names.get(key) == obj["uuid"]:  # type: ignore[arg-type]
            del self.names[key]  # type: ignore[arg-type]
