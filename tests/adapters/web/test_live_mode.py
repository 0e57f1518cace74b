"""The page's header says the mode the bot is in *now*, without a reload: a real browser (headless
Chromium through Playwright) on the real server app (`build_runtime` + `create_server_app`, as `avibot
serve` runs them), with a real redis-server, the simulator and the fake Ollama on a fixed port that
is started and stopped under the page.

- Ollama down when the page loads: "Command mode"; Ollama comes up, the bot's probe finds it, and
  the header (polled) turns to LLM, and the model picker appears, in the same document.
- Ollama goes away: the next answer is the one that finds out (the breaker opens), and the header
  follows that answer at once (it is asked again after every answer; here the poll is an hour).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from adapters.web import pages
from adapters.web.settings import WebSettings
from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from avibot.server import create_server_app
from bot.history import HistorySettings
from bot.model_loop import AgentSettings
from bot.permissions import AccessSettings
from bot.types import Role
from llm.settings import LLMSettings
from tests.adapters.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS, need_chromium
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

PROBE_SECONDS = 0.2  # agent.llm_retry_after_seconds: how often the bot probes Ollama while it is down
SAME_DOCUMENT = "window.__avibotSameDocument"  # set once after load; a reload would lose it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(sim: RunningSim, redis_url: str, llm_port: int) -> Settings:
    return Settings(
        server=ServerSettings(),
        avi=AviSettings(host=sim.url, username=SIM_USERNAME, password=SecretStr(SIM_PASSWORD)),
        llm=LLMSettings(host=f"http://127.0.0.1:{llm_port}", model="llama3.1:8b", timeout=10),
        log=LogSettings(),
        redis=RedisSettings(url=redis_url, prefix=f"live{secrets.token_hex(4)}:"),
        history=HistorySettings(),
        access=AccessSettings(users={"web:local": Role.OPERATOR}),
        agent=AgentSettings(llm_retry_after_seconds=PROBE_SECONDS),
        web=WebSettings(rate_limit_per_minute=0),
    )


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[Runtime, TestServer]]:
    runtime = await build_runtime(settings)
    server = TestServer(create_server_app(runtime, settings), host="127.0.0.1")
    await server.start_server()
    try:
        yield runtime, server
    finally:
        await server.close()
        await runtime.aclose()


@asynccontextmanager
async def browser_page(url: str) -> AsyncIterator[tuple[Any, list[str]]]:
    """A page on `url`, with what went wrong in it (page errors, console errors, HTTP errors)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(TIMEOUT_MS)
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            await page.goto(url)
            await page.evaluate(f"{SAME_DOCUMENT} = true")
            yield page, problems
        finally:
            await browser.close()


def counting(page: Any, path: str) -> Callable[[], int]:
    """How many requests the page has made to `path` so far."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.url.split("?")[0].endswith(path) else None)
    return lambda: len(seen)


async def ask(page: Any, text: str) -> Any:
    """Type a question, send it, and wait until its answer has replaced the streaming placeholder."""
    from playwright.async_api import expect

    before = await page.locator(".turn.assistant").count()
    await page.locator("#message").fill(text)
    await page.locator("#message").press("Enter")
    await expect(page.locator(".turn.assistant")).to_have_count(before + 1)
    await expect(page.locator(".streaming")).to_have_count(0)
    return page.locator(".turn.assistant").last


async def test_the_header_turns_to_llm_when_ollama_comes_up(
    sim: RunningSim, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_chromium()
    from playwright.async_api import expect

    monkeypatch.setattr(pages, "MODE_POLL_SECONDS", 0.5)  # the page's poll; 10 s in production
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with served(settings_for(sim, redis_url, port)) as (runtime, server):
        assert runtime.mode == "command"  # nothing listens on the port yet
        async with browser_page(str(server.make_url("/"))) as (page, problems):
            polls = counting(page, "/htmx/mode")
            mode = page.locator("#mode")
            await expect(mode).to_contain_text("Command mode")
            await expect(page.locator("#models")).to_contain_text("command mode")
            await page.screenshot(path=str(ARTIFACTS / "browser-live-command.png"))

            async with running_fake_ollama(port=port) as fake:
                fake.script(Reply.say("All good: every pool has its servers up."))
                # The probe finds it within PROBE_SECONDS; the header's next poll shows it.
                await expect(mode).to_contain_text("LLM")
                await expect(mode).not_to_contain_text("Command mode")
                await expect(mode).to_contain_text("llama3.1:8b")
                await expect(page.locator("#model-select")).to_have_value("llama3.1:8b")  # picker reloaded
                assert await page.evaluate(SAME_DOCUMENT) is True  # no reload: the same document
                assert polls() >= 1
                await page.screenshot(path=str(ARTIFACTS / "browser-live-llm.png"))

                answer = await ask(page, "how are things today?")
                await expect(answer).to_contain_text("All good: every pool has its servers up.")
                await expect(answer.locator(".turn-meta")).to_have_text("LLM")
                assert len(fake.chat_requests) == 1
            assert problems == [], problems


async def test_the_header_follows_the_answer_that_found_ollama_gone(
    sim: RunningSim, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_chromium()
    from playwright.async_api import expect

    monkeypatch.setattr(pages, "MODE_POLL_SECONDS", 3600.0)  # only the refresh after an answer can act
    port = free_port()
    ollama = AsyncExitStack()
    fake = await ollama.enter_async_context(running_fake_ollama(port=port))
    try:
        async with served(settings_for(sim, redis_url, port)) as (runtime, server):
            assert runtime.mode == "llm"
            async with browser_page(str(server.make_url("/"))) as (page, problems):
                polls = counting(page, "/htmx/mode")
                mode = page.locator("#mode")
                await expect(mode).to_contain_text("LLM")
                fake.script(Reply.say("Everything is fine."))
                first = await ask(page, "how are things today?")
                await expect(first).to_contain_text("Everything is fine.")
                await expect(mode).to_contain_text("LLM")

                await ollama.aclose()  # Ollama stops: nothing listens on its port any more
                second = await ask(page, "how are things now?")
                await expect(second.locator(".turn-meta")).to_have_text("command mode")
                await expect(second).to_contain_text("Command mode")
                await expect(mode).to_contain_text("Command mode")  # the header followed the answer
                await expect(page.locator("#models")).to_contain_text("command mode")  # picker too
                assert await page.evaluate(SAME_DOCUMENT) is True
                assert polls() == 2  # one refresh after each answer, none from the hour-long timer
                assert runtime.mode == "command"
                assert problems == [], problems
    finally:
        await ollama.aclose()
