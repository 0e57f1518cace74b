"""The Teams channel over HTTP: the real botbuilder CloudAdapter behind aiohttp, activities posted as
Teams sends them, replies captured by a local connector at the activity's serviceUrl; the agent on
the simulator, real Redis and the fake Ollama. Answers are proactive, so tests poll the connector."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import PLATFORM, TEAMS_BRIDGE, TeamsBridge, TeamsSettings
from avi.operations import AviOperations
from bot.permissions import AccessSettings
from bot.types import Role
from tests.adapters.context import channel_context
from tests.adapters.teams.test_cards import validate_card
from tests.support.agent_env import AgentEnv, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama
from tests.support.fakes.teams_connector import FakeConnector, running_fake_connector

BOT_ID = "28:bot-app-id"
OPERATOR, VIEWER = "aad-op", "aad-view"
CHANNEL_THREAD = "19:abc@thread.tacv2;messageid=1700000000001"
PERSONAL = "a:1personal"
ACCESS = AccessSettings(default_role=Role.VIEWER, users={f"teams:{OPERATOR}": Role.OPERATOR})
_ids = count(1)


def activity(
    text: str = "",
    *,
    conversation: str = CHANNEL_THREAD,
    user: str = OPERATOR,
    mention: bool = True,
    service_url: str,
    **extra: Any,
) -> dict[str, Any]:
    conv_type = "personal" if conversation.startswith("a:") else "channel"
    body: dict[str, Any] = {
        "type": "message",
        "id": f"17000{next(_ids):08d}",
        "timestamp": "2026-01-01T10:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:{user}", "name": user.split("-")[1], "aadObjectId": user},
        "recipient": {"id": BOT_ID, "name": "avibot"},
        "conversation": {"id": conversation, "conversationType": conv_type, "tenantId": "t1"},
        "text": f"<at>avibot</at> {text}" if mention else text,
        "textFormat": "plain",
        "channelData": {
            "tenant": {"id": "t1"},
            **({"channel": {"id": "19:abc@thread.tacv2"}} if conv_type == "channel" else {}),
        },
        "entities": [],
    }
    if mention:
        body["entities"].append(
            {"type": "mention", "mentioned": {"id": BOT_ID, "name": "avibot"}, "text": "<at>avibot</at>"}
        )
    body.update(extra)
    return body


@dataclass
class TeamsEnv:
    connector: FakeConnector
    llm: FakeOllama
    env: AgentEnv
    http: TestClient[web.Request, web.Application]
    channel: TeamsBridge

    async def post(self, body: dict[str, Any], **headers: str) -> ClientResponse:
        return await self.http.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json", **headers}
        )

    async def say(self, text: str, **kw: Any) -> ClientResponse:
        return await self.post(activity(text, service_url=self.connector.url, **kw))

    def cards_in(self, conversation: str) -> list[dict[str, Any]]:
        return [
            a["content"]
            for c in self.connector.posts(conversation)
            for a in c.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@asynccontextmanager
async def teams_env(redis_url: str, ops: AviOperations, settings: TeamsSettings) -> AsyncIterator[TeamsEnv]:
    """The Teams endpoint mounted with `settings` over a real agent, served on 127.0.0.1."""
    async with (
        running_fake_connector() as connector,
        running_fake_ollama() as llm,
        agent_factory(redis_url, ops) as make,
    ):
        env = await make(llm.url, access=ACCESS, controller="sim")  # what the cards' footer names
        server = web.Application()
        assert PLATFORM.mount(server, channel_context(env), settings)
        channel = server[TEAMS_BRIDGE]
        async with TestClient(TestServer(server, host="127.0.0.1")) as http:
            yield TeamsEnv(connector, llm, env, http, channel)
            await channel.drain()


EMULATOR = TeamsSettings(app_id="", enabled=True, turn_budget_seconds=1.0, typing_interval_seconds=0.5)


@pytest.fixture
async def t(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[TeamsEnv]:
    async with teams_env(redis_url, ops, EMULATOR) as env:
        yield env


def text_of(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


# -- conversations ------------------------------------------------------------------------------


async def test_mention_gets_a_card_in_the_thread_with_the_mention_stripped(t: TeamsEnv) -> None:
    t.llm.script(Reply.say("All **three** pools are up."))
    resp = await t.say("are the pools ok?")
    assert resp.status in (200, 201)
    [card] = await t.connector.wait_for(lambda: t.cards_in(CHANNEL_THREAD))
    validate_card(card)
    assert "All **three** pools are up." in text_of(card)
    assert "controller sim" in text_of(card)
    asked = t.llm.chat_requests[0]["messages"][-1]["content"]
    assert asked == "are the pools ok?"  # no "<at>avibot</at>", no leading space
    typing = t.connector.posts(CHANNEL_THREAD, type="typing")
    assert typing
    assert typing[0].at <= t.connector.posts(CHANNEL_THREAD)[0].at


async def test_personal_chat_and_follow_up_keep_context(t: TeamsEnv) -> None:
    t.llm.script(Reply.say("Hello from avibot."), Reply.say("Still here."))
    await t.say("hi there", conversation=PERSONAL, mention=False)
    await t.connector.wait_for(lambda: t.cards_in(PERSONAL))
    await t.say("and now?", conversation=PERSONAL, mention=False)
    await t.connector.wait_for(lambda: len(t.cards_in(PERSONAL)) == 2)
    messages = t.llm.chat_requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "Hello from avibot."
    history = await t.env.agent.conversation(f"teams:{PERSONAL}")
    assert history


async def test_slow_model_gets_typing_and_an_immediate_2xx_then_a_proactive_answer(t: TeamsEnv) -> None:
    t.llm.script(Reply.say("Took a while.", delay=3))
    started = time.monotonic()
    resp = await t.say("why is traffic low?")
    took = time.monotonic() - started
    assert resp.status == 201
    assert took < 2.0, took  # the 1 s turn budget, not the 3 s model
    assert t.connector.posts(CHANNEL_THREAD, type="typing")
    assert not t.cards_in(CHANNEL_THREAD)
    [card] = await t.connector.wait_for(lambda: t.cards_in(CHANNEL_THREAD))
    assert "Took a while." in text_of(card)
    assert len(t.connector.posts(CHANNEL_THREAD, type="typing")) >= 2  # kept up while the model worked


async def test_structured_command_and_redelivered_activity_answered_once(t: TeamsEnv) -> None:
    body = activity("vs list", service_url=t.connector.url)
    first = await t.post(body)
    again = await t.post(body)
    assert (first.status, again.status) == (201, 201)
    [card] = await t.connector.wait_for(lambda: t.cards_in(CHANNEL_THREAD))
    names = [vs.name for vs in await t.env.ops.virtualservices.list()]
    assert names[0] in text_of(card)
    assert '"type":"Table"' in json.dumps(card, separators=(",", ":"))
    await asyncio.sleep(0.3)
    assert len(t.cards_in(CHANNEL_THREAD)) == 1
    assert t.llm.chat_requests == []


async def test_connector_429_is_retried(t: TeamsEnv) -> None:
    t.connector.fail(429, times=2, retry_after="0.1")
    await t.say("help")
    [card] = await t.connector.wait_for(lambda: t.cards_in(CHANNEL_THREAD))
    assert "help" in text_of(card).lower()
    assert [c.status for c in t.connector.refused()] == [429, 429]


def footer_of(card: dict[str, Any]) -> str:
    text: str = card["body"][-1]["text"]
    return text


async def test_the_footer_says_the_mode_at_reply_time(t: TeamsEnv) -> None:
    """The same command, asked as the model goes away and comes back: each card's footer says the
    mode the service is in when it answers (and why there is no model), not a mode fixed before."""
    status = t.env.agent.model_status

    async def footer_now(conversation: str) -> str:
        await t.say("vs list", conversation=conversation, mention=False)
        [card] = await t.connector.wait_for(lambda: t.cards_in(conversation))
        return footer_of(card)

    up = await footer_now("a:footer-up")
    status.mark_down("Ollama is not answering")
    down = await footer_now("a:footer-down")
    assert await status.probe_now()
    back = await footer_now("a:footer-back")
    footers = [up, down, back]
    assert up.startswith("assistant (LLM)"), up
    assert down.startswith("command mode (Ollama is not answering)"), down
    assert back.startswith("assistant (LLM)"), back
    assert all("controller sim" in f for f in footers)
    assert t.llm.chat_requests == []  # a command: the model was never asked, the footer says the mode


# -- confirmations ------------------------------------------------------------------------------


async def pending_card(t: TeamsEnv) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    vs = next(v for v in await t.env.ops.virtualservices.list() if v.enabled)
    await t.say(f"vs disable {vs.name}")
    card_id: str = await t.connector.wait_for(
        lambda: next((i for i, m in t.connector.messages.items() if "Action.Execute" in json.dumps(m)), "")
    )
    card = t.connector.messages[card_id]["attachments"][0]["content"]
    validate_card(card)
    buttons = [a for e in _walk(card["body"]) if e.get("type") == "ActionSet" for a in e["actions"]]
    confirm, cancel = buttons
    return vs.name, card_id, confirm, cancel


def _walk(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in elements:
        out.append(e)
        out += _walk(e.get("items") or [])
    return out


def execute(t: TeamsEnv, button: dict[str, Any], card_id: str, user: str) -> dict[str, Any]:
    return activity(
        service_url=t.connector.url,
        user=user,
        mention=False,
        type="invoke",
        name="adaptiveCard/action",
        replyToId=card_id,
        value={
            "action": {"type": "Action.Execute", "verb": button["verb"], "data": button["data"]},
            "trigger": "manual",
        },
    )


def submit(t: TeamsEnv, button: dict[str, Any], card_id: str, user: str) -> dict[str, Any]:
    return activity(
        service_url=t.connector.url,
        user=user,
        mention=False,
        replyToId=card_id,
        value=button["fallback"]["data"],
    )


async def test_confirm_by_execute_runs_once_and_replaces_the_card(t: TeamsEnv) -> None:
    name, card_id, confirm, _ = await pending_card(t)
    assert confirm["fallback"]["type"] == "Action.Submit"
    first, second = await asyncio.gather(
        t.post(execute(t, confirm, card_id, OPERATOR)), t.post(execute(t, confirm, card_id, OPERATOR))
    )
    assert (first.status, second.status) == (200, 200)
    bodies = [await first.json(), await second.json()]
    assert all(b["type"] == "application/vnd.microsoft.card.adaptive" for b in bodies)
    texts = [text_of(b["value"]) for b in bodies]
    assert sum("Confirmed by op" in x for x in texts) == 1
    assert sum("already confirmed" in x for x in texts) == 1
    assert all("Action.Execute" not in x for x in texts)  # the loser's card loses its stale buttons too
    for b in bodies:
        validate_card(b["value"])
    assert (await t.env.ops.virtualservices.get(name)).enabled is False
    [put] = t.connector.updates()
    assert put.path.endswith(f"/activities/{card_id}")
    assert "Action.Execute" not in text_of(put.body)  # the buttons are gone for everyone
    audit = await t.env.agent.audit.recent(10)
    assert [(e.action, e.result) for e in audit] == [
        ("disable_virtual_service", "ok"),
        ("disable_virtual_service", "requested"),
    ]


async def test_confirm_by_submit_fallback_updates_the_card(t: TeamsEnv) -> None:
    name, card_id, confirm, _ = await pending_card(t)
    resp = await t.post(submit(t, confirm, card_id, OPERATOR))
    assert resp.status == 201
    [put] = await t.connector.wait_for(t.connector.updates)
    assert "Confirmed by op" in text_of(put.body)
    assert (await t.env.ops.virtualservices.get(name)).enabled is False


async def test_cancel_changes_nothing_and_says_so(t: TeamsEnv) -> None:
    name, card_id, _, cancel = await pending_card(t)
    resp = await t.post(execute(t, cancel, card_id, OPERATOR))
    body = await resp.json()
    assert "Cancelled by op" in text_of(body["value"])
    assert (await t.env.ops.virtualservices.get(name)).enabled is True


async def test_a_click_on_an_expired_action_replaces_the_card_with_why(t: TeamsEnv) -> None:
    _, card_id, confirm, _ = await pending_card(t)
    stale = {**confirm, "data": {**confirm["data"], "a": "gone0000001"}}
    resp = await t.post(execute(t, stale, card_id, OPERATOR))
    body = await resp.json()
    validate_card(body["value"])
    assert "has expired" in text_of(body["value"])
    assert "Action.Execute" not in text_of(body["value"])
    [put] = await t.connector.wait_for(t.connector.updates)  # for everyone: nobody can use them now
    assert "has expired" in text_of(put.body)


async def test_a_strangers_click_is_refused_and_the_buttons_stay(t: TeamsEnv) -> None:
    name, card_id, confirm, _ = await pending_card(t)
    resp = await t.post(execute(t, confirm, card_id, VIEWER))
    body = await resp.json()
    shown = text_of(body["value"])
    assert "role" in shown.lower()
    assert "Action.Execute" in shown  # someone allowed can still confirm
    validate_card(body["value"])
    assert t.connector.updates() == []
    assert (await t.env.ops.virtualservices.get(name)).enabled is True
    # the same stranger through Action.Submit: told in the conversation, card untouched
    await t.post(submit(t, confirm, card_id, VIEWER))
    await t.connector.wait_for(lambda: any("role" in text_of(c).lower() for c in t.cards_in(CHANNEL_THREAD)))
    assert t.connector.updates() == []
    assert (await t.env.ops.virtualservices.get(name)).enabled is True
