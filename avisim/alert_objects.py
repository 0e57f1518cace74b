"""Alert objects as the controller keeps them (alb-sdk `swagger/Alert.json`): building one about an object,
its `System-<EventId>` alertconfig, finding an object by name in any type. Used by the seed and by the
`/api/simulator/alerts` hooks (`alerts.py`); it imports only the store, so the seed can use it."""

from __future__ import annotations

import random
import time

from .refs import make_ref
from .store import ADMIN, Obj, Store

# Where to look for `obj_name`, most likely first (then every other type).
LOOKUP_ORDER = ("virtualservice", "pool", "serviceengine", "poolgroup", "vsvip", "sslkeyandcertificate")
DEFAULT_EVENTS = {
    "virtualservice": "VS_DOWN",
    "pool": "POOL_DOWN",
    "serviceengine": "SE_DOWN",
    "sslkeyandcertificate": "SSL_CERT_EXPIRE",
    "vsvip": "VIP_DOWN",
}
_MODULES = {"SSL_CERT_EXPIRE": "SSL"}


def alert_config_ref(store: Store, event_id: str, obj_type: str) -> str:
    """The ref of the `System-<EventId>` alertconfig that raises `event_id` (created once)."""
    name = "System-" + "-".join(p.capitalize() for p in event_id.split("_"))
    uuid = store.names.get(("alertconfig", ADMIN, name))
    if uuid is None:
        uuid = f"alertconfig-{event_id.lower().replace('_', '-')}"
        store.add(
            "alertconfig",
            {
                "uuid": uuid,
                "name": name,
                "source": "EVENT_LOGS",
                "category": "REALTIME",
                "object_type": obj_type.upper(),
                "alert_rule": {"operator": "OPERATOR_AND", "sys_event_rule": [{"event_id": event_id}]},
                "expiry_time": 86400,
                "throttle": 600,
                "summary": f"System alert for {event_id}",
            },
            ADMIN,
        )
    return make_ref("alertconfig", uuid)


def add_alert(
    store: Store,
    obj_type: str,
    obj: Obj,
    *,
    level: str,
    summary: str,
    reason: str = "threshold_exceeded",
    event_id: str | None = None,
    name: str | None = None,
    at: float | None = None,
    owner: str | None = None,
    uuid: str,
) -> Obj:
    """Store one open alert about `obj` (of `obj_type`), in the object's tenant unless `owner` says."""
    ts = time.time() if at is None else at
    event_id = event_id or DEFAULT_EVENTS.get(obj_type, "USER_DEFINED_EVENT")
    obj_uuid = obj["uuid"]
    owner = owner or store.tenant_of.get(obj_uuid) or ADMIN
    obj_name = obj.get("name") or obj_uuid
    alert = {
        "uuid": uuid,
        "name": name or f"{obj_uuid}-{event_id}-{int(ts * 1000)}",
        "alert_config_ref": alert_config_ref(store, event_id, obj_type),
        "level": level,
        "state": "ALERT_STATE_ON",
        "obj_uuid": obj_uuid,
        "obj_key": obj_uuid,
        "obj_name": obj_name,
        "obj_ref": make_ref(obj_type, obj_uuid),
        "event_id": event_id,
        "summary": summary,
        "reason": reason,
        "description": summary,
        "throttle_count": 0,
        "timestamp": ts,
        "events": [
            {
                "event_id": event_id,
                "module": _MODULES.get(event_id, "VS" if obj_type == "virtualservice" else "HEALTH_MONITOR"),
                "report_timestamp": int(ts * 1_000_000),
                "obj_type": obj_type.upper(),
                "obj_uuid": obj_uuid,
                "obj_name": obj_name,
                "tenant_name": store.name_of(owner) or owner,
                "event_description": summary,
                "reason_code": reason,
            }
        ],
    }
    return store.add("alert", alert, owner)


def find_object(store: Store, name: str, tenant: str, obj_type: str | None) -> tuple[str, Obj] | None:
    """The object called `name` (type `obj_type`, or the first type that has one) seen from `tenant`."""
    if obj_type:
        if obj_type not in store.objects:
            return None
        types: tuple[str, ...] = (obj_type,)
    else:
        rest = tuple(t for t in store.objects if t not in LOOKUP_ORDER and t != "alert")
        types = LOOKUP_ORDER + rest
    for candidate in types:
        found = store.find_by_name(candidate, name, tenant)
        if found is not None:
            return candidate, found
    return None


def raise_random_alert(store: Store, rng: random.Random, uuid: str) -> Obj | None:
    """One alert on a random virtual service or pool (what `--alert-every` raises)."""
    candidates = [("virtualservice", o) for o in store.objects["virtualservice"].values()]
    candidates += [("pool", o) for o in store.objects["pool"].values()]
    if not candidates:
        return None
    obj_type, obj = rng.choice(candidates)
    level = rng.choice(("ALERT_LOW", "ALERT_MEDIUM", "ALERT_MEDIUM", "ALERT_HIGH"))
    what = "Virtual service" if obj_type == "virtualservice" else "Pool"
    summary = rng.choice(
        (
            f"{what} {obj.get('name')} is down",
            f"{what} {obj.get('name')} health score dropped below 50",
            f"{what} {obj.get('name')} has servers failing their health monitor",
        )
    )
    return add_alert(store, obj_type, obj, level=level, summary=summary, uuid=uuid)
