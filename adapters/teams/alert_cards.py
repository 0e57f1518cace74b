"""An alert thread's root card (Adaptive Card 1.5, plain dicts, no SDK) and what its buttons send back.

Everything the controller or a user named (object names, summaries, reasons, tenants) is data, not
markup: it goes into `RichTextBlock` `TextRun`s, which Adaptive Cards never read as Markdown, so an
object called `[login](https://…)` or `**urgent**` shows as typed. Only fixed words use TextBlocks.

The buttons are `Action.Execute` (answered in place by an invoke) with an `Action.Submit` fallback;
both carry `{"avibot": "investigate"|"mute", "t": <thread key>}`. The key is empty on the first post
to a channel, whose thread is known only once Teams has created it; the click then stands for the
conversation it comes from (adapters/teams/bot.py).
"""

from __future__ import annotations

from typing import Any

from adapters.teams.cards import Card, Element, card, clip, subtle
from bot.alerts.models import AlertView, duration_text, object_words

INVESTIGATE = "investigate"
MUTE = "mute"
VERBS = {INVESTIGATE: "avi_investigate", MUTE: "avi_mute"}
DIGEST_LINES = 30
NAME_CHARS = 200
LEVEL_ICONS = {"high": "🔴", "medium": "🟠", "low": "🟡"}


def run(text: str, **style: Any) -> dict[str, Any]:
    """A TextRun: shown exactly as written (Adaptive Cards apply no Markdown to TextRuns)."""
    return {"type": "TextRun", "text": text or " ", **style}


def plain(*inlines: dict[str, Any], **style: Any) -> Element:
    return {"type": "RichTextBlock", "inlines": list(inlines) or [run(" ")], **style}


def fact(label: str, value: str) -> Element:
    """`Label: value` on one line; the value is data."""
    return plain(run(f"{label}: ", weight="Bolder"), run(value), spacing="Small")


def style_of(view: AlertView) -> tuple[str, str]:
    """(container style, text colour): good when resolved, attention for a high alert or a storm,
    warning otherwise."""
    if view.state == "resolved":
        return "good", "Good"
    if view.kind == "digest" or view.level_word == "high":
        return "attention", "Attention"
    return "warning", "Warning"


def title(view: AlertView) -> str:
    if view.kind == "digest":
        return f"🌩 {view.headline()}"
    what = object_words(view.object_type, clip(view.object_name, NAME_CHARS))
    if view.state == "resolved":
        return f"✅ Resolved: {what}"
    level = view.level_word or "alert"
    return f"{LEVEL_ICONS.get(level, '⚠')} {level.capitalize()} alert: {what}"


def _when(view: AlertView) -> str:
    return view.raised_at.strftime("%Y-%m-%d %H:%M UTC")


def alert_lines(view: AlertView) -> list[Element]:
    out: list[Element] = []
    if view.summary:
        out.append(plain(run(clip(view.summary, 1000))))
    if view.controller:  # the bot has several: say which one raised it
        out.append(fact("Controller", clip(view.controller, NAME_CHARS)))
    if view.tenant:
        out.append(fact("Tenant", clip(view.tenant, NAME_CHARS)))
    if view.reason and view.reason != view.summary:
        out.append(fact("Reason", clip(view.reason, 500)))
    if view.health:  # the core's own line ("Now: up; health 92; …"), labelled already
        out.append(plain(run(clip(view.health, 300), weight="Bolder"), spacing="Small"))
    out.append(fact("Raised", _when(view)))
    if view.fired > 1:
        out.append(fact("Fired", f"{view.fired} times"))
    if view.state == "resolved":
        after = view.resolved_after_seconds
        out.append(fact("Resolved", f"after {duration_text(after)}" if after is not None else "yes"))
    return out


def digest_lines(view: AlertView) -> list[Element]:
    out: list[Element] = [fact("Since", _when(view))]
    if view.controller:
        out.insert(0, fact("Controller", clip(view.controller, NAME_CHARS)))
    for line in view.digest[:DIGEST_LINES]:
        what = object_words(line.object_type, clip(line.object_name, NAME_CHARS))
        out.append(plain(run(f"{line.count}x ", weight="Bolder"), run(what), spacing="Small"))
    hidden = len(view.digest) - DIGEST_LINES
    if hidden > 0:
        out.append(subtle(f"… and {hidden} more objects"))
    return out


def click_data(verb: str, thread_key: str) -> dict[str, str]:
    return {"avibot": verb, "t": thread_key} if thread_key else {"avibot": verb}


def button(verb: str, label: str, thread_key: str) -> Element:
    data = click_data(verb, thread_key)
    return {
        "type": "Action.Execute",
        "verb": VERBS[verb],
        "title": label,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": label, "data": data},
    }


def buttons(view: AlertView, thread_key: str, links: str | None, mute: str = "Mute") -> list[Element]:
    """Investigate; Mute for one object's alert (a storm digest cannot be muted); the controller's
    page when a public address is configured (the alert's own controller's when it carries one)."""
    links = view.link_or(links)
    actions = [button(INVESTIGATE, "Investigate", thread_key)]
    if view.kind == "alert":
        actions.append(button(MUTE, mute, thread_key))
    if links:
        actions.append({"type": "Action.OpenUrl", "title": "Open in controller", "url": links})
    return actions


def alert_card(
    view: AlertView, thread_key: str, *, links: str | None = None, hint: str = "", mute: str = "Mute"
) -> Card:
    """The root of an alert's (or a storm digest's) thread, re-rendered whole on every update."""
    style, colour = style_of(view)
    head = plain(run(title(view), weight="Bolder", size="Medium", color=colour))
    lines = digest_lines(view) if view.kind == "digest" else alert_lines(view)
    body: list[Element] = [
        {"type": "Container", "style": style, "bleed": True, "items": [head, *lines]},
        {"type": "ActionSet", "actions": buttons(view, thread_key, links, mute)},
    ]
    if hint:
        body.append(subtle(hint))
    return card(body)


def reply_card(text: str) -> Card:
    """A reply in the thread (fired again, resolved): the core's sentence carries the controller's
    own words, so it is shown as text too."""
    return card([plain(run(clip(text, 2000)))])


def parse_click(value: Any) -> tuple[str, str] | None:
    """(verb, thread key) from an alert button's data, or None when it is not one."""
    if not isinstance(value, dict) or value.get("avibot") not in VERBS:
        return None
    key = value.get("t")
    return str(value["avibot"]), key if isinstance(key, str) else ""
