"""Benchmark of the Avi layer against a simulator in its own process (not a timed test).

Prints, for 10,000 virtual services and 1,000 pools: the requests each question issues, its wall
time, and the client's own overhead per request (time in the client outside the HTTP exchange).
Run: `make bench` or `python -m bench.avi [--objects N] [--pools M]`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings

PASSWORD = "bench-Passw0rd"
ALL = "*"  # every tenant, so the questions cover the whole inventory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(objects: int, pools: int) -> tuple[subprocess.Popen[bytes], str]:
    """`avibot sim` in a child process, so its CPU time is not charged to the client."""
    port = free_port()
    cmd = [sys.executable, "-m", "avibot.cli", "sim", "--port", str(port), "--objects", str(objects),
           "--pools", str(pools), "--password", PASSWORD, "--session-timeout", "3600"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"simulator exited with status {proc.returncode}")
        try:
            if httpx.get(f"{url}/api/initial-data", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("simulator did not start within 120 s")


async def measure(client: AviClient, name: str, expected: int, fn: Callable[[], Awaitable[Any]]) -> dict:
    client.stats.reset()
    start = time.perf_counter()
    result = await fn()
    wall = time.perf_counter() - start
    stats = client.stats
    return {
        "question": name,
        "requests": stats.requests,
        "logins": stats.logins,
        "expected": expected,
        "wall_ms": wall * 1000,
        "overhead_us_per_request": stats.overhead_seconds / max(stats.requests, 1) * 1e6,
        "result": result,
    }


async def raw_vs_client(url: str, client: AviClient, rounds: int) -> tuple[float, float]:
    """Median seconds of one small GET through bare httpx (same session cookies) and through the client."""
    await client.get("pool", params={"page_size": 1})  # logged in
    cookies = dict(client._session.cookies) if client._session else {}  # bench only: reuse the session
    raw_times, client_times = [], []
    async with httpx.AsyncClient(base_url=url, cookies=cookies) as raw:
        for _ in range(rounds):
            t = time.perf_counter()
            (await raw.get("/api/pool", params={"page_size": 1})).raise_for_status()
            raw_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            await client.get("pool", params={"page_size": 1})
            client_times.append(time.perf_counter() - t)
    return statistics.median(raw_times), statistics.median(client_times)


async def run(objects: int, pools: int) -> list[dict]:
    proc, url = start_simulator(objects, pools)
    try:
        settings = AviSettings(host=url, password=PASSWORD)
        async with AviClient(settings) as client:
            ops = AviOperations(client)
            await client.login()
            vs_pages = math.ceil(objects / 200)
            pool_pages = math.ceil(pools / 200)
            rows = [
                await measure(client, "list virtual services", vs_pages,
                              lambda: _count(ops.virtualservices.list(tenant=ALL))),
                await measure(client, "unhealthy virtual services", vs_pages,
                              lambda: _count_report(ops.health.unhealthy_virtual_services(tenant=ALL),
                                                    "virtualservices")),
                await measure(client, "list pools", pool_pages, lambda: _count(ops.pools.list(tenant=ALL))),
                await measure(client, "unhealthy pools", pool_pages,
                              lambda: _count_report(ops.health.unhealthy_pools(tenant=ALL), "pools")),
                await measure(client, "service engines with load", -1,
                              lambda: _count(ops.serviceengines.list())),
            ]  # fmt: skip
            raw, through_client = await raw_vs_client(url, client, 300)
            rows.append(
                {"question": "one small GET", "raw_httpx_ms": raw * 1000, "client_ms": through_client * 1000}
            )
            return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _count(awaitable: Awaitable[list[Any]]) -> int:
    return len(await awaitable)


async def _count_report(awaitable: Awaitable[Any], attr: str) -> str:
    report = await awaitable
    return f"{len(getattr(report, attr))} of {report.scanned}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000, help="virtual services (default 10000)")
    parser.add_argument("--pools", type=int, default=1_000, help="pools (default 1000)")
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.objects, args.pools))
    print(f"Avi layer benchmark: {args.objects} virtual services, {args.pools} pools, "
          f"simulator in its own process, {os.cpu_count()} CPUs")  # fmt: skip
    h = ("question", "requests", "expected", "logins", "wall ms", "client us/req")
    print(f"{h[0]:30} {h[1]:>8} {h[2]:>8} {h[3]:>6} {h[4]:>9} {h[5]:>15}  result")
    for row in rows[:-1]:
        expected = row["expected"] if row["expected"] >= 0 else "-"
        print(f"{row['question']:30} {row['requests']:>8} {expected!s:>8} {row['logins']:>6} "
              f"{row['wall_ms']:>9.1f} {row['overhead_us_per_request']:>15.0f}  {row['result']}")  # fmt: skip
    last = rows[-1]
    extra = last["client_ms"] - last["raw_httpx_ms"]
    print(f"one small GET (median of 300): bare httpx {last['raw_httpx_ms']:.2f} ms, "
          f"AviClient {last['client_ms']:.2f} ms, client overhead {extra:.2f} ms")  # fmt: skip
    bad = [r["question"] for r in rows[:-1] if r["expected"] >= 0 and r["requests"] > r["expected"]]
    if bad:
        print("over the request budget: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
