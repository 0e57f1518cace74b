"""Two `avibot serve` processes on one Redis behave as one web server: a page's question posted to
one replica is answered by a stream opened on the other (behind a Service without session affinity
that happens about half the time), with one session secret for both. Real processes, real HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.adapters.web.test_page import parse_sse
from tests.conftest import RunningSim
from tests.faults.serve_process import environment, serve, write_config

SECRET = "a-session-secret-both-replicas-share-0123456789"


async def test_a_question_posted_to_one_replica_is_answered_by_the_other(
    sim: RunningSim, redis_url: str, tmp_path: Path
) -> None:
    env = environment(sim.url, REDIS_URL=redis_url, AVIBOT_SESSION_SECRET=SECRET)
    config = write_config(tmp_path / "config.yaml")
    replicas = [await serve(env, config), await serve(env, config)]
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            page = await http.get(replicas[0].url + "/")
            assert page.status_code == 200
            csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
            assert csrf
            cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
            headers = {"Cookie": cookie, "X-CSRF-Token": csrf.group(1), "HX-Request": "true"}
            for n in range(4):
                asked, answers = replicas[n % 2], replicas[(n + 1) % 2]
                posted = await http.post(
                    asked.url + "/htmx/chat", data={"message": f"vs list limit {n + 1}"}, headers=headers
                )
                assert posted.status_code == 200, posted.text
                stream = re.search(r'data-stream="([^"]+)"', posted.text)
                assert stream
                answer = await http.get(answers.url + stream.group(1), headers={"Cookie": cookie})
                assert answer.status_code == 200
                events = dict(parse_sse(answer.text))
                assert "expired" not in events["reply"], events["reply"]
                assert "<table" in events["reply"]
                again = await http.get(asked.url + stream.group(1), headers={"Cookie": cookie})
                assert "already answered" in dict(parse_sse(again.text))["reply"]  # once, anywhere
    finally:
        for replica in replicas:
            await replica.stop()
