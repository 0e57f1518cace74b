"""Slack payloads -> the core's `Inbound`: keys, mention stripping, which messages are ours. No I/O.

A thread is the conversation: `slack:<team>:<channel>:<thread_ts or ts>`. DMs are threaded too (the
reply goes under the user's message), so each DM thread keeps its own history. A button click belongs
to the message it is on: its channel and thread come from Slack's own fields of that message.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from bot.types import Inbound, User

PLATFORM = "slack"
MAX_TEXT = 8000
COMMAND_THREAD = "cmd-"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# Message subtypes that are a person writing; edits, joins, deletions and bot posts are not.
_HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}


class SlackMessage(BaseModel):
    """The fields of a message-like event that the channel uses."""

    team: str
    channel: str
    user: str
    text: str = ""
    ts: str
    thread_ts: str | None = None
    channel_type: str | None = None

    @property
    def root_ts(self) -> str:
        return self.thread_ts or self.ts

    @property
    def in_thread(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_dm(self) -> bool:
        return self.channel_type == "im" or self.channel.startswith("D")


def conversation_key(team: str, channel: str, thread_ts: str) -> str:
    return f"{PLATFORM}:{team}:{channel}:{thread_ts}"


class ClickOrigin(BaseModel):
    """Where the clicked message is: its channel, its thread, and whether it is a thread's root."""

    channel: str
    thread_ts: str
    at_root: bool


def click_origin(body: dict[str, Any]) -> ClickOrigin | None:
    """The clicked message's place, from the payload's `container`, `channel` and `message`; None
    when they are missing or disagree (Slack sends them consistent)."""
    container, message = body.get("container") or {}, body.get("message") or {}
    channels = {c for c in (container.get("channel_id"), (body.get("channel") or {}).get("id")) if c}
    threads = {t for t in (container.get("thread_ts"), message.get("thread_ts")) if t}
    ts = message.get("ts") or container.get("message_ts")
    if len(channels) != 1 or len(threads) > 1 or not ts:
        return None
    root = next(iter(threads), ts)
    return ClickOrigin(channel=channels.pop(), thread_ts=root, at_root=root == ts)


def key_is_of(key: str, origin: ClickOrigin) -> bool:
    """Whether a button's conversation key names the thread its message is in. A `/avi` answer sent
    through response_url (`cmd-<user>`) is a top-level message of its channel."""
    platform, _team, channel, thread = ([*key.split(":", 3), "", "", ""])[:4]
    if platform != PLATFORM or channel != origin.channel:
        return False
    return thread == origin.thread_ts or (origin.at_root and thread.startswith(COMMAND_THREAD))


def command_thread(user: str) -> str:
    """The pseudo-thread of a `/avi` conversation answered through response_url only."""
    return f"{COMMAND_THREAD}{user}"


def message_from_event(event: dict[str, Any], team_id: str | None) -> SlackMessage | None:
    """The message a person wrote, or None for edits, bot posts and other noise."""
    if event.get("subtype") not in _HUMAN_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    if not event.get("channel") or not event.get("ts"):
        return None
    return SlackMessage(
        team=event.get("team") or team_id or "",
        channel=event["channel"],
        user=event["user"],
        text=event.get("text") or "",
        ts=event["ts"],
        thread_ts=event.get("thread_ts"),
        channel_type=event.get("channel_type"),
    )


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m == user_id for m in _MENTION.findall(text))


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """Drop `<@BOT>` (and leading punctuation after it); other users' mentions stay."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>[\s,:]*", " ", text)
    return unescape(" ".join(text.split()))


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def inbound(msg: SlackMessage, text: str, *, user_name: str = "", command: bool = False) -> Inbound:
    return Inbound(
        platform=PLATFORM,
        conversation_key=conversation_key(msg.team, msg.channel, msg.root_ts),
        channel=msg.channel,
        user=User(id=msg.user, name=user_name),
        text=text[:MAX_TEXT],
        command=command,
    )


def thread_context(
    messages: list[dict[str, Any]], *, upto_ts: str, bot_user_id: str | None, limit: int
) -> str:
    """Earlier messages of a thread as lines for the model, oldest first, bounded."""
    lines: list[str] = []
    for m in messages:
        if m.get("ts") == upto_ts or not m.get("text"):
            continue
        who = "assistant" if m.get("bot_id") or m.get("user") == bot_user_id else f"<@{m.get('user', '?')}>"
        lines.append(f"{who}: {strip_mention(m['text'], bot_user_id)}")
    return "\n".join(lines[-limit:]) if limit else ""


def with_context(question: str, earlier: str, budget: int = MAX_TEXT) -> str:
    """The question, prefixed by the thread so far when there is one (cut from the oldest end)."""
    if not earlier:
        return question
    room = budget - len(question) - 64
    if room <= 0:
        return question[:budget]
    earlier = earlier[-room:]
    return f"Earlier in this Slack thread:\n{earlier}\n\nNow: {question}"
