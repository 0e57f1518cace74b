"""Ollama is down when `avibot serve` starts, and comes up later: a real server process, the fake Ollama
(its real wire protocol) started on the port the server was told, and the simulator.

What a person sees, everywhere, before and after: the start banner (command mode, probing), the
answers (command mode, said in the answer; then the model's), the mode in each answer (what the Slack
and Teams footers and the web page's answer line show), the page header's fragment, and /api/health.
Nobody restarts anything: the server's probe finds the model by itself.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import RunningSim
from tests.faults.serve_process import environment, serve, write_config
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

BOUND = 60.0  # seconds: only so that a hang fails the test instead of blocking the suite
QUESTION = "how are things today?"  # prose: a question for the model, not a command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def get_json(http: aiohttp.ClientSession, path: str) -> Any:
    async with http.get(path) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def chat(http: aiohttp.ClientSession, message: str) -> Any:
    """A question on the page's session (cookie + its CSRF token)."""
    csrf = (await get_json(http, "/api/session"))["csrf_token"]
    body = {"message": message, "conversation_id": "ollama-1"}
    async with http.post("/api/chat", json=body, headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def header(http: aiohttp.ClientSession) -> str:
    """The page header's mode, as the page's poll fetches it (with the page's session cookie)."""
    async with http.get("/htmx/mode") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.text()


async def test_ollama_down_at_start_then_up_without_a_restart(sim: RunningSim, tmp_path: Path) -> None:
    port = free_port()
    environ = environment(
        sim.url, OLLAMA_HOST=f"http://127.0.0.1:{port}", AVIBOT_STATE_DIR=str(tmp_path / "s")
    )
    config = write_config(tmp_path / "config.yaml", "agent:\n  llm_retry_after_seconds: 0.2\n")
    served = await serve(environ, config)
    try:
        mode_line = next(line for line in served.banner.splitlines() if "mode:" in line)
        assert "command mode" in mode_line
        assert "probing" in mode_line
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(served.url, cookie_jar=jar) as http:
            async with http.get("/") as page:
                assert page.status == 200
                assert "Command mode" in await page.text()
            health = await get_json(http, "/api/health")
            assert health["mode"] == "command"
            assert health["checks"]["ollama"]["status"] == "down"
            assert health["status"] == "degraded"
            before = await chat(http, QUESTION)
            assert before["mode"] == "command"
            assert "Command mode" in before["text"]
            assert "Command mode" in await header(http)

            async with running_fake_ollama(port=port) as fake:
                fake.script(Reply.say("All good: nothing is down."))
                deadline = time.monotonic() + BOUND
                while (await get_json(http, "/api/health"))["mode"] != "llm":
                    assert time.monotonic() < deadline, "the server never found Ollama"
                    await asyncio.sleep(0.1)
                health = await get_json(http, "/api/health")
                assert health["checks"]["ollama"]["status"] == "ok"
                assert health["status"] == "ok"
                fragment = await header(http)
                assert ">LLM<" in fragment
                assert "Command mode" not in fragment
                after = await chat(http, QUESTION)
                assert after["mode"] == "llm", after
                assert after["text"] == "All good: nothing is down."
                assert len(fake.chat_requests) == 1
    finally:
        err = await served.stop()
    assert served.proc.returncode == 0, err
    assert "Traceback" not in err, err
