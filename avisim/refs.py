"""References: stored host-independent, rendered as absolute URLs (± `#name`) per request.

A stored ref is MARK + `/api/<type>/<uuid>`. Whole responses are serialised once with json.dumps and the
marked strings are rewritten with one regex pass, so a page of 200 objects needs no per-object deep copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MARK = "\x1e"
_MARKED = re.compile(r'"\\u001e(/api/[^"/]+(?:/([^"/#]+))?)"')


def make_ref(obj_type: str, uuid: str) -> str:
    return f"{MARK}/api/{obj_type}/{uuid}"


def is_marked(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(MARK)


def ref_uuid(ref: str | None) -> str | None:
    """The uuid at the end of a stored (or URL) ref."""
    if not ref:
        return None
    return ref.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def ref_type(ref: str) -> str:
    return ref.split("/api/", 1)[1].split("/", 1)[0]


def render(payload: Any, base: str, include_name: bool, name_of: Callable[[str], str | None]) -> str:
    """JSON text of `payload` with stored refs turned into `<base>/api/<type>/<uuid>[#name]`."""
    text = json.dumps(payload)
    if MARK not in text and "\\u001e" not in text:
        return text
    base_json = json.dumps(base)[1:-1]
    if not include_name:
        return text.replace('"\\u001e/api/', f'"{base_json}/api/')

    def _sub(match: re.Match[str]) -> str:
        name = name_of(match.group(2)) if match.group(2) else None
        suffix = "#" + json.dumps(name)[1:-1] if name is not None else ""
        return f'"{base_json}{match.group(1)}{suffix}"'

    return _MARKED.sub(_sub, text)
