"""A reloaded page shows the conversation as it was shown: tables, charts and live confirmation cards
(the transcript, on a real redis-server), not the model's one-line summaries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.web import setup_web
from adapters.web.settings import WebInfo, WebSettings
from avi.operations import AviOperations
from bot.transcript import RedisTranscriptStore
from bot.turns import Turns
from tests.adapters.web.test_page import (  # noqa: F401 (fixture)
    WEB_ACCESS,
    Page,
    an_enabled_vs,
    final_reply,
    make,
    open_page_on,
)
from tests.support.agent_env import AgentEnv, MakeAgent


@dataclass
class App:
    """One app on a real server: its client (a browser's cookie jar), the agent's env, its Turns."""

    client: TestClient[web.Request, web.Application]
    env: AgentEnv
    turns: Turns

    async def page(self) -> Page:
        """GET / with this client's cookie: a (re)load of the page."""
        return await open_page_on(self.client)


def build_app(env: AgentEnv, **transcript: Any) -> tuple[web.Application, Turns]:
    """The web channel with its turns keeping a transcript in Redis, as `avibot serve` with Redis."""
    app = web.Application()
    info = WebInfo(controller="sim 127.0.0.1 (demo)", llm_mode="", store="redis")
    turns = Turns(env.agent, transcript=RedisTranscriptStore(env.redis, prefix="t:", **transcript))
    setup_web(app, turns, WebSettings(rate_limit_per_minute=0), info)
    return app, turns


OpenApp = Callable[..., Awaitable[App]]


@pytest.fixture
async def open_app(make: MakeAgent) -> AsyncIterator[OpenApp]:  # noqa: F811
    clients: list[TestClient[web.Request, web.Application]] = []

    async def _open(**transcript: Any) -> App:
        env = await make(None, access=WEB_ACCESS)
        app, turns = build_app(env, **transcript)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return App(client=client, env=env, turns=turns)

    yield _open
    for client in clients:
        await client.close()


def conversation(html: str) -> str:
    found = re.search(r'<main id="conversation"[^>]*>(.*?)</main>', html, re.S)
    assert found, html[:500]
    return found.group(1)


def confirm_url(html: str) -> str:
    found = re.search(r'hx-post="(/htmx/actions/[a-z0-9]+/confirm)"', html)
    assert found, html
    return found.group(1)


async def test_reload_shows_the_table_and_a_live_confirm_that_works(
    open_app: OpenApp, ops: AviOperations
) -> None:
    vs = await an_enabled_vs(ops)
    app = await open_app()
    page = await app.page()
    _, events = await page.ask("vs list")
    assert "<table>" in final_reply(events)
    _, events = await page.ask(f"vs disable {vs.name}")
    live_url = confirm_url(final_reply(events))

    again = await app.page()  # a reload: the same cookie
    history = conversation(again.html)
    assert "<table>" in history
    assert "[list_virtualservices]" not in history  # not the model's compact text
    assert ">vs list<" in history
    assert f">vs disable {vs.name}<" in history
    assert confirm_url(history) == live_url
    assert "btn-cancel" in history
    assert "enabled: false" in history  # the diff

    confirmed = await again.post(live_url)
    assert confirmed.status == 200
    assert "Done" in await confirmed.text()
    assert (await ops.virtualservices.get(vs.name)).enabled is False

    settled = conversation((await app.page()).html)
    assert "btn-confirm" not in settled  # no buttons for what is no longer pending
    assert 'class="outcome"' in settled
    assert "Done" in settled
    assert settled.count("<table>") == history.count("<table>")
    partial = await app.client.get("/htmx/history")  # the fragment route says the same
    assert "btn-confirm" not in await partial.text()
    assert "<table>" in await partial.text()


async def test_an_expired_card_says_it_is_no_longer_pending(open_app: OpenApp, ops: AviOperations) -> None:
    vs = await an_enabled_vs(ops)
    app = await open_app()
    page = await app.page()
    _, events = await page.ask(f"vs disable {vs.name}")
    found = re.search(r"/htmx/actions/([a-z0-9]+)/confirm", final_reply(events))
    assert found
    action_id = found.group(1)
    # Gone from the pending store, as at its expiry, with no settlement in the transcript.
    await app.env.redis.delete(f"t:pending:{action_id}")
    history = conversation((await app.page()).html)
    assert "btn-confirm" not in history
    assert "No longer pending" in history
    assert "enabled: false" in history  # what it would have changed
    assert action_id in history  # its id, still there to quote


async def test_clear_history_clears_what_a_reload_shows(open_app: OpenApp) -> None:
    app = await open_app()
    page = await app.page()
    await page.ask("vs list")
    assert "<table>" in conversation((await app.page()).html)
    cleared = await app.client.delete("/htmx/history", headers={"X-CSRF-Token": page.csrf})
    assert cleared.status == 200
    reloaded = conversation((await app.page()).html)
    assert "<table>" not in reloaded
    assert 'id="welcome"' in reloaded


async def test_without_a_transcript_the_compact_history_still_shows(open_app: OpenApp) -> None:
    """Conversations from before the transcript (or whose transcript was lost) still show."""
    app = await open_app()
    page = await app.page()
    await page.ask("vs list")
    for key in await app.env.redis.keys("t:transcript:*"):
        await app.env.redis.delete(key)
    history = conversation((await app.page()).html)
    assert 'class="turn assistant restored"' in history
    assert ">vs list<" in history
