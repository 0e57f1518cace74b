"""A name a person gives for another object (a pool, a certificate, a profile, a health monitor) ->
that object, or an error that says so and names the likely ones: "no certificate named 'shop-crt';
close: shop-cert, shop-cert-2024".

One request when the name is right (`?name=`, the controller's exact match); only a name that is not
found costs a walk of the type's names (`fields=name`, at most MAX_NAMES) to find the close ones. A
name that differs only in case from exactly one object is taken as that object (the diff shows the
name as the controller spells it, and a person confirms it).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from avi.client import looks_like_uuid
from avi.errors import AviNotFoundError
from bot.tools.base import ToolContext
from bot.tools.errors import ToolError

MAX_NAMES = 2000  # names read to find close ones, only after a miss
MAX_CLOSE = 3


@dataclass(frozen=True)
class Named:
    """An object found by name: its uuid, its name as the controller spells it, and the fields read."""

    uuid: str
    name: str
    fields: dict[str, Any] = field(default_factory=dict, compare=False)


def close_names(word: str, names: list[str], n: int = MAX_CLOSE) -> list[str]:
    """Names like `word`: those containing it (or contained in it), shortest first, then spellings."""
    low = word.lower()
    out: list[str] = []
    containing = sorted((x for x in names if low in x.lower() or x.lower() in low), key=lambda s: (len(s), s))
    for name in containing:
        if name not in out and name.lower() != low:
            out.append(name)
    by_low = {x.lower(): x for x in names}
    for match in difflib.get_close_matches(low, list(by_low), n=n, cutoff=0.6):
        if by_low[match] not in out:
            out.append(by_low[match])
    return out[:n]


def _named(obj: dict[str, Any], fallback: str) -> Named:
    return Named(uuid=str(obj["uuid"]), name=str(obj.get("name") or fallback), fields=obj)


async def find_named(
    ctx: ToolContext, obj_type: str, name: str, *, what: str, lookup: str = "", fields: str = "name"
) -> Named:
    """The `obj_type` object called `name` (or with that uuid) in the call's tenant, or a ToolError
    "no <what> named ...; close: ..." with a hint to `lookup`."""
    client = ctx.ops.client
    params = {"fields": fields}
    if looks_like_uuid(name):
        try:
            obj = await client.get(f"/api/{obj_type}/{name}", params=params, tenant=ctx.tenant)
        except AviNotFoundError:
            obj = None
        if isinstance(obj, dict) and obj.get("uuid"):
            return _named(obj, name)
    found = await client.get_by_name(obj_type, name, tenant=ctx.tenant, params=params)
    if found is not None:
        return _named(found, name)
    objs = await client.list_all(obj_type, params=params, tenant=ctx.tenant, limit=MAX_NAMES)
    same = [o for o in objs if str(o.get("name", "")).lower() == name.lower()]
    if len(same) == 1:
        return _named(same[0], name)
    close = close_names(name, [str(o.get("name")) for o in objs if o.get("name")])
    message = f"no {what} named {name!r}" + (f"; close: {', '.join(close)}" if close else "")
    raise ToolError(message, f"check the name with {lookup}" if lookup else "check the name")
