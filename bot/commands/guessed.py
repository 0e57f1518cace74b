"""The read for a tool the classifier chose (bot/commands/learned.py): its arguments, from the reading.

The rules (`bot.commands.intents`) may have ranked that tool too, with its arguments; then their intent
is taken as it is. Otherwise the arguments come from what the reading found: the first name, a window,
a "name contains" filter, a number of days, an object type. A read that needs what the sentence does
not give (a name, an object type) is not built: the fallback asks instead.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from avi.object_types import OBJECT_TYPES
from bot import lexicon
from bot.commands.intents import Intent
from bot.commands.reading import Reading, name_like, object_type_in
from bot.commands.vocabulary import kind_by_pattern

_ANALYTICS = "get_analytics"
_NAMED = 0.5  # a name guess at least this sure is the object asked about ("which is busier": 0.4)


def _kinds_by(field: str) -> dict[str, lexicon.Kind]:
    return {getattr(k, field): k for k in lexicon.LEXICON.kinds if getattr(k, field)}


def _name(r: Reading) -> str | None:
    guess = r.name
    return guess.name if guess is not None and guess.score >= _NAMED else None


def _one_name(r: Reading) -> str | None:
    """The object one read is about: the first name, or a real name the reading took for a filter
    ("web-pool members": the pool's, not the pools whose names contain it)."""
    contains = r.name_contains
    return _name(r) or (contains if contains is not None and name_like(contains) else None)


def _window(r: Reading) -> dict[str, Any]:
    return {"window": r.window} if r.window else {}


def _contains(r: Reading) -> dict[str, Any]:
    return {"name_contains": r.name_contains} if r.name_contains else {}


def _analytics(r: Reading) -> Intent | None:
    name = _name(r)
    if name is None:
        return None
    guess = r.name
    kind = (guess.kind if guess is not None else None) or kind_by_pattern(name)
    kind = kind or next((k for k in r.kinds if lexicon.LEXICON.kind(k).metrics), None) or "vs"
    chosen = lexicon.LEXICON.kind(kind)
    entity = chosen.object_type if chosen.metrics else "virtualservice"
    return Intent("analytics", 1.0, _ANALYTICS, {"entity_type": entity, "name": name, **_window(r)})


def _other(tool: str, r: Reading) -> Intent | None:
    name = _name(r)
    if tool == "list_events":
        args: dict[str, Any] = {**_window(r), **({"name": name} if name else {})}
        return Intent("events", 1.0, tool, args)
    if tool == "list_certificates":
        days = {"expiring_within_days": r.days} if r.days is not None else {}
        return Intent("certificates", 1.0, tool, {**days, **_contains(r)})
    if tool in ("list_objects", "get_object"):
        obj_type = object_type_in(r)
        if obj_type is None and tool == "get_object" and name is not None:
            obj_type = _type_of_name(name)
        if obj_type is None or (tool == "get_object" and name is None):
            return None
        named = {"name": name} if tool == "get_object" else _contains(r)
        return Intent("objects", 1.0, tool, {"object_type": obj_type, **named})
    return None


_JOINERS = frozenset(("and", "or", "&", "+", "vs", "versus", "with", "plus", ","))


def _joined_kinds(r: Reading) -> bool:
    """Two listable kinds side by side, joined ("pools and virtual services", "pools vs vips"): two
    listings asked for at once. Two kinds apart ("how many vs each se carries") are one listing."""
    listed = [m for m in r.mentions if m.role == "kind" and lexicon.LEXICON.kind(m.key).list_tool]
    for one, other in pairwise(listed):
        between = r.low[one.end : other.start]
        if one.key != other.key and all(w in _JOINERS for w in between):
            return True
    return False


def _type_of_name(name: str) -> str | None:
    """The object type a name spells ("Default-Cloud", "api-cert-002"), for `get_object`."""
    aliases = lexicon.LEXICON.type_aliases
    for part in re.split(r"[-_.\s]+", name.lower()):
        if found := aliases.get(part) or (part if part in OBJECT_TYPES else None):
            return found
    return None


def guessed_intent(tool: str, r: Reading, intents: list[Intent]) -> Intent | None:
    """The read that runs `tool` for this sentence, or None when the sentence lacks what it needs."""
    if tool in _kinds_by("list_tool") and _joined_kinds(r):
        return None  # "compare pools and virtual services": which listing?
    ranked = next((i for i in intents if i.tool == tool and not i.writes), None)
    if ranked is not None:
        return ranked if ranked.complete else None
    if tool == _ANALYTICS:
        return _analytics(r)
    if kind := _kinds_by("get_tool").get(tool):
        name = _one_name(r)
        return Intent("status", 1.0, tool, {"name": name}, kinds=(kind.key,)) if name else None
    if kind := _kinds_by("unhealthy_tool").get(tool):
        return Intent("health", 1.0, tool, kinds=(kind.key,))
    if kind := _kinds_by("list_tool").get(tool):
        key = "types" if kind.key == "types" else "list"
        return Intent(key, 1.0, tool, _contains(r), kinds=(kind.key,))
    return _other(tool, r)
