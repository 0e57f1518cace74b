"""A reload in a real browser (headless Chromium through Playwright): the answers come back as they were
shown, a table and a confirmation card whose Confirm still works, and after it the card's outcome.

The page runs on a real aiohttp TestServer with the agent on the simulator and the transcript in a real
redis-server. Without /usr/bin/chromium it skips, loudly (see test_browser.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from avi.operations import AviOperations
from tests.adapters.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS, need_chromium
from tests.adapters.web.test_history_reload import build_app
from tests.adapters.web.test_page import WEB_ACCESS, an_enabled_vs, make  # noqa: F401 (fixture)
from tests.support.agent_env import MakeAgent


@pytest.fixture
async def server(make: MakeAgent) -> AsyncIterator[TestServer]:  # noqa: F811
    env = await make(None, access=WEB_ACCESS)  # command mode: deterministic, no Ollama
    app, _turns = build_app(env)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_reload_shows_the_table_and_a_live_confirm(server: TestServer, ops: AviOperations) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    vs = await an_enabled_vs(ops)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(TIMEOUT_MS)
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            await page.goto(str(server.make_url("/")))
            await expect(page.locator("#mode")).to_contain_text("Command mode")

            box = page.locator("#message")
            await box.fill("vs list")
            await box.press("Enter")
            await expect(page.locator(".turn.assistant table").first).to_be_visible()
            await box.fill(f"vs disable {vs.name}")
            await box.press("Enter")
            await expect(page.locator(".confirm").last).to_contain_text("Confirmation needed")

            await page.reload()
            await expect(page.locator("#mode")).to_contain_text("Command mode")  # the page's script runs
            await expect(page.locator("#welcome")).to_have_count(0)
            await expect(page.locator(".turn.assistant table").first).to_be_visible()
            card = page.locator(".confirm")
            await expect(card).to_have_count(1)
            await expect(card.locator(".diff .add")).to_contain_text("enabled: false")
            await expect(card.locator(".btn-cancel")).to_be_visible()
            await page.screenshot(path=str(ARTIFACTS / "browser-reload.png"))
            await card.locator(".btn-confirm").click()
            await expect(page.locator(".outcome").last).to_contain_text("Done")
            await expect(page.locator(".confirm")).to_have_count(0)

            await page.reload()  # once settled, the card is its outcome, without buttons
            await expect(page.locator(".turn.assistant table").first).to_be_visible()
            await expect(page.locator(".outcome")).to_contain_text("Done")
            await expect(page.locator(".btn-confirm")).to_have_count(0)

            assert problems == [], problems
        finally:
            await browser.close()
    assert (await ops.virtualservices.get(vs.name)).enabled is False
