"""The alert feed in a real browser: headless Chromium through Playwright (as tests/adapters/web/
test_browser.py), on the real server app with its AlertService routed to a web feed and the simulator
raising and clearing alerts.

The page shows the cards (a name that is markup shows as text), the feed refreshes itself, Investigate
answers in the chat, Mute says what it did in its card, "Ask about it" fills the message box, and
axe-core (as tests/adapters/web/test_a11y.py) finds no serious violation. The run saves the feed at
1366x768 where test_a11y.py saves its screenshots (docs/screenshots/alert-feed.png, the README's, with
AVIBOT_UPDATE_SCREENSHOTS=1). Without /usr/bin/chromium it skips.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from adapters.web import alerts as web_alerts
from tests.adapters.web.harness import serving
from tests.adapters.web.test_a11y import SCREENSHOTS, axe_violations, blocking
from tests.adapters.web.test_alerts import (  # noqa: F401 (the autouse fixture)
    EVIL,
    PROXY,
    _env,
    alert_settings,
    ops_of,
    primed,
    push,
    pushed_alert,
)
from tests.adapters.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS, need_chromium
from tests.alerts.helpers import clear_alert, names, raise_alert
from tests.conftest import RunningSim


async def test_the_alert_feed_in_a_real_browser(sim: RunningSim, monkeypatch: pytest.MonkeyPatch) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    monkeypatch.setattr(web_alerts, "POLL_SECONDS", 1)  # the page's refresh, shortened for the test
    async with serving(sim, web=PROXY, alerts=alert_settings()) as served:
        service = await primed(served)
        ops = ops_of(served)
        vs_name = names(sim, "virtualservice")[0]
        cleared = await raise_alert(
            ops, vs_name, level="ALERT_MEDIUM", summary="VIP unreachable from SE group"
        )
        await service.poll_once()
        await clear_alert(ops, cleared["uuid"])
        for _ in range(3):
            await service.poll_once()
        pool = names(sim, "pool")[0]
        await raise_alert(ops, pool, summary="pool down: 0 of 3 servers up")
        await service.poll_once()

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                # bypass_csp: axe is injected as a script tag; the page's own scripts are unchanged.
                context = await browser.new_context(
                    viewport={"width": 1366, "height": 768},
                    bypass_csp=True,
                    extra_http_headers={"X-Forwarded-User": "local"},  # as the trusted proxy says
                )
                page = await context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                problems: list[str] = []
                page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                await page.goto(served.origin + "/")
                region = page.get_by_role("region", name="Alerts", exact=True)
                await expect(region).to_be_visible()
                cards = region.locator("article.alert-card")
                await expect(cards).to_have_count(2)
                open_card = cards.filter(has=page.locator("h3 code").get_by_text(pool, exact=True))
                await expect(open_card.locator(".alert-level")).to_have_text("high")
                await expect(open_card).to_contain_text("pool down: 0 of 3 servers up")
                done = cards.filter(has=page.locator("h3 code").get_by_text(vs_name, exact=True))
                await expect(done.locator(".alert-state-resolved")).to_have_text("resolved")
                await expect(done).to_contain_text("Resolved: the controller cleared the alert after")
                link = open_card.get_by_role("link", name="Open in controller")
                assert "noopener" in (await link.get_attribute("rel") or "")

                await open_card.get_by_role("button", name="Ask about it").click()
                await expect(page.locator("#message")).to_have_value(f"What is wrong with pool {pool}?")
                await expect(page.locator("#message")).to_be_focused()
                await page.locator("#message").fill("")

                await open_card.get_by_role("button", name="Investigate").click()
                answer = page.locator(".turn.assistant").last
                await expect(answer).to_contain_text(f"Investigating pool {pool}")
                await open_card.get_by_role("button", name="Mute").click()
                await expect(open_card.locator(".alert-status")).to_contain_text(
                    f"Muted: no new alert about pool {pool}"
                )
                found: dict[str, list[dict[str, Any]]] = {"feed": await axe_violations(page)}
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.mouse.move(0, 0)
                await page.screenshot(path=str(SCREENSHOTS / "alert-feed.png"))

                # a pushed alert arrives by the feed's own refresh; its name is text, not a script
                created = await push(served, pushed_alert(timestamp=time.time()))
                assert created.status == 202
                evil = cards.filter(has_text=EVIL)
                await expect(evil).to_have_count(1)
                await expect(evil.locator("h3 code")).to_have_text(EVIL)
                assert await region.locator("script").count() == 0
                await expect(page.locator("#alert-news")).to_contain_text("New alert: high")
                await expect(cards).to_have_count(3)
                # the refresh replaced the cards; the muted card still says what Mute did (hx-preserve)
                await expect(open_card.locator(".alert-status")).to_contain_text("Muted")
                found["pushed"] = await axe_violations(page)

                await page.set_viewport_size({"width": 390, "height": 844})
                await expect(region).to_be_visible()
                found["phone"] = await axe_violations(page)
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "alert-feed-390.png"))
                assert problems == [], problems
            finally:
                await browser.close()
    print({stage: sorted({f"{v['id']} ({v['impact']})" for v in vs}) for stage, vs in found.items()})
    bad = {stage: blocking(v) for stage, v in found.items() if blocking(v)}
    assert not bad, json.dumps(bad, indent=1)
    assert (SCREENSHOTS / "alert-feed.png").stat().st_size > 10_000
