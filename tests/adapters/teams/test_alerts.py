"""Alerts in Teams: the real botbuilder CloudAdapter posts through a local Bot Framework connector, the
alert service polls the simulator (over HTTP) into a real Redis store, and people answer in the
thread or click the card's buttons as Teams sends those (activities and invokes on /api/messages).
Command mode (no model), so every answer is the core's own."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.schema import ErrorResponseException
from pydantic import ValidationError

from adapters.teams import PLATFORM, TEAMS_BRIDGE, TeamsSettings, alert_cards
from adapters.teams.alerts import TeamsAlertPoster, is_channel
from avi.operations import AviOperations
from bot.alerts import AlertRoute, AlertView, DigestLine, RedisAlertStore
from bot.alerts.service import AlertService
from bot.turns import Turns
from tests.adapters.context import channel_context
from tests.adapters.teams.test_cards import validate_card
from tests.adapters.teams.test_http import ACCESS, OPERATOR, VIEWER, activity
from tests.alerts.helpers import (
    clear_alert,
    names,
    raise_alert,
    settings,
    uncached_ops,  # noqa: F401 (the `ops` fixture: no read cache)
)
from tests.conftest import RunningSim
from tests.support.agent_env import agent_factory
from tests.support.fakes.teams_connector import FakeConnector, running_fake_connector

CHANNEL = "19:abc@thread.tacv2"  # the channel test_http's activities come from
ROUTE = f"teams:{CHANNEL}"
LINKS = "https://avi.example.com"
CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class AlertEnv:
    connector: FakeConnector
    service: AlertService
    turns: Turns
    ops: AviOperations
    sim: RunningSim
    http: TestClient[web.Request, web.Application]

    async def post(self, body: dict[str, Any]) -> ClientResponse:
        return await self.http.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )

    def cards_in(self, conversation: str) -> list[dict[str, Any]]:
        return [
            a["content"]
            for c in self.connector.posts(conversation)
            for a in c.body.get("attachments") or []
            if a.get("contentType") == CARD
        ]

    def card_of(self, message_id: str) -> dict[str, Any]:
        content: dict[str, Any] = self.connector.messages[message_id]["attachments"][0]["content"]
        return content

    @property
    def poster(self) -> TeamsAlertPoster:
        poster = self.service.posters["teams"]
        assert isinstance(poster, TeamsAlertPoster)
        return poster

    async def alert(self, kind: str = "pool", **extra: Any) -> tuple[str, str, str, dict[str, Any]]:
        """Raise an alert on the first object of `kind` and poll: (object name, thread, root, alert)."""
        name = names(self.sim, kind)[0]
        raised = await raise_alert(self.ops, name, **extra)
        report = await self.service.poll_once()
        assert report.posted == 1, report
        thread = self.connector.threads[-1]
        return name, thread, thread.partition(";messageid=")[2], raised


def teams_settings(connector: FakeConnector, **kw: Any) -> TeamsSettings:
    options: dict[str, Any] = {
        "app_id": "",
        "enabled": True,
        "turn_budget_seconds": 3.0,
        "typing_interval_seconds": 0.5,
        "alert_service_url": connector.url,
        "alert_tenant_id": "t1",
        **kw,
    }
    return TeamsSettings(**options)


@asynccontextmanager
async def alert_env(
    redis_url: str, ops: AviOperations, sim: RunningSim, *, route: str = ROUTE, **options: Any
) -> AsyncIterator[AlertEnv]:
    async with running_fake_connector() as connector, agent_factory(redis_url, ops) as make:
        env = await make(None, access=ACCESS, controller="sim")  # command mode
        store = RedisAlertStore(env.redis, prefix="t:alerts:")
        service = AlertService(ops.alerts, store, settings({"to": route}, **options))
        ctx = channel_context(env, alerts=service)
        server = web.Application()
        assert PLATFORM.mount(server, ctx, teams_settings(connector))
        await service.poll_once()  # a first start sets the cursor and replays nothing
        async with TestClient(TestServer(server, host="127.0.0.1")) as http:
            yield AlertEnv(connector, service, ctx.turns, ops, sim, http)
            await server[TEAMS_BRIDGE].drain()
        await service.aclose()


@pytest.fixture
async def a(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations, sim: RunningSim
) -> AsyncIterator[AlertEnv]:
    async with alert_env(redis_url, ops, sim) as env:
        yield env


def walk(node: Any) -> list[dict[str, Any]]:
    """Every dict in a card, depth first."""
    if isinstance(node, list):
        return [d for item in node for d in walk(item)]
    if not isinstance(node, dict):
        return []
    return [node, *(d for value in node.values() for d in walk(value))]


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [x for e in walk(card["body"]) if e.get("type") == "ActionSet" for x in e["actions"]]


def texts(card: dict[str, Any]) -> str:
    return " ".join(d["text"] for d in walk(card) if isinstance(d.get("text"), str))


def invoke(button: dict[str, Any], thread: str, root: str, user: str, url: str) -> dict[str, Any]:
    return activity(
        service_url=url,
        conversation=thread,
        user=user,
        mention=False,
        type="invoke",
        name="adaptiveCard/action",
        replyToId=root,
        value={"action": {"type": "Action.Execute", "verb": button["verb"], "data": button["data"]}},
    )


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(x for x in actions(card) if x["title"] == title)


# -- posting ------------------------------------------------------------------------------------


async def test_an_alert_starts_one_thread_in_the_channel_with_its_card(a: AlertEnv) -> None:
    name, thread, root, _ = await a.alert()
    [created] = a.connector.created()
    assert created.body["isGroup"] is True
    assert created.body["channelData"] == {"channel": {"id": CHANNEL}, "tenant": {"id": "t1"}}
    assert created.body["tenantID"] == "t1"
    first = created.body["activity"]["attachments"][0]["content"]
    validate_card(first)
    [box] = [e for e in first["body"] if e["type"] == "Container"]
    assert box["style"] == "attention"  # ALERT_HIGH
    assert f"High alert: pool {name}" in texts(first)
    assert f"{name} is down" in texts(first)
    assert [(x["type"], x["title"]) for x in actions(first)] == [
        ("Action.Execute", "Investigate"),
        ("Action.Execute", "Mute 1 h"),
    ]  # no "Open in controller": no alerts.controller_url
    assert all(x["fallback"]["type"] == "Action.Submit" for x in actions(first))
    assert created.body["activity"]["summary"].startswith(f"[high] pool {name}")
    # the key is known once Teams answered: the root is updated in place to carry it
    key = f"teams:{thread}"
    assert thread == f"{CHANNEL};messageid={root}"
    [put] = a.connector.updates()
    assert put.path == f"/v3/conversations/{thread}/activities/{root}"
    updated = a.card_of(root)
    validate_card(updated)
    assert button(updated, "Investigate")["data"] == {"avibot": "investigate", "t": key}
    assert button(updated, "Mute 1 h")["data"] == {"avibot": "mute", "t": key}
    ctx = await a.turns.alert_context("teams", key)
    assert ctx is not None
    assert ctx.object_name == name


async def test_a_mention_in_the_thread_arrives_with_its_key_and_is_about_the_object(a: AlertEnv) -> None:
    name, thread, _, _ = await a.alert()
    resp = await a.post(activity("is it healthy?", conversation=thread, service_url=a.connector.url))
    assert resp.status in (200, 201)
    [answer] = await a.connector.wait_for(lambda: a.cards_in(thread))
    validate_card(answer)
    assert name in texts(answer)
    history = await a.turns.alert_context("teams", f"teams:{thread}")
    assert history is not None  # the key the reply came with is the alert's thread key
    # the same words in another thread of the channel are not about that pool
    other = f"{CHANNEL};messageid=42"
    await a.post(activity("is it healthy?", conversation=other, service_url=a.connector.url))
    [elsewhere] = await a.connector.wait_for(lambda: a.cards_in(other))
    assert name not in texts(elsewhere)


async def test_a_clear_updates_the_root_and_says_so_in_the_thread(a: AlertEnv) -> None:
    _, thread, root, raised = await a.alert()
    await clear_alert(a.ops, raised["uuid"])
    report = await a.service.poll_once()
    assert report.resolved == 1, report
    assert len(a.connector.created()) == 1  # no new conversation
    [reply] = a.cards_in(thread)
    assert "Resolved: the controller cleared the alert" in texts(reply)
    assert a.connector.posts(thread)[-1].path == f"/v3/conversations/{thread}/activities/{root}"
    last = a.connector.updates()[-1]
    assert last.path.endswith(f"/activities/{root}")
    card = a.card_of(root)
    validate_card(card)
    [box] = [e for e in card["body"] if e["type"] == "Container"]
    assert box["style"] == "good"
    assert "✅ Resolved" in texts(card)


async def test_a_storm_is_one_digest_with_counts_updated_in_place(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations, sim: RunningSim
) -> None:
    async with alert_env(redis_url, ops, sim, storm_per_minute=2) as a:
        pools = names(sim, "pool")
        for name in (pools[0], pools[0], pools[1], pools[2]):
            await raise_alert(ops, name)
        report = await a.service.poll_once()
        assert report.digested == 4, report
        [created] = a.connector.created()
        card = created.body["activity"]["attachments"][0]["content"]
        validate_card(card)
        shown = texts(card)
        assert "Alert storm: 4 alerts on 3 objects" in shown
        assert "2x " in shown
        assert f"pool {pools[0]}" in shown
        assert [x["title"] for x in actions(card)] == ["Investigate"]  # a digest cannot be muted
        root = a.connector.threads[-1].partition(";messageid=")[2]
        await raise_alert(ops, pools[3])
        assert (await a.service.poll_once()).digested == 1
        assert len(a.connector.created()) == 1
        assert "Alert storm: 5 alerts on 4 objects" in texts(a.card_of(root))


async def test_a_chat_gets_the_card_in_the_chat_itself(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations, sim: RunningSim
) -> None:
    chat = "19:group-chat@thread.v2"
    assert not is_channel(chat)
    assert is_channel(CHANNEL)
    async with alert_env(redis_url, ops, sim, route=f"teams:{chat}") as a:
        await raise_alert(ops, names(sim, "pool")[0])
        assert (await a.service.poll_once()).posted == 1
        assert a.connector.created() == []
        [post] = a.connector.posts(chat)
        assert post.path == f"/v3/conversations/{chat}/activities"
        [card] = a.cards_in(chat)
        assert button(card, "Investigate")["data"] == {"avibot": "investigate", "t": f"teams:{chat}"}
        assert a.connector.updates() == []


# -- what the card shows --------------------------------------------------------------------------


def test_names_and_summaries_are_shown_as_text_never_as_markdown() -> None:
    hostile = "[login](https://evil.example) **urgent** <at>everyone</at>"
    view = AlertView(
        route_to=ROUTE,
        object_type="pool",
        object_name=hostile,
        tenant=f"t {hostile}",
        summary=f"s {hostile}",
        reason=f"r {hostile}",
        health=f"Now: down; health 0 {hostile}",
        raised_at=dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC),
        fired=3,
    )
    digest = view.model_copy(
        update={"kind": "digest", "digest": [DigestLine(object_type="pool", object_name=hostile, count=2)]}
    )
    for card in (alert_cards.alert_card(view, "teams:k"), alert_cards.alert_card(digest, "teams:k")):
        validate_card(card)
        holders = [d for d in walk(card) if "evil.example" in str(d.get("text", ""))]
        assert holders
        assert all(d["type"] == "TextRun" for d in holders), holders  # TextRuns take no Markdown
    shown = texts(alert_cards.alert_card(view, "teams:k"))
    for line in ("Now: down; health 0", "Fired: ", "3 times", "Raised: ", "2026-01-01 10:00 UTC", "Tenant: "):
        assert line in shown
    assert "Now:" not in texts(alert_cards.alert_card(view.model_copy(update={"health": ""}), "k"))


async def test_a_summary_from_the_controller_is_text_in_the_posted_card(a: AlertEnv) -> None:
    await a.alert(summary="**urgent** [click](https://evil.example)")
    card = a.connector.created()[0].body["activity"]["attachments"][0]["content"]
    holders = [d for d in walk(card) if "evil.example" in str(d.get("text", ""))]
    assert holders
    assert all(d["type"] == "TextRun" for d in holders)


async def test_open_in_controller_only_with_a_public_address(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations, sim: RunningSim
) -> None:
    async with alert_env(redis_url, ops, sim, controller_url=LINKS) as a:
        _, _, root, _ = await a.alert()
        card = a.card_of(root)
        validate_card(card)
        assert button(card, "Open in controller") == {
            "type": "Action.OpenUrl",
            "title": "Open in controller",
            "url": LINKS,
        }


def test_only_alert_buttons_are_read_as_alert_clicks() -> None:
    assert alert_cards.parse_click({"avibot": "mute", "t": "teams:x"}) == ("mute", "teams:x")
    assert alert_cards.parse_click({"avibot": "investigate"}) == ("investigate", "")
    assert alert_cards.parse_click({"avibot": "investigate", "t": 5}) == ("investigate", "")
    assert alert_cards.parse_click({"avibot": "confirm", "a": "x"}) is None
    assert alert_cards.parse_click("mute") is None


# -- buttons ------------------------------------------------------------------------------------


async def test_investigate_posts_the_reads_in_the_thread(a: AlertEnv) -> None:
    name, thread, root, _ = await a.alert()
    click = invoke(button(a.card_of(root), "Investigate"), thread, root, VIEWER, a.connector.url)
    resp = await a.post(click)
    assert resp.status == 200
    body = await resp.json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "posted in this thread" in body["value"]
    [card] = await a.connector.wait_for(lambda: a.cards_in(thread))
    validate_card(card)
    assert f"Investigating pool {name}" in texts(card)
    assert a.connector.posts(thread)[-1].path == f"/v3/conversations/{thread}/activities/{root}"


async def test_mute_by_a_viewer_is_refused_to_them_alone(a: AlertEnv) -> None:
    _, thread, root, _ = await a.alert()
    mute = button(a.card_of(root), "Mute 1 h")
    resp = await a.post(invoke(mute, thread, root, VIEWER, a.connector.url))
    body = await resp.json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "operator role" in body["value"]
    await asyncio.sleep(0.3)
    assert a.cards_in(thread) == []  # nothing said in the thread
    # Action.Submit has no private answer in Teams: the refusal is one line in the thread
    submit = activity(
        service_url=a.connector.url,
        conversation=thread,
        user=VIEWER,
        mention=False,
        replyToId=root,
        value=mute["fallback"]["data"],
    )
    await a.post(submit)
    [line] = await a.connector.wait_for(lambda: a.cards_in(thread))
    assert "operator role" in texts(line)
    assert "Muted" not in texts(line)


async def test_mute_by_an_operator_is_confirmed_in_the_thread_and_holds(a: AlertEnv) -> None:
    name, thread, root, _ = await a.alert()
    resp = await a.post(invoke(button(a.card_of(root), "Mute 1 h"), thread, root, OPERATOR, a.connector.url))
    assert (await resp.json())["value"] == "Done: see this thread."
    [card] = await a.connector.wait_for(lambda: a.cards_in(thread))
    assert f"Muted: no new alert about pool {name}" in texts(card)
    await raise_alert(a.ops, name)
    report = await a.service.poll_once()
    assert report.muted == 1, report
    assert len(a.cards_in(thread)) == 1


# -- failures and settings ----------------------------------------------------------------------


async def test_a_connector_failure_raises_and_the_alert_is_posted_on_the_next_poll(a: AlertEnv) -> None:
    await raise_alert(a.ops, names(a.sim, "pool")[0])
    a.connector.fail(403)
    report = await a.service.poll_once()
    assert (report.ok, report.posted, report.retry) == (False, 0, 1), report
    assert a.connector.created() == []
    assert (await a.service.poll_once()).posted == 1
    assert len(a.connector.created()) == 1
    # each call of the poster raises (the SDK's turn error handler would otherwise swallow it)
    view = AlertView(route_to=ROUTE, object_name="p1", raised_at=dt.datetime.now(dt.UTC))
    ref = await a.poster.post_root(AlertRoute(to=ROUTE), view)
    assert ref.thread_key == f"teams:{a.connector.threads[-1]}"
    for call in (a.poster.reply_in_thread(ref, "hello"), a.poster.update_root(ref, view)):
        a.connector.fail(403)  # not 5xx: the connector client (msrest) retries those itself
        with pytest.raises(ErrorResponseException):
            await call
    a.connector.fail(403)
    with pytest.raises(ErrorResponseException):
        await a.poster.post_root(AlertRoute(to=ROUTE), view)
    assert "went wrong" not in json.dumps([c.body for c in a.connector.calls])


async def test_without_a_service_url_no_teams_poster_is_registered(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations, sim: RunningSim
) -> None:
    async with running_fake_connector() as connector, agent_factory(redis_url, ops) as make:
        env = await make(None, access=ACCESS)
        service = AlertService(ops.alerts, RedisAlertStore(env.redis, prefix="t:a:"), settings({"to": ROUTE}))
        server = web.Application()
        ctx = channel_context(env, alerts=service)
        assert PLATFORM.mount(server, ctx, teams_settings(connector, alert_service_url=""))
        assert "teams" not in service.posters


def test_alert_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_ALERT_SERVICE_URL", "https://smba.trafficmanager.net/emea/")
    monkeypatch.setenv("TEAMS_APP_TENANT_ID", "tenant-a")
    s = TeamsSettings()
    assert s.alert_service_url == "https://smba.trafficmanager.net/emea/"
    assert s.alert_tenant == "tenant-a"
    monkeypatch.setenv("TEAMS_ALERT_TENANT_ID", "tenant-b")
    assert TeamsSettings().alert_tenant == "tenant-b"
    monkeypatch.setenv("TEAMS_ALERT_SERVICE_URL", "smba.trafficmanager.net")
    with pytest.raises(ValidationError):
        TeamsSettings()


def test_with_several_controllers_the_card_names_its_controller_and_links_to_it() -> None:
    view = AlertView(
        route_to=ROUTE, object_type="pool", object_name="web-pool", summary="down", controller="prod-east",
        link="https://east.example", raised_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    card = alert_cards.alert_card(view, "teams:k", links="https://default.example")
    validate_card(card)
    assert "Controller:  prod-east" in texts(card)
    assert "https://east.example" in str(card)
    assert "default.example" not in str(card)
    digest = view.model_copy(update={"kind": "digest", "total": 3})
    assert "Controller:  prod-east" in texts(alert_cards.alert_card(digest, "teams:k"))
    one = alert_cards.alert_card(
        view.model_copy(update={"controller": "", "link": None}), "teams:k", links="https://d.example"
    )
    assert "Controller" not in texts(one)
    assert "https://d.example" in str(one)
