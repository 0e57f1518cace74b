"""Choose the few tools a question needs, without an LLM call.

A small local model given 30 tool schemas picks worse and slower than one given 8, and every schema
costs prompt tokens. So each question is matched against each tool's `topics` (object words, verbs)
after synonyms are folded in; the best few are sent, plus a small always-on set, plus the tools the
previous turn used (so "and its pool?" or "disable the second one" keep their context).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.tools.base import Tool

# Words people use -> the words tools list in their topics.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "vs": ("virtual", "vs"),
    "vses": ("virtual", "vs"),
    "virtualservice": ("virtual", "vs"),
    "virtualservices": ("virtual", "vs"),
    "app": ("virtual", "vs"),
    "apps": ("virtual", "vs"),
    "application": ("virtual", "vs"),
    "applications": ("virtual", "vs"),
    "vip": ("virtual", "vs", "vip"),
    "vips": ("virtual", "vs", "vip"),
    "listener": ("virtual", "vs"),
    "site": ("virtual", "vs"),
    "pools": ("pool",),
    "backend": ("pool", "server"),
    "backends": ("pool", "server"),
    "member": ("pool", "server"),
    "members": ("pool", "server"),
    "node": ("server",),
    "nodes": ("server",),
    "servers": ("server",),
    "host": ("server",),
    "hosts": ("server",),
    "se": ("engine", "se"),
    "ses": ("engine", "se"),
    "engines": ("engine", "se"),
    "serviceengine": ("engine", "se"),
    "serviceengines": ("engine", "se"),
    "dataplane": ("engine", "se"),
    "hm": ("monitor",),
    "healthmonitor": ("monitor",),
    "healthmonitors": ("monitor",),
    "monitors": ("monitor",),
    "check": ("monitor",),
    "checks": ("monitor",),
    "probe": ("monitor",),
    "probes": ("monitor",),
    "cpu": ("metric", "cpu", "engine"),
    "memory": ("metric", "memory", "engine"),
    "load": ("metric", "engine"),
    "traffic": ("metric",),
    "throughput": ("metric",),
    "bandwidth": ("metric",),
    "latency": ("metric",),
    "errors": ("metric",),
    "requests": ("metric",),
    "connections": ("metric",),
    "graph": ("metric",),
    "trend": ("metric",),
    "metrics": ("metric",),
    "analytics": ("metric",),
    "stats": ("metric",),
    "unhealthy": ("unhealthy", "down"),
    "broken": ("unhealthy", "down"),
    "failing": ("unhealthy", "down"),
    "failed": ("unhealthy", "down"),
    "outage": ("unhealthy", "down"),
    "health": ("unhealthy", "health"),
    "healthy": ("unhealthy", "health"),
    "cert": ("certificate", "object"),
    "certs": ("certificate", "object"),
    "certificate": ("certificate", "object"),
    "certificates": ("certificate", "object"),
    "ssl": ("certificate", "object"),
    "tls": ("certificate", "object"),
    "tenant": ("object",),
    "tenants": ("object",),
    "cloud": ("object",),
    "clouds": ("object",),
    "profile": ("object",),
    "profiles": ("object",),
    "policy": ("object",),
    "policies": ("object",),
    "types": ("object", "type"),
    "add": ("add", "scale"),
    "remove": ("remove", "scale"),
    "drain": ("disable",),
    "shut": ("disable",),
    "turn": ("enable", "disable"),
    "bring": ("enable",),
    "grow": ("scale",),
    "shrink": ("scale",),
    "scaleout": ("scale",),
    "scalein": ("scale",),
    "failover": ("switchover",),
    "move": ("migrate",),
    "api": ("generic",),
}

ALWAYS_ON: tuple[str, ...] = ("get_virtual_service", "list_objects", "get_object")

_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def question_words(text: str) -> set[str]:
    """Lower-case words of `text`, with their synonyms folded in."""
    words: set[str] = set()
    for word in _WORD.findall(text.lower()):
        words.add(word)
        for part in re.split(r"[-_.]", word):
            if part:
                words.add(part)
                words.update(SYNONYMS.get(part, ()))
        words.update(SYNONYMS.get(word, ()))
    return words


def select_tools(
    text: str,
    tools: Sequence[Tool],
    *,
    limit: int = 8,
    previous: Iterable[str] = (),
) -> list[Tool]:
    """The `limit` best-matching tools for `text`, then the always-on and previous-turn tools."""
    words = question_words(text)
    by_name = {t.name: t for t in tools}
    scored: list[tuple[int, int, Tool]] = []
    for order, tool in enumerate(tools):
        score = len(tool.topics & words)
        name_words = set(tool.name.split("_"))
        score += 2 * len(name_words & words)
        if score:
            scored.append((-score, order, tool))
    scored.sort(key=lambda item: (item[0], item[1]))
    chosen = [tool for _, _, tool in scored[:limit]]
    for name in (*previous, *ALWAYS_ON):
        tool = by_name.get(name)
        if tool is not None and tool not in chosen:
            chosen.append(tool)
    return chosen
