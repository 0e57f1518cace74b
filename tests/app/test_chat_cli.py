"""`avibot chat` as a user runs it: a real process, the simulator over HTTP, Redis, the fake Ollama."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import redis.asyncio as aioredis

from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port


def env(**extra: str) -> dict[str, str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return {**base, "OLLAMA_HOST": CLOSED, **extra}


async def chat(*args: str, environ: dict[str, str], stdin: str | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "chat", *args,
        env=environ, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def answers(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


async def test_demo_answers_in_command_mode_without_ollama() -> None:
    code, out, err = await chat("--demo", "--json", "which servers are down?", environ=env())
    assert code == 0, err
    (reply,) = answers(out)
    assert set(reply) == {
        "text", "parts", "tool_calls", "mode", "conversation_id", "pending_action", "controller",
    }  # fmt: skip
    assert reply["controller"].startswith("demo simulator at http://127.0.0.1:")
    assert reply["mode"] == "command"
    assert reply["tool_calls"] == [{"name": "list_unhealthy_servers", "arguments": {"page": 1}, "ok": True}]
    assert "servers down" in reply["text"]
    assert reply["pending_action"] is None
    assert "Traceback" not in err


async def test_demo_uses_ollama_when_it_answers() -> None:
    async with running_fake_ollama() as fake:
        fake.script(Reply.call("list_unhealthy_pools", {}), Reply.say("Some pools are down."))
        environ = env(OLLAMA_HOST=fake.url, LLM_MODEL="llama3.1:8b")
        code, out, err = await chat("--demo", "--json", "are any pools down?", environ=environ)
    assert code == 0, err
    (reply,) = answers(out)
    assert reply["mode"] == "llm"
    assert reply["text"].startswith("Some pools are down.")
    assert [c["name"] for c in reply["tool_calls"]] == ["list_unhealthy_pools"]


async def test_confirm_at_the_interactive_prompt() -> None:
    code, out, err = await chat(
        "--demo", "--json", "--no-llm", "--conversation", "ops1",
        environ=env(), stdin="vs list limit 1\n",
    )  # fmt: skip
    assert code == 0, err
    table = next(p for p in answers(out)[0]["parts"] if p["kind"] == "table")
    name = table["rows"][0][0]
    # The action id is only known once asked, so drive the prompt line by line.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "chat", "--demo", "--json", "--no-llm",
        env=env(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None
    assert proc.stdout is not None

    async def ask(line: str) -> dict[str, Any]:
        proc.stdin.write(line.encode() + b"\n")
        await proc.stdin.drain()
        while True:
            raw = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert raw, "the prompt closed"
            if raw.startswith(b"{"):
                return json.loads(raw)

    pending = await ask(f"vs disable {name}")
    action = pending["pending_action"]
    assert action is not None
    assert "+ enabled: false" in action["diff"]
    done = await ask(f"confirm {action['id']}")
    assert done["tool_calls"][0]["ok"] is True
    shown = await ask(f"vs show {name}")
    assert any(f["label"].lower() == "enabled" and f["value"] == "no" for f in shown["parts"][-1]["facts"]), (
        shown
    )
    proc.stdin.write(b"exit\n")
    await proc.stdin.drain()
    await asyncio.wait_for(proc.wait(), 30)


async def test_confirm_from_a_second_process_through_redis(
    sim: RunningSim, redis_url: str, redis_client: aioredis.Redis
) -> None:
    environ = env(AVI_HOST=sim.url, AVI_USERNAME=SIM_USERNAME, AVI_PASSWORD=SIM_PASSWORD, REDIS_URL=redis_url)
    vs = next(v for v in (await sim_list(sim)) if v["enabled"])
    code, out, err = await chat("--json", "--conversation", "c7", f"vs disable {vs['name']}", environ=environ)
    assert code == 0, err
    action = answers(out)[0]["pending_action"]
    assert action is not None
    assert (await sim_get(sim, vs["uuid"]))["enabled"] is True

    code, out, err = await chat("--json", "--conversation", "c7", "--confirm", action["id"], environ=environ)
    assert code == 0, err
    assert answers(out)[0]["tool_calls"][0]["ok"] is True
    assert (await sim_get(sim, vs["uuid"]))["enabled"] is False

    code, out, err = await chat("--json", "--conversation", "c7", "--confirm", action["id"], environ=environ)
    assert "already confirmed" in answers(out)[0]["text"]
    assert await redis_client.xlen("avibot:audit") == 2  # requested, then ok


async def test_unreachable_controller_is_one_clear_line() -> None:
    environ = env(AVI_HOST="http://127.0.0.1:9", AVI_PASSWORD="pw-not-shown")
    code, out, err = await chat("vs list", environ=environ)
    assert "Traceback" not in err + out
    assert "pw-not-shown" not in err + out
    assert "unreachable" in (err + out).lower()
    assert code == 0


async def sim_list(sim: RunningSim) -> list[dict[str, Any]]:
    from tests.conftest import ops_for

    ops = ops_for(sim)
    try:
        return (await ops.client.get("virtualservice", params={"page_size": 5}))["results"]
    finally:
        await ops.client.aclose()


async def sim_get(sim: RunningSim, uuid: str) -> dict[str, Any]:
    from tests.conftest import ops_for

    ops = ops_for(sim)
    try:
        return await ops.client.get(f"virtualservice/{uuid}")
    finally:
        await ops.client.aclose()
