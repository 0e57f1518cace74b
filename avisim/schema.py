"""Validation and normalisation of write bodies: unknown fields, required fields, enums, refs, defaults.

The output is the sparse stored form: explicit fields plus nested defaults (servers, vips, services) and
ref defaults (Default-Cloud, System-HTTP, ...); scalar type defaults are merged at render time.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .certs import describe
from .errors import bad_request
from .object_types import class_name
from .refs import is_marked, make_ref
from .schema_data import (
    DEFAULTS,
    ENUMS,
    FIELD_TYPES,
    FIELDS,
    INTRODUCED,
    READ_ONLY,
    RECORDED_FIELDS,
    REF_TARGETS,
    REQUIRED,
)
from .store import ADMIN, ALL_TENANTS, Obj, Store

# Accepted and ignored on every write, for every type (the uuid comes from the URL or `Slug`).
ALWAYS_READ_ONLY = frozenset({"url", "uuid", "_last_modified"})

# Refs filled on create when absent: field -> (type, name of the default object).
REF_DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "virtualservice": {
        "application_profile_ref": ("applicationprofile", "System-HTTP"),
        "network_profile_ref": ("networkprofile", "System-TCP-Proxy"),
        "se_group_ref": ("serviceenginegroup", "Default-Group"),
        "vrf_context_ref": ("vrfcontext", "global"),
        "analytics_profile_ref": ("analyticsprofile", "System-Analytics-Profile"),
    },
    "vsvip": {"vrf_context_ref": ("vrfcontext", "global")},
    "pool": {"vrf_ref": ("vrfcontext", "global")},
    "serviceengine": {"se_group_ref": ("serviceenginegroup", "Default-Group")},
}
TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "sslkeyandcertificate": {"type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE"},
    "tenant": {"config_settings": {"tenant_vrf": False, "se_in_provider_context": True}},
}
_SERVER_DEFAULTS = {"enabled": True, "ratio": 1, "verify_network": False, "resolve_server_by_dns": False}
_VIP_DEFAULTS = {
    "enabled": True,
    "auto_allocate_ip": False,
    "auto_allocate_floating_ip": False,
    "avi_allocated_vip": False,
    "avi_allocated_fip": False,
    "prefix_length": 32,
}
_IP_TYPES = frozenset({"V4", "V6", "DNS"})
# Types whose objects need no name (singletons, controller-made or event-like objects).
NAMELESS_TYPES = frozenset(
    {"serviceengine", "systemconfiguration", "controllerproperties", "seproperties", "cluster", "alert"}
)


Version = tuple[int, ...]


def parse_version(raw: str) -> Version | None:
    """`30.2.1`, `30_2_1` or `30.2.1-9202` -> (30, 2, 1); None when it is not a version."""
    parts = raw.strip().replace("_", ".").split("-")[0].split(".")
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


@functools.lru_cache(maxsize=512)
def newer_fields(obj_type: str, version: Version) -> dict[str, str]:
    """Top-level fields of a type introduced after `version` (field -> version introduced)."""
    return {
        field: since
        for field, since in INTRODUCED.get(obj_type, {}).items()
        if (parse_version(since) or ()) > version
    }


@functools.lru_cache(maxsize=512)
def ignored_fields(obj_type: str, version: Version | None) -> frozenset[str]:
    """Top-level fields a write may carry and the controller ignores: url/uuid/_last_modified, the
    swagger's readOnly fields, and fields of older controllers that the recorded traffic shows them
    returning or accepting (only up to the version seen; a newer client gets 400 for them)."""
    older = {
        field
        for field, seen in RECORDED_FIELDS.get(obj_type, {}).items()
        if version is None or version <= (parse_version(seen) or ())
    }
    return ALWAYS_READ_ONLY | frozenset(READ_ONLY.get(obj_type, ())) | older


@dataclass
class WriteContext:
    """Where a write happens: the store, the tenant that names resolve in, the requested API version."""

    store: Store
    tenant: str  # a tenant uuid; `*` writes land in admin
    version: Version | None = None

    @property
    def owner(self) -> str:
        return ADMIN if self.tenant == ALL_TENANTS else self.tenant


def defaults_for(obj_type: str) -> dict[str, Any]:
    return DEFAULTS.get(obj_type, {})


def resolve_ref(ctx: WriteContext, field: str, value: Any, target: str | None) -> str:
    """A stored ref for any accepted input form; 400 when it names nothing."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"Invalid value for {field}: a reference URL is required")
    store = ctx.store
    if is_marked(value):
        uuid = value.rsplit("/", 1)[-1]
        hit = store.lookup(uuid)
        if hit:
            return make_ref(hit[0], uuid)
        raise bad_request(f"{field}: referenced object {uuid} does not exist")
    parts = urlsplit(value.split("#", 1)[0] if "?" not in value else value)
    path = parts.path.rstrip("/")
    if "/api/" not in f"{path}/":
        raise bad_request(f"{field}: cannot resolve reference {value!r}")
    segs = path.split("/api/", 1)[1].split("/")
    ref_type = segs[0]
    if target and ref_type != target:
        raise bad_request(f"{field}: expected a reference to {class_name(target)}, got {value!r}")
    if ref_type not in store.objects:
        raise bad_request(f"{field}: unknown object type in {value!r}")
    if len(segs) >= 2 and segs[1]:
        uuid = segs[1]
        if store.get(ref_type, uuid) is None or not _referable(store, ref_type, uuid, ctx.tenant):
            raise bad_request(f"{field}: {class_name(ref_type)} object {uuid} not found")
        return make_ref(ref_type, uuid)
    names = parse_qs(parts.query).get("name")
    if not names:
        raise bad_request(f"{field}: cannot resolve reference {value!r}")
    obj = store.find_by_name(ref_type, names[0], ctx.tenant)
    if obj is None:
        raise bad_request(f"{field}: {class_name(ref_type)} object named {names[0]!r} not found")
    return make_ref(ref_type, obj["uuid"])


def _referable(store: Store, obj_type: str, uuid: str, tenant: str) -> bool:
    return store.visible(obj_type, uuid, tenant) or store.tenant_of.get(uuid) == ADMIN


def resolve_tree(ctx: WriteContext, value: Any, targets: dict[str, str]) -> Any:
    """Resolve every `*_ref` / `*_refs` below `value` (nested ones are typed from the URL)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.endswith("_ref") and item is not None:
                out[key] = resolve_ref(ctx, key, item, targets.get(key))
            elif key.endswith("_refs") and isinstance(item, list):
                out[key] = [resolve_ref(ctx, key, v, targets.get(key)) for v in item]
            else:
                out[key] = resolve_tree(ctx, item, {})
        return out
    if isinstance(value, list):
        return [resolve_tree(ctx, item, {}) for item in value]
    return value


def coerce(field: str, kind: str, value: Any) -> Any:
    """Accept what the controller's serializers accept ("true" for a boolean, "80" for an integer)."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind in ("integer", "number"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            if kind == "integer" and isinstance(value, float) and not value.is_integer():
                raise bad_request(f"{field}: a valid integer is required")
            return int(value) if kind == "integer" else value
        if isinstance(value, str):
            try:
                return int(value) if kind == "integer" else float(value)
            except ValueError:
                pass
    elif kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif kind == "array" and isinstance(value, list):
        return value
    raise bad_request(f"{field}: expected {'a list' if kind == 'array' else f'a {kind}'}, got {value!r}")


def _drop_name_shortcuts(obj_type: str, body: dict[str, Any]) -> None:
    """`application_profile_name` and friends are accepted and ignored, as the 20.1.1 cassette
    test_ssl_vs shows (the VS got the default System-HTTP, not the named profile)."""
    targets = REF_TARGETS.get(obj_type, {})
    for key in [k for k in body if k.endswith("_name") and f"{k[:-5]}_ref" in targets]:
        del body[key]


def _check_ip(field: str, ip: Any) -> dict[str, Any]:
    """addr + type V4/V6/DNS. Numeric-looking addresses must parse; host names pass, as on a real
    controller (cassette test_basic_auth stores addr `avi-controller` with type V4)."""
    if not isinstance(ip, dict) or not isinstance(ip.get("addr"), str) or ip.get("type") not in _IP_TYPES:
        raise bad_request(f"{field}: an IP address needs 'addr' and 'type' (V4, V6 or DNS)")
    addr, kind = ip["addr"], ip["type"]
    try:
        if kind == "V4" and (addr.replace(".", "").isdigit() or not addr):
            ipaddress.IPv4Address(addr)
        elif kind == "V6" and (":" in addr or not addr):
            ipaddress.IPv6Address(addr)
    except ValueError as exc:
        raise bad_request(f"{field}: {addr!r} is not a valid {kind} address") from exc
    return ip


def _normalise_pool(body: dict[str, Any]) -> None:
    servers = body.get("servers", [])
    if not isinstance(servers, list):
        raise bad_request("servers must be a list")
    out = []
    for server in servers:
        if not isinstance(server, dict):
            raise bad_request("servers: each server must be an object")
        ip = _check_ip("servers.ip", server.get("ip"))
        merged = {**_SERVER_DEFAULTS, "hostname": ip["addr"], **server}
        if not isinstance(merged["ratio"], int) or not 1 <= merged["ratio"] <= 20:
            raise bad_request("servers.ratio must be between 1 and 20")
        if "port" in merged and (not isinstance(merged["port"], int) or not 1 <= merged["port"] <= 65535):
            raise bad_request("servers.port must be between 1 and 65535")
        out.append(merged)
    if "servers" in body:
        body["servers"] = out


def _normalise_vsvip(body: dict[str, Any]) -> None:
    vips = body.get("vip", [])
    if not isinstance(vips, list):
        raise bad_request("vip must be a list")
    out, seen = [], set()
    for index, vip in enumerate(vips):
        if not isinstance(vip, dict):
            raise bad_request("vip: each entry must be an object")
        merged = {"vip_id": str(index), **_VIP_DEFAULTS, **vip}
        merged["vip_id"] = str(merged["vip_id"])
        if merged["vip_id"] in seen:
            raise bad_request(f"vip: duplicate vip_id {merged['vip_id']}")
        seen.add(merged["vip_id"])
        if "ip_address" in merged:
            _check_ip("vip.ip_address", merged["ip_address"])
        elif not merged["auto_allocate_ip"]:
            raise bad_request("vip: ip_address is required unless auto_allocate_ip is set")
        out.append(merged)
    if "vip" in body:
        body["vip"] = out


def _normalise_vs(body: dict[str, Any]) -> None:
    services = body.get("services", [])
    if not isinstance(services, list):
        raise bad_request("services must be a list")
    out = []
    for service in services:
        port = service.get("port") if isinstance(service, dict) else None
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise bad_request("services.port is required and must be between 1 and 65535")
        out.append({"enable_ssl": False, "port_range_end": port, **service})
    if "services" in body:
        body["services"] = out


def _normalise_hm(body: dict[str, Any]) -> None:
    send = body.get("send_interval", 10)
    receive = body.get("receive_timeout", 4)
    if isinstance(send, int) and isinstance(receive, int) and receive >= send:
        raise bad_request("receive_timeout must be less than send_interval")


def _normalise_cert(body: dict[str, Any]) -> None:
    """Parse an uploaded PEM the way the controller does (subject, dates, expiry status)."""
    cert = body.get("certificate")
    if not isinstance(cert, dict):
        raise bad_request("certificate must be an object holding a PEM 'certificate'")
    pem = cert.get("certificate")
    if pem:
        parsed = describe(str(pem))
        if parsed is None:
            raise bad_request("Certificate parse error: not a PEM X.509 certificate")
        body["certificate"] = {**parsed, **cert}
    body.setdefault("status", "SSL_CERTIFICATE_FINISHED")


NORMALISERS = {
    "sslkeyandcertificate": _normalise_cert,
    "pool": _normalise_pool,
    "vsvip": _normalise_vsvip,
    "virtualservice": _normalise_vs,
    "healthmonitor": _normalise_hm,
}


def normalise(obj_type: str, body: Any, ctx: WriteContext, creating: bool) -> Obj:
    """The stored form of a POST/PUT/PATCH result; raises 400 on anything the controller would refuse."""
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    ignored = ignored_fields(obj_type, ctx.version)
    body = {k: copy.deepcopy(v) for k, v in body.items() if k not in ignored}
    _drop_name_shortcuts(obj_type, body)
    known = FIELDS.get(obj_type)
    if known is not None:
        unknown = sorted(k for k in body if k not in known)
        if unknown:
            raise bad_request(f"Invalid field(s) for {class_name(obj_type)}: {', '.join(unknown)}")
    if ctx.version is not None:
        too_new = newer_fields(obj_type, ctx.version)
        for field in body:
            if field in too_new:
                asked = "_".join(map(str, ctx.version))
                since = too_new[field].replace(".", "_")
                raise bad_request(
                    f"Incoming request (v{asked}) has field ({field}) introduced in later versions(v{since})."
                )
    types = FIELD_TYPES.get(obj_type, {})
    for field, value in list(body.items()):
        if value is not None and field in types:
            body[field] = coerce(field, types[field], value)
    required = () if obj_type in NAMELESS_TYPES else REQUIRED.get(obj_type, ("name",))
    for field in required:
        if body.get(field) in (None, ""):
            raise bad_request(f"{{'{field}': ['This field is required.']}}")
    if "name" in body and not isinstance(body["name"], str):
        raise bad_request("name must be a string")
    for field, allowed in ENUMS.get(obj_type, {}).items():
        if field in body and body[field] not in allowed:
            raise bad_request(f"Invalid value {body[field]!r} for {field}")
    body.pop("tenant_ref", None)  # the tenant comes from the request headers
    body = resolve_tree(ctx, body, REF_TARGETS.get(obj_type, {}))
    normaliser = NORMALISERS.get(obj_type)
    if normaliser:
        normaliser(body)
    if creating:
        for key, value in TYPE_DEFAULTS.get(obj_type, {}).items():
            body.setdefault(key, copy.deepcopy(value))
    fill_ref_defaults(ctx.store, obj_type, body)
    return body


def fill_ref_defaults(store: Store, obj_type: str, body: dict[str, Any]) -> None:
    """Default refs (cloud, profiles, SE group, VRF) for fields left unset."""
    wanted = dict(REF_DEFAULTS.get(obj_type, {}))
    if "cloud_ref" in FIELDS.get(obj_type, ()) or obj_type in ("virtualservice", "pool", "vsvip"):
        wanted.setdefault("cloud_ref", ("cloud", "Default-Cloud"))
    for field, (target, name) in wanted.items():
        if field not in body:
            obj = store.find_by_name(target, name, ADMIN)
            if obj is not None:
                body[field] = make_ref(target, obj["uuid"])
