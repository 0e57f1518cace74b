"""Shaping results twice: compact JSON for the model (`data`, within a character budget) and parts
for a person (tables, facts, charts). Everything from the controller is redacted on the way in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from avi.models import ref_name
from avi.redact import redact
from bot.tools.labels import label
from bot.types import Fact, FactsPart, TablePart, TextPart
from common.numbers import fmt_number

LIST_BUDGET = 3000  # characters of JSON the model gets for a list
OBJECT_BUDGET = 3000  # ... and for one object
MAX_ROWS = 50  # rows a person gets in one table
_NOISE_KEYS = frozenset({"url", "_last_modified", "uuid_ref"})


def json_len(value: Any) -> int:
    """Measured with the default separators: a safe upper bound of the compact form the agent sends."""
    return len(json.dumps(value, default=str))


def state(value: str | None) -> str:
    """`OPER_UP` -> `up` (what people and small models say)."""
    if not value:
        return "unknown"
    return value.removeprefix("OPER_").lower()


def num(value: float | None, digits: int = 2) -> float | int | None:
    """A float short enough for a prompt: 90829993.716 -> 90829993.72, 82.0 -> 82."""
    if value is None:
        return None
    rounded = round(float(value), digits)
    return int(rounded) if rounded.is_integer() else rounded


def prune(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None and empty values: the model reads fewer, meaningful fields."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {} and v != ""}


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value) or "-"
    return str(value)


def text(markdown: str) -> TextPart:
    return TextPart(markdown=markdown)


def table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None
) -> TablePart:
    """At most MAX_ROWS rows; `total` (when more exist) lets the adapter say "and N more"."""
    all_rows = [[cell(c) for c in row] for row in rows]
    shown = all_rows[:MAX_ROWS]
    count = max(total or 0, len(all_rows))
    return TablePart(
        title=title, columns=list(columns), rows=shown, total=count if count > len(shown) else None
    )


def facts(title: str, values: Mapping[str, Any]) -> FactsPart:
    return FactsPart(
        title=title, facts=[Fact(label=label(k), value=cell(v)) for k, v in prune(values).items()]
    )


def fit_list(
    items: list[Any], budget: int = LIST_BUDGET, total: int | None = None, **extra: Any
) -> dict[str, Any]:
    """`{"items": first K, "total": N}` within `budget` chars; `"truncated": true` when cut.

    `total` is the number that exists (when `items` is already a cut of it); extra keys lead.
    """
    items = redact(items)
    total = len(items) if total is None else total
    head = {**extra, "total": total}
    room = budget - json_len(head) - 60  # the "items", "truncated" and "shown" keys
    kept: list[Any] = []
    used = 2
    for item in items:
        used += json_len(item) + 2
        if used > room:
            break
        kept.append(item)
    out: dict[str, Any] = {**head, "items": kept}
    if len(kept) < total:
        out.update(truncated=True, shown=len(kept))
    while kept and json_len(out) > budget:  # the estimate is close; make it exact
        kept.pop()
        out["shown"] = len(kept)
    return out


def _names_for_refs(value: Any) -> Any:
    """Refs are long URLs: keep only the name they end with (`.../pool/pool-1#web` -> `web`)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _NOISE_KEYS:
                continue
            if key.endswith("_ref") and isinstance(item, str):
                out[key] = ref_name(item)
            elif key.endswith("_refs") and isinstance(item, list):
                out[key] = [ref_name(r) if isinstance(r, str) else r for r in item]
            else:
                out[key] = _names_for_refs(item)
        return out
    if isinstance(value, list):
        return [_names_for_refs(v) for v in value]
    return value


def _shorten(value: Any, max_str: int, max_items: int, depth: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= max_str else value[:max_str] + "…"
    if isinstance(value, list):
        if depth <= 0:
            return f"<{len(value)} items>"
        head = [_shorten(v, max_str, max_items, depth - 1) for v in value[:max_items]]
        return head + ([f"<{len(value) - max_items} more>"] if len(value) > max_items else [])
    if isinstance(value, dict):
        if depth <= 0:
            return f"<{len(value)} fields>"
        return {k: _shorten(v, max_str, max_items, depth - 1) for k, v in value.items()}
    return value


def fit_object(obj: Any, budget: int = OBJECT_BUDGET) -> Any:
    """A controller object, redacted, refs as names, shrunk step by step until it fits `budget`."""
    value = _names_for_refs(redact(obj))
    if json_len(value) <= budget:
        return value
    for max_str, max_items, depth in ((200, 10, 6), (80, 5, 3), (60, 3, 2), (40, 2, 1)):
        short = _shorten(value, max_str, max_items, depth)
        if json_len(short) <= budget:
            return short
    if not isinstance(short, dict):
        return str(short)[:budget]
    kept: dict[str, Any] = {}
    for key, item in short.items():
        if json_len({**kept, key: item}) > budget - 30:
            break
        kept[key] = item
    kept["truncated"] = True
    return kept


def server_label(ip: str, port: int | None) -> str:
    """`10.0.0.1:80`, `[fd00::1]:80`, or the bare address when the pool's default port applies."""
    if port is None:
        return ip
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
