"""The Slack channel over HTTP: the real Bolt app behind aiohttp, requests signed as Slack signs
them, the real slack_sdk client against a local Web API, the agent on the simulator, real Redis and
the fake Ollama (tests/adapters/slack/harness.py). Side effects are asynchronous (Bolt acks first),
so tests poll the fake."""

from __future__ import annotations

import asyncio
import json
import time
from itertools import pairwise

from adapters.slack import blocks as bk
from tests.adapters.slack.harness import (
    OPERATOR,
    VIEWER,
    SlackEnv,
    all_text,
    final,
    has_table,
    mention,
    pending_message,
)
from tests.support.fakes.ollama_server import Reply
from tests.support.fakes.slack_api import BOT_USER, TEAM

# -- conversations ------------------------------------------------------------------------------


async def test_mention_gets_a_threaded_block_kit_reply_and_follow_up_uses_history(s: SlackEnv) -> None:
    s.llm.script(Reply.say("All **three** pools are up."))
    resp = await s.event(mention("are the pools ok?", "1000.0001"))
    assert resp.status == 200
    [reply] = await s.slack.wait_for(final(s.slack, "C1", "1000.0001"))
    assert reply["thread_ts"] == "1000.0001"
    assert "All *three* pools are up." in all_text(reply["blocks"])  # Markdown became mrkdwn
    assert all(c.token == "xoxb-test" for c in s.slack.calls)
    assert s.slack.calls[0].method == "auth.test"

    # an un-mentioned reply in the same thread continues the conversation, with its history
    s.llm.script(Reply.say("Yes, still up."))
    follow = {
        "type": "message",
        "channel_type": "channel",
        "user": OPERATOR,
        "text": "still?",
        "ts": "1000.0005",
        "thread_ts": "1000.0001",
        "channel": "C1",
    }
    await s.event(follow)
    await s.slack.wait_for(final(s.slack, "C1", "1000.0001", n=2))
    messages = s.llm.chat_requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "are the pools ok?"
    assert messages[2]["content"] == "All **three** pools are up."
    assert messages[3]["content"] == "still?"


async def test_unknown_thread_replies_and_the_bots_own_messages_are_ignored(s: SlackEnv) -> None:
    await s.event(
        {
            "type": "message",
            "channel_type": "channel",
            "user": OPERATOR,
            "text": "chatter",
            "ts": "2000.0002",
            "thread_ts": "2000.0001",
            "channel": "C1",
        }
    )
    await s.event(
        {
            "type": "message",
            "channel_type": "im",
            "bot_id": "BBOT",
            "user": BOT_USER,
            "text": "me",
            "ts": "2000.0003",
            "channel": "D1",
        }
    )
    await asyncio.sleep(0.3)
    assert s.slack.calls_to("chat.postMessage") == []
    assert s.llm.chat_requests == []


async def test_first_mention_inside_a_thread_reads_the_thread(s: SlackEnv) -> None:
    s.slack.threads[("C1", "3000.0001")] = [
        {"user": "U-x", "text": "vs-web is throwing 502s since 10:00", "ts": "3000.0001"},
        {"user": OPERATOR, "text": f"<@{BOT_USER}> what do you see?", "ts": "3000.0009"},
    ]
    s.llm.script(Reply.say("Looking."))
    await s.event(mention("what do you see?", "3000.0009", thread_ts="3000.0001"))
    await s.slack.wait_for(final(s.slack, "C1", "3000.0001"))
    asked = s.llm.chat_requests[0]["messages"][-1]["content"]
    assert "vs-web is throwing 502s since 10:00" in asked
    assert asked.endswith("what do you see?")


async def test_direct_message_is_answered_in_its_thread(s: SlackEnv) -> None:
    s.llm.script(Reply.say("Hello from avibot."))
    await s.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": OPERATOR,
            "text": "hi there",
            "ts": "4000.0001",
            "channel": "D1",
        }
    )
    [reply] = await s.slack.wait_for(final(s.slack, "D1", "4000.0001"))
    assert "Hello from avibot." in all_text(reply["blocks"])


async def test_retried_event_gets_one_reply(s: SlackEnv) -> None:
    s.llm.script(Reply.say("Once.", delay=0.3), Reply.say("Twice?!"))
    event = mention("ping", "5000.0001")
    first = await s.event(event, event_id="EvRETRY")
    again = await s.event(event, event_id="EvRETRY", X_Slack_Retry_Num=1, X_Slack_Retry_Reason="http_timeout")
    assert (first.status, again.status) == (200, 200)
    await s.slack.wait_for(final(s.slack, "C1", "5000.0001"))
    await asyncio.sleep(0.5)
    assert len(s.slack.replies_in("C1", "5000.0001")) == 1
    assert len(s.llm.chat_requests) == 1


async def test_two_quick_messages_in_a_thread_are_answered_in_order(s: SlackEnv) -> None:
    s.llm.script(Reply.say("first answer", delay=0.5), Reply.say("second answer"))
    await s.event(mention("one", "6000.0001"))
    await s.event(mention("two", "6000.0002", thread_ts="6000.0001"))
    replies = await s.slack.wait_for(final(s.slack, "C1", "6000.0001", n=2))
    assert [
        "first answer" in all_text(replies[0]["blocks"]),
        "second answer" in all_text(replies[1]["blocks"]),
    ] == [
        True,
        True,
    ]
    # the second turn saw the first one's answer
    assert s.llm.chat_requests[1]["messages"][2]["content"] == "first answer"


# -- security -----------------------------------------------------------------------------------


async def test_bad_signature_and_stale_timestamp_are_refused(s: SlackEnv) -> None:
    bad = await s.post(
        json.dumps({"type": "event_callback", "event": mention("x", "1.1")}),
        "application/json",
        secret="wrong",
    )
    stale = await s.post(
        json.dumps({"type": "event_callback", "event": mention("x", "1.2")}),
        "application/json",
        ts=int(time.time()) - 600,
    )
    assert (bad.status, stale.status) == (401, 401)
    await asyncio.sleep(0.2)
    assert s.slack.calls_to("chat.postMessage") == []


# -- /avi ---------------------------------------------------------------------------------------


async def test_avi_command_is_acked_and_answered_in_the_channel(s: SlackEnv) -> None:
    resp = await s.command("vs list")
    assert resp.status == 200
    [post] = await s.slack.wait_for(lambda: s.slack.calls_to("chat.postMessage"))
    assert post.args["channel"] == "C1"
    assert "thread_ts" not in post.args  # a new message in the channel; its thread is the conversation
    [root] = s.slack.messages.values()
    await s.slack.wait_for(lambda: has_table(root["blocks"]))  # the table replaced "working…"
    names = [vs.name for vs in await s.env.ops.virtualservices.list()]
    assert names[0] in all_text(root["blocks"])
    assert f"<@{OPERATOR}> asked" in all_text(root["blocks"])
    assert s.llm.chat_requests == []  # a structured command never reaches the model


async def test_avi_help_and_errors_are_shown_only_to_the_user(s: SlackEnv) -> None:
    await s.command("")
    await s.command("vs show")  # a malformed command
    responses = await s.slack.wait_for(lambda: len(s.slack.responses) >= 2 and s.slack.responses)
    assert {r["response_type"] for r in responses} == {"ephemeral"}
    assert s.slack.calls_to("chat.postMessage") == []


async def test_avi_command_is_acked_at_once_while_the_model_is_slow(s: SlackEnv) -> None:
    s.llm.script(Reply.say("Thought about it.", delay=5))
    started = time.monotonic()
    resp = await s.command("why is traffic low today?")
    acked = time.monotonic() - started
    assert resp.status == 200
    assert acked < 1.0, acked
    assert s.llm.chat_requests or await s.slack.wait_for(lambda: s.llm.chat_requests, within=2)


async def test_avi_falls_back_to_response_url_where_the_bot_cannot_post(s: SlackEnv) -> None:
    s.slack.fail("chat.postMessage", "not_in_channel")
    await s.command("vs list", channel="C9")
    [answer] = await s.slack.wait_for(lambda: s.slack.responses)
    assert answer["response_type"] == "in_channel"
    assert "```" in all_text(answer["blocks"])


# -- confirmations ------------------------------------------------------------------------------


async def test_confirm_runs_the_write_once_and_updates_the_message(s: SlackEnv) -> None:
    name, msg, confirm, _ = await pending_message(s)
    assert (await s.env.ops.virtualservices.get(name)).enabled is True
    first, second = await asyncio.gather(
        s.click(confirm, msg, user=OPERATOR), s.click(confirm, msg, user=OPERATOR)
    )
    assert (first.status, second.status) == (200, 200)
    await s.slack.wait_for(lambda: "Confirmed by" in all_text(s.slack.messages[msg["ts"]]["blocks"]))
    assert (await s.env.ops.virtualservices.get(name)).enabled is False
    updated = s.slack.messages[msg["ts"]]["blocks"]
    assert not any(b["type"] == "actions" for b in updated)  # the buttons are gone
    ephemeral = await s.slack.wait_for(lambda: s.slack.calls_to("chat.postEphemeral"))
    assert "already confirmed" in all_text(ephemeral[0].args["blocks"])
    audit = await s.env.agent.audit.recent(10)
    assert [(e.action, e.result) for e in audit] == [
        ("disable_virtual_service", "ok"),
        ("disable_virtual_service", "requested"),
    ]


async def test_cancel_changes_nothing_and_says_so(s: SlackEnv) -> None:
    name, msg, _, cancel = await pending_message(s)
    await s.click(cancel, msg, user=OPERATOR)
    await s.slack.wait_for(lambda: "Cancelled by" in all_text(s.slack.messages[msg["ts"]]["blocks"]))
    assert (await s.env.ops.virtualservices.get(name)).enabled is True


async def test_a_strangers_click_is_refused_privately(s: SlackEnv) -> None:
    name, msg, confirm, _ = await pending_message(s)
    updates_before = len(s.slack.calls_to("chat.update"))
    await s.click(confirm, msg, user=VIEWER)
    [refusal] = await s.slack.wait_for(lambda: s.slack.calls_to("chat.postEphemeral"))
    assert refusal.args["user"] == VIEWER
    assert "role" in all_text(refusal.args["blocks"]).lower()
    assert (await s.env.ops.virtualservices.get(name)).enabled is True
    assert len(s.slack.calls_to("chat.update")) == updates_before
    assert any(b["type"] == "actions" for b in s.slack.messages[msg["ts"]]["blocks"])  # still pending


async def test_a_click_on_an_expired_action_puts_why_in_place_of_the_buttons(s: SlackEnv) -> None:
    _, msg, confirm, _ = await pending_message(s)
    _, key = bk.parse_confirmation_value(confirm["value"])
    stale = {**confirm, "value": bk.confirmation_value("gone0000001", key)}
    await s.click(stale, msg, user=OPERATOR)
    await s.slack.wait_for(lambda: "has expired" in all_text(s.slack.messages[msg["ts"]]["blocks"]))
    assert not any(b["type"] == "actions" for b in s.slack.messages[msg["ts"]]["blocks"])
    assert s.slack.calls_to("chat.postEphemeral") == []


async def test_a_refused_avi_write_is_taken_back_from_the_channel_and_told_to_the_asker(s: SlackEnv) -> None:
    vs = next(v for v in await s.env.ops.virtualservices.list() if v.enabled)
    await s.command(f"vs disable {vs.name}", user=VIEWER)
    [answer] = await s.slack.wait_for(lambda: s.slack.responses)
    assert answer["response_type"] == "ephemeral"
    assert "your role is viewer" in all_text(answer["blocks"]).lower()
    [root] = s.slack.messages.values()  # the "asked ... working on it" message, posted first
    [delete] = s.slack.calls_to("chat.delete")
    assert (delete.args["channel"], delete.args["ts"]) == (root["channel"], root["ts"])
    assert (await s.env.ops.virtualservices.get(vs.name)).enabled is True


# -- streaming ----------------------------------------------------------------------------------


async def test_answer_streams_into_one_message_at_a_bounded_rate(s: SlackEnv) -> None:
    words = " ".join(f"w{i}" for i in range(40))
    s.llm.script(Reply.say(words, chunk_delay=0.03))
    await s.event(mention("tell me a lot", "7000.0001"))
    [reply] = await s.slack.wait_for(final(s.slack, "C1", "7000.0001"))
    posts = [c for c in s.slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == "7000.0001"]
    edits = [c for c in s.slack.calls_to("chat.update") if c.args["ts"] == reply["ts"]]
    assert len(posts) == 1  # one message, edited in place
    assert "▍" in all_text(posts[0].args["blocks"])  # the first words, with a cursor
    progress = [posts[0], *edits[:-1]]
    assert len(progress) >= 3
    gaps = [b.at - a.at for a, b in pairwise(progress)]
    assert min(gaps) >= 0.19, gaps  # update_interval is 0.2 s in these tests (1 s by default)
    assert "w39" in all_text(edits[-1].args["blocks"])


async def test_streaming_api_when_configured(s: SlackEnv) -> None:
    s.channel.settings.stream = "api"
    words = " ".join(f"w{i}" for i in range(120))
    s.llm.script(Reply.call("list_pools", {}), Reply.say(words, chunk_delay=0.005))
    await s.event(mention("pools?", "7100.0001"))
    [stop] = await s.slack.wait_for(lambda: s.slack.calls_to("chat.stopStream"))
    [start] = s.slack.calls_to("chat.startStream")
    assert start.args["thread_ts"] == "7100.0001"
    assert (start.args["recipient_team_id"], start.args["recipient_user_id"]) == (TEAM, OPERATOR)
    streamed = s.slack.messages[start_ts := stop.args["ts"]]["text"]
    # every word arrived, in order, through the stream (after the data-first line the core may stream)
    assert streamed.split()[-120:] == words.split()
    assert has_table(stop.args["blocks"])  # the table comes as blocks at the end
    assert "w0" not in all_text(stop.args["blocks"])  # ... and the text is not repeated
    assert s.slack.calls_to("chat.postMessage") == []
    assert start_ts


async def test_streaming_api_refused_falls_back_to_updates(s: SlackEnv) -> None:
    s.channel.settings.stream = "api"
    s.slack.fail("chat.startStream", "not_allowed")
    s.llm.script(Reply.say(" ".join(f"w{i}" for i in range(300)), chunk_delay=0.001))
    await s.event(mention("talk", "7200.0001"))
    [reply] = await s.slack.wait_for(final(s.slack, "C1", "7200.0001"))
    assert "w299" in all_text(reply["blocks"])
    assert s.slack.calls_to("chat.stopStream") == []


# -- assistant threads --------------------------------------------------------------------------


async def test_assistant_thread_gets_prompts_status_title_and_an_answer(s: SlackEnv) -> None:
    await s.event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": OPERATOR,
                "channel_id": "D7",
                "thread_ts": "9000.0001",
                "context": {},
            },
            "event_ts": "9000.0002",
        }
    )
    [prompts] = await s.slack.wait_for(lambda: s.slack.calls_to("assistant.threads.setSuggestedPrompts"))
    assert prompts.args["thread_ts"] == "9000.0001"
    await s.slack.wait_for(lambda: s.slack.replies_in("D7", "9000.0001"))  # the greeting, in the thread

    s.llm.script(Reply.say("Pools look fine."))
    await s.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": OPERATOR,
            "text": "how are the pools?",
            "ts": "9000.0003",
            "thread_ts": "9000.0001",
            "channel": "D7",
        }
    )
    await s.slack.wait_for(
        lambda: "Pools look fine." in all_text(s.slack.replies_in("D7", "9000.0001")[-1]["blocks"])
    )
    [status] = s.slack.calls_to("assistant.threads.setStatus")
    [title] = s.slack.calls_to("assistant.threads.setTitle")
    assert status.args["thread_ts"] == title.args["thread_ts"] == "9000.0001"
    assert title.args["title"] == "how are the pools?"
    assert len(s.slack.replies_in("D7", "9000.0001")) == 2  # the greeting, then the answer
