"""Table-driven CRUD for every collection: list, get, create, replace, patch, delete, singletons."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .collections import apply_filters, apply_sort, flag, paginate
from .context import Ctx, empty
from .errors import ApiError, bad_request, method_not_allowed, not_found
from .object_types import SINGLETONS, class_name
from .patch import apply_patch
from .refs import ref_uuid
from .render import ALWAYS_DERIVED, DERIVED_FIELDS, keep_secrets, present
from .schema import WriteContext, defaults_for, newer_fields, normalise, resolve_ref, resolve_tree
from .schema_data import REF_TARGETS
from .store import ADMIN, GLOBAL_TYPES, Obj

SLUG_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
DEFAULT_NAMES = frozenset(
    {
        ("cloud", "Default-Cloud"),
        ("serviceenginegroup", "Default-Group"),
        ("vrfcontext", "global"),
        ("vrfcontext", "management"),
        ("tenant", "admin"),
        ("user", "admin"),
        ("useraccountprofile", "Default-User-Account-Profile"),
    }
)
# Types whose referrers never block a delete (they point at objects, they do not use them).
NON_BLOCKING_REFERRERS = frozenset({"alert"})
SINGLETON_TYPES = SINGLETONS | {"cluster"}


# -- reads -------------------------------------------------------------------------------------------
def visible_object(ctx: Ctx, obj_type: str, uuid: str) -> Obj:
    obj = ctx.state.store.get(obj_type, uuid)
    if obj is None or not ctx.state.store.visible(obj_type, uuid, ctx.tenant):
        raise not_found(obj_type)
    return obj


def present_for(ctx: Ctx, obj_type: str, obj: Obj, fields: list[str] | None = None) -> dict[str, Any]:
    return present(
        ctx.state.runtime,
        obj_type,
        obj,
        fields=fields,
        export_key=flag(ctx.params, "export_key"),
        join_runtime=ctx.params.get("join_subresources", "") == "runtime",
        version=ctx.version,
    )


def envelope(ctx: Ctx, count: int, results: list[Any], next_page: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"count": count, "results": results}
    if next_page is not None:
        out["next"] = ctx.base + str(ctx.request.rel_url.update_query(page=next_page))
    return out


def query(ctx: Ctx, obj_type: str) -> tuple[int, list[Obj], int | None]:
    """Filter, sort and paginate the visible objects of a type."""
    store = ctx.state.store
    objs = apply_filters(
        store.iter_visible(obj_type, ctx.tenant), obj_type, ctx.params, store, defaults_for(obj_type)
    )
    page = paginate(apply_sort(objs, ctx.params), ctx.params)
    return page.count, page.items, page.next_page


async def list_objects(ctx: Ctx) -> web.Response:
    obj_type = ctx.match["type"]
    if obj_type in SINGLETON_TYPES:
        return ctx.respond(present_for(ctx, obj_type, singleton(ctx, obj_type)))
    fields = [f for f in ctx.params.get("fields", "").split(",") if f] or None
    count, items, next_page = query(ctx, obj_type)
    results = [present_for(ctx, obj_type, obj, fields) for obj in items]
    return ctx.respond(envelope(ctx, count, results, next_page))


async def get_object(ctx: Ctx) -> web.Response:
    obj_type = ctx.match["type"]
    obj = visible_object(ctx, obj_type, ctx.match["uuid"])
    fields = [f for f in ctx.params.get("fields", "").split(",") if f] or None
    return ctx.respond(present_for(ctx, obj_type, obj, fields))


def singleton(ctx: Ctx, obj_type: str) -> Obj:
    objs = ctx.state.store.objects[obj_type]
    if not objs:
        raise not_found(obj_type)
    return next(iter(objs.values()))


# -- writes ------------------------------------------------------------------------------------------
def _write_ctx(ctx: Ctx) -> WriteContext:
    return WriteContext(ctx.state.store, ctx.tenant, ctx.version)


def _strip_derived(obj_type: str, body: Any) -> Any:
    if isinstance(body, dict):
        drop = ALWAYS_DERIVED | DERIVED_FIELDS.get(obj_type, frozenset())
        return {k: v for k, v in body.items() if k not in drop}
    return body


def _check_name(ctx: Ctx, obj_type: str, obj: Obj, owner: str | None, except_uuid: str | None) -> None:
    name = obj.get("name")
    if name is not None and ctx.state.store.name_taken(obj_type, name, owner, except_uuid):
        tenant = ctx.state.store.name_of(owner or ADMIN) or owner
        raise ApiError(
            409, f"{class_name(obj_type)} object with name '{name}' already exists in tenant '{tenant}'"
        )


async def create_object(ctx: Ctx) -> web.Response:
    obj_type = ctx.match["type"]
    if obj_type in SINGLETON_TYPES:
        raise method_not_allowed("POST")
    body = _strip_derived(obj_type, await ctx.body())
    wctx = _write_ctx(ctx)
    if isinstance(body, dict) and body.get("tenant_ref") and obj_type not in GLOBAL_TYPES:
        # a tenant_ref in the body places the object there (ansible and terraform send one)
        tenant = ref_uuid(resolve_ref(wctx, "tenant_ref", body["tenant_ref"], "tenant")) or ""
        wctx = WriteContext(wctx.store, tenant, wctx.version)
    obj = normalise(obj_type, body, wctx, creating=True)
    store = ctx.state.store
    slug = ctx.request.headers.get("Slug")
    if slug:
        if not SLUG_RE.match(slug):
            raise bad_request(f"Invalid uuid in Slug header: {slug!r}")
        if store.lookup(slug):
            raise ApiError(409, f"{class_name(obj_type)} object with uuid '{slug}' already exists")
        uuid = slug
    else:
        uuid = ctx.state.new_uuid(obj_type)
    owner = None if obj_type in GLOBAL_TYPES else wctx.owner
    obj = {"uuid": uuid, **obj}
    _check_name(ctx, obj_type, obj, owner, None)
    store.add(obj_type, obj, owner)
    after_write(ctx, obj_type, obj)
    record(ctx, "config_create", obj_type, obj)
    return ctx.respond(present_for(ctx, obj_type, obj), status=201, include_name=True)


async def replace_object(ctx: Ctx) -> web.Response:
    obj_type = ctx.match["type"]
    old = (
        singleton(ctx, obj_type)
        if obj_type in SINGLETON_TYPES
        else visible_object(ctx, obj_type, ctx.match["uuid"])
    )
    body = _strip_derived(obj_type, await ctx.body())
    return _store_replacement(ctx, obj_type, old, body)


async def patch_object(ctx: Ctx) -> web.Response:
    obj_type = ctx.match["type"]
    old = (
        singleton(ctx, obj_type)
        if obj_type in SINGLETON_TYPES
        else visible_object(ctx, obj_type, ctx.match["uuid"])
    )
    ops = await ctx.body()
    current = {k: copy.deepcopy(v) for k, v in old.items() if k not in ("tenant_ref", "_last_modified")}
    wctx = _write_ctx(ctx)
    merged = apply_patch(current, ops, lambda sub: normalise_fragment(obj_type, sub, wctx))
    return _store_replacement(ctx, obj_type, old, merged, check_stale=False)


def normalise_fragment(obj_type: str, fragment: dict[str, Any], wctx: WriteContext) -> dict[str, Any]:
    """Resolve the refs of a PATCH fragment; validation happens on the merged object."""
    return resolve_tree(wctx, fragment, REF_TARGETS.get(obj_type, {}))


def _store_replacement(
    ctx: Ctx, obj_type: str, old: Obj, body: Any, check_stale: bool = True
) -> web.Response:
    stale = check_stale and isinstance(body, dict) and "_last_modified" in body
    if stale and str(body["_last_modified"]) != old["_last_modified"]:
        raise ApiError(412, f"Need to reload object data {class_name(obj_type)}")
    if isinstance(body, dict) and body.get("uuid") not in (None, old["uuid"]):
        raise bad_request("uuid in the body does not match the URL")
    wctx = _write_ctx(ctx)
    new = normalise(obj_type, body, wctx, creating=False)
    new = {"uuid": old["uuid"], **new}
    keep_secrets(obj_type, old, new)
    if ctx.version is not None:
        # fields the caller's older schema cannot see survive its PUT, as on the controller
        for field in newer_fields(obj_type, ctx.version):
            if field in old and field not in new:
                new[field] = old[field]
    if "tenant_ref" in old:
        new["tenant_ref"] = old["tenant_ref"]
    store = ctx.state.store
    _check_name(ctx, obj_type, new, store.tenant_of.get(old["uuid"]), old["uuid"])
    store.replace(obj_type, new)
    after_write(ctx, obj_type, new)
    record(ctx, "config_update", obj_type, new)
    return ctx.respond(present_for(ctx, obj_type, new), include_name=True)


async def delete_object(ctx: Ctx) -> web.Response:
    obj_type = ctx.match["type"]
    if obj_type in SINGLETON_TYPES:
        raise method_not_allowed("DELETE")
    obj = visible_object(ctx, obj_type, ctx.match["uuid"])
    name = obj.get("name", "")
    if (
        (obj_type, name) in DEFAULT_NAMES
        or str(name).startswith("System-")
        or obj["uuid"] in ("admin", "user-1")
    ):
        raise ApiError(403, f"Cannot delete system default object {class_name(obj_type)} '{name}'")
    store = ctx.state.store
    users = [(t, o) for t, o in store.referrers(obj["uuid"]) if t not in NON_BLOCKING_REFERRERS]
    if users:
        names = ", ".join(f"{class_name(t)} {o.get('name', o['uuid'])}" for t, o in users[:10])
        raise ApiError(400, f"Cannot delete, object is referred by: [{names}]")
    owner = store.tenant_of.get(obj["uuid"])
    store.remove(obj_type, obj["uuid"])
    after_delete(ctx, obj_type, obj)
    ctx.state.events.record("config_delete", obj_type, obj, owner, ctx.caller.username if ctx.caller else "")
    return empty(204)


def record(ctx: Ctx, event_id: str, obj_type: str, obj: Obj) -> None:
    """A config event for `/api/analytics/logs?type=2`."""
    owner = ctx.state.store.tenant_of.get(obj["uuid"])
    ctx.state.events.record(event_id, obj_type, obj, owner, ctx.caller.username if ctx.caller else "")


# -- side effects that keep runtime consistent with config -----------------------------------------
def _vs_write(ctx: Ctx, vs: Obj) -> None:
    ctx.state.runtime.place(vs)


def _vsvip_write(ctx: Ctx, vsvip: Obj) -> None:
    for obj_type, obj in ctx.state.store.referrers(vsvip["uuid"]):
        if obj_type == "virtualservice":
            ctx.state.runtime.place(obj)


def _controllerproperties_write(ctx: Ctx, props: Obj) -> None:
    minutes = props.get("api_idle_timeout")
    if isinstance(minutes, int) and minutes > 0:
        ctx.state.auth.session_timeout = minutes * 60.0


def _pool_write(ctx: Ctx, pool: Obj) -> None:
    down = ctx.state.runtime.server_down.get(pool["uuid"])
    if down:
        down &= {s["ip"]["addr"] for s in pool.get("servers", [])}


AFTER_WRITE: dict[str, Callable[[Ctx, Obj], None]] = {
    "virtualservice": _vs_write,
    "vsvip": _vsvip_write,
    "controllerproperties": _controllerproperties_write,
    "pool": _pool_write,
}


def after_write(ctx: Ctx, obj_type: str, obj: Obj) -> None:
    hook = AFTER_WRITE.get(obj_type)
    if hook:
        hook(ctx, obj)


def after_delete(ctx: Ctx, obj_type: str, obj: Obj) -> None:
    runtime = ctx.state.runtime
    if obj_type == "virtualservice":
        runtime.unplace(obj["uuid"])
    elif obj_type == "pool":
        runtime.server_down.pop(obj["uuid"], None)
