"""Benchmark of the Slack channel (not a timed test): how fast signed requests are acknowledged
while many conversations are in flight.

Slack gives up on a request after 3 s and retries it, so the number that matters is the ack, not
the answer. This starts the simulator and a redis-server in their own processes, a fake Ollama that
waits 2 s before every answer, the local fake Slack Web API, and the real Bolt app on a real port;
it opens 50 conversations (mentions with free questions, all waiting on the model) and, while they
are in flight, sends signed `app_mention` events and `/avi` commands one after another, timing each
HTTP round trip. Run: `python -m bench.slack [--requests N] [--inflight N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from adapters.base import ChannelContext, ServiceInfo
from adapters.slack import CHANNEL, SlackSettings
from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from bench.agent import percentile, start_redis
from bench.avi import PASSWORD, start_simulator
from bot.agent import Agent
from bot.audit import RedisAuditLog
from bot.dedup import channel_guards
from bot.history import RedisConversationStore
from bot.pending import RedisPendingStore
from bot.permissions import AccessSettings
from bot.tools import build_catalogue
from bot.turns import Turns
from bot.types import Role
from llm.client import OllamaChat
from llm.settings import LLMSettings
from tests.support.fakes.ollama_server import Reply, running_fake_ollama
from tests.support.fakes.slack_api import BOT_USER, TEAM, running_fake_slack, signed_headers

SECRET = "bench-secret"
MODEL_DELAY = 2.0


def event_body(n: int, text: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"EvB{n:06d}",
            "event": {"type": "app_mention", "user": "U-bench", "text": f"<@{BOT_USER}> {text}",
                      "ts": f"{1700000000 + n}.000100", "channel": "C1"},
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
    )  # fmt: skip


def slow_model(_: dict[str, Any]) -> Reply:
    return Reply.say("Thinking it over.", delay=MODEL_DELAY)


async def timed_post(http: aiohttp.ClientSession, url: str, body: str, content_type: str) -> float:
    headers = {"Content-Type": content_type, **signed_headers(SECRET, body)}
    start = time.perf_counter()
    async with http.post(url, data=body.encode(), headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise SystemExit(f"unexpected HTTP {resp.status}")
    return (time.perf_counter() - start) * 1000


async def run(requests: int, inflight: int) -> dict[str, Any]:
    sim, sim_url = start_simulator(200, 200)
    tmp = Path(tempfile.mkdtemp(prefix="avibot-bench-"))
    redis_proc, redis_url = start_redis(tmp)
    try:
        redis = aioredis.from_url(redis_url, decode_responses=True)
        async with (
            running_fake_ollama(responder=slow_model) as fake,
            running_fake_slack() as slack,
            AviClient(AviSettings(host=sim_url, password=PASSWORD)) as client,
        ):  # fmt: skip
            llm = OllamaChat(LLMSettings(host=fake.url, model="llama3.1:8b", timeout=60))
            agent = Agent(
                ops=AviOperations(client), catalogue=build_catalogue(),
                history=RedisConversationStore(redis), pending=RedisPendingStore(redis),
                audit=RedisAuditLog(redis), access=AccessSettings(users={"slack:U-bench": Role.OPERATOR}),
                llm=llm, num_ctx=8192, default_tenant="admin",
            )  # fmt: skip
            server = web.Application()
            settings = SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=slack.api_url)
            deduper, locks = channel_guards(redis, prefix="bench:", ttl_seconds=3600)
            turns = Turns(agent, deduper=deduper, locks=locks)
            CHANNEL.mount(
                server, ChannelContext(turns, ServiceInfo("", "", "redis"), redis, "bench:"), settings
            )
            runner = web.AppRunner(server, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
            async with aiohttp.ClientSession() as http:
                await timed_post(http, url, event_body(0, "vs list"), "application/json")  # warm (auth.test)
                busy = [event_body(1000 + i, f"question {i}?") for i in range(inflight)]
                await asyncio.gather(*(timed_post(http, url, b, "application/json") for b in busy))
                await asyncio.sleep(0.2)
                in_flight_at_start = len(fake.chat_requests)
                events, commands = [], []
                for i in range(requests):
                    events.append(
                        await timed_post(http, url, event_body(2000 + i, f"why {i}?"), "application/json")
                    )
                    form = urlencode(
                        {
                            "command": "/avi",
                            "text": f"why is vs {i} slow?",
                            "user_id": "U-bench",
                            "channel_id": f"C{i}",
                            "team_id": TEAM,
                            "response_url": slack.response_url(),
                        }
                    )
                    commands.append(await timed_post(http, url, form, "application/x-www-form-urlencoded"))
                # let every conversation finish (the model answers 2 s after each call) before tearing down
                with contextlib.suppress(AssertionError):
                    await slack.wait_for(
                        lambda: len(fake.chat_requests) >= inflight + 2 * requests, within=30
                    )
                await asyncio.sleep(MODEL_DELAY + 1)
            await runner.cleanup()
            await llm.aclose()
        await redis.aclose()
    finally:
        redis_proc.terminate()
        sim.terminate()
        sim.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "events": events,
        "commands": commands,
        "in_flight_at_start": in_flight_at_start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="signed events and commands each (100)")
    parser.add_argument("--inflight", type=int, default=50, help="conversations waiting on the model (50)")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.requests, args.inflight))
    print(
        f"model delay {MODEL_DELAY:g} s; {result['in_flight_at_start']} model calls in flight when measuring"
    )
    print("| request | n | ack p50 | ack p99 | max |")
    print("|---|---|---|---|---|")
    for name in ("events", "commands"):
        values = result[name]
        print(
            f"| signed {'app_mention event' if name == 'events' else '/avi command (free question)'} "
            f"| {len(values)} | {statistics.median(values):.1f} ms | {percentile(values, 0.99):.1f} ms "
            f"| {max(values):.1f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
