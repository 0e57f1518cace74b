"""Controller alerts in Slack: `SlackAlertPoster` (the `AlertPoster` of bot/alerts/poster.py) and the
root message it posts, a headline over a coloured attachment of Block Kit with Investigate, Mute and
"Open in controller".

The engine decides what is posted; this renders it. Everything the controller named (objects,
summaries, reasons, tenants) is data, never markup: escaped like every other reply
(adapters/slack/blocks.py). The thread key is the conversation key a reply in that thread arrives
with (adapters/slack/events.py), so a follow-up there finds the alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as bk
from adapters.slack import events as ev
from bot.alerts.models import AlertView, ThreadRef, duration_text, kind_word
from bot.alerts.settings import AlertRoute
from bot.types import Inbound, User

log = logging.getLogger("avibot.slack")

INVESTIGATE_ACTION = "alert_investigate"
MUTE_ACTION = "alert_mute"
OPEN_ACTION = "alert_open"  # a URL button still sends a click; it is acked and nothing else
UNPLACED = "This button's message could not be placed in a thread; nothing was done."

# Slack's own palette: red, orange, yellow; green once resolved.
COLOURS = {"ALERT_HIGH": "#E01E5A", "ALERT_MEDIUM": "#F2952F", "ALERT_LOW": "#ECB22E"}
RESOLVED_COLOUR = "#2EB67D"
ICONS = {
    "ALERT_HIGH": ":red_circle:",
    "ALERT_MEDIUM": ":large_orange_circle:",
    "ALERT_LOW": ":large_yellow_circle:",
}
DIGEST_LINES = 25  # objects listed in a storm digest; the rest is "and N more"
REPLY_TEXT = 3000


@dataclass
class AlertMessage:
    """What chat.postMessage / chat.update take for a root: fallback text, blocks, attachments."""

    text: str
    blocks: list[bk.Block]
    attachments: list[dict[str, Any]]


def colour(view: AlertView) -> str:
    return RESOLVED_COLOUR if view.state == "resolved" else COLOURS.get(view.level, COLOURS["ALERT_LOW"])


def when(view: AlertView) -> str:
    """Slack's date token: the reader's own time zone, UTC where it cannot be shown."""
    ts = int(view.raised_at.timestamp())
    fallback = view.raised_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{ts}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _what(view: AlertView) -> str:
    name = f"*{bk.plain(view.object_name, 300)}*" if view.object_name else ""
    kind = bk.plain(kind_word(view.object_type), 100) if view.object_type else ""
    return " ".join(p for p in (kind, name) if p) or "unknown object"


def _alert_blocks(view: AlertView) -> list[bk.Block]:
    state = (
        f"Resolved after {duration_text(view.resolved_after_seconds)}"
        if view.state == "resolved" and view.resolved_after_seconds is not None
        else view.state.capitalize()
    )
    fields = [f"*Object*\n{_what(view)}", f"*Level*\n{bk.escape(view.level_word)}", f"*State*\n{state}"]
    if view.tenant:
        fields.insert(1, f"*Tenant*\n{bk.plain(view.tenant, 300)}")
    if view.controller:  # the bot has several: say which one raised it
        fields.insert(1, f"*Controller*\n{bk.plain(view.controller, 100)}")
    out: list[bk.Block] = [
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if view.summary:
        out.append(bk.section(bk.plain(view.summary, bk.SECTION_TEXT)))
    if view.reason and view.reason != view.summary:
        out.append(bk.context(f"Reason: {bk.plain(view.reason, 1000)}"))
    if view.health:
        out.append(bk.section(f":stethoscope: {bk.plain(view.health, 1000)}"))
    times = f"Raised {when(view)}"
    if view.fired > 1:
        times += f" · fired {view.fired} times"
    out.append(bk.context(times))
    return out


def _digest_blocks(view: AlertView) -> list[bk.Block]:
    lines: list[str] = []
    for line in view.digest[:DIGEST_LINES]:
        kind = bk.plain(kind_word(line.object_type), 100) if line.object_type else ""
        what = " ".join(p for p in (kind, f"*{bk.plain(line.object_name, 200)}*") if p)
        entry = f"• {what} — {line.count}"
        if sum(len(x) + 1 for x in lines) + len(entry) > bk.SECTION_TEXT - 100:
            break
        lines.append(entry)
    out: list[bk.Block] = [bk.section("\n".join(lines) or "No object yet.")]
    hidden = len(view.digest) - len(lines)
    if hidden > 0:
        out.append(bk.more_line(hidden, f"more object{'s' if hidden != 1 else ''}"))
    out.append(bk.context(f"Since {when(view)} · later alerts are counted here, not posted one by one"))
    return out


def buttons(view: AlertView, links: str | None, mute: str = "Mute") -> bk.Block:
    """Investigate; Mute for one object's alert (a storm digest cannot be muted); the controller's
    UI when its public address is configured (its base URL: UI paths differ between versions); the
    alert's own controller's when it carries one."""
    links = view.link_or(links)
    value = bk.clip(view.alert_uuid or view.kind, bk.BUTTON_VALUE)
    elements: list[bk.Block] = [
        {
            "type": "button",
            "action_id": INVESTIGATE_ACTION,
            "text": {"type": "plain_text", "text": "Investigate"},
            "style": "primary",
            "value": value,
        }
    ]
    if view.kind == "alert":
        elements.append(
            {
                "type": "button",
                "action_id": MUTE_ACTION,
                "text": {"type": "plain_text", "text": mute},
                "value": value,
            }
        )
    if links:
        elements.append(
            {
                "type": "button",
                "action_id": OPEN_ACTION,
                "text": {"type": "plain_text", "text": "Open in controller"},
                "url": links,
            }
        )
    return {"type": "actions", "elements": elements}


def root_message(view: AlertView, links: str | None = None, mute: str = "Mute") -> AlertMessage:
    """The whole root, as posted and as each update replaces it."""
    headline = view.headline()
    icon = ":white_check_mark:" if view.state == "resolved" else ICONS.get(view.level, ":warning:")
    if view.kind == "digest":
        icon = ":rotating_light:"
    details = _digest_blocks(view) if view.kind == "digest" else _alert_blocks(view)
    attachment = {
        "color": colour(view),
        "fallback": bk.plain(headline, bk.FALLBACK_TEXT),
        "blocks": [*details, buttons(view, links, mute)],
    }
    return AlertMessage(
        text=bk.plain(headline, bk.FALLBACK_TEXT),
        blocks=[bk.section(f"{icon} *{bk.plain(headline, bk.SECTION_TEXT - 40)}*")],
        attachments=[attachment],
    )


class SlackAlertPoster:
    """Posts roots and replies with the app's own Web API client; raises when Slack refuses (the
    engine then retries on its next poll)."""

    platform = ev.PLATFORM

    def __init__(self, client: AsyncWebClient, *, links: str | None = None, mute: str = "Mute") -> None:
        self.client = client
        self.links = links
        self.mute = mute
        self._team: str | None = None

    async def team(self) -> str:
        """The workspace id replies arrive with, asked once (auth.test)."""
        if self._team is None:
            resp = await self.client.auth_test()
            self._team = str(resp["team_id"])
        return self._team

    async def post_root(self, route: AlertRoute, view: AlertView) -> ThreadRef:
        team = await self.team()  # first: a root posted without a key to find it by would be lost
        msg = root_message(view, self.links, self.mute)
        resp = await self.client.chat_postMessage(
            channel=route.target,
            text=msg.text,
            blocks=msg.blocks,
            attachments=msg.attachments,
            unfurl_links=False,
            unfurl_media=False,
        )
        channel, ts = str(resp.get("channel") or route.target), str(resp["ts"])
        return ThreadRef(
            platform=self.platform,
            thread_key=ev.conversation_key(team, channel, ts),
            data={"channel": channel, "ts": ts},
        )

    async def reply_in_thread(self, ref: ThreadRef, text: str) -> None:
        await self.client.chat_postMessage(
            channel=ref.data["channel"],
            thread_ts=ref.data["ts"],
            text=bk.clip(bk.to_mrkdwn(text), REPLY_TEXT) or " ",
            mrkdwn=True,
            unfurl_links=False,
        )

    async def update_root(self, ref: ThreadRef, view: AlertView) -> None:
        msg = root_message(view, self.links, self.mute)
        await self.client.chat_update(
            channel=ref.data["channel"],
            ts=ref.data["ts"],
            text=msg.text,
            blocks=msg.blocks,
            attachments=msg.attachments,
        )


def click_inbound(body: dict[str, Any], origin: ev.ClickOrigin, person: User, verb: str) -> Inbound:
    """The clicker's turn, in the thread of the message clicked (never a key the button carries)."""
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    return Inbound(
        platform=ev.PLATFORM,
        conversation_key=ev.conversation_key(team, origin.channel, origin.thread_ts),
        channel=origin.channel,
        user=person,
        text="" if verb == "investigate" else "mute",
    )
