"""`--demo` ignores the controller settings in the environment (chat-experience item 15).

A user with AVI_PASSWORD exported used to get a demo whose logins to its own simulator failed (401,
then the simulated account locked) and every answer was an error. Real processes, real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

import aiohttp

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port

# Everything a user might have exported for their real controller, some of it unusable here
# (a CA bundle that does not exist would even stop the configuration from loading).
FOREIGN_AVI = {
    "AVI_HOST": "https://x",
    "AVI_USERNAME": "someone",
    "AVI_PASSWORD": "wrong",
    "AVI_TOKEN": "not-a-token",
    "AVI_TENANT": "no-such-tenant",
    "AVI_VERSION": "18.2.1",
    "AVI_CA_BUNDLE": "/nonexistent/ca.pem",
    "avi_verify_ssl": "true",  # the settings read the environment case-insensitively
}


def env(**extra: str) -> dict[str, str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    if "AVIBOT_STATE_DIR" in os.environ:
        base["AVIBOT_STATE_DIR"] = os.environ["AVIBOT_STATE_DIR"]
    return {**base, "OLLAMA_HOST": CLOSED, **FOREIGN_AVI, **extra}


def assert_one_notice(stderr: str) -> None:
    notices = [line for line in stderr.splitlines() if line.startswith("demo:")]
    assert len(notices) == 1, stderr
    notice = notices[0]
    assert "built-in simulator" in notice
    for name in ("AVI_HOST", "AVI_PASSWORD", "AVI_TENANT"):
        assert name in notice, notice
    for value in ("wrong", "not-a-token", "someone"):  # names only, never the values
        assert value not in notice, notice


async def test_chat_demo_ignores_avi_environment() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "chat", "--demo", "--json", "vs list",
        env=env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    stderr = err.decode()
    assert proc.returncode == 0, stderr
    (reply,) = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert reply["tool_calls"] == [
        {"name": "list_virtual_services", "arguments": {"limit": 50, "page": 1}, "ok": True}
    ]
    assert not [p for p in reply["parts"] if p["kind"] == "error"], reply
    table = next(p for p in reply["parts"] if p["kind"] == "table")
    assert table["rows"], reply
    assert "https://x" not in out.decode()
    assert_one_notice(stderr)
    assert "Traceback" not in stderr


async def test_serve_demo_ignores_avi_environment() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--demo", "--port", "0",
        env=env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        banner = ""
        while "auth:" not in banner:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "the server exited: " + banner
            banner += line.decode()
        assert "demo simulator" in banner
        assert_one_notice(banner)  # with the banner, before it
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        async with aiohttp.ClientSession(match.group(1)) as http:
            for _ in range(2):  # a second turn: no login failure has locked the simulated account
                async with http.post("/api/chat", json={"message": "vs list"}) as resp:
                    assert resp.status == 200
                    reply = await resp.json()
                assert [c["ok"] for c in reply["tool_calls"]] == [True], reply
                assert not [p for p in reply["parts"] if p["kind"] == "error"], reply
                assert next(p for p in reply["parts"] if p["kind"] == "table")["rows"]
    finally:
        if proc.returncode is None:
            proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    stderr = err.decode()
    assert proc.returncode == 0, stderr
    assert banner.splitlines()[0].startswith("demo:")
    assert "demo:" not in stderr
    assert "Traceback" not in stderr


async def test_chat_demo_without_avi_environment_says_nothing_extra() -> None:
    environ = {k: v for k, v in env().items() if k not in FOREIGN_AVI}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "chat", "--demo", "--json", "vs list",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()
    assert "demo:" not in err.decode()
    assert json.loads(out.decode().splitlines()[-1])["tool_calls"][0]["ok"] is True


async def test_a_bad_setting_in_the_demo_is_still_one_line() -> None:
    """Ignoring AVI_* says so, but a failure still ends with its one line and nothing else."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--demo", "--port", "0",
        env=env(AVIBOT_ACCESS_TOKEN="short"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, err.decode()
    assert "web.access_token" in lines[0]
    assert out.decode() == ""


async def test_check_still_uses_avi_environment() -> None:
    """Only the demo ignores AVI_*: `avibot check` reports the configured (here unreachable) host."""
    environ = {k: v for k, v in env().items() if k not in ("AVI_CA_BUNDLE", "AVI_VERSION")}
    environ["AVI_HOST"] = CLOSED
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "check",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 2
    assert "127.0.0.1:9" in err.decode()
    assert "demo:" not in err.decode()
