"""Who may drive the Slack channel: only Slack (signed requests), and a button only from the message
it is on. Real Bolt app over real HTTP, the local Slack Web API, the agent on the simulator."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from adapters.slack import PLATFORM
from tests.adapters.context import channel_context
from tests.adapters.slack.harness import (
    OPERATOR,
    SlackEnv,
    all_text,
    click_payload,
    event_body,
    mention,
    pending_message,
)
from tests.support.fakes.slack_api import FakeSlack


def has_buttons(slack: FakeSlack, msg: dict[str, Any]) -> bool:
    return any(b["type"] == "actions" for b in slack.messages[msg["ts"]]["blocks"])


async def test_unsigned_requests_are_refused(s: SlackEnv) -> None:
    """Every kind of request Slack sends, without Slack's signature: 401, and nothing happens."""
    name, msg, confirm, _ = await pending_message(s)
    calls = len(s.slack.calls)
    event = json.dumps(event_body(mention(f"vs disable {name}", "1100.0001")))
    click = urlencode({"payload": json.dumps(click_payload(s.slack, confirm, msg, OPERATOR))})
    command = urlencode({"command": "/avi", "text": "vs list", "user_id": OPERATOR, "channel_id": "C1"})
    form = "application/x-www-form-urlencoded"
    statuses = [
        (await s.post(event, "application/json", secret=None)).status,
        (await s.post(click, form, secret=None)).status,
        (await s.post(command, form, secret=None)).status,
        (await s.post(click, form, secret=None, X_Slack_Request_Timestamp="0")).status,
    ]
    assert statuses == [401, 401, 401, 401]
    await asyncio.sleep(0.3)
    assert len(s.slack.calls) == calls  # nothing was posted, nothing was confirmed
    assert (await s.env.ops.virtualservices.get(name)).enabled is True
    assert has_buttons(s.slack, msg)


async def test_an_empty_signing_secret_never_serves_unsigned_requests(s: SlackEnv) -> None:
    """Settings with an empty secret (however they got past validation) do not turn the signature
    check off: the channel stays off, so an unsigned mention proposes nothing."""
    settings = s.channel.settings.model_copy(update={"signing_secret": SecretStr("")})
    server = web.Application()
    mounted = PLATFORM.mount(server, channel_context(s.env), settings)
    async with TestClient(TestServer(server)) as http:
        vs = next(v for v in await s.env.ops.virtualservices.list() if v.enabled)
        body = json.dumps(event_body(mention(f"vs disable {vs.name}", "1200.0001")))
        resp = await http.post("/slack/events", data=body, headers={"Content-Type": "application/json"})
        await asyncio.sleep(0.5)
    assert "avi_confirm" not in json.dumps([c.args for c in s.slack.calls])  # no pending action offered
    assert resp.status in (401, 404)
    assert mounted is False


async def test_a_click_is_bound_to_the_message_it_is_on(s: SlackEnv) -> None:
    """A signed click whose button names another conversation than its message (another channel,
    or another thread of the same channel) is refused to the clicker alone; nothing is settled."""
    name, msg, confirm, _ = await pending_message(s)
    updates = len(s.slack.calls_to("chat.update"))
    elsewhere = [
        {**msg, "channel": "C-other"},  # the same button, on a message in another channel
        {**msg, "ts": "1300.0002", "thread_ts": "1300.0001"},  # ... in another thread of C1
    ]
    for n, other in enumerate(elsewhere, start=1):
        s.slack.messages.setdefault(other["ts"], other)
        await s.click(confirm, other, user=OPERATOR)
        refusals = await s.slack.wait_for(lambda n=n: len(s.slack.calls_to("chat.postEphemeral")) >= n)
        assert refusals
        refusal = s.slack.calls_to("chat.postEphemeral")[-1]
        assert (refusal.args["channel"], refusal.args["user"]) == (other["channel"], OPERATOR)
        assert "another conversation" in all_text(refusal.args["blocks"])
    await asyncio.sleep(0.3)
    assert (await s.env.ops.virtualservices.get(name)).enabled is True
    assert has_buttons(s.slack, msg)  # still pending
    assert len(s.slack.calls_to("chat.update")) == updates  # no message was changed
    assert await s.env.agent.audit.recent(10) == []  # not even requested

    await s.click(confirm, msg, user=OPERATOR)  # the button on its own message still works
    await s.slack.wait_for(lambda: "Confirmed by" in all_text(s.slack.messages[msg["ts"]]["blocks"]))
    assert (await s.env.ops.virtualservices.get(name)).enabled is False


async def test_a_click_on_an_answer_sent_through_response_url_still_confirms(s: SlackEnv) -> None:
    """Where the bot cannot post, `/avi` answers through response_url, at the top of the channel:
    its buttons belong to the asker's command conversation there, and a click on them works."""
    vs = next(v for v in await s.env.ops.virtualservices.list() if v.enabled)
    s.slack.fail("chat.postMessage", "not_in_channel")
    await s.command(f"vs disable {vs.name}", channel="C9")
    [answer] = await s.slack.wait_for(lambda: s.slack.responses)
    confirm = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][0]
    message = {"channel": "C9", "ts": "1800.0001", "blocks": answer["blocks"]}  # as Slack shows it
    await s.click(confirm, message, user=OPERATOR)
    replaced = await s.slack.wait_for(lambda: [r for r in s.slack.responses if r.get("replace_original")])
    assert "Confirmed by" in all_text(replaced[-1]["blocks"])
    assert (await s.env.ops.virtualservices.get(vs.name)).enabled is False
    assert s.slack.calls_to("chat.postEphemeral") == []
