"""Switching controller on the page, in a real browser (headless Chromium driven by Playwright): the
header's picker sends the next question to b, the answer lists b's names, the header stays on b, and
axe finds nothing serious in the header with its picker."""

from __future__ import annotations

import json
from pathlib import Path

from tests.adapters.web.test_a11y import axe_violations, blocking
from tests.adapters.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS, need_chromium
from tests.adapters.web.two_controllers import passwords, serving, write_config
from tests.conftest import StartSim

__all__ = ["passwords"]  # the fixture, used by every test here


async def test_switch_to_b_in_the_header_and_see_bs_names(
    start_sim: StartSim, redis_url: str, tmp_path: Path
) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    a, b = await start_sim(seed=7), await start_sim(seed=8)
    config = write_config(tmp_path / "c.yaml", a.url, b.url, redis_url, trusted=False)
    async with serving(config, a, b, headers={}) as served:
        names_a, names_b = await served.names(served.ops_a), await served.names(served.ops_b)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                context = await browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
                page = await context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                problems: list[str] = []
                page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                await page.goto(str(served.client.make_url("/")))
                picker = page.locator("#controller-select")
                await expect(picker).to_have_value("a")
                await expect(page.locator("#controller")).to_contain_text("b · Staging")
                header = blocking(await axe_violations(page))
                assert not header, json.dumps(header, indent=1)

                await picker.select_option("b")
                box = page.locator("#message")
                await box.fill("vs list")
                await box.press("Enter")
                table = page.locator(".turn.assistant:not(.streaming) table").first
                await expect(table).to_be_visible()
                shown = set(await table.locator("tbody tr td:first-child").all_inner_texts())
                assert shown
                assert shown <= names_b
                assert shown - names_a, "the answer lists names only b has"
                await expect(page.locator("#controller")).to_have_attribute("data-current", "b")
                await expect(page.locator("#controller-select")).to_have_value("b")
                await expect(page.locator("#controller-choice")).to_have_value("")

                await box.fill("vs list")  # no pick this time: the conversation stays on b
                await box.press("Enter")
                await expect(page.locator(".turn.assistant:not(.streaming)")).to_have_count(2)
                again = page.locator(".turn.assistant table").last
                assert set(await again.locator("tbody tr td:first-child").all_inner_texts()) <= names_b
                after = blocking(await axe_violations(page))
                assert not after, json.dumps(after, indent=1)
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "browser-controllers.png"))
                assert problems == [], problems
            finally:
                await browser.close()
