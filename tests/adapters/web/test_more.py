"""The "Show more" button on the chat page, end to end over HTTP: the real app (security middleware,
page, `POST /htmx/more`), the agent on a simulator with more than 50 virtual services, a real
redis-server. A tampered button can only ask for a read the person may do anyway."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from avi.operations import AviOperations
from bot.tools.render import MAX_ROWS
from tests.adapters.web.test_page import WEB_ACCESS, Page, build_app, final_reply, open_page_on
from tests.conftest import StartSim, ops_for
from tests.support.agent_env import agent_factory


@pytest.fixture
async def big_ops(start_sim: StartSim) -> AsyncIterator[AviOperations]:
    ops = ops_for(await start_sim(objects=300))
    yield ops
    await ops.client.aclose()


@pytest.fixture
async def page(redis_url: str, redis_client: aioredis.Redis, big_ops: AviOperations) -> AsyncIterator[Page]:
    async with agent_factory(redis_url, big_ops) as make:
        env = await make(access=WEB_ACCESS)
        client = TestClient(TestServer(build_app(env.agent)))
        await client.start_server()
        try:
            yield await open_page_on(client)
        finally:
            await client.close()


def more_field(html: str) -> str:
    form = r'<form class="more-rows" hx-post="/htmx/more"[^>]*>\s*'
    found = re.search(form + r'<input type="hidden" name="more" value="([^"]+)">', html)
    assert found, html[-1500:]
    return html_lib.unescape(found.group(1))


def first_cells(html: str) -> list[str]:
    return re.findall(r"<tr><td>([^<]*)</td>", html)


async def test_show_more_fetches_the_next_page_with_its_own_button(
    page: Page, big_ops: AviOperations
) -> None:
    names = [vs.name for vs in await big_ops.virtualservices.list()]
    _, events = await page.ask("vs list")
    html = final_reply(events)
    assert first_cells(html) == names[:MAX_ROWS]
    assert "Show 50 more" in html
    field = more_field(html)
    assert json.loads(field)["arguments"] == {"page": 2}

    response = await page.post("/htmx/more", {"more": field})
    assert response.status == 200
    second = await response.text()
    assert first_cells(second) == names[MAX_ROWS : 2 * MAX_ROWS]
    assert json.loads(more_field(second))["arguments"] == {"page": 3}  # the next button replaces this one
    assert "vs list page 3" in second  # the hint: what to type for it

    refused = await page.post("/htmx/more", {"more": field}, csrf=False)
    assert refused.status == 403


async def test_a_tampered_button_for_a_write_is_refused(page: Page, big_ops: AviOperations) -> None:
    victim = (await big_ops.virtualservices.list())[0]
    for tool, arguments in (
        ("delete_virtual_service", {"name": victim.name}),
        ("disable_virtual_service", {"name": victim.name}),
    ):
        forged = json.dumps({"tool": tool, "arguments": arguments, "label": "Show 50 more"})
        response = await page.post("/htmx/more", {"more": forged})
        assert response.status == 200
        body = await response.text()
        assert 'data-outcome="refused"' in body
        assert "Only a list can be continued" in body
        assert "Confirmation needed" not in body
    assert (await big_ops.virtualservices.get(victim.name)).enabled is victim.enabled


async def test_a_malformed_button_is_a_clear_error(page: Page) -> None:
    for value in ("not json", json.dumps({"arguments": {}}), "x" * 9000):
        response = await page.post("/htmx/more", {"more": value})
        assert response.status == 400
        assert "not valid" in await response.text()
