"""Slack's buttons, after the ack: Confirm / Cancel (the core settles the action at most once), the
message a settled action leaves behind, and "Show more" (the next page of a table, a read run as the
clicker). Every button is bound to the message it is on: its value names a conversation, which must
be the clicked message's thread (adapters/slack/events.py `key_is_of`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as bk
from adapters.slack import events as ev
from bot.turns import Turns
from bot.types import ErrorPart, Inbound, Outcome, Reply, TurnResult, User, Visibility

log = logging.getLogger("avibot.slack")

MISPLACED = "This button belongs to another conversation than the message it is on; nothing was changed."
BROKEN_MORE = "This button is out of date or damaged; ask for the list again."
# The outcome line's icon, for each way a confirmation can end.
ICONS = {
    Outcome.DONE: ":white_check_mark:",
    Outcome.FAILED: ":warning:",
    Outcome.UNKNOWN: ":grey_question:",
    Outcome.CANCELLED: ":x:",
    Outcome.EXPIRED: ":hourglass:",
    Outcome.ALREADY_SETTLED: ":information_source:",
}
SETTLING = {Outcome.DONE, Outcome.FAILED, Outcome.UNKNOWN, Outcome.CANCELLED}


def click_by(verb: str, outcome: Outcome, who: str) -> str | None:
    """Who settled the action, for the outcome line that replaces the buttons; None when nobody did."""
    match outcome:
        case Outcome.DONE | Outcome.UNKNOWN:
            return f"Confirmed by {who}"
        case Outcome.FAILED if verb == "confirm":
            return f"Confirmed by {who}"
        case Outcome.FAILED:
            return f"Cancel by {who} failed"
        case Outcome.CANCELLED:
            return f"Cancelled by {who}"
    return None


def clicker(body: dict[str, Any]) -> User:
    user = body.get("user") or {}
    return User(id=user.get("id", ""), name=user.get("username") or user.get("name", ""))


def settled_view(original: list[bk.Block], result: TurnResult, verb: str, who: str) -> bk.Rendered:
    """The confirmation message once `result` settled (or showed stale) its action."""
    return bk.outcome(
        original,
        ICONS.get(result.outcome, ""),
        click_by(verb, result.outcome, f"<@{who}>") or "",
        result.reply,
        view=result.action,
        controller=result.controller,
    )


async def find_message(
    client: AsyncWebClient,
    channel: str,
    thread: str,
    wanted: Callable[[list[bk.Block]], bool],
    ts: str | None = None,
) -> dict[str, Any] | None:
    """The message of a thread (its root included) whose blocks `wanted` accepts; with `ts`, only
    that message. None when Slack will not say (no history scope) or it is not there."""
    try:
        resp = await client.conversations_replies(
            channel=channel, ts=thread, limit=200, oldest=ts, latest=ts, inclusive=bool(ts) or None
        )
    except SlackApiError as exc:
        log.info("slack: thread %s not readable: %s", thread, exc.response.get("error"))
        return None
    for m in reversed(resp.get("messages") or []):
        if m.get("ts") and (ts is None or m.get("ts") == ts) and wanted(m.get("blocks") or []):
            return dict(m)
    return None


async def update(
    client: AsyncWebClient, respond: Any, channel: str, message: dict[str, Any], rendered: bk.Rendered
) -> None:
    try:
        await client.chat_update(
            channel=channel, ts=message["ts"], text=rendered.text, blocks=rendered.blocks
        )
    except (SlackApiError, KeyError):  # an ephemeral or response_url message: only respond() can edit it
        await respond(text=rendered.text, blocks=rendered.blocks, replace_original=True)


async def ephemeral(
    client: AsyncWebClient,
    respond: Any,
    channel: str,
    user: str,
    message: dict[str, Any],
    rendered: bk.Rendered,
) -> None:
    """To the clicker alone, in the message's thread; through response_url where Slack refuses."""
    try:
        await client.chat_postEphemeral(
            channel=channel,
            user=user,
            text=rendered.text,
            blocks=rendered.blocks,
            thread_ts=message.get("thread_ts"),
        )
    except SlackApiError:
        await respond(
            text=rendered.text, blocks=rendered.blocks, response_type="ephemeral", replace_original=False
        )


def _private(reply: Reply) -> bk.Rendered:
    return bk.render_reply(reply, footer=False, native_tables=False)


def _error(message: str) -> bk.Rendered:
    return _private(Reply(parts=[ErrorPart(message=message)]))


async def on_settle_click(
    turns: Turns,
    verb: str,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: Any,
) -> None:
    """Confirm or Cancel: the core runs it at most once and checks the clicker. A refusal is the
    clicker's alone (the buttons stay for someone allowed); an outcome, an expired action, or one
    settled elsewhere whose buttons are still there, puts one outcome line in the buttons' place."""
    action_id, key = bk.parse_confirmation_value(action.get("value", ""))
    message = body.get("message") or {}
    person = clicker(body)
    origin = ev.click_origin(body)
    if origin is None or (key and not ev.key_is_of(key, origin)):
        # A button naming another conversation than its message's: its role and its action would
        # come from two places. Nothing is settled; the clicker is told.
        log.warning("slack: %s click refused: the button belongs to another conversation", verb)
        channel = origin.channel if origin else ""
        await ephemeral(client, respond, channel, person.id, message, _error(MISPLACED))
        return
    channel = origin.channel
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    inbound = Inbound(
        platform=ev.PLATFORM,
        conversation_key=key or ev.conversation_key(team, channel, origin.thread_ts),
        channel=channel,
        user=person,
        text=f"{verb} {action_id}",
    )
    result = await turns.settle(verb, action_id, inbound)
    if result.visibility is Visibility.ASKER:
        await ephemeral(client, respond, channel, person.id, message, _private(result.reply))
        return
    if click_by(verb, result.outcome, "") is None and result.outcome is not Outcome.EXPIRED:
        # Settled elsewhere first: that click replaces the buttons itself. When the message still
        # has them (a typed confirm, a lost update), it shows the final state; else the clicker is told.
        still = await find_message(client, channel, origin.thread_ts, bk.has_confirmation, message.get("ts"))
        if still is None:
            await ephemeral(client, respond, channel, person.id, message, _private(result.reply))
            return
    rendered = settled_view(message.get("blocks") or [], result, verb, person.id)
    await update(client, respond, channel, message, rendered)


async def settle_typed(client: AsyncWebClient, channel: str, inbound: Inbound, result: TurnResult) -> None:
    """After a typed confirm or cancel, the message with the action's buttons (in this thread) shows
    the outcome line in their place, as after a click. Best effort: the answer itself is posted."""
    view = result.action
    thread = inbound.conversation_key.split(":", 3)[-1]
    if view is None or result.outcome not in SETTLING or thread.startswith(ev.COMMAND_THREAD):
        return  # nothing settled, or a response_url conversation: no message to find or edit
    found = await find_message(client, channel, thread, lambda b: bk.holds_action(b, view))
    if found is None:
        return
    verb = "cancel" if inbound.text.strip().lower().startswith("cancel") else "confirm"
    rendered = settled_view(found.get("blocks") or [], result, verb, inbound.user.id)
    try:
        await client.chat_update(channel=channel, ts=found["ts"], text=rendered.text, blocks=rendered.blocks)
    except SlackApiError as exc:
        log.info("slack: confirmation message not updated: %s", exc.response.get("error"))
