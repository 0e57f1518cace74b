"""Alerts from several controllers: two simulators with different seeds, the real config loader and
composition root, a real redis-server. A route per controller (`controller: a`, `controller: b`); an
alert raised on b reaches only b's route and names b; a restart posts nothing twice on either; a
follow-up, Investigate and Mute in b's thread act on b; a hung b delays none of a's alerts."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from avi.operations import AviOperations
from avibot.config import load_settings
from avibot.factory import Runtime
from bot.alerts.service import AlertService
from bot.turns import FeedItem
from bot.types import Inbound, Outcome, User, render_plain
from tests.alerts.helpers import names, raise_alert
from tests.conftest import RunningSim, StartSim
from tests.support.fault_proxy import FaultProxy
from tests.support.two_controllers import built, entry, set_passwords

OPERATOR = User(id="U-op", name="olivia")
POLL = 0.5


@dataclass
class Two:
    runtime: Runtime
    a: RunningSim
    b: RunningSim
    ops_a: AviOperations
    ops_b: AviOperations
    config: Path

    @property
    def alerts(self) -> AlertService:
        assert self.runtime.alerts is not None
        return self.runtime.alerts

    async def feed(self, name: str) -> list[FeedItem]:
        return await self.runtime.turns.alert_feed(name)

    def only_b(self, kind: str = "pool") -> str:
        """An object name b has and a has not."""
        return sorted(set(names(self.b, kind)) - set(names(self.a, kind)))[0]

    def only_a(self, kind: str = "pool") -> str:
        return sorted(set(names(self.a, kind)) - set(names(self.b, kind)))[0]


def write_config(path: Path, a: RunningSim, b: RunningSim, redis_url: str, b_url: str = "") -> Path:
    def controller(name: str, url: str) -> dict[str, Any]:
        # cache_seconds 0: the test changes alerts between polls a moment apart
        return entry(name, url, "TEST_ALERTS_PASSWORD", cache_seconds=0, timeout=20)

    config = {
        "controllers": [controller("a", a.url), controller("b", b_url or b.url)],
        "access": {"default_role": "operator"},
        "redis": {"url": redis_url, "prefix": f"t{secrets.token_hex(3)}:"},
        "alerts": {
            "poll_seconds": POLL,
            "routes": [{"to": "web:a-feed", "controller": "a"}, {"to": "web:b-feed", "controller": "b"}],
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    set_passwords(monkeypatch, "TEST_ALERTS_PASSWORD")


@asynccontextmanager
async def opened(a: RunningSim, b: RunningSim, config: Path) -> AsyncIterator[Two]:
    async with built(a, b, config) as (runtime, ops_a, ops_b):
        yield Two(runtime, a, b, ops_a, ops_b, config)


@pytest.fixture
async def sims(start_sim: StartSim) -> tuple[RunningSim, RunningSim]:
    return await start_sim(seed=7), await start_sim(seed=8)


@pytest.fixture
async def two(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path, passwords: None
) -> AsyncIterator[Two]:
    a, b = sims
    async with opened(a, b, write_config(tmp_path / "config.yaml", a, b, redis_url)) as two:
        await two.alerts.poll_once()  # a first start sets each controller's cursor, posts nothing
        yield two


def text_of(result: Any) -> str:
    return "\n".join(render_plain(p) for p in result.reply.parts)


async def test_an_alert_on_b_reaches_only_bs_route_and_says_b(two: Two) -> None:
    assert sorted(two.alerts.engines) == ["a", "b"]
    name = two.only_b()
    created = await raise_alert(two.ops_b, name)
    report = await two.alerts.poll_once()
    assert report.posted == 1, report
    assert await two.feed("a-feed") == []
    [item] = await two.feed("b-feed")
    assert (item.view.object_name, item.view.alert_uuid) == (name, created["uuid"])
    assert item.view.controller == "b"
    assert f"pool {name} on controller b" in item.view.headline()
    ctx = await two.runtime.turns.alert_context("web", item.thread_key)
    assert ctx is not None
    assert ctx.controller == "b"
    assert "on controller b" in ctx.as_text()
    on_a = await raise_alert(two.ops_a, two.only_a())
    await two.alerts.poll_once()
    assert [i.view.alert_uuid for i in await two.feed("a-feed")] == [on_a["uuid"]]
    assert [i.view.controller for i in await two.feed("a-feed")] == ["a"]
    assert len(await two.feed("b-feed")) == 1
    health = two.alerts.health()
    assert [c.name for c in health.controllers] == ["a", "b"]
    assert health.last_error is None


async def test_a_restart_posts_nothing_twice_on_either_controller(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path, passwords: None
) -> None:
    a, b = sims
    config = write_config(tmp_path / "config.yaml", a, b, redis_url)
    async with opened(a, b, config) as two:
        await two.alerts.poll_once()
        await raise_alert(two.ops_a, two.only_a())
        await raise_alert(two.ops_b, two.only_b())
        await two.alerts.poll_once()
        assert (len(await two.feed("a-feed")), len(await two.feed("b-feed"))) == (1, 1)
        prefix = load_settings(config).redis.prefix + "alerts:"
        redis = two.runtime.redis
        assert await redis.get(prefix + "cursor")  # the default controller keeps today's keys
        assert await redis.get(prefix + "controller:b:cursor")  # b has its own
    async with opened(a, b, config) as again:
        for _ in range(2):
            report = await again.alerts.poll_once()
            assert (report.posted, report.digested) == (0, 0), report
        assert (len(await again.feed("a-feed")), len(await again.feed("b-feed"))) == (1, 1)
        await raise_alert(again.ops_b, two.only_b(), summary="again")  # grouped into b's thread
        second = sorted(set(names(b, "pool")) - set(names(a, "pool")))[1]
        await raise_alert(again.ops_b, second)
        report = await again.alerts.poll_once()
        assert report.posted == 2, report
        assert len(await again.feed("b-feed")) == 2
        assert len(await again.feed("a-feed")) == 1


async def test_follow_ups_investigate_and_mute_in_bs_thread_act_on_b(two: Two) -> None:
    name = two.only_b()
    assert name not in names(two.a, "pool")
    await raise_alert(two.ops_b, name)
    await two.alerts.poll_once()
    [item] = await two.feed("b-feed")
    thread = item.thread_key
    turns = two.runtime.turns
    asked = Inbound(platform="web", conversation_key=thread, user=OPERATOR, text="is it healthy?")
    answer = await turns.run(asked)
    assert answer.controller == "b"
    assert name in text_of(answer), text_of(answer)
    clicked = Inbound(platform="web", conversation_key="web:session:1", user=OPERATOR, text="")
    investigated = await turns.investigate(clicked, thread)
    shown = text_of(investigated)
    assert investigated.outcome is Outcome.ANSWERED, shown
    assert investigated.controller == "b"
    assert f"Investigating pool {name}" in shown
    assert "not found" not in shown.lower(), shown  # read on b, where the pool is
    muted = await turns.mute(clicked.model_copy(update={"text": "mute"}), thread)
    assert muted.outcome is Outcome.ANSWERED
    assert f"pool {name} on controller b" in text_of(muted)
    assert muted.controller == "b"
    await raise_alert(two.ops_b, name, summary="again")
    report = await two.alerts.poll_once()
    assert report.muted == 1, report
    assert [r.text for r in (await two.feed("b-feed"))[0].replies] == []


async def test_a_hung_controller_delays_none_of_the_others_alerts(
    sims: tuple[RunningSim, RunningSim], redis_url: str, tmp_path: Path, passwords: None
) -> None:
    a, b = sims
    proxy = await FaultProxy(b.url).start()
    try:
        config = write_config(tmp_path / "config.yaml", a, b, redis_url, b_url=proxy.url)
        async with opened(a, b, config) as two:
            await two.alerts.poll_once()
            proxy.delay("GET", "/", 3600, times=1000)  # b hangs: accepts, never answers
            two.alerts.start()
            await asyncio.sleep(POLL * 2)  # b's poll is stuck in its client's 20 s timeout
            name = two.only_a()
            await raise_alert(two.ops_a, name)
            started = time.monotonic()
            for _ in range(200):
                if await two.feed("a-feed"):
                    break
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
            assert [i.view.object_name for i in await two.feed("a-feed")] == [name]
            assert took < POLL + 1.5, took  # within a's poll interval, whatever b does
            polls = {c.name: c for c in two.alerts.health().controllers}
            assert polls["a"].last_ok_at is not None
            assert polls["a"].last_ok_at > polls["b"].last_ok_at  # type: ignore[operator]
    finally:
        await proxy.aclose()
