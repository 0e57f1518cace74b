"""Benchmark of the agent core (not a timed test): its own cost per turn, the LLM excluded.

Runs the simulator and a throwaway redis-server in their own processes, an instant fake Ollama in
this one, and measures three kinds of turn: a model answer with no tool, a model answer after one
read tool call, and a command-mode turn. "Overhead" is the turn's wall time minus the time spent
waiting for the model: routing, prompt budget, validation, the controller calls of the tools,
Redis history, rendering. It also prints the tool-schema characters sent per turn, routed versus
every tool. Run: `make bench` or `python -m bench.agent [--turns N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from bench.avi import PASSWORD, start_simulator
from bot.agent import Agent
from bot.audit import RedisAuditLog
from bot.history import RedisConversationStore
from bot.pending import RedisPendingStore
from bot.permissions import AccessSettings
from bot.routing import select_tools
from bot.tools import build_catalogue
from bot.types import Inbound, Role, User
from llm.client import LLMEvent, OllamaChat
from llm.schema import flat_tool, schema_chars
from llm.settings import LLMSettings
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

QUESTIONS = (
    "which pools have unhealthy servers?",
    "is portal-prod-0001 up?",
    "cpu of the service engines",
    "latency of shop-prod-0024 over the last day",
    "disable server 10.1.6.10 in crm-dev-0006-pool",
    "what certificates expire soon?",
)


class TimedLLM(OllamaChat):
    """The real client, plus the time spent waiting for the model on each call."""

    waited = 0.0

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[LLMEvent]:  # type: ignore[override]
        start = time.perf_counter()
        try:
            async for event in super().stream(*args, **kwargs):
                yield event
        finally:
            TimedLLM.waited += time.perf_counter() - start


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not on PATH (make redis installs it)")
    sock = tmp / "r.sock"
    args = [exe, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("redis-server did not start")
        time.sleep(0.05)
    return proc, f"unix://{sock}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(agent: Agent, fake: Any, kind: str, turns: int, vs_name: str) -> dict[str, Any]:
    overheads: list[float] = []
    for i in range(turns):
        user = User(id="U-bench", name="bench")
        key = f"bench:{kind}:{i % 10}"  # ten conversations, so history grows like a real thread
        if kind == "model, no tool":
            fake.script(Reply.say("All pools are healthy."))
            text = "how are the pools doing?"
        elif kind == "model, one read tool":
            fake.script(Reply.call("get_virtual_service", {"name": vs_name}), Reply.say(f"{vs_name} is up."))
            text = f"is {vs_name} up?"
        else:
            text = f"vs show {vs_name}"
        TimedLLM.waited = 0.0
        start = time.perf_counter()
        await agent.handle(Inbound(platform="bench", conversation_key=key, user=user, text=text))
        overheads.append((time.perf_counter() - start - TimedLLM.waited) * 1000)
    return {
        "kind": kind,
        "p50": statistics.median(overheads),
        "p99": percentile(overheads, 0.99),
        "mean": statistics.fmean(overheads),
    }


async def run(turns: int) -> tuple[list[dict[str, Any]], tuple[float, int]]:
    sim, url = start_simulator(200, 200)
    tmp = Path(tempfile.mkdtemp(prefix="avibot-bench-"))
    redis_proc, redis_url = start_redis(tmp)
    try:
        redis = aioredis.from_url(redis_url, decode_responses=True)
        async with (
            running_fake_ollama() as fake,
            AviClient(AviSettings(host=url, password=PASSWORD)) as client,
        ):
            ops = AviOperations(client)
            llm = TimedLLM(LLMSettings(host=fake.url, model="llama3.1:8b"))
            agent = Agent(
                ops=ops, catalogue=build_catalogue(),
                history=RedisConversationStore(redis), pending=RedisPendingStore(redis),
                audit=RedisAuditLog(redis),
                access=AccessSettings(users={"bench:U-bench": Role.OPERATOR}),
                llm=llm, num_ctx=8192, default_tenant="admin",
            )  # fmt: skip
            vs_name = (await ops.virtualservices.list())[0].name
            await agent.handle(
                Inbound(platform="bench", conversation_key="warm", user=User(id="w"), text="vs list")
            )
            rows = [
                await measure(agent, fake, kind, turns, vs_name)
                for kind in ("model, no tool", "model, one read tool", "command mode")
            ]
            await llm.aclose()
        await redis.aclose()
    finally:
        redis_proc.terminate()
        sim.terminate()
        sim.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    tools = build_catalogue().all()

    def chars(selected: list[Any]) -> int:
        return schema_chars([flat_tool(t.name, t.description, t.args.model_json_schema()) for t in selected])

    routed = statistics.fmean(chars(select_tools(q, tools)) for q in QUESTIONS)
    return rows, (routed, chars(tools))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="turns of each kind (default 200)")
    args = parser.parse_args(argv)
    rows, (routed, everything) = asyncio.run(run(args.turns))
    print(
        f"Agent overhead per turn, LLM excluded ({args.turns} turns each; simulator, Redis in own processes)"
    )
    print(f"{'turn':24} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for row in rows:
        print(f"{row['kind']:24} {row['p50']:>8.2f} {row['p99']:>8.2f} {row['mean']:>8.2f}")
    print(f"tool-schema characters per turn: routed {routed:,.0f} (mean of {len(QUESTIONS)} questions), "
          f"all {len(build_catalogue().all())} tools {everything:,}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
