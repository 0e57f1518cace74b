"""The chat page while Redis is down: it still loads (saying the history is unavailable, no 500), its
header still says the mode, and a question is still answered, with the one sentence about the history.
Over real HTTP through the server app, with a real redis-server of the test's own, killed.
"""

from __future__ import annotations

from adapters.web.pages import HISTORY_UNAVAILABLE as HISTORY_GONE
from bot.agent import HISTORY_DOWN
from tests.adapters.web.test_page import final_reply, open_page_on
from tests.conftest import RunningSim
from tests.faults.harness import http_for, runtime_for, settings_for
from tests.support.redis_process import RedisProcess


async def test_the_page_works_while_redis_is_down(sim: RunningSim, redis_proc: RedisProcess) -> None:
    settings = settings_for(sim.url, redis_proc.url)
    runtime = await runtime_for(settings)
    try:
        async with http_for(runtime, settings) as http:
            page = await open_page_on(http)
            _, events = await page.ask("vs list")
            assert "<table" in final_reply(events)
            redis_proc.kill()

            resp = await http.get("/")
            html = await resp.text()
            assert resp.status == 200, html
            assert HISTORY_GONE in html
            assert "Command mode" in html
            mode = await http.get("/htmx/mode")
            assert mode.status == 200
            assert "Command mode" in await mode.text()
            history = await http.get("/htmx/history")
            assert history.status == 503
            assert HISTORY_GONE in await history.text()

            page = await open_page_on(http)
            _, events = await page.ask("vs list")
            answer = final_reply(events)
            assert "<table" in answer
            assert HISTORY_DOWN in answer
            assert "Something went wrong" not in answer

            redis_proc.start()  # back: the page shows the (new, empty) history again, no restart
            resp = await http.get("/")
            assert resp.status == 200
            assert HISTORY_GONE not in await resp.text()
    finally:
        await runtime.aclose()
