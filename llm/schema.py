"""Pydantic JSON schemas flattened into the tool form Ollama actually keeps.

The ollama client validates each tool property into `type/description/enum/items` and silently drops the
rest (`default`, `anyOf`, `$ref`, bounds, nested `properties`). So we do the lossy step ourselves, on
purpose: `Optional[X]` becomes X, `$ref` enums are inlined, and defaults and bounds move into the
description where the model can still read them. `required` lists only fields without a default.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

KEPT = ("type", "description", "enum", "items")
_NO_DEFAULT = object()


def _resolve(node: Any, defs: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Follow `$ref`, single-entry `allOf`, and `anyOf`/`oneOf` (dropping `null`) to one plain schema."""
    if not isinstance(node, dict) or depth > 10:
        return {}
    if "$ref" in node:
        target = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        merged = {**_resolve(target, defs, depth + 1), **{k: v for k, v in node.items() if k != "$ref"}}
        return merged
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return {**_resolve(node["allOf"][0], defs, depth + 1), **rest}
    for key in ("anyOf", "oneOf"):
        variants = node.get(key)
        if not isinstance(variants, list):
            continue
        rest = {k: v for k, v in node.items() if k != key}
        options = [
            _resolve(v, defs, depth + 1) for v in variants if isinstance(v, dict) and v.get("type") != "null"
        ]
        if len(options) == 1:
            return {**options[0], **rest}
        types: list[str] = []
        enums: list[Any] = []
        for option in options:
            t = option.get("type")
            for one in t if isinstance(t, list) else [t] if t else []:
                if one not in types:
                    types.append(one)
            enums.extend(option.get("enum", []))
        out: dict[str, Any] = dict(rest)
        if types:
            out["type"] = types[0] if len(types) == 1 else types
        if enums and all("enum" in o for o in options):
            out["enum"] = enums
        return out
    if "const" in node and "enum" not in node:
        return {**{k: v for k, v in node.items() if k != "const"}, "enum": [node["const"]]}
    return node


def _fmt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _notes(node: dict[str, Any], default: Any) -> list[str]:
    notes: list[str] = []
    if default is not _NO_DEFAULT and default is not None:
        notes.append(f"default {_fmt(default)}")
    for key, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length")):
        if key in node:
            notes.append(f"{label} {_fmt(node[key])}")
    if "maxLength" in node:
        notes.append(f"max length {node['maxLength']}")
    if "pattern" in node:
        notes.append(f"pattern {node['pattern']}")
    return notes


def _flat_items(node: Any, defs: dict[str, Any]) -> dict[str, Any]:
    item = _resolve(node, defs)
    out: dict[str, Any] = {k: item[k] for k in ("type", "enum") if k in item}
    return out or {"type": "string"}


def flat_property(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One property reduced to `type/description/enum/items`."""
    default = node.get("default", _NO_DEFAULT)
    resolved = _resolve(node, defs)
    default = resolved.get("default", default)
    out: dict[str, Any] = {}
    if "type" in resolved:
        out["type"] = resolved["type"]
    elif "enum" in resolved:
        out["type"] = "string"
    elif "properties" in resolved:
        out["type"] = "object"
    else:
        out["type"] = "string"
    description = str(resolved.get("description") or node.get("description") or "").strip()
    notes = _notes(resolved, default)
    if notes:
        description = f"{description.rstrip('.')} ({', '.join(notes)})" if description else ", ".join(notes)
    if description:
        out["description"] = description
    if "enum" in resolved:
        out["enum"] = list(resolved["enum"])
    if out["type"] == "array" or "items" in resolved:
        out["items"] = _flat_items(resolved.get("items", {}), defs)
    return out


def flat_parameters(parameters: dict[str, Any] | type[BaseModel]) -> dict[str, Any]:
    """A JSON schema (or a pydantic model) as Ollama's flat `{"type":"object","properties","required"}`."""
    schema = parameters.model_json_schema() if isinstance(parameters, type) else parameters
    defs = {**schema.get("$defs", {}), **schema.get("definitions", {})}
    properties = schema.get("properties", {})
    flat = {name: flat_property(node, defs) for name, node in properties.items()}
    required = [
        name
        for name in schema.get("required", [])
        if name in properties and "default" not in properties[name]
    ]
    return {"type": "object", "properties": flat, "required": required}


def flat_tool(name: str, description: str, parameters: dict[str, Any] | type[BaseModel]) -> dict[str, Any]:
    """The Ollama function-tool dict for one tool."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": " ".join(description.split()),
            "parameters": flat_parameters(parameters),
        },
    }


def schema_chars(tools: list[dict[str, Any]]) -> int:
    """Characters the tool schemas add to the prompt (compact JSON), to budget or to log."""
    return len(json.dumps(tools, separators=(",", ":"), ensure_ascii=False))


def tool_names(tools: list[dict[str, Any]]) -> set[str]:
    """The function names in a list of tool dicts."""
    return {
        t["function"]["name"]
        for t in tools
        if isinstance(t, dict) and isinstance(t.get("function"), dict) and t["function"].get("name")
    }
