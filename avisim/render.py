"""Objects as the controller returns them: url, type defaults, secrets removed, derived fields added."""

from __future__ import annotations

from typing import Any

from .object_types import SINGLETONS
from .refs import make_ref
from .runtime import OperState
from .schema import defaults_for, newer_fields
from .store import Obj

# Secrets the controller never returns (the certificate key only with export_key=true).
KEY_FIELDS = ("key", "key_passphrase")
TOP_SECRETS: dict[str, tuple[str, ...]] = {"user": ("password",), "useraccount": ("password", "old_password")}
NESTED_SECRETS = frozenset(
    {
        "password",
        "secret_access_key",
        "access_key_id",
        "client_secret",
        "private_key",
        "key_passphrase",
        "token",
    }
)
NESTED_SECRET_TYPES = frozenset(
    {
        "cloud",
        "vcenterserver",
        "cloudconnectoruser",
        "backupconfiguration",
        "albservicesconfig",
        "alertemailconfig",
    }
)
# Fields the simulator derives on read; dropped from write bodies so GET-modify-PUT round-trips.
DERIVED_FIELDS: dict[str, frozenset[str]] = {"serviceengine": frozenset({"vs_refs"})}
ALWAYS_DERIVED = frozenset({"runtime"})


def object_url(obj_type: str, uuid: str) -> str:
    return f"\x1e/api/{obj_type}" if obj_type in SINGLETONS else make_ref(obj_type, uuid)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items() if k not in NESTED_SECRETS}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def present(
    runtime: OperState,
    obj_type: str,
    obj: Obj,
    fields: list[str] | None = None,
    export_key: bool = False,
    join_runtime: bool = False,
    version: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """The output dict for one stored object (shallow: nested values are shared, never mutated)."""
    out: dict[str, Any] = {"url": object_url(obj_type, obj["uuid"]), "uuid": obj["uuid"]}
    if "name" in obj:
        out["name"] = obj["name"]
    out.update(defaults_for(obj_type))
    out.update(obj)
    if obj_type == "sslkeyandcertificate" and not export_key:
        for key in KEY_FIELDS:
            out.pop(key, None)
    for key in TOP_SECRETS.get(obj_type, ()):
        out.pop(key, None)
    if obj_type in NESTED_SECRET_TYPES:
        out = _redact(out)
    if obj_type == "serviceengine":
        out["vs_refs"] = [make_ref("virtualservice", vs) for vs in sorted(runtime.se_vs.get(obj["uuid"], ()))]
    if version is not None:
        for key in newer_fields(obj_type, version):
            out.pop(key, None)
    if fields:
        out = {k: out[k] for k in ("url", "uuid", *fields) if k in out}
    if join_runtime:
        rt = runtime_of(runtime, obj_type, obj)
        if rt is not None:
            out["runtime"] = rt
    return out


def runtime_of(runtime: OperState, obj_type: str, obj: Obj) -> dict[str, Any] | None:
    if obj_type == "virtualservice":
        return runtime.vs_runtime(obj)
    if obj_type == "pool":
        return runtime.pool_runtime(obj)
    if obj_type == "serviceengine":
        return runtime.se_runtime(obj)
    return None


def keep_secrets(obj_type: str, old: Obj, new: Obj) -> None:
    """A PUT of a GET result (secrets absent) keeps the stored secrets, as the controller does."""
    names = (*KEY_FIELDS, *TOP_SECRETS.get(obj_type, ())) if obj_type != "cloud" else ()
    for key in names:
        if key in old and key not in new:
            new[key] = old[key]
    if obj_type in NESTED_SECRET_TYPES:
        for key, value in old.items():
            if isinstance(value, dict) and isinstance(new.get(key), dict):
                for secret in NESTED_SECRETS & value.keys():
                    new[key].setdefault(secret, value[secret])
