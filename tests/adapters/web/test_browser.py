"""A real browser on the page: headless Chromium (Debian's `chromium`) driven by Playwright for Python.

It asks a question, sees the table, proposes a write, clicks Confirm and sees the outcome, and saves a
screenshot as a test artefact (.cache/artifacts/browser-chat.png). Without /usr/bin/chromium it skips,
loudly: `make test` installs it on Debian as root (scripts/ensure-chromium.sh).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from avi.operations import AviOperations
from tests.adapters.web.test_page import WEB_ACCESS, an_enabled_vs, build_app, make  # noqa: F401 (fixture)
from tests.support.agent_env import MakeAgent
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARTIFACTS = Path(__file__).resolve().parents[3] / ".cache" / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def need_chromium() -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(
            "!!! REAL-BROWSER TEST SKIPPED: /usr/bin/chromium is missing. Install it with "
            "`sudo apt-get install chromium` (or run `make test` as root on Debian, which does). !!!"
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def server(make: MakeAgent) -> AsyncIterator[TestServer]:  # noqa: F811
    env = await make(None, access=WEB_ACCESS)  # command mode: deterministic, no Ollama
    server = TestServer(build_app(env.agent), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_chat_in_a_real_browser(server: TestServer, ops: AviOperations) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    vs = await an_enabled_vs(ops)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "browser-chat.png"
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
            await expect(page.locator("#models")).to_contain_text("command mode")

            await expect(page.locator("#welcome")).to_be_visible()
            await page.screenshot(path=str(ARTIFACTS / "browser-welcome.png"))

            box = page.locator("#message")
            await box.fill("which pools have unhealthy servers?")
            await box.press("Enter")
            answer = page.locator(".turn.assistant table").first
            await expect(answer).to_be_visible()
            await expect(page.locator("#welcome")).to_have_count(0)
            await expect(box).to_have_value("")  # the form was reset for the next question

            await box.fill(f"vs disable {vs.name}")
            await box.press("Enter")
            card = page.locator(".confirm").last
            await expect(card).to_contain_text("Confirmation needed")
            await expect(card.locator(".diff .add")).to_contain_text("enabled: false")
            await page.screenshot(path=str(ARTIFACTS / "browser-confirm.png"))
            await card.locator(".btn-confirm").click()
            outcome = page.locator(".outcome").last
            await expect(outcome).to_contain_text("Done")
            await expect(page.locator(".confirm")).to_have_count(0)  # the card became its outcome
            await page.screenshot(path=str(shot))

            assert problems == [], problems
        finally:
            await browser.close()
    assert (await ops.virtualservices.get(vs.name)).enabled is False
    assert shot.stat().st_size > 10_000


async def test_answer_streams_into_the_page(make: MakeAgent, fake: FakeOllama, ops: AviOperations) -> None:  # noqa: F811
    """LLM mode: words appear one by one, then the rendered reply (here with a chart) replaces them."""
    need_chromium()
    from playwright.async_api import async_playwright, expect

    vs = await an_enabled_vs(ops)
    env = await make(fake.url, access=WEB_ACCESS)
    server = TestServer(build_app(env.agent), host="127.0.0.1")
    await server.start_server()
    words = "The traffic of this virtual service is steady over the last hour, with no errors at all."
    fake.script(
        Reply.call("get_analytics", {"entity_type": "virtualservice", "name": vs.name}),
        Reply.say(words, chunk_delay=0.12),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 860})
                page.set_default_timeout(TIMEOUT_MS)
                await page.goto(str(server.make_url("/")))
                await expect(page.locator("#mode")).to_contain_text("LLM")
                await expect(page.locator("#model-select")).to_have_value("llama3.1:8b")
                await page.locator("#message").fill(f"how is the traffic of {vs.name}?")
                await page.locator("#message").press("Enter")
                partial = page.locator(".streaming .stream-text")
                await expect(partial).to_contain_text("The traffic")  # part of the answer, still streaming
                streamed = await partial.text_content()
                assert streamed
                assert streamed != words
                answer = page.locator(".turn.assistant").last
                await expect(answer).to_contain_text("no errors at all.")
                await expect(page.locator(".streaming")).to_have_count(0)
                await expect(answer.locator("svg.chart polyline").first).to_be_attached()
                await page.screenshot(path=str(ARTIFACTS / "browser-stream.png"))
            finally:
                await browser.close()
    finally:
        await server.close()


# Words of a table cell that the browser laid out on more than one line (a word broken mid-way).
BROKEN_WORDS = """root => {
    const broken = [];
    for (const td of root.querySelectorAll("td")) {
        const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const re = /\\S+/g;
            let m;
            while ((m = re.exec(node.data))) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
                if (lines.size > 1) { broken.push(m[0]); }
            }
        }
    }
    return broken;
}"""


async def test_tables_on_a_phone(server: TestServer) -> None:
    """390x844: no cell breaks a word (`10.200.0.1:443` stays whole), the wide table scrolls sideways
    inside its focusable region (keys too) with a visible cue, and a long answer shows from its start."""
    need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = await browser.new_page(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(str(server.make_url("/")))
            await expect(page.locator("#mode")).to_contain_text("Command mode")
            await page.locator("#message").fill("vs list")
            await page.locator("#message").press("Enter")
            answer = page.locator(".turn.assistant:not(.streaming)").last
            await expect(answer.locator("table")).to_be_visible()

            # The answer is taller than the view: its start is in view, not its end.
            top = await page.evaluate(
                """() => {
                    const c = document.getElementById("conversation").getBoundingClientRect();
                    const turns = document.querySelectorAll(".turn.assistant");
                    const a = turns[turns.length - 1].getBoundingClientRect();
                    return [a.top - c.top, a.height, c.height];
                }"""
            )
            assert top[1] > top[2], top  # a long answer indeed
            assert 0 <= top[0] < 40, top

            assert await answer.evaluate(BROKEN_WORDS) == []
            heights = await answer.locator("tbody td").evaluate_all(
                "tds => tds.map(td => td.getBoundingClientRect().height)"
            )
            assert max(heights) < 2 * min(heights), heights  # one line a row, not a tower of fragments

            wrap = answer.locator(".table-wrap")
            sizes = await wrap.evaluate("w => [w.scrollWidth, w.clientWidth]")
            assert sizes[0] > sizes[1] + 100, sizes  # wider than the phone: it scrolls
            await expect(answer.locator(".scroll-hint")).to_be_visible()
            await expect(wrap).to_have_attribute("tabindex", "0")
            await wrap.focus()
            await page.keyboard.press("ArrowRight")
            await page.keyboard.press("ArrowRight")
            await page.wait_for_function("w => w.scrollLeft > 0", arg=await wrap.element_handle())

            await page.screenshot(path=str(ARTIFACTS / "browser-phone.png"))
        finally:
            await browser.close()


async def test_a_stale_page_says_so_and_keeps_the_draft(server: TestServer) -> None:
    """A page whose CSRF token no longer matches its session (a restart, an expired cookie): sending
    says "This page is out of date; reload to continue", keeps what was typed, and after the reload
    the draft is still there and goes through."""
    need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(str(server.make_url("/")))
            await expect(page.locator("#mode")).to_contain_text("Command mode")
            await page.evaluate("""document.body.setAttribute("hx-headers", '{"X-CSRF-Token": "stale"}')""")
            box = page.locator("#message")
            await box.fill("vs list")
            await box.press("Enter")
            notice = page.locator("#notice")
            await expect(notice).to_have_text("This page is out of date; reload to continue. Reload")
            await expect(notice).not_to_contain_text("CSRF")
            await expect(box).to_have_value("vs list")
            await notice.get_by_role("button", name="Reload").click()
            await expect(page.locator("#welcome")).to_be_visible()
            await expect(page.locator("#message")).to_have_value("vs list")
            await page.locator("#message").press("Enter")
            await expect(page.locator(".turn.assistant:not(.streaming) table")).to_be_visible()
            await expect(page.locator("#message")).to_have_value("")
            await expect(page.locator("#notice")).to_be_hidden()
        finally:
            await browser.close()


async def test_stop_ends_a_streaming_answer(make: MakeAgent, fake: FakeOllama) -> None:  # noqa: F811
    """Stop closes the answer's stream: the words so far stay, nothing more arrives, the input has focus."""
    need_chromium()
    from playwright.async_api import async_playwright, expect

    env = await make(fake.url, access=WEB_ACCESS)
    server = TestServer(build_app(env.agent), host="127.0.0.1")
    await server.start_server()
    words = " ".join(f"word{i}" for i in range(60))
    fake.script(Reply.say(words, chunk_delay=0.1))
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 860})
                page.set_default_timeout(TIMEOUT_MS)
                await page.goto(str(server.make_url("/")))
                await expect(page.locator("#mode")).to_contain_text("LLM")
                await page.locator("#message").fill("tell me a lot")
                await page.locator("#message").press("Enter")
                partial = page.locator(".streaming .stream-text")
                await expect(partial).to_contain_text("word3")
                await page.get_by_role("button", name="Stop").click()
                stopped = page.locator(".turn.assistant.stopped")
                await expect(stopped).to_contain_text("stopped")
                await expect(page.locator(".streaming")).to_have_count(0)
                await expect(page.locator("#message")).to_be_focused()
                shown = await stopped.locator(".stream-text").text_content()
                await page.wait_for_timeout(600)
                assert await stopped.locator(".stream-text").text_content() == shown
                assert shown
                assert "word59" not in shown
            finally:
                await browser.close()
    finally:
        await server.close()
