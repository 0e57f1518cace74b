"""Controller alerts in a Slack channel: the poller posts one coloured root per alert through the real
slack_sdk client to the local Slack Web API, updates it when the alert clears or a storm grows, and
the thread works like any conversation (a reply without a mention, Investigate, Mute). The real Bolt
app behind signed requests, the simulator's alerts, real Redis for the alert store; command mode."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import alerts as sa
from avi.operations import AviOperations
from bot.alerts import AlertRoute, AlertView, DigestLine, RedisAlertStore
from bot.alerts.health import ObjectHealth
from bot.alerts.service import AlertService
from tests.adapters.slack.harness import OPERATOR, VIEWER, SlackEnv, all_text, mention, slack_env
from tests.adapters.slack.test_escaping import rename, texts
from tests.alerts.helpers import (
    clear_alert,
    names,
    raise_alert,
    settings,
    uncached_ops,  # noqa: F401 (the `ops` fixture: no read cache)
)
from tests.conftest import RunningSim
from tests.support.agent_env import AgentEnv
from tests.support.fakes.slack_api import TEAM

CHANNEL = "C-alerts"
ROUTE = f"slack:{CHANNEL}"
CONTROLLER = "https://avi.example.com"
NASTY = "<b>&x"


def service_of(**options: Any) -> Callable[[AgentEnv], AlertService]:
    def make(env: AgentEnv) -> AlertService:
        return AlertService(
            env.ops.alerts,
            RedisAlertStore(env.redis, prefix="t:alerts:"),
            settings({"to": ROUTE}, **options),
            health=ObjectHealth(env.ops.health),
        )

    return make


@asynccontextmanager
async def alerting(redis_url: str, ops: AviOperations, **options: Any) -> AsyncIterator[SlackEnv]:
    async with slack_env(redis_url, ops, alerts=service_of(**options), model=False) as s:
        assert s.alerts is not None
        assert s.alerts.health().platforms == ["slack"]  # the mount registered its poster
        await s.alerts.poll_once()  # a first start sets the cursor and replays nothing
        yield s


@pytest.fixture
async def a(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[SlackEnv]:
    async with alerting(redis_url, ops) as s:
        yield s


@pytest.fixture
async def linked(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[SlackEnv]:
    async with alerting(redis_url, ops, controller_url=CONTROLLER) as s:
        yield s


# -- helpers ---------------------------------------------------------------------------------------


async def poll(s: SlackEnv) -> Any:
    assert s.alerts is not None
    return await s.alerts.poll_once()


def roots(s: SlackEnv) -> list[dict[str, Any]]:
    """Top-level messages the bot posted in the alert channel."""
    return [m for m in s.slack.messages.values() if m["channel"] == CHANNEL and not m.get("thread_ts")]


def attachment(msg: dict[str, Any]) -> dict[str, Any]:
    [att] = msg["attachments"]
    return dict(att)


def element(msg: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in attachment(msg)["blocks"]:
        for e in block.get("elements", []) if block["type"] == "actions" else []:
            if e.get("action_id") == action_id:
                return dict(e)
    return None


def button(msg: dict[str, Any], action_id: str) -> dict[str, Any]:
    found = element(msg, action_id)
    assert found is not None, all_text(attachment(msg)["blocks"])
    return found


def answers(s: SlackEnv, ts: str) -> Callable[[], list[dict[str, Any]]]:
    """A predicate: the bot's finished Block Kit answers in the thread under `ts`."""
    return lambda: [
        m for m in s.slack.replies_in(CHANNEL, ts) if m["blocks"] and "▍" not in all_text(m["blocks"])
    ]


async def one_root(s: SlackEnv, obj: str) -> dict[str, Any]:
    await raise_alert(s.env.ops, obj)
    report = await poll(s)
    assert report.posted == 1, report
    [root] = roots(s)
    return root


# -- the root message ------------------------------------------------------------------------------


async def test_an_alert_is_one_coloured_root_with_buttons_and_fallback_text(
    a: SlackEnv, sim: RunningSim
) -> None:
    name = names(sim)[0]
    root = await one_root(a, name)
    [call] = [c for c in a.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert call.args["text"] == f"[high] virtualservice {name}: {name} is down"
    assert "thread_ts" not in call.args
    att = attachment(root)
    assert att["color"] == sa.COLOURS["ALERT_HIGH"]
    shown = all_text(att["blocks"])
    assert f"virtual service *{name}*" in shown  # in words, as Teams and the page say it
    assert "admin" in shown  # the tenant
    assert "pool_down" in shown  # the reason, beside the summary
    assert "Now: " in shown  # the object's health, read when the thread opened
    assert "<!date^" in shown
    assert "fired" not in shown
    assert [e["action_id"] for e in attachment(root)["blocks"][-1]["elements"]] == [
        sa.INVESTIGATE_ACTION,
        sa.MUTE_ACTION,
    ]
    assert button(root, sa.MUTE_ACTION)["text"]["text"] == "Mute 1 h"  # alerts.mute_minutes
    assert element(root, sa.OPEN_ACTION) is None  # no controller_url, no link
    assert len(a.slack.calls_to("auth.test")) == 1
    await raise_alert(a.env.ops, names(sim)[1])
    await poll(a)
    assert len(roots(a)) == 2
    assert len(a.slack.calls_to("auth.test")) == 1  # asked once


async def test_open_in_controller_is_there_when_the_controller_url_is_set(
    linked: SlackEnv, sim: RunningSim
) -> None:
    root = await one_root(linked, names(sim)[0])
    link = button(root, sa.OPEN_ACTION)
    assert link["url"] == CONTROLLER
    response = await linked.click(link, root, user=VIEWER)  # Slack still sends the click; it is acked
    assert response.status == 200


async def test_a_cleared_alert_updates_its_root_to_resolved(a: SlackEnv, sim: RunningSim) -> None:
    name = names(sim)[0]
    created = await raise_alert(a.env.ops, name)
    await poll(a)
    [root] = roots(a)
    await clear_alert(a.env.ops, created["uuid"])
    assert (await poll(a)).resolved == 1
    assert len(roots(a)) == 1  # updated, not posted again
    [update] = a.slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, root["ts"])
    resolved = a.slack.messages[root["ts"]]
    assert attachment(resolved)["color"] == sa.RESOLVED_COLOUR
    assert "resolved after" in resolved["text"]
    assert "Resolved after" in all_text(attachment(resolved)["blocks"])
    assert ":white_check_mark:" in all_text(resolved["blocks"])
    [reply] = a.slack.replies_in(CHANNEL, root["ts"])
    assert reply["text"].startswith("Resolved: the controller cleared the alert")


async def test_an_alert_firing_again_counts_in_its_root(a: SlackEnv, sim: RunningSim) -> None:
    name = names(sim)[0]
    root = await one_root(a, name)
    await raise_alert(a.env.ops, name, summary="still down")
    await poll(a)
    assert len(roots(a)) == 1
    assert "fired 2 times" in all_text(attachment(a.slack.messages[root["ts"]])["blocks"])
    [reply] = a.slack.replies_in(CHANNEL, root["ts"])
    assert "still down" in reply["text"]


async def test_a_storm_is_one_digest_with_counts(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations, sim: RunningSim
) -> None:
    async with alerting(redis_url, ops, storm_per_minute=2) as s:
        vs, other = names(sim)[:2]
        for obj in (vs, vs, vs, other):
            await raise_alert(ops, obj)
        assert (await poll(s)).digested == 4
        [root] = roots(s)
        assert root["text"] == "Alert storm: 4 alerts on 2 objects"
        shown = all_text(attachment(root)["blocks"])
        assert f"virtual service *{vs}* — 3" in shown
        assert f"virtual service *{other}* — 1" in shown
        assert element(root, sa.INVESTIGATE_ACTION) is not None
        assert element(root, sa.MUTE_ACTION) is None  # a digest cannot be muted


def test_a_long_digest_says_how_many_objects_it_leaves_out() -> None:
    lines = [DigestLine(object_type="pool", object_name=f"pool-{i:03d}", count=1) for i in range(40)]
    view = AlertView(
        kind="digest",
        route_to=ROUTE,
        raised_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        digest=lines,
        total=40,
    )
    msg = sa.root_message(view)
    shown = all_text(msg.attachments[0]["blocks"])
    assert "pool-000" in shown
    assert f"pool-{sa.DIGEST_LINES:03d}" not in shown
    assert f"and {40 - sa.DIGEST_LINES} more objects" in shown
    assert all(len(b["text"]["text"]) <= 3000 for b in msg.attachments[0]["blocks"] if b["type"] == "section")


async def test_controller_names_in_an_alert_are_escaped(a: SlackEnv, sim: RunningSim) -> None:
    await rename(a, "virtualservice", NASTY)
    await raise_alert(a.env.ops, NASTY, summary=f"{NASTY} is down", reason="a<b")
    assert (await poll(a)).posted == 1
    [call] = [c for c in a.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    sent = texts(call.args)
    assert not [t for t in sent if NASTY in t or "a<b" in t], json.dumps(sent, ensure_ascii=False)
    assert call.args["text"] == "[high] virtualservice &lt;b&gt;&amp;x: &lt;b&gt;&amp;x is down"
    assert "*&lt;b&gt;&amp;x*" in all_text(call.args["attachments"])


# -- the thread ------------------------------------------------------------------------------------


async def test_a_reply_in_the_thread_without_a_mention_is_about_the_alerts_object(
    a: SlackEnv, sim: RunningSim
) -> None:
    pool = names(sim, "pool")[0]
    root = await one_root(a, pool)
    await a.event(
        {
            "type": "message",
            "channel_type": "channel",
            "user": VIEWER,
            "text": "is it healthy?",
            "ts": "1800000001.000100",
            "thread_ts": root["ts"],
            "channel": CHANNEL,
        }
    )
    [answer] = await a.slack.wait_for(answers(a, root["ts"]))
    assert pool in all_text(answer["blocks"])
    history = await a.channel.turns.history(f"slack:{TEAM}:{CHANNEL}:{root['ts']}")
    assert history


async def test_investigate_reads_the_object_in_the_thread(a: SlackEnv, sim: RunningSim) -> None:
    pool = names(sim, "pool")[0]
    root = await one_root(a, pool)
    response = await a.click(button(root, sa.INVESTIGATE_ACTION), root, user=VIEWER)  # a read: viewers may
    assert response.status == 200
    [answer] = await a.slack.wait_for(answers(a, root["ts"]))
    shown = all_text(answer["blocks"])
    assert f"Investigating pool {pool}" in shown
    assert "event" in shown.lower()
    history = await a.channel.turns.history(f"slack:{TEAM}:{CHANNEL}:{root['ts']}")
    assert history[0]["content"] == f"investigate {pool}"


async def test_mute_is_refused_to_a_viewer_alone_and_done_for_an_operator(
    a: SlackEnv, sim: RunningSim
) -> None:
    name = names(sim)[0]
    root = await one_root(a, name)
    await a.click(button(root, sa.MUTE_ACTION), root, user=VIEWER)
    [refusal] = await a.slack.wait_for(lambda: a.slack.calls_to("chat.postEphemeral"))
    assert refusal.args["user"] == VIEWER
    assert refusal.args["channel"] == CHANNEL
    assert "operator" in all_text(refusal.args["blocks"])
    assert a.slack.replies_in(CHANNEL, root["ts"]) == []

    await a.click(button(root, sa.MUTE_ACTION), root, user=OPERATOR)
    [done] = await a.slack.wait_for(answers(a, root["ts"]))
    assert "Muted" in all_text(done["blocks"])
    assert name in all_text(done["blocks"])
    await raise_alert(a.env.ops, name, summary="again")
    report = await poll(a)
    assert (report.muted, report.posted) == (1, 0)
    assert len(roots(a)) == 1


async def test_a_click_in_a_thread_that_is_no_alerts_says_so(a: SlackEnv) -> None:
    await a.event(mention("help", "1800000003.000100", channel=CHANNEL))
    [msg] = await a.slack.wait_for(answers(a, "1800000003.000100"))
    forged = {"type": "button", "action_id": sa.INVESTIGATE_ACTION, "value": "x"}
    await a.click(forged, msg, user=OPERATOR)
    [refusal] = await a.slack.wait_for(lambda: a.slack.calls_to("chat.postEphemeral"))
    assert "no longer known" in all_text(refusal.args["blocks"])
    assert len(a.slack.replies_in(CHANNEL, "1800000003.000100")) == 1


# -- failures --------------------------------------------------------------------------------------


async def test_a_slack_failure_raises_and_the_engine_posts_on_the_next_poll(
    a: SlackEnv, sim: RunningSim
) -> None:
    poster = sa.SlackAlertPoster(AsyncWebClient(token="xoxb-test", base_url=a.slack.api_url))
    view = AlertView(route_to=ROUTE, object_name="x", raised_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    a.slack.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError):
        await poster.post_root(AlertRoute(to=ROUTE), view)

    await raise_alert(a.env.ops, names(sim)[0])
    a.slack.fail("chat.postMessage", "not_in_channel")
    failed = await poll(a)
    assert (failed.posted, failed.retry, failed.ok) == (0, 1, False)
    assert roots(a) == []
    assert (await poll(a)).posted == 1
    assert len(roots(a)) == 1


def test_with_several_controllers_the_root_names_its_controller_and_links_to_it() -> None:
    view = AlertView(
        route_to=ROUTE, object_type="pool", object_name="web-pool", summary="down", controller="prod-east",
        link="https://east.example", raised_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    msg = sa.root_message(view, links="https://default.example")
    assert msg.text == "[low] pool web-pool on controller prod-east: down"
    assert "*Controller*\\nprod-east" in all_text(msg.attachments[0]["blocks"])  # (JSON)
    shown = json.dumps(msg.attachments)
    assert "https://east.example" in shown
    assert "default.example" not in shown
    unlinked = sa.root_message(view.model_copy(update={"link": ""}), links="https://default.example")
    assert "Open in controller" not in json.dumps(unlinked.attachments)  # not the default's UI
    one = sa.root_message(view.model_copy(update={"controller": "", "link": None}), links="https://d.example")
    assert one.text == "[low] pool web-pool: down"  # one controller: as it always was
    assert "Controller" not in all_text(one.attachments[0]["blocks"])
    assert "https://d.example" in json.dumps(one.attachments)
