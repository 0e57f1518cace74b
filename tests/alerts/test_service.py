"""The alert service through `Turns`, as every platform uses it: follow-ups in an alert's thread start
with its object, Investigate reads it, Mute silences it (operators only), pushed alerts join the
same claims, health says how the poller does. The simulator over HTTP, memory stores, command mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from bot.agent import Agent
from bot.alerts import MemoryAlertStore, MemoryPoster
from bot.alerts.followup import resolve_references, with_alert
from bot.alerts.models import AlertContext
from bot.alerts.service import AlertService
from bot.audit import MemoryAuditLog
from bot.history import MemoryConversationStore
from bot.model_loop import AgentSettings
from bot.pending import MemoryPendingStore
from bot.permissions import AccessSettings
from bot.tools import build_catalogue
from bot.turns import Turns
from bot.types import FactsPart, Inbound, Outcome, Role, TablePart, User, Visibility, render_plain
from tests.alerts.helpers import clear_alert, names, raise_alert, settings
from tests.conftest import RunningSim

ROUTE = "slack:C1"
ACCESS = AccessSettings(default_role=Role.VIEWER, users={"slack:U-op": Role.OPERATOR})


@dataclass
class Env:
    turns: Turns
    service: AlertService
    poster: MemoryPoster
    ops: AviOperations


@pytest.fixture
async def env(ops: AviOperations) -> AsyncIterator[Env]:
    agent = Agent(
        ops=ops,
        catalogue=build_catalogue(),
        history=MemoryConversationStore(),
        pending=MemoryPendingStore(),
        audit=MemoryAuditLog(),
        access=ACCESS,
        llm=None,
        num_ctx=8192,
        default_tenant="admin",
        settings=AgentSettings(),
    )
    service = AlertService(ops.alerts, MemoryAlertStore(), settings({"to": ROUTE}))
    poster = MemoryPoster("slack")
    turns = Turns(agent, alerts=service)
    turns.add_alert_poster("slack", poster)
    await service.poll_once()  # a first start sets the cursor and replays nothing
    yield Env(turns, service, poster, ops)
    await service.aclose()


def inbound(key: str, text: str, user: str = "U-op") -> Inbound:
    return Inbound(platform="slack", conversation_key=key, user=User(id=user), text=text, channel="C1")


def text_of(result: object) -> str:
    reply = result.reply  # type: ignore[attr-defined]
    return "\n".join(render_plain(p) for p in reply.parts)


async def alert_thread(env: Env, sim: RunningSim, kind: str = "pool") -> tuple[str, str]:
    """Raise an alert on the first object of `kind`, poll, and return (thread key, object name)."""
    name = names(sim, kind)[0]
    await raise_alert(env.ops, name)
    report = await env.service.poll_once()
    assert report.posted == 1, report
    root = env.poster.roots_to(ROUTE)[-1]
    return root.ref.thread_key, name


def test_references_become_the_alerts_object() -> None:
    ctx = AlertContext(
        object_type="pool", object_name="web-pool", route_to=ROUTE, time="2026-12-02T10:00:00Z"
    )
    assert resolve_references("is it healthy?", ctx) == "is web-pool healthy?"
    assert resolve_references("disable this pool", ctx) == "disable web-pool"
    assert resolve_references("which servers?", ctx) == "which servers for pool web-pool?"
    assert resolve_references("what about web-pool now", ctx) == "what about web-pool now"  # already named
    assert (
        resolve_references("it's down, why", ctx) == "it's down, why for pool web-pool"
    )  # "it's" is no object
    digest = ctx.model_copy(update={"kind": "digest"})
    assert resolve_references("is it healthy?", digest) == "is it healthy?"
    moved = with_alert(inbound("k", "is it up?"), ctx)
    assert moved.text == "is web-pool up?"
    assert "web-pool" in moved.about
    assert "pool" in moved.about


async def test_a_follow_up_in_the_thread_is_about_the_alerts_object(env: Env, sim: RunningSim) -> None:
    key, name = await alert_thread(env, sim)
    result = await env.turns.run(inbound(key, "is it healthy?"))
    shown = text_of(result)
    assert name in shown, shown
    # the same words outside the thread are not about that pool
    elsewhere = text_of(await env.turns.run(inbound("slack:T1:C1:999.000", "is it healthy?")))
    assert name not in elsewhere


async def test_what_changed_reads_the_objects_events(env: Env, sim: RunningSim) -> None:
    key, name = await alert_thread(env, sim, "virtualservice")
    result = await env.turns.run(inbound(key, "what changed?"))
    assert result.outcome is Outcome.ANSWERED
    assert name in text_of(result)


async def test_a_write_in_the_thread_names_the_object_and_still_needs_a_confirmation(
    env: Env, sim: RunningSim
) -> None:
    key, name = await alert_thread(env, sim, "virtualservice")
    typed = await env.turns.run(inbound(key, "vs disable it"))
    assert typed.outcome is Outcome.PENDING, text_of(typed)
    assert typed.action is not None
    assert name in typed.action.summary
    # in command mode a sentence is never a write; it offers the exact command, with the name
    said = await env.turns.run(inbound(key, "disable it"))
    assert said.outcome is Outcome.ANSWERED
    assert f"vs disable {name}" in text_of(said)


async def test_investigate_reads_state_events_and_metrics(env: Env, sim: RunningSim) -> None:
    key, name = await alert_thread(env, sim)
    result = await env.turns.investigate(inbound(key, "", user="U-viewer"))  # a read: viewers may
    assert result.outcome is Outcome.ANSWERED
    kinds = [type(p) for p in result.reply.parts]
    assert FactsPart in kinds or TablePart in kinds
    shown = text_of(result)
    assert f"Investigating pool {name}" in shown
    assert "event" in shown.lower()
    history = await env.turns.history(key)
    assert history[0]["content"] == f"investigate {name}"


async def test_investigate_outside_an_alert_thread_says_so(env: Env) -> None:
    result = await env.turns.investigate(inbound("slack:T1:C1:1.000", ""))
    assert result.visibility is Visibility.ASKER
    assert "no longer known" in text_of(result)


async def test_mute_is_for_operators_and_silences_the_object(env: Env, sim: RunningSim) -> None:
    key, name = await alert_thread(env, sim)
    refused = await env.turns.mute(inbound(key, "", user="U-viewer"))
    assert refused.visibility is Visibility.ASKER
    assert "operator" in text_of(refused)
    muted = await env.turns.mute(inbound(key, ""))
    assert muted.outcome is Outcome.ANSWERED
    assert "Muted" in text_of(muted)
    assert name in text_of(muted)
    roots = len(env.poster.roots)
    replies = len(env.poster.roots[-1].replies)
    await raise_alert(env.ops, name, summary="again")
    report = await env.service.poll_once()
    assert report.muted == 1
    assert report.posted == 0
    assert len(env.poster.roots) == roots
    assert len(env.poster.roots[-1].replies) == replies
    other = names(sim, "pool")[1]
    await raise_alert(env.ops, other)
    assert (await env.service.poll_once()).posted == 1  # only that object is muted
    assert env.service.health().muted == 1


async def test_a_pushed_alert_the_poller_reads_too_is_posted_once(env: Env, sim: RunningSim) -> None:
    created = await raise_alert(env.ops, names(sim, "pool")[0])
    assert await env.turns.push_alerts(created) == 1
    assert await env.turns.push_alerts({"results": [created]}) == 0
    report = await env.service.poll_once()
    assert report.posted == 0
    assert len(env.poster.roots) == 1
    with pytest.raises(ValueError, match="no alert"):
        await env.turns.push_alerts({"hello": "world"})
    with pytest.raises(ValueError, match="at most"):
        await env.turns.push_alerts([created] * 201)


async def test_health_says_lag_and_last_error(env: Env, sim: RunningSim) -> None:
    await env.service.poll_once()
    h = env.service.health()
    assert h.last_error is None
    assert h.lag_seconds is not None
    assert h.lag_seconds < 5
    assert h.platforms == ["slack"]
    assert h.routes == 1
    assert not h.running
    down = AviOperations(
        AviClient(AviSettings(host="http://127.0.0.1:9", username="u", password="p"), retry_backoff=0.01)
    )
    gone = AlertService(down.alerts, env.service.store, env.service.settings)  # a controller away
    gone.add_poster("slack", env.poster)
    await gone.poll_once()
    h = gone.health()
    assert h.last_error
    assert h.last_ok_at is None
    assert h.lag_seconds is None
    await down.client.aclose()


async def test_the_poller_runs_in_the_background_and_stops(env: Env, sim: RunningSim) -> None:
    env.service.settings = env.service.settings.model_copy(update={"poll_seconds": 0.05})
    env.service.engine.settings = env.service.settings
    env.service.start()
    await raise_alert(env.ops, names(sim, "pool")[0])
    for _ in range(100):
        if env.poster.roots:
            break
        await asyncio.sleep(0.02)
    assert len(env.poster.roots) == 1
    assert env.service.health().running
    await env.service.aclose()
    assert not env.service.health().running


async def test_a_cleared_alert_resolves_its_thread_once(env: Env, sim: RunningSim) -> None:
    name = names(sim, "pool")[0]
    created = await raise_alert(env.ops, name)
    await env.service.poll_once()
    await clear_alert(env.ops, created["uuid"])
    assert (await env.service.poll_once()).resolved == 1
    assert (await env.service.poll_once()).resolved == 0
    root = env.poster.roots[0]
    assert [r for r in root.replies if r.startswith("Resolved")]
    assert root.view.state == "resolved"


async def test_a_first_start_replays_no_alert_sharing_the_newest_time(
    ops: AviOperations, sim: RunningSim
) -> None:
    """Found with the demo: its seeded alerts share one timestamp, and a first start that remembered
    only one of them posted the others on the next poll."""
    for name in names(sim, "pool")[:3]:
        await raise_alert(ops, name)
    for alert in sim.state.store.objects["alert"].values():
        alert["timestamp"] = 1796169600.0
    service = AlertService(ops.alerts, MemoryAlertStore(), settings({"to": ROUTE}))
    poster = MemoryPoster("slack")
    service.add_poster("slack", poster)
    await service.poll_once()
    report = await service.poll_once()
    assert report.new == 0
    assert poster.roots == []
