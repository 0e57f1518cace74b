"""What a raw write's body changes, field by field, for the confirmation a person reads.

`patched` applies an Avi PATCH body (`replace`, `add`, `delete`, `json_patch`; top-level fields, as
the controller does) to a copy of the object read just before; `changes` compares top-level fields of
the object before and after; `render` writes one line a field, risky fields first (`enabled`,
`traffic_enabled`, removals, pool membership, certificates, `services`), then the rest by name. A
long value is collapsed (`"xxx…" (500 chars)`, `[12 items]`), never a field. Values are shown through
the project's one redaction (avi/redact.py): a secret reads `~ password (secret): changed`.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from avi.redact import MASK, redact_all

MAX_VALUE = 80  # characters of one shown value
MAX_ENTRIES = 10  # list entries shown per side (added / removed) before "… N more"
PATCH_OPS = ("json_patch", "replace", "add", "delete")
# Kept by the controller whatever a body says: never a change.
IGNORED = frozenset({"url", "uuid", "_last_modified", "tenant_ref"})

_FIRST = {"enabled": 0, "traffic_enabled": 1}
_MEMBERSHIP = frozenset({"servers", "pool_ref", "pool_group_ref", "members"})
_CERTIFICATES = frozenset(
    {
        "ssl_key_and_certificate_refs",
        "ssl_key_and_certificate_ref",
        "ssl_profile_ref",
        "pki_profile_ref",
        "certificate",
        "key",
        "ca_certs",
    }
)
# What names a list entry or a nested object, shown when the whole does not fit on a line.
_IDENTITY = ("name", "ip", "addr", "port", "vip_id", "index", "pool_ref", "hostname", "type")
_REF = re.compile(
    r"^(?:https?://[^/\s]+)?/api/(?P<type>[\w-]+)(?:/(?P<uuid>[^/?#\s]+))?/?"
    r"(?:\?(?P<query>[^#\s]*))?(?:#(?P<name>.*))?$"
)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
Kind = Literal["changed", "added", "removed", "reset"]


@dataclass(frozen=True)
class Change:
    """One top-level field: its value before and after (MISSING when absent)."""

    field: str
    before: Any
    after: Any
    kind: Kind


class PatchFormError(ValueError):
    """A PATCH body the controller does not take (it holds add, replace, delete or json_patch)."""


# -- refs and equality ------------------------------------------------------------------------------


def _ref(value: Any) -> tuple[str, str | None, str | None] | None:
    """(type, uuid, name) of a ref string (`https://h/api/pool/pool-1#web`, `/api/pool?name=web`)."""
    if not isinstance(value, str) or "/api/" not in value:
        return None
    match = _REF.match(value)
    if match is None:
        return None
    name = match.group("name") or None
    query = match.group("query") or ""
    for pair in query.split("&"):
        if pair.startswith("name="):
            name = name or pair[5:]
    return match.group("type"), match.group("uuid"), name


def same(a: Any, b: Any) -> bool:
    """Equal as the controller stores them: a ref by uuid or by name is the same ref."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        ra, rb = _ref(a), _ref(b)
        if ra is None or rb is None or ra[0] != rb[0]:
            return False
        if ra[1] and rb[1]:
            return ra[1] == rb[1]
        return bool(ra[2]) and ra[2] == rb[2]
    return type(a) is type(b) and a == b


# -- Avi PATCH --------------------------------------------------------------------------------------


def check_patch(body: Any) -> dict[str, Any]:
    """The PATCH body when it is in Avi's form, else PatchFormError."""
    if not isinstance(body, dict) or not body or not set(body) <= set(PATCH_OPS):
        raise PatchFormError("a PATCH body holds replace, add, delete or json_patch")
    for op in ("replace", "add", "delete"):
        if op in body and not isinstance(body[op], dict):
            raise PatchFormError(f"PATCH {op} must be an object of fields")
    if "json_patch" in body and not isinstance(body["json_patch"], list):
        raise PatchFormError("json_patch must be a list of operations")
    return body


def _matches(field: str, spec: Any, entry: Any) -> bool:
    """Whether list entry `entry` is the one `spec` names (as the controller matches add/delete)."""
    if isinstance(spec, dict) and isinstance(entry, dict):
        if field == "servers" and isinstance(spec.get("ip"), dict):
            ip: Any = entry.get("ip")
            addr = ip.get("addr") if isinstance(ip, dict) else None
            port = spec.get("port")
            return bool(addr == spec["ip"].get("addr") and (port is None or entry.get("port") == port))
        for key in ("vip_id", "index", "name", "pool_ref"):
            if key in spec:
                return key in entry and same(str(spec[key]), str(entry[key]))
        if field == "services" and "port" in spec:
            return bool(entry.get("port") == spec["port"])
    return same(spec, entry)


def _replace(current: dict[str, Any], fields: dict[str, Any]) -> None:
    current.update(fields)


def _add(current: dict[str, Any], fields: dict[str, Any]) -> None:
    for field, value in fields.items():
        existing = current.get(field)
        if not (isinstance(value, list) and isinstance(existing, list)):
            current[field] = copy.deepcopy(value)
            continue
        for entry in value:
            index = next((i for i, e in enumerate(existing) if _matches(field, entry, e)), None)
            if index is None:
                existing.append(copy.deepcopy(entry))
            elif isinstance(entry, dict) and isinstance(existing[index], dict):
                existing[index] = {**existing[index], **entry}
            else:
                existing[index] = copy.deepcopy(entry)


def _delete(current: dict[str, Any], fields: dict[str, Any]) -> None:
    for field, value in fields.items():
        existing = current.get(field)
        if isinstance(value, list) and isinstance(existing, list):
            current[field] = [e for e in existing if not any(_matches(field, s, e) for s in value)]
        else:
            current.pop(field, None)


def _json_patch(doc: dict[str, Any], ops: list[Any]) -> None:
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise PatchFormError("json_patch: each operation needs op add, replace or remove")
        path = op.get("path")
        if not isinstance(path, str) or not path.startswith("/") or path == "/":
            raise PatchFormError(f"json_patch: invalid path {path!r}")
        if op["op"] != "remove" and "value" not in op:
            raise PatchFormError("json_patch: add and replace need a value")
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]
        try:
            parent: Any = doc
            for token in tokens[:-1]:
                parent = parent[int(token)] if isinstance(parent, list) else parent[token]
            last, value = tokens[-1], copy.deepcopy(op.get("value"))
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
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchFormError(f"json_patch: path {path} not found in the object") from exc


def patched(current: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The object after `body` (a checked Avi PATCH) and the fields it names, in body order."""
    after = copy.deepcopy(current)
    named: list[str] = []
    if "json_patch" in body:
        _json_patch(after, body["json_patch"])
        named += [str(op["path"]).split("/")[1] for op in body["json_patch"]]
    for op, apply in (("replace", _replace), ("add", _add), ("delete", _delete)):
        if op in body:
            apply(after, copy.deepcopy(body[op]))
            named += list(body[op])
    return after, list(dict.fromkeys(named))


def patch_notes(body: dict[str, Any]) -> list[str]:
    """One context line per PATCH operation: what it does, to which fields."""
    verbs = {
        "replace": "replace (set these fields; lists replaced whole)",
        "add": "add (append list entries, set the rest)",
        "delete": "delete (remove list entries, reset the rest to default)",
        "json_patch": "json_patch",
    }
    notes = []
    for op in PATCH_OPS:
        if op not in body:
            continue
        names = (
            [f"{o.get('op')} {o.get('path')}" for o in body[op] if isinstance(o, dict)]
            if op == "json_patch"
            else list(body[op])
        )
        listed = ", ".join(names)
        notes.append(f"  patch: {verbs[op]}: {listed if len(listed) <= 100 else f'{len(names)} fields'}")
    return notes


# -- what changes -----------------------------------------------------------------------------------


def changes(
    before: dict[str, Any], after: dict[str, Any], fields: list[str] | None = None, *, reset: bool = False
) -> tuple[list[Change], list[str]]:
    """Changed top-level fields (of `fields`, else of both objects) and the named ones that do not.

    A field gone from `after` is `removed` (a PUT), or `reset` to its default (a PATCH delete).
    """
    names = fields if fields is not None else sorted((set(before) | set(after)) - IGNORED)
    found: list[Change] = []
    unchanged: list[str] = []
    for name in names:
        old, new = before.get(name, MISSING), after.get(name, MISSING)
        if (old is MISSING and new is MISSING) or same(old, new):
            unchanged.append(name)
        elif new is MISSING:
            found.append(Change(name, old, new, "reset" if reset else "removed"))
        else:
            found.append(Change(name, old, new, "added" if old is MISSING else "changed"))
    return sorted(found, key=_rank), unchanged


def _rank(change: Change) -> tuple[int, str]:
    ranks = [_FIRST.get(change.field, 6)]
    if change.kind in ("removed", "reset"):
        ranks.append(2)
    if change.field in _MEMBERSHIP:
        ranks.append(3)
    if change.field in _CERTIFICATES:
        ranks.append(4)
    if change.field == "services":
        ranks.append(5)
    return min(ranks), change.field


# -- how it reads -----------------------------------------------------------------------------------


def shown(obj: Any, obj_type: str) -> Any:
    """`obj` as a person may see it: redacted with its type's secrets (a certificate's `key`)."""
    if not isinstance(obj, dict):
        return redact_all(obj)
    marked = "url" not in obj
    view = redact_all({**obj, "url": f"/api/{obj_type}/-"} if marked else obj)
    if marked:
        view.pop("url", None)
    return view


def _labels(value: Any) -> Any:
    """Refs as the name (or uuid) they point to, everywhere in a value."""
    if isinstance(value, dict):
        return {k: _labels(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_labels(v) for v in value]
    ref = _ref(value)
    if ref is not None:
        return _Label(ref[2] or ref[1] or ref[0])
    return value


class _Label(str):
    """A ref shown by name: printed bare, not as a quoted string."""


def short(value: Any) -> str:
    """One value on one line, at most about MAX_VALUE characters: long ones collapsed, never dropped."""
    value = _labels(value)
    if isinstance(value, _Label):
        return str(value) if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        if len(text) <= MAX_VALUE:
            return text
        return json.dumps(value[: MAX_VALUE - 20], ensure_ascii=False)[:-1] + f'…" ({len(value)} chars)'
    text = _compact(value)
    if len(text) <= MAX_VALUE:
        return text
    if isinstance(value, list):
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        return _dict_short(value)
    return text[: MAX_VALUE - 1] + "…"


def _dict_short(value: dict[str, Any]) -> str:
    """A big object by what identifies it (`{"ip":…,"port":80,…} (+5 keys)`), else by its key names."""
    ident: dict[str, Any] = {}
    for key in (k for k in _IDENTITY if k in value):
        text = _compact({**ident, key: value[key]})
        if len(text) > MAX_VALUE - 16:
            break
        ident[key] = value[key]
    if ident:
        return f"{_compact(ident)[:-1]},…}} (+{len(value) - len(ident)} keys)"
    return f"{{{len(value)} keys: {names_line(sorted(value), 40)}}}"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def names_line(names: list[str], width: int = 100) -> str:
    """Names joined with commas, cut with a count past `width` characters."""
    text = ", ".join(names)
    if len(text) <= width:
        return text
    kept: list[str] = []
    for name in names:
        if len(", ".join([*kept, name])) > width - 12:
            break
        kept.append(name)
    return ", ".join(kept) + f", … ({len(names) - len(kept)} more)"


def _is_masked(value: Any) -> bool:
    return bool(value == MASK)


def _list_lines(change: Change, old_view: list[Any], new_view: list[Any]) -> list[str]:
    old, new, field = change.before, change.after, change.field
    added = [i for i, e in enumerate(new) if not any(same(e, o) for o in old)]
    removed = [i for i, e in enumerate(old) if not any(same(e, n) for n in new)]
    counts = [f"{len(added)} added"] * bool(added) + [f"{len(removed)} removed"] * bool(removed)
    head = ", ".join(counts) or "order changed"
    lines = [f"~ {field}: {head} ({len(old)} → {len(new)} items)"]
    for sign, indexes, view, verb in (("+", added, new_view, "added"), ("-", removed, old_view, "removed")):
        lines += [f"{sign} {field}[]: {short(view[i])}" for i in indexes[:MAX_ENTRIES]]
        if len(indexes) > MAX_ENTRIES:
            lines.append(f"  {field}[]: … {len(indexes) - MAX_ENTRIES} more {verb}")
    return lines


def _dict_lines(prefix: str, old: dict[str, Any], new: dict[str, Any], ov: Any, nv: Any) -> list[str]:
    """A nested object's changed keys, one line each (`analytics_policy.full_client_logs: a → b`)."""
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, MISSING), new.get(key, MISSING)
        if (a is MISSING and b is MISSING) or same(a, b):
            continue
        av = ov.get(key, MISSING) if isinstance(ov, dict) else MISSING
        bv = nv.get(key, MISSING) if isinstance(nv, dict) else MISSING
        lines += _value_lines(Change(f"{prefix}.{key}", a, b, _kind(a, b)), av, bv, nested=True)
    return lines


def _kind(old: Any, new: Any) -> Kind:
    return "added" if old is MISSING else "removed" if new is MISSING else "changed"


def _value_lines(change: Change, old_view: Any, new_view: Any, *, nested: bool = False) -> list[str]:
    field, old, new = change.field, change.before, change.after
    if _is_masked(old_view) or _is_masked(new_view):
        verb = {"added": "set", "changed": "changed", "removed": "removed", "reset": "reset"}[change.kind]
        sign = {"added": "+", "changed": "~", "removed": "-", "reset": "-"}[change.kind]
        return [f"{sign} {field} (secret): {verb}"]  # a form the audit's redact_text leaves as it is
    if change.kind == "added":
        return [f"+ {field}: {short(new_view)}"]
    if change.kind in ("removed", "reset"):
        return [
            f"- {field}: {short(old_view)} ({'reset to default' if change.kind == 'reset' else 'removed'})"
        ]
    if isinstance(old, list) and isinstance(new, list) and not nested:
        return _list_lines(change, list(old_view), list(new_view))
    if isinstance(old, dict) and isinstance(new, dict):
        inner = _dict_lines(field, old, new, old_view, new_view)
        if inner:
            return inner if len(inner) <= MAX_ENTRIES else [f"~ {field}: {len(inner)} keys changed", *inner]
    before, after = short(old_view), short(new_view)
    if before == after:
        hidden = old_view != old or new_view != new
        return [f"~ {field}: (changed{', secret values inside' if hidden else ''})"]
    return [f"~ {field}: {before} → {after}"]


def render(found: list[Change], before_view: dict[str, Any], after_view: dict[str, Any]) -> list[str]:
    """Diff lines for the changes: `~ f: a → b`, `+ f: v`, `- f: v (removed)`, list entries as `f[]`."""
    lines: list[str] = []
    for change in found:
        old_view = before_view.get(change.field, MISSING)
        new_view = after_view.get(change.field, MISSING)
        lines += _value_lines(change, old_view, new_view)
    return lines
