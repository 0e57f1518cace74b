"""PATCH semantics: `add` / `replace` / `delete` on top-level fields, and RFC 6902 `json_patch`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import bad_request

Resolve = Callable[[dict[str, Any]], dict[str, Any]]
OPS = ("json_patch", "replace", "add", "delete")


def _key(field: str, entry: Any) -> Any:
    """What identifies a list entry, so `add` updates and `delete` removes the right one."""
    if not isinstance(entry, dict):
        return ("value", repr(entry))
    if field == "servers" and isinstance(entry.get("ip"), dict):
        return ("server", entry["ip"].get("addr"), entry.get("port"))
    for name in ("vip_id", "index", "name", "pool_ref"):
        if name in entry:
            return (name, str(entry[name]))
    if field == "services" and "port" in entry:
        return ("port", entry["port"])
    return ("value", repr(sorted(entry.items())))


def _matches(field: str, spec: Any, entry: Any) -> bool:
    key = _key(field, spec)
    if key[0] == "server":
        ip = entry.get("ip", {}) if isinstance(entry, dict) else {}
        return ip.get("addr") == key[1] and (key[2] is None or entry.get("port") == key[2])
    return key == _key(field, entry)


def _add(current: dict[str, Any], fragment: dict[str, Any]) -> None:
    for field, value in fragment.items():
        existing = current.get(field)
        if isinstance(value, list) and isinstance(existing, list):
            for entry in value:
                index = next((i for i, e in enumerate(existing) if _matches(field, entry, e)), None)
                if index is None:
                    existing.append(entry)
                elif isinstance(entry, dict) and isinstance(existing[index], dict):
                    existing[index] = {**existing[index], **entry}
                else:
                    existing[index] = entry
        else:
            current[field] = value


def _delete(current: dict[str, Any], fragment: dict[str, Any]) -> None:
    for field, value in fragment.items():
        existing = current.get(field)
        if isinstance(value, list) and isinstance(existing, list):
            current[field] = [e for e in existing if not any(_matches(field, spec, e) for spec in value)]
        else:
            current.pop(field, None)


def _pointer(path: str) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise bad_request(f"json_patch: invalid path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _json_patch(doc: dict[str, Any], ops: Any, resolve: Resolve) -> None:
    if not isinstance(ops, list):
        raise bad_request("json_patch must be a list of operations")
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise bad_request("json_patch: each operation needs op add, replace or remove")
        tokens = _pointer(op.get("path", ""))
        parent: Any = doc
        try:
            for token in tokens[:-1]:
                parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        except (KeyError, IndexError, ValueError) as exc:
            raise bad_request(f"json_patch: path {op['path']} not found") from exc
        last = tokens[-1]
        value = None
        if op["op"] != "remove":
            if "value" not in op:
                raise bad_request("json_patch: add and replace need a value")
            key = last if not last.isdigit() and last != "-" else "_"
            value = resolve({key: op["value"]})[key]
        try:
            if isinstance(parent, list):
                if op["op"] == "add":
                    parent.insert(len(parent) if last == "-" else int(last), value)
                elif op["op"] == "replace":
                    parent[int(last)] = value
                else:
                    del parent[int(last)]
            elif op["op"] == "remove":
                del parent[last]
            else:
                if op["op"] == "replace" and last not in parent:
                    raise KeyError(last)
                parent[last] = value
        except (KeyError, IndexError, ValueError) as exc:
            raise bad_request(f"json_patch: path {op['path']} not found") from exc


def apply_patch(current: dict[str, Any], ops: Any, resolve: Resolve) -> dict[str, Any]:
    """The object after applying the PATCH body to `current` (a private copy)."""
    if not isinstance(ops, dict) or not ops or not set(ops) <= set(OPS):
        raise bad_request("PATCH body must hold add, replace, delete or json_patch")
    if "json_patch" in ops:
        _json_patch(current, ops["json_patch"], resolve)
    for name, action in (("replace", None), ("add", _add), ("delete", _delete)):
        fragment = ops.get(name)
        if fragment is None:
            continue
        if not isinstance(fragment, dict):
            raise bad_request(f"PATCH {name} must be an object")
        if name == "delete":
            fragment = resolve(fragment)
            _delete(current, fragment)
        elif action is None:
            current.update(resolve(fragment))
        else:
            action(current, resolve(fragment))
    return current
