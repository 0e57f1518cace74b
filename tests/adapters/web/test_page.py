"""The chat page end to end: the real app (security middleware, API, page) over HTTP, the agent on the
simulator, a real redis-server and the fake Ollama. A "browser" here is an aiohttp client with a cookie
jar that reads the CSRF token from the page, as htmx does."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.web import setup_web
from adapters.web.settings import WebInfo, WebSettings
from avi.operations import AviOperations
from bot.agent import Agent
from bot.permissions import AccessSettings
from bot.turns import Turns
from bot.types import Role
from tests.support.agent_env import MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama

# Anonymous page sessions are the user `local` on platform `web`; here they may propose writes.
WEB_ACCESS = AccessSettings(default_role=Role.VIEWER, users={"web:local": Role.OPERATOR})
EVIL = "<script>alert(1)</script>"


@dataclass
class Page:
    """One browser session on the page: its client (cookie jar) and the CSRF token the page gave it."""

    client: TestClient
    csrf: str
    html: str
    headers: Any = None

    async def post(self, path: str, data: dict[str, str] | None = None, csrf: bool = True) -> ClientResponse:
        headers = {"X-CSRF-Token": self.csrf, "HX-Request": "true"} if csrf else {"HX-Request": "true"}
        return await self.client.post(path, data=data or {}, headers=headers)

    async def ask(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """POST the question, then follow its stream: (the posted fragment, [(event, data), ...])."""
        response = await self.post("/htmx/chat", {"message": text})
        assert response.status == 200, await response.text()
        fragment = await response.text()
        url = re.search(r'data-stream="([^"]+)"', fragment)
        assert url, fragment
        return fragment, await self.events(url.group(1))

    async def events(self, url: str) -> list[tuple[str, str]]:
        response = await self.client.get(url)
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return parse_sse(await response.text())


def parse_sse(body: str) -> list[tuple[str, str]]:
    events = []
    for block in body.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if data is not None:
            events.append((name, data))
    return events


def final_reply(events: list[tuple[str, str]]) -> str:
    replies = [data for name, data in events if name == "reply"]
    assert len(replies) == 1, events
    assert events[-1][0] == "done"
    return replies[0]


OpenPage = Callable[..., Awaitable[Page]]


def build_app(agent: Agent, settings: WebSettings | None = None) -> web.Application:
    """The web channel as the server mounts it (W1's setup_web calls setup_pages)."""
    app = web.Application()
    info = WebInfo(controller="sim 127.0.0.1 (demo)", llm_mode="", store="redis")
    setup_web(app, Turns(agent), settings or WebSettings(rate_limit_per_minute=0), info)
    return app


async def open_page_on(client: TestClient) -> Page:
    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert token, html[:500]
    return Page(client=client, csrf=token.group(1), html=html, headers=response.headers)


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def open_page(make: MakeAgent) -> AsyncIterator[OpenPage]:
    """`await open_page(llm_url=None)`: a fresh app and a new visitor on it."""
    clients: list[TestClient] = []

    async def _open(llm_url: str | None = None, **settings: Any) -> Page:
        env = await make(llm_url, access=WEB_ACCESS)
        app = build_app(env.agent, WebSettings(**{"rate_limit_per_minute": 0, **settings}))
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return await open_page_on(client)

    yield _open
    for client in clients:
        await client.close()


async def an_enabled_vs(ops: AviOperations) -> Any:
    return next(vs for vs in await ops.virtualservices.list() if vs.enabled and vs.pool)


# -- the page ------------------------------------------------------------------------------------


async def test_page_shows_mode_controller_and_csrf(open_page: OpenPage) -> None:
    page = await open_page()
    assert "Command mode" in page.html
    assert "no language model is configured" in page.html
    assert "sim 127.0.0.1 (demo)" in page.html
    assert 'hx-get="/htmx/models"' in page.html
    assert 'hx-post="/htmx/chat"' in page.html
    assert len(page.csrf) >= 16
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "avibot_session" in {c.key for c in page.client.session.cookie_jar}
    assert "http://" not in page.html  # no CDN: it works air-gapped
    assert "https://" not in page.html
    for asset in ("htmx.min.js", "app.js", "app.css"):
        src = re.search(rf'"(/static/{re.escape(asset)}[^"]*)"', page.html)
        assert src, asset
        response = await page.client.get(src.group(1))
        assert response.status == 200, asset


async def test_llm_mode_is_shown_with_the_model(open_page: OpenPage, fake: FakeOllama) -> None:
    page = await open_page(fake.url)
    assert ">LLM<" in page.html
    assert "Command mode" not in page.html


async def test_csrf_is_required_to_post(open_page: OpenPage) -> None:
    page = await open_page()
    refused = await page.post("/htmx/chat", {"message": "vs list"}, csrf=False)
    assert refused.status == 403
    assert "This page is out of date; reload to continue." in await refused.text()  # no developer words
    forged = await page.client.post("/htmx/chat", data={"message": "x"}, headers={"X-CSRF-Token": "nope"})
    assert forged.status == 403
    assert (await page.client.delete("/htmx/history")).status == 403


# -- a question, streamed ------------------------------------------------------------------------


async def test_question_in_command_mode_gives_a_table(open_page: OpenPage) -> None:
    page = await open_page()
    fragment, events = await page.ask("which pools have unhealthy servers?")
    assert 'class="turn user"' in fragment
    assert "which pools have unhealthy servers?" in fragment
    html = final_reply(events)
    assert "<table>" in html
    assert "command mode" in html


async def test_answer_streams_deltas_before_the_reply(open_page: OpenPage, fake: FakeOllama) -> None:
    page = await open_page(fake.url)
    fake.script(Reply.call("list_unhealthy_pools", {}), Reply.say("Two pools need attention right now."))
    _, events = await page.ask("which pools are unhealthy?")
    deltas = [data for name, data in events if name == "delta"]
    assert len(deltas) > 1
    assert "".join(deltas) == "Two pools need attention right now."
    names = [name for name, _ in events]
    assert names.index("reply") > names.index("delta")
    html = final_reply(events)
    assert "Two pools need attention right now." in html
    assert "<table>" in html


async def test_a_stream_is_used_once_and_only_by_its_session(open_page: OpenPage) -> None:
    page = await open_page()
    response = await page.post("/htmx/chat", {"message": "vs list"})
    url = re.search(r'data-stream="([^"]+)"', await response.text())
    assert url
    stranger = await open_page_on(TestClient(page.client.server))
    try:
        stolen = final_reply(await stranger.events(url.group(1)))
        assert "expired" in stolen
    finally:
        await stranger.client.session.close()
    mine = final_reply(await page.events(url.group(1)))
    assert "<table>" in mine
    again = final_reply(await page.events(url.group(1)))
    assert "expired or was already answered" in again


async def test_empty_message_is_refused_kindly(open_page: OpenPage) -> None:
    page = await open_page()
    response = await page.post("/htmx/chat", {"message": "   "})
    assert response.status == 200
    assert "Type a question" in await response.text()


# -- confirmations -------------------------------------------------------------------------------


async def test_write_confirmed_from_the_card(open_page: OpenPage, ops: AviOperations) -> None:
    page = await open_page()
    vs = await an_enabled_vs(ops)
    _, events = await page.ask(f"vs disable {vs.name}")
    card = final_reply(events)
    assert "Confirmation needed" in card
    assert '<span class="add">+ enabled: false</span>' in card
    action = re.search(r'hx-post="(/htmx/actions/[^"/]+)/confirm"', card)
    assert action
    assert (await ops.virtualservices.get(vs.name)).enabled is True  # nothing ran yet

    refused = await page.post(f"{action.group(1)}/confirm", csrf=False)
    assert refused.status == 403
    assert (await ops.virtualservices.get(vs.name)).enabled is True

    done = await page.post(f"{action.group(1)}/confirm")
    assert done.status == 200
    outcome = await done.text()
    assert 'class="outcome"' in outcome
    assert "Done:" in outcome
    assert (await ops.virtualservices.get(vs.name)).enabled is False

    twice = await (await page.post(f"{action.group(1)}/confirm")).text()
    assert "already confirmed" in twice


async def test_write_cancelled_from_the_card(open_page: OpenPage, ops: AviOperations) -> None:
    page = await open_page()
    vs = await an_enabled_vs(ops)
    _, events = await page.ask(f"vs disable {vs.name}")
    action = re.search(r'hx-post="(/htmx/actions/[^"/]+)/cancel"', final_reply(events))
    assert action
    cancelled = await (await page.post(f"{action.group(1)}/cancel")).text()
    assert "Nothing changed" in cancelled
    late = await (await page.post(f"{action.group(1)}/confirm")).text()
    assert "cancelled" in late
    assert (await ops.virtualservices.get(vs.name)).enabled is True


# -- history -------------------------------------------------------------------------------------


async def test_history_restored_on_reload_and_cleared(open_page: OpenPage) -> None:
    page = await open_page()
    await page.ask("vs list")
    reloaded = await open_page_on(page.client)  # same cookie, a new page load
    assert 'class="turn user"><div class="bubble">vs list</div>' in reloaded.html
    assert reloaded.csrf == page.csrf
    fragment = await (await page.client.get("/htmx/history")).text()
    assert "vs list" in fragment
    assert "<table>" in fragment  # the answer as it was shown, not its one-line summary

    other = await open_page_on(TestClient(page.client.server))  # another visitor sees nothing of it
    try:
        assert "vs list</div>" not in other.html
        assert 'id="welcome"' in other.html
    finally:
        await other.client.session.close()

    cleared = await page.client.delete("/htmx/history", headers={"X-CSRF-Token": page.csrf})
    assert cleared.status == 200
    assert 'id="welcome"' in await cleared.text()
    after = await (await page.client.get("/htmx/history")).text()
    assert 'class="turn' not in after


# -- models --------------------------------------------------------------------------------------


async def test_models_listed_and_selected(open_page: OpenPage, fake: FakeOllama) -> None:
    page = await open_page(fake.url)
    listing = await (await page.client.get("/htmx/models")).text()
    assert '<option value="llama3.1:8b" selected>' in listing
    assert '<option value="qwen3:8b">' in listing
    chosen = await (await page.post("/htmx/models", {"model": "qwen3:8b"})).text()
    assert '<option value="qwen3:8b" selected>' in chosen
    assert "Using qwen3:8b" in chosen
    refused = await (await page.post("/htmx/models", {"model": "gemma3:latest"})).text()
    assert '<option value="qwen3:8b" selected>' in refused  # unchanged
    assert "does not support tool calling" in refused
    fake.script(Reply.say("Hello."))
    await page.ask("hello there, how are you?")
    assert fake.chat_requests[-1]["model"] == "qwen3:8b"


async def test_models_in_command_mode_say_why(open_page: OpenPage) -> None:
    page = await open_page()
    fragment = await (await page.client.get("/htmx/models")).text()
    assert "<select" not in fragment
    assert "Model: none (command mode)" in fragment
    assert 'title="no language model is configured (start Ollama' in fragment


# -- what the controller says is data ------------------------------------------------------------


async def test_a_script_named_virtual_service_renders_as_text(
    open_page: OpenPage, ops: AviOperations
) -> None:
    vs = await an_enabled_vs(ops)
    await ops.client.patch(f"virtualservice/{vs.uuid}", {"replace": {"name": EVIL}})
    page = await open_page()
    _, events = await page.ask("vs list")
    listing = final_reply(events)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "<script" not in listing
    _, events = await page.ask(f"vs show {EVIL}")
    shown = final_reply(events)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<script" not in shown
    history = await (await page.client.get("/htmx/history")).text()
    assert "<script" not in history
    assert "&lt;script&gt;" in history


async def test_metrics_draw_an_svg_chart(open_page: OpenPage, ops: AviOperations) -> None:
    vs = await an_enabled_vs(ops)
    page = await open_page()
    _, events = await page.ask(f"metrics {vs.name}")
    html = final_reply(events)
    assert "<svg" in html
    assert "<polyline" in html


async def test_a_burst_of_questions_is_a_burst_of_questions(open_page: OpenPage) -> None:
    """The limit counts questions, not transport requests: following an answer's stream or reading
    the history costs nothing, so a burst of 6 is 6 questions (each stream used to count too)."""
    page = await open_page(rate_limit_per_minute=1, rate_limit_burst=6)
    for n in range(6):
        _fragment, events = await page.ask("vs list")  # the POST and its stream GET
        assert events, f"question {n + 1} had no answer"
        assert (await page.client.get("/htmx/history")).status == 200
    limited = await page.post("/htmx/chat", {"message": "vs list"})
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "Try again in" in await limited.text()
