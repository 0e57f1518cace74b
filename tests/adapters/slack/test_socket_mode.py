"""Socket Mode: the same channel over Bolt's aiohttp Socket Mode client, against a local WebSocket
that plays Slack's (`apps.connections.open`, hello, envelopes, acks)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.slack import PLATFORM, SlackSettings
from avi.operations import AviOperations
from tests.adapters.context import channel_context
from tests.adapters.slack.harness import has_table
from tests.support.agent_env import agent_factory
from tests.support.fakes.ollama_server import FakeOllama, running_fake_ollama
from tests.support.fakes.slack_api import BOT_USER, TEAM, FakeSlack, running_fake_slack


@pytest.fixture
async def socket_slack(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations
) -> AsyncIterator[tuple[FakeSlack, FakeOllama]]:
    async with (
        running_fake_slack() as slack,
        running_fake_ollama() as llm,
        agent_factory(redis_url, ops) as make,
    ):
        env = await make(llm.url)
        settings = SlackSettings(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.api_url)
        assert settings.socket_mode
        server = web.Application()
        assert PLATFORM.mount(server, channel_context(env), settings)
        assert not list(server.router.routes())  # no public URL: nothing is served over HTTP
        test_server = TestServer(server)
        await test_server.start_server()  # on_startup connects the socket
        try:
            yield slack, llm
        finally:
            await test_server.close()


def envelope(eid: str, event_id: str, ts: str, retry: int = 0) -> dict:
    return {
        "envelope_id": eid,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
        "payload": {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": event_id,
            "event": {
                "type": "app_mention",
                "user": "U-op",
                "text": f"<@{BOT_USER}> vs list",
                "ts": ts,
                "channel": "C1",
            },
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        },
    }


async def test_events_and_commands_over_socket_mode(socket_slack: tuple[FakeSlack, FakeOllama]) -> None:
    slack, _ = socket_slack
    await slack.send_envelope(envelope("e1", "EvS1", "8000.0001"))
    await slack.send_envelope(envelope("e2", "EvS1", "8000.0001", retry=1))  # Slack's retry: same event id
    await slack.wait_for(lambda: {"e1", "e2"} <= {a.get("envelope_id") for a in slack.acks})
    [reply] = await slack.wait_for(
        lambda: [m for m in slack.replies_in("C1", "8000.0001") if has_table(m["blocks"])]
    )
    assert reply["thread_ts"] == "8000.0001"
    assert len(slack.replies_in("C1", "8000.0001")) == 1
    assert slack.calls_to("apps.connections.open")[0].token == "xapp-test"

    await slack.send_envelope(
        {
            "envelope_id": "e3",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/avi",
                "text": "help",
                "user_id": "U-op",
                "channel_id": "C1",
                "team_id": TEAM,
                "response_url": slack.response_url(),
                "trigger_id": "t",
            },
        }
    )
    await slack.wait_for(lambda: any(a.get("envelope_id") == "e3" for a in slack.acks))
    [help_reply] = await slack.wait_for(lambda: slack.responses)
    assert help_reply["response_type"] == "ephemeral"
