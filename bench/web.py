"""Benchmark of the web channel under concurrency, against a fake Ollama that charges per token.

The server runs in its own process (`avibot serve`) against a simulator in this process and the
cost-charging fake Ollama (bench/fake_ollama.py: prefill ms per prompt token + decode ms per output
token, each call independent, so any queueing is the server's own). N conversations, one question
each, all sent at once after a warm-up, through the same path as a browser: `POST /htmx/chat`, then
the turn's server-sent events (`GET /htmx/stream/<id>`); "first content" is the first event the
person sees (a `delta`: streamed text, or a read's table streamed before the summary), "total" the
complete reply. Each person is a distinct user (a trusted proxy's X-Forwarded-User), so turns run in
parallel as real conversations do.

Shapes: `text` (one model call answering text) and `tool` (list_unhealthy_pools, a real read on the
simulator, then a text answer). Reported per shape and concurrency, median of `--runs`: turns/s,
p50/p99 latency, wall / ideal (ideal = the model's own time for one turn: the fake's charges / turns),
server CPU per turn (process user+system time during the load / turns), peak RSS (VmRSS sampled every
20 ms), prompt tokens per turn (estimated by the fake, characters / 4), model calls per question.
`--compare` also runs the tool shape with `agent.data_first: false` (the "before" of streaming data
first). Writes bench/results.json and prints the Markdown table for the README.

Run: `python -m bench.web [--conversations 100,300] [--runs 3] [--prefill-ms 0.3] [--decode-ms 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from avisim import SimulatorConfig, create_app
from bench.agent import start_redis
from bench.fake_ollama import Answer, CostFakeOllama, CostModel, running_cost_fake

PASSWORD = "bench-Passw0rd"
QUESTIONS = {"text": "tell me how the load balancer is doing", "tool": "which pools have unhealthy servers?"}
TEXT_ANSWER = "All good: nothing is down that matters right now."
TOOL_ANSWER = "These pools have servers down; the table shows which ones and how many."
RESULTS = Path(__file__).with_name("results.json")
_STREAM_URL = re.compile(r'data-stream="([^"]+)"')


def script(body: dict[str, Any]) -> Answer:
    messages = body.get("messages") or []
    question = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    if question == QUESTIONS["tool"]:
        if messages[-1].get("role") == "tool":
            return Answer.say(TOOL_ANSWER)
        return Answer.call("list_unhealthy_pools", {})
    return Answer.say(TEXT_ANSWER)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown",
    )  # fmt: skip
    return {"nproc": os.cpu_count(), "cpu": model, "loadavg": os.getloadavg()}


async def start_server(environ: dict[str, str], cwd: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--port", "0", "--config", "config.yaml",
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
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


@dataclass
class Turn:
    first: float  # seconds to the first event the person sees
    total: float  # seconds to the complete reply


async def csrf_for(http: aiohttp.ClientSession, user: str) -> str:
    async with http.get("/api/session", headers={"X-Forwarded-User": user}) as resp:
        return str((await resp.json())["csrf_token"])


async def one_turn(http: aiohttp.ClientSession, user: str, csrf: str, question: str) -> Turn:
    headers = {"X-Forwarded-User": user}
    started = time.perf_counter()
    async with http.post("/htmx/chat", data={"message": question, "csrf_token": csrf}, headers=headers) as r:
        match = _STREAM_URL.search(await r.text())
        if r.status != 200 or match is None:
            raise RuntimeError(f"POST /htmx/chat answered {r.status}")
    first = None
    event = ""
    async with http.get(match.group(1), headers=headers) as stream:
        async for raw in stream.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event in ("delta", "reply"):
                now = time.perf_counter() - started
                first = now if first is None else first
                if event == "reply":
                    if "Command mode" in line:
                        raise RuntimeError("the turn fell back to command mode: " + line[:300])
                    return Turn(first, now)
    raise RuntimeError("the stream ended without a reply")


async def sample_rss(pid: int, stop: asyncio.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib(pid))
        await asyncio.sleep(0.02)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(
    http: aiohttp.ClientSession, fake: CostFakeOllama, pid: int, shape: str, n: int, run: int
) -> dict[str, Any]:
    users = [f"b{shape}{n}r{run}u{i}" for i in range(n)]
    tokens = await asyncio.gather(*(csrf_for(http, u) for u in users))
    await asyncio.sleep(0.3)
    fake.reset()
    peak = [rss_kib(pid)]
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, stop, peak))
    cpu_before, own_before = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    turns = await asyncio.gather(
        *(one_turn(http, u, t, QUESTIONS[shape]) for u, t in zip(users, tokens, strict=True))
    )
    wall = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - cpu_before
    bench_cpu = time.process_time() - own_before
    stop.set()
    await sampler
    c = fake.counters
    ideal = c.charged / n
    totals, firsts = [t.total for t in turns], [t.first for t in turns]
    return {
        "turns_per_s": n / wall,
        "p50_ms": statistics.median(totals) * 1000,
        "p99_ms": pct(totals, 0.99) * 1000,
        "first_p50_ms": statistics.median(firsts) * 1000,
        "first_p99_ms": pct(firsts, 0.99) * 1000,
        "wall_ms": wall * 1000,
        "ideal_ms": ideal * 1000,
        "wall_over_ideal": wall / ideal,
        "cpu_ms_per_turn": server_cpu / n * 1000,
        "bench_cpu_s": bench_cpu,
        "rss_peak_mib": peak[0] / 1024,
        "prompt_tokens_per_turn": c.prompt_tokens / n,
        "max_prompt_tokens": c.max_prompt_tokens,
        "llm_calls_per_question": c.calls / n,
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def write_config(folder: str, data_first: bool) -> None:
    Path(folder, "config.yaml").write_text(f"agent:\n  data_first: {str(data_first).lower()}\n")


async def serve_and_measure(
    fake: CostFakeOllama,
    sim_url: str,
    plan: list[tuple[str, int]],
    runs: int,
    data_first: bool,
    redis_url: str = "",
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="avibot-bench-") as tmp:
        write_config(tmp, data_first)
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "AVI_HOST": sim_url,
            "AVI_USERNAME": "admin",
            "AVI_PASSWORD": PASSWORD,
            "OLLAMA_HOST": fake.url,
            "LLM_MODEL": "llama3.1:8b",
            "AVIBOT_TRUSTED_PROXIES": "127.0.0.1",
            "AVIBOT_RATE_LIMIT_PER_MINUTE": "0",
            "AVIBOT_STATE_DIR": tmp,
            "LOG_LEVEL": "WARNING",
        }
        if redis_url:
            environ["REDIS_URL"] = redis_url
        if os.environ.get("BENCH_SERVER_PYTHONPATH"):  # to try a package in the server alone
            environ["PYTHONPATH"] = os.environ["BENCH_SERVER_PYTHONPATH"]
        proc, url = await start_server(environ, tmp)
        rows = []
        try:
            connector = aiohttp.TCPConnector(limit=0)
            timeout = aiohttp.ClientTimeout(total=300)
            async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as http:
                for shape in QUESTIONS:  # warm-up: one turn of each shape
                    user = f"warm-{shape}"
                    await one_turn(http, user, await csrf_for(http, user), QUESTIONS[shape])
                idle = rss_kib(proc.pid) / 1024
                for shape, n in plan:
                    measured: list[dict[str, Any]] = []
                    row_key = {"shape": shape, "conversations": n, "data_first": data_first}
                    for run in range(runs):
                        measured.append(await load(http, fake, proc.pid, shape, n, run))
                        print(f"  run {run + 1}/{runs}: {_line(measured[-1] | row_key)}", file=sys.stderr)
                        await asyncio.sleep(1.0)
                    row = row_key | {"runs": runs}
                    row |= median_of(measured) | {"rss_idle_mib": idle, "all_runs": measured}
                    rows.append(row)
                    print(_line(row), file=sys.stderr, flush=True)
        finally:
            proc.terminate()
            await proc.wait()
    return rows


def _line(r: dict[str, Any]) -> str:
    return (
        f"  {r['shape']:4} x{r['conversations']:<4} data_first={r['data_first']!s:5} "
        f"{r['turns_per_s']:6.1f} turns/s  p50 {r['p50_ms']:6.0f} ms  first {r['first_p50_ms']:6.0f} ms  "
        f"wall/ideal {r['wall_over_ideal']:.2f}x  cpu {r['cpu_ms_per_turn']:.1f} ms/turn  "
        f"rss {r['rss_peak_mib']:.0f} MiB"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    config = SimulatorConfig(objects=120, seed=1, password=PASSWORD)
    sim = web.AppRunner(create_app(config), access_log=None)
    await sim.setup()
    await web.TCPSite(sim, "127.0.0.1", 0).start()
    sim_url = f"http://127.0.0.1:{sim.addresses[0][1]}"
    cost = CostModel(prefill_ms=args.prefill_ms, decode_ms=args.decode_ms)
    plan = [(shape, n) for n in args.conversations for shape in args.shapes]
    redis, redis_url, folder = None, "", ""
    if args.store == "redis":
        folder = tempfile.mkdtemp(prefix="avibot-bench-redis-")
        redis, redis_url = start_redis(Path(folder))
    started = machine()
    try:
        async with running_cost_fake(script, cost) as fake:
            rows = await serve_and_measure(fake, sim_url, plan, args.runs, True, redis_url)
            if args.compare and "tool" in args.shapes:
                tool_plan = [(s, n) for s, n in plan if s == "tool"]
                rows += await serve_and_measure(fake, sim_url, tool_plan, args.runs, False, redis_url)
    finally:
        await sim.cleanup()
        if redis is not None:
            redis.terminate()
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "date": dt.date.today().isoformat(),
        "machine": started | {"loadavg_after": os.getloadavg()},
        "cost": {"prefill_ms_per_token": cost.prefill_ms, "decode_ms_per_token": cost.decode_ms},
        "store": args.store,
        "token_estimate": "characters / 4 of the JSON messages and tools of each /api/chat body",
        "rows": rows,
    }


def goals(rows: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """The targets of this machine, as (goal, met, measured)."""
    by = {(r["shape"], r["conversations"], r["data_first"]): r for r in rows}
    out = []
    tool100, text300 = by.get(("tool", 100, True)), by.get(("text", 300, True))
    if tool100:
        cpu = tool100["cpu_ms_per_turn"]
        out.append(("server CPU per one-tool turn at 100 <= 5 ms", cpu <= 5, f"{cpu:.1f} ms"))
        ratio = tool100["wall_over_ideal"]
        out.append(("wall/ideal, one-tool turns at 100 <= 2.0x", ratio <= 2.0, f"{ratio:.2f}x"))
    if text300:
        ratio = text300["wall_over_ideal"]
        out.append(("wall/ideal, text answers at 300 <= 3x", ratio <= 3.0, f"{ratio:.2f}x"))
    peak = max(r["rss_peak_mib"] for r in rows)
    out.append(("RSS under load <= 150 MiB", peak <= 150, f"{peak:.0f} MiB"))
    for shape in ("text", "tool"):
        low, high = by.get((shape, 100, True)), by.get((shape, 300, True))
        if low and high:
            growth = high["cpu_ms_per_turn"] / low["cpu_ms_per_turn"] - 1
            out.append((f"CPU per {shape} turn, 100 -> 300, grows <= 25%", growth <= 0.25, f"{growth:+.0%}"))
    return out


def markdown(report: dict[str, Any]) -> str:
    m, cost = report["machine"], report["cost"]
    runs = report["rows"][0]["runs"] if report["rows"] else 0
    lines = [
        f"Measured {report['date']} on {m['nproc']} CPUs ({m['cpu']}), load average "
        f"{m['loadavg'][0]:.2f} before / {m['loadavg_after'][0]:.2f} after; fake Ollama charging "
        f"{cost['prefill_ms_per_token']:g} ms per prompt token and {cost['decode_ms_per_token']:g} ms per "
        f"output token; median of {runs} runs.",
        "",
        "| shape | conc. | data first | turns/s | p50 | p99 | first content p50 | wall / ideal | "
        "CPU/turn | RSS peak | prompt tokens/turn | model calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        shape = "text answer" if r["shape"] == "text" else "one read tool, then text"
        lines.append(
            f"| {shape} | {r['conversations']} | {'yes' if r['data_first'] else 'no'} | "
            f"{r['turns_per_s']:.1f} | {r['p50_ms']:.0f} ms | {r['p99_ms']:.0f} ms | "
            f"{r['first_p50_ms']:.0f} ms | {r['wall_over_ideal']:.2f}x ({r['wall_ms']:.0f} / "
            f"{r['ideal_ms']:.0f} ms) | {r['cpu_ms_per_turn']:.1f} ms | {r['rss_peak_mib']:.0f} MiB | "
            f"{r['prompt_tokens_per_turn']:,.0f} | {r['llm_calls_per_question']:.1f} |"
        )
    lines += ["", "| goal | met | measured |", "|---|---|---|"]
    lines += [f"| {g} | {'yes' if ok else '**no**'} | {v} |" for g, ok, v in goals(report["rows"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    parser.add_argument("--conversations", type=ints, default=[100, 300], help="comma-separated")
    parser.add_argument("--shapes", type=lambda s: s.split(","), default=["text", "tool"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prefill-ms", type=float, default=0.3, help="per prompt token")
    parser.add_argument("--decode-ms", type=float, default=20.0, help="per output token")
    parser.add_argument("--no-compare", dest="compare", action="store_false", help="skip data_first=false")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--store", choices=("sqlite", "redis"), default="sqlite", help="the server's state store"
    )
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
