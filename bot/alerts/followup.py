"""A question asked in an alert's thread starts with the alert: the model is told what the thread is
about (`Inbound.about`), and "it", "this pool", or a question naming no object ("what changed?")
is read as being about the alert's object, so the router, the command grammar and the plain-English
fallback find it without the person typing its name. Investigate's fixed reads live here too."""

from __future__ import annotations

import re
from typing import Any

from bot.alerts.models import AlertContext, object_words
from bot.types import Inbound

_KIND_WORDS = r"(?:vs|virtual\s+service|pool|service\s+engine|se|object|server\s+group)"
_REFERENCE = re.compile(
    rf"\b(?:(?:this|that|the)\s+{_KIND_WORDS}|this\s+one|that\s+one|it)\b(?!['\u2019])", re.IGNORECASE
)
# What an object's Investigate reads, by its API type: its state (members, monitors), the last hour's
# events and its key metrics. Other types: the object and its events.
_DETAIL = {"virtualservice": "get_virtual_service", "pool": "get_pool", "serviceengine": "get_service_engine"}
_MEASURED = ("virtualservice", "pool", "serviceengine")


def resolve_references(text: str, ctx: AlertContext) -> str:
    """`text` with "it" / "this pool" replaced by the alert's object, or the object added when the
    text names no object at all. A digest is about many objects: the text is left alone."""
    name = ctx.object_name
    if ctx.kind != "alert" or not name or name.lower() in text.lower():
        return text
    replaced, count = _REFERENCE.subn(name, text)
    if count:
        return replaced
    stripped = text.rstrip(" ?.!")
    return f"{stripped} for {object_words(ctx.object_type, name)}{text[len(stripped) :]}"


def with_alert(inbound: Inbound, ctx: AlertContext) -> Inbound:
    """The inbound message as the core should read it inside the alert's thread."""
    return inbound.model_copy(update={"text": resolve_references(inbound.text, ctx), "about": ctx.as_text()})


def diagnosis_calls(ctx: AlertContext) -> list[tuple[str, dict[str, Any]]]:
    """The reads Investigate runs (all read-only tools of the catalogue, with the asker's role)."""
    name, kind = ctx.object_name, ctx.object_type or ""
    if ctx.kind != "alert" or not name:
        return [("list_events", {"window": "1h", "limit": 20})]
    if kind in _DETAIL:
        calls: list[tuple[str, dict[str, Any]]] = [(_DETAIL[kind], {"name": name})]
    else:
        calls = [("get_object", {"object_type": kind, "name": name})] if kind else []
    calls.append(("list_events", {"name": name, "window": "1h", "limit": 10}))
    if kind in _MEASURED:
        calls.append(("get_analytics", {"entity_type": kind, "name": name, "window": "1h"}))
    return calls


def diagnosis_title(ctx: AlertContext) -> str:
    if ctx.kind != "alert":
        return f"**Investigating the alert storm** ({ctx.summary}): the last hour's events."
    return (
        f"**Investigating {object_words(ctx.object_type, ctx.object_name)}**: its state, the last hour's "
        "events and key metrics."
    )
