"""The Slack channel over HTTP for tests: the real Bolt app behind aiohttp, requests signed as Slack
signs them, the real slack_sdk client against a local Web API (tests/support/fakes/slack_api.py),
the agent on the simulator, real Redis and the fake Ollama. Side effects are asynchronous (Bolt acks
first), so tests poll the fake."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import PLATFORM, SLACK_BRIDGE, SlackBridge, SlackSettings
from avi.operations import AviOperations
from bot.alerts.service import AlertService
from tests.adapters.context import channel_context
from tests.support.agent_env import AgentEnv, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, running_fake_ollama
from tests.support.fakes.slack_api import BOT_USER, TEAM, FakeSlack, running_fake_slack, signed_headers

SECRET = "test-signing-secret"
OPERATOR, VIEWER = "U-op", "U-view"
_ids = count(1)


@dataclass
class SlackEnv:
    slack: FakeSlack
    llm: FakeOllama
    env: AgentEnv
    http: TestClient[web.Request, web.Application]
    channel: SlackBridge
    alerts: AlertService | None = None

    async def post(
        self, body: str, content_type: str, *, secret: str | None = SECRET, **headers: Any
    ) -> ClientResponse:
        """POST to /slack/events, signed with `secret` (unsigned with None)."""
        sent = {"Content-Type": content_type}
        if secret is not None:
            sent.update(signed_headers(secret, body, timestamp=headers.pop("ts", None)))
        sent.update({k.replace("_", "-"): str(v) for k, v in headers.items()})
        return await self.http.post("/slack/events", data=body.encode(), headers=sent)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **headers: Any
    ) -> ClientResponse:
        return await self.post(json.dumps(event_body(event, event_id)), "application/json", **headers)

    async def command(self, text: str, *, user: str = OPERATOR, channel: str = "C1") -> ClientResponse:
        form = {
            "command": "/avi",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": channel,
            "team_id": TEAM,
            "response_url": self.slack.response_url(),
            "trigger_id": "tr1",
            "token": "legacy",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def click(
        self, button: dict[str, Any], message: dict[str, Any], *, user: str, **headers: Any
    ) -> ClientResponse:
        return await self.post(
            urlencode({"payload": json.dumps(click_payload(self.slack, button, message, user))}),
            "application/x-www-form-urlencoded",
            **headers,
        )


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A1",
        "event_id": event_id or f"Ev{next(_ids):06d}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def click_payload(
    slack: FakeSlack, button: dict[str, Any], message: dict[str, Any], user: str
) -> dict[str, Any]:
    """A block_actions payload as Slack sends it for a click on `button` in `message`."""
    container = {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"]}
    if message.get("thread_ts"):
        container["thread_ts"] = message["thread_ts"]
    return {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "channel": {"id": message["channel"]},
        "container": container,
        "message": {**message, "type": "message"},
        "response_url": slack.response_url(),
        "trigger_id": "tr2",
        "actions": [{**button, "block_id": "b", "type": "button", "action_ts": str(time.time())}],
    }


@asynccontextmanager
async def slack_env(
    redis_url: str,
    ops: AviOperations,
    *,
    alerts: Callable[[AgentEnv], AlertService] | None = None,
    model: bool = True,
    **settings: Any,
) -> AsyncIterator[SlackEnv]:
    """The channel mounted on an aiohttp server, with its fakes; `settings` override SlackSettings.
    `alerts` builds the alert service over the agent's env (the platform then registers its poster);
    `model=False` runs the agent in command mode (the fake Ollama still runs, unused)."""
    async with (
        running_fake_slack() as slack,
        running_fake_ollama() as llm,
        agent_factory(redis_url, ops) as make,
    ):
        env = await make(llm.url if model else None)
        service = alerts(env) if alerts is not None else None
        options: dict[str, Any] = {
            "bot_token": "xoxb-test",
            "signing_secret": SECRET,
            "api_url": slack.api_url,
            "update_interval": 0.2,
            **settings,
        }
        server = web.Application()
        assert PLATFORM.mount(server, channel_context(env, alerts=service), SlackSettings(**options))
        async with TestClient(TestServer(server)) as http:
            yield SlackEnv(slack, llm, env, http, server[SLACK_BRIDGE], service)
        if service is not None:
            await service.aclose()
        await asyncio.sleep(0)


def mention(
    text: str, ts: str, *, user: str = OPERATOR, channel: str = "C1", thread_ts: str | None = None
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": channel,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def final(slack: FakeSlack, channel: str, thread_ts: str, n: int = 1) -> Callable[[], Any]:
    """A predicate: the thread has n bot replies and the last one is final (has Block Kit, no cursor)."""

    def check() -> list[dict[str, Any]] | None:
        msgs = slack.replies_in(channel, thread_ts)
        done = [m for m in msgs if m["blocks"] and "▍" not in json.dumps(m["blocks"], ensure_ascii=False)]
        return msgs if len(msgs) >= n and len(done) == len(msgs) else None

    return check


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def has_table(blocks: list[dict[str, Any]]) -> bool:
    """A table is in: Slack's `table` block, or the monospaced one."""
    return any(b.get("type") == "table" for b in blocks) or "```" in all_text(blocks)


async def pending_message(s: SlackEnv) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """`/avi vs disable <an enabled VS>`: its name, the message with the buttons, Confirm, Cancel."""
    vs = next(v for v in await s.env.ops.virtualservices.list() if v.enabled)
    await s.command(f"vs disable {vs.name}")
    msg = await s.slack.wait_for(
        lambda: next((m for m in s.slack.messages.values() if "avi_confirm" in all_text(m["blocks"])), None)
    )
    actions = next(b for b in msg["blocks"] if b["type"] == "actions")
    confirm, cancel = actions["elements"]
    return vs.name, msg, confirm, cancel
