"""Accessibility of the chat page in a real browser: axe-core (vendored, tests/support/vendor/axe-core)
injected with Playwright's add_script_tag, at a laptop's size (1366x768) and a phone's (390x844), on a
page that shows what people see: a table, Markdown, a confirmation card and its outcome.

No serious or critical violation may remain. The run also saves the page at both sizes: as the
README's screenshots (docs/screenshots/web-1366.png, web-390.png) with AVIBOT_UPDATE_SCREENSHOTS=1,
else in .cache/artifacts. Without /usr/bin/chromium it skips, loudly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from adapters.web.render import render
from avi.operations import AviOperations
from tests.adapters.web.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    LAUNCH_ARGS,
    TIMEOUT_MS,
    need_chromium,
    server,
)
from tests.adapters.web.test_page import an_enabled_vs, make  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "tests" / "support" / "vendor" / "axe-core" / "axe.min.js"
# The README's screenshots are rewritten only on request (`AVIBOT_UPDATE_SCREENSHOTS=1 make test`), so a
# test run leaves the work tree as it found it; otherwise they go with the other test artefacts.
DOCS = ROOT / "docs" / "screenshots"
SCREENSHOTS = DOCS if os.environ.get("AVIBOT_UPDATE_SCREENSHOTS") else ROOT / ".cache" / "artifacts"
SIZES = [(1366, 768), (390, 844)]
BLOCKING = ("serious", "critical")


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.x A/AA and best practices)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary)}));
        }"""
    )
    return list(result)


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING]


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_no_serious_axe_violations(
    server: TestServer,  # noqa: F811
    ops: AviOperations,
    width: int,
    height: int,
) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    assert AXE.stat().st_size > 100_000, "the vendored axe-core is missing"
    vs = await an_enabled_vs(ops)
    found: dict[str, list[dict[str, Any]]] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            # The page's CSP forbids inline scripts, which is what add_script_tag injects: the test's
            # context bypasses it (the page's own scripts are unchanged).
            context = await browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(str(server.make_url("/")))
            await expect(page.locator("#mode")).to_contain_text("Command mode")
            await expect(page.locator("#models")).to_contain_text("command mode")
            found["welcome"] = await axe_violations(page)

            box = page.locator("#message")
            for question in ("help", "vs list", "which pools have unhealthy servers?"):
                before = await page.locator(".turn.assistant").count()
                await box.fill(question)
                await box.press("Enter")
                await expect(page.locator(".turn.assistant:not(.streaming)")).to_have_count(before + 1)
                found[question] = await axe_violations(page)
            await box.fill(f"vs disable {vs.name}")
            await box.press("Enter")
            card = page.locator(".confirm").last
            await expect(card).to_contain_text("Confirmation needed")
            found["confirm"] = await axe_violations(page)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the README's: a table, then a proposed change
            await page.locator("#conversation").evaluate("c => { c.scrollTop = c.scrollHeight; }")
            await page.mouse.move(0, 0)
            await page.screenshot(path=str(SCREENSHOTS / f"web-{width}.png"))
            await card.locator(".btn-confirm").click()
            await expect(page.locator(".outcome").last).to_contain_text("Done")
            found["answers"] = await axe_violations(page)

        finally:
            await browser.close()
    print({stage: sorted({f"{v['id']} ({v['impact']})" for v in vs}) for stage, vs in found.items()})
    bad = {stage: blocking(v) for stage, v in found.items() if blocking(v)}
    assert not bad, json.dumps(bad, indent=1)


async def test_what_assistive_technology_gets(server: TestServer, ops: AviOperations) -> None:  # noqa: F811
    """One <h1>; a labelled multi-line input; the conversation is no live region (each streamed piece
    would be read), one status region says each finished answer; focus goes to a decision's outcome;
    tables and code have copy buttons, turns a time, and up/down cells a colour besides their word."""
    need_chromium()
    from playwright.async_api import async_playwright, expect

    vs = await an_enabled_vs(ops)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1366, "height": 768})
            await context.grant_permissions(["clipboard-read", "clipboard-write"])
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(str(server.make_url("/")))
            await expect(page.locator("#mode")).to_contain_text("Command mode")

            box = page.get_by_label("Message to avibot")
            await expect(box).to_have_attribute("id", "message")
            await box.fill("vs")
            await box.press("Shift+Enter")  # a new line, not a send
            await box.type("list")
            await expect(box).to_have_value("vs\nlist")
            await expect(page.locator(".turn.user")).to_have_count(0)
            await box.fill("vs list")
            await box.press("Enter")
            answer = page.locator(".turn.assistant:not(.streaming)").last
            await expect(answer.locator("table")).to_be_visible()
            await expect(page.locator("h1")).to_have_count(1)

            assert await page.locator("#conversation").get_attribute("aria-live") is None
            assert await page.locator("[aria-live]:has(.stream-text), .stream-text[aria-live]").count() == 0
            live = page.locator("#announce")
            await expect(live).to_have_attribute("role", "status")
            await expect(live).to_contain_text("a table of")
            in_answers = await page.locator("[aria-live], [role=status]").evaluate_all(
                "els => els.filter(e => e.closest('.turn')).map(e => e.outerHTML)"
            )
            assert in_answers == []  # no finished answer is a live region of its own

            await expect(page.locator(".turn.user time")).to_have_count(1)
            await expect(answer.locator("time")).to_have_count(1)
            down = answer.locator("td.state-bad").first
            await expect(down).to_have_text("down")
            up = answer.locator("td.state-ok").first
            colours = await page.evaluate(
                "([a, b]) => [getComputedStyle(a).color, getComputedStyle(b).color]",
                [await down.element_handle(), await up.element_handle()],
            )
            assert colours[0] != colours[1]

            await answer.get_by_role("button", name="Copy").first.click()
            copied = await page.evaluate("navigator.clipboard.readText()")
            headers = await answer.locator("th").all_text_contents()
            assert copied.splitlines()[0] == "\t".join(h.strip() for h in headers), copied
            assert len(copied.splitlines()) == 1 + await answer.locator("tbody tr").count()

            await box.fill(f"vs disable {vs.name}")
            await box.press("Enter")
            card = page.locator(".confirm").last
            await expect(card).to_contain_text("Confirmation needed")
            await expect(live).to_contain_text("Confirmation needed")
            await card.locator(".btn-confirm").focus()
            await page.keyboard.press("Enter")
            outcome = page.locator(".outcome").last
            await expect(outcome).to_contain_text("Done")
            await expect(outcome).to_be_focused()
            await expect(live).to_contain_text("Done")
        finally:
            await browser.close()


def test_the_typing_indicator_has_a_role() -> None:
    """The placeholder of an answer, as the server sends it: a status, with words, and a Stop button."""
    html = str(render("turn_pending.html", turn={"content": "hi"}, stream_url="/htmx/stream/x"))
    assert 'class="typing" role="status"' in html
    assert "avibot is answering" in html
    assert "data-stop" in html
