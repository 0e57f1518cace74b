"""After a confirmation is settled (click, typed confirm, cancel, expiry, someone else first) its
message shows one outcome line where the buttons were; "Show more" posts the next page in the thread.
Real Bolt app, signed requests, the local Slack Web API, the agent on the simulator."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack import blocks as bk
from adapters.slack.buttons import BROKEN_MORE, MISPLACED
from bot.types import Inbound, User
from tests.adapters.slack.harness import OPERATOR, SlackEnv, all_text, pending_message

STALE = ("Expires", "/avi confirm", "Confirm this change", "avi_confirm", "avi_cancel")


def settled(s: SlackEnv, ts: str) -> Any:
    """A predicate: the message has no buttons any more."""
    return lambda: not bk.has_confirmation(s.slack.messages[ts]["blocks"])


def action_of(button: dict[str, Any]) -> tuple[str, str]:
    return bk.parse_confirmation_value(button["value"])


def readable(s: SlackEnv, msg: dict[str, Any]) -> None:
    """Let conversations.replies see the thread as it is (the fake serves what a test puts there)."""
    s.slack.threads[(msg["channel"], msg["ts"])] = [s.slack.messages[msg["ts"]]]


async def test_a_confirm_click_leaves_one_result_line_with_who_confirmed(s: SlackEnv) -> None:
    name, msg, confirm, _ = await pending_message(s)
    await s.click(confirm, msg, user=OPERATOR)
    await s.slack.wait_for(settled(s, msg["ts"]))
    text = all_text(s.slack.messages[msg["ts"]]["blocks"])
    assert not [word for word in STALE if word in text], text
    assert text.count("Done: ") == 1
    assert f"Done: Disabled virtual service {name}. · Confirmed by <@{OPERATOR}>" in text
    assert f"Disable virtual service {name}" not in text  # the plan is not repeated beside its result


async def test_a_typed_confirm_updates_the_confirmation_message_in_place(s: SlackEnv) -> None:
    name, msg, confirm, _ = await pending_message(s)
    action_id, _ = action_of(confirm)
    readable(s, msg)
    await s.event(
        {
            "type": "message",
            "channel_type": "channel",
            "user": OPERATOR,
            "text": f"confirm {action_id}",
            "ts": "1700009999.000100",
            "thread_ts": msg["ts"],
            "channel": msg["channel"],
        }
    )
    await s.slack.wait_for(settled(s, msg["ts"]))
    assert (await s.env.ops.virtualservices.get(name)).enabled is False
    text = all_text(s.slack.messages[msg["ts"]]["blocks"])
    assert not [word for word in STALE if word in text], text
    assert f"Done: Disabled virtual service {name}. · Confirmed by <@{OPERATOR}>" in text


async def test_a_typed_cancel_updates_the_confirmation_message_in_place(s: SlackEnv) -> None:
    name, msg, confirm, _ = await pending_message(s)
    action_id, _ = action_of(confirm)
    readable(s, msg)
    await s.event(
        {
            "type": "message",
            "channel_type": "channel",
            "user": OPERATOR,
            "text": f"cancel {action_id}",
            "ts": "1700009998.000100",
            "thread_ts": msg["ts"],
            "channel": msg["channel"],
        }
    )
    await s.slack.wait_for(settled(s, msg["ts"]))
    text = all_text(s.slack.messages[msg["ts"]]["blocks"])
    assert f"Cancelled by <@{OPERATOR}>" in text
    assert not [word for word in STALE if word in text], text
    assert (await s.env.ops.virtualservices.get(name)).enabled is True


async def test_a_click_on_buttons_settled_elsewhere_shows_the_final_state(s: SlackEnv) -> None:
    _, msg, confirm, _ = await pending_message(s)
    action_id, key = action_of(confirm)
    person = User(id=OPERATOR, name="op")
    elsewhere = Inbound(platform="slack", conversation_key=key, channel="C1", user=person, text="confirm")
    await s.channel.turns.settle("confirm", action_id, elsewhere)  # settled; this message never told
    assert bk.has_confirmation(s.slack.messages[msg["ts"]]["blocks"])
    readable(s, msg)
    await s.click(confirm, msg, user=OPERATOR)
    await s.slack.wait_for(settled(s, msg["ts"]))
    text = all_text(s.slack.messages[msg["ts"]]["blocks"])
    assert f"Action {action_id} was already confirmed by op" in text
    assert not [word for word in STALE if word in text], text


async def table_with_more(s: SlackEnv) -> tuple[dict[str, Any], dict[str, Any]]:
    """`/avi vs list limit 5`: the channel message with its first page, and its "Show more" button."""
    await s.command("vs list limit 5")
    msg = await s.slack.wait_for(
        lambda: next((m for m in s.slack.messages.values() if bk.MORE_ACTION in all_text(m["blocks"])), None)
    )
    button = next(
        e
        for b in msg["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == bk.MORE_ACTION
    )
    return msg, button


async def test_show_more_posts_the_next_page_in_the_thread(s: SlackEnv) -> None:
    names = sorted(vs.name for vs in await s.env.ops.virtualservices.list())
    msg, button = await table_with_more(s)
    assert any(b["type"] == "table" for b in msg["blocks"])  # the first page, as Slack's table block
    await s.click(button, msg, user=OPERATOR)
    [page] = await s.slack.wait_for(lambda: s.slack.replies_in(msg["channel"], msg["ts"]))
    await s.slack.wait_for(lambda: any(b["type"] == "table" for b in s.slack.messages[page["ts"]]["blocks"]))
    shown_first = all_text(msg["blocks"])
    shown_next = all_text(s.slack.messages[page["ts"]]["blocks"])
    later = [n for n in names if json.dumps(n)[1:-1] in shown_next]
    assert later
    assert not [n for n in later if f'"text": "{n}"' in shown_first]  # a new page, not the first again
    assert s.slack.calls_to("chat.postEphemeral") == []


async def test_a_damaged_or_misplaced_show_more_is_refused_in_one_line(s: SlackEnv) -> None:
    msg, button = await table_with_more(s)
    posts = len(s.slack.calls_to("chat.postMessage"))
    await s.click({**button, "value": button["value"][:-3]}, msg, user=OPERATOR)
    [refusal] = await s.slack.wait_for(lambda: s.slack.calls_to("chat.postEphemeral"))
    assert refusal.args["user"] == OPERATOR
    assert [b["type"] for b in refusal.args["blocks"]] == ["section"]
    assert BROKEN_MORE in all_text(refusal.args["blocks"])

    value = bk.parse_more_value(button["value"])
    assert value is not None
    elsewhere = bk.more_value(value.m, "slack:T1:C9:1700000001.000100")
    await s.click({**button, "value": elsewhere}, msg, user=OPERATOR)
    await s.slack.wait_for(lambda: len(s.slack.calls_to("chat.postEphemeral")) == 2)
    assert MISPLACED in all_text(s.slack.calls_to("chat.postEphemeral")[1].args["blocks"])
    assert len(s.slack.calls_to("chat.postMessage")) == posts  # nothing posted for either
