"""Benchmark of `POST /api/chat` under concurrency (not a timed test).

A fake Ollama that waits 200 ms per model call; the server in its own process (`avibot serve`),
against a simulator in this process; N concurrent conversations, one question each (all sent at
once, after a warm-up turn). Prints throughput, p50/p99 latency, wall time against the ideal (one
model wait per call of a turn, as if the server added nothing), and the server's resident memory
idle and at its peak under the load (VmRSS of its process, sampled every 20 ms).

`--shape text`: each turn is one model call answering text (ideal = 200 ms).
`--shape tool`: a tool call (list_unhealthy_pools, a real read on the simulator), then text (ideal = 400 ms).
Run: `python -m bench.web [--conversations 100] [--delay 0.2] [--shape text|tool]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from avisim import SimulatorConfig, create_app
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

PASSWORD = "bench-Passw0rd"
QUESTION = "tell me how the load balancer is doing"


def responder(shape: str, delay: float) -> Any:
    def answer(body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        if shape == "tool" and not any(m.get("role") == "tool" for m in messages):
            return Reply.call("list_unhealthy_pools", {}, delay=delay)
        return Reply.say("All good: nothing is down that matters.", delay=delay)

    return answer


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_server(environ: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--port", "0",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = ""
    while "auth:" not in banner:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the server exited: " + banner)
        banner += line.decode()
    match = re.search(r"serving on (http://[^\s]+)", banner)
    if not match or "command mode" in banner:
        raise RuntimeError("the server is not in LLM mode:\n" + banner)
    return proc, match.group(1)


async def one_turn(http: aiohttp.ClientSession, token: str, cid: str) -> float:
    started = time.perf_counter()
    body = {"message": QUESTION, "conversation_id": cid}
    async with http.post("/api/chat", json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
        reply = await resp.json()
        if resp.status != 200 or reply.get("mode") != "llm":
            raise RuntimeError(f"unexpected answer {resp.status}: {reply}")
    return time.perf_counter() - started


async def sample_rss(pid: int, stop: asyncio.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib(pid))
        await asyncio.sleep(0.02)


async def run(conversations: int, delay: float, shape: str) -> dict[str, Any]:
    sim = web.AppRunner(create_app(SimulatorConfig(objects=120, seed=1, password=PASSWORD)), access_log=None)
    await sim.setup()
    await web.TCPSite(sim, "127.0.0.1", 0).start()
    sim_url = f"http://127.0.0.1:{sim.addresses[0][1]}"
    token = secrets.token_urlsafe(32)  # access tokens have at least 32 characters
    try:
        async with running_fake_ollama(responder=responder(shape, delay)) as fake:
            environ = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": os.environ.get("HOME", "/tmp"),
                "AVI_HOST": sim_url,
                "AVI_USERNAME": "admin",
                "AVI_PASSWORD": PASSWORD,
                "OLLAMA_HOST": fake.url,
                "LLM_MODEL": "llama3.1:8b",
                "AVIBOT_ACCESS_TOKEN": token,
                "AVIBOT_RATE_LIMIT_PER_MINUTE": "0",
                "LOG_LEVEL": "WARNING",
            }
            proc, url = await start_server(environ)
            try:
                connector = aiohttp.TCPConnector(limit=0)
                timeout = aiohttp.ClientTimeout(total=120)
                async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as http:
                    await one_turn(http, token, "warm-up")
                    await asyncio.sleep(0.5)
                    idle = rss_kib(proc.pid)
                    peak = [idle]
                    stop = asyncio.Event()
                    sampler = asyncio.create_task(sample_rss(proc.pid, stop, peak))
                    cpu_before, own_before = cpu_seconds(proc.pid), time.process_time()
                    started = time.perf_counter()
                    latencies = await asyncio.gather(
                        *(one_turn(http, token, f"bench-{i}") for i in range(conversations))
                    )
                    wall = time.perf_counter() - started
                    server_cpu = cpu_seconds(proc.pid) - cpu_before
                    bench_cpu = time.process_time() - own_before
                    stop.set()
                    await sampler
            finally:
                proc.terminate()
                await proc.wait()
    finally:
        await sim.cleanup()
    calls = 2 if shape == "tool" else 1
    ordered = sorted(latencies)
    return {
        "conversations": conversations,
        "shape": shape,
        "ideal": delay * calls,
        "wall": wall,
        "throughput": conversations / wall,
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "server_cpu": server_cpu,
        "bench_cpu": bench_cpu,
        "idle_mib": idle / 1024,
        "peak_mib": peak[0] / 1024,
    }


def table(r: dict[str, Any]) -> str:
    rows = [
        ("concurrent conversations", f"{r['conversations']}"),
        (
            "turn shape",
            "1 model call -> text" if r["shape"] == "text" else "tool call + text (2 model calls)",
        ),
        ("throughput", f"{r['throughput']:.1f} turns/s"),
        ("latency p50", f"{r['p50'] * 1000:.0f} ms"),
        ("latency p99", f"{r['p99'] * 1000:.0f} ms"),
        ("wall time", f"{r['wall'] * 1000:.0f} ms"),
        ("ideal (model waits only)", f"{r['ideal'] * 1000:.0f} ms"),
        ("wall / ideal", f"{r['wall'] / r['ideal']:.2f}x"),
        (
            "server CPU during the load",
            f"{r['server_cpu']:.2f} s ({r['server_cpu'] / r['conversations'] * 1000:.1f} ms/turn)",
        ),
        ("bench CPU (client + fake Ollama + simulator)", f"{r['bench_cpu']:.2f} s"),
        ("server RSS idle", f"{r['idle_mib']:.1f} MiB"),
        ("server RSS under load (peak)", f"{r['peak_mib']:.1f} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the fake Ollama waits per call")
    parser.add_argument("--shape", choices=("text", "tool"), default="text")
    args = parser.parse_args()
    result = asyncio.run(run(args.conversations, args.delay, args.shape))
    print(f"POST /api/chat benchmark (fake Ollama waiting {args.delay * 1000:.0f} ms per call)")
    print(table(result))


if __name__ == "__main__":
    main()
