"""A flood of page questions whose answers are never fetched (a script, a browser that keeps posting and
closes every stream) must not grow the server without bound: one replica (no Redis) parks each question
for its stream in memory, at most `limit` of them, the oldest dropped first (with Redis they are shared
and expire there: tests/faults/test_web_replicas.py). Over real HTTP through the server app
(`build_runtime` + `create_server_app`).

The stores have their own bound tests: tests/bot/test_history.py, test_pending.py, test_audit.py and
test_sqlite_store.py (history length, actions, the capped audit stream, pruning, the de-dup memory).
"""

from __future__ import annotations

import re

from bot.parked import MemoryParkedQuestions
from tests.adapters.web.test_page import final_reply, open_page_on
from tests.conftest import RunningSim
from tests.faults.harness import http_for, runtime_for, settings_for

LIMIT = 25
FLOOD = 60


async def test_parked_questions_stay_bounded_and_the_newest_are_still_answered(sim: RunningSim) -> None:
    settings = settings_for(sim.url, None)
    runtime = await runtime_for(settings)
    try:
        async with http_for(runtime, settings) as http:
            app = http.app
            assert app is not None
            parked = runtime.turns.parked
            assert isinstance(parked, MemoryParkedQuestions)
            parked.limit = LIMIT  # 2000 in production; the rule is the same
            page = await open_page_on(http)
            streams = []
            for i in range(FLOOD):
                resp = await page.post("/htmx/chat", {"message": f"vs list limit {i + 1}"})
                assert resp.status == 200
                url = re.search(r'data-stream="([^"]+)"', await resp.text())
                assert url
                streams.append(url.group(1))
                assert len(parked) <= LIMIT

            oldest = final_reply(await page.events(streams[0]))
            assert "This question has expired or was already answered." in oldest
            newest = final_reply(await page.events(streams[-1]))
            assert "expired" not in newest
            assert "<table" in newest  # answered: the virtual services
            again = final_reply(await page.events(streams[-1]))
            assert "already answered" in again  # a parked question is answered once
    finally:
        await runtime.aclose()
