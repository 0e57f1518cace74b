"""`avibot serve` as a user runs it: a real process on a real port, no Ollama, no Redis."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import aiohttp

CLOSED = "http://127.0.0.1:9"


def env(**extra: str) -> dict[str, str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return {**base, "OLLAMA_HOST": CLOSED, **extra}


async def serve(*args: str, environ: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", *args,
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_refuses_a_public_address_without_authentication() -> None:
    proc = await serve("--demo", "--host", "0.0.0.0", "--port", "0", environ=env())
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert "refusing to listen on 0.0.0.0 without authentication" in lines[0]
    assert "AVIBOT_ACCESS_TOKEN" in lines[0]
    assert "--allow-remote" in lines[0]


async def test_demo_serves_the_api_in_command_mode() -> None:
    proc = await serve("--demo", "--port", "0", environ=env())
    assert proc.stdout is not None
    try:
        banner: list[str] = []
        while not any("auth:" in line for line in banner):
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "the server exited: " + "".join(banner)
            banner.append(line.decode())
        text = "".join(banner)
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", text)
        assert match, text
        assert "demo simulator" in text
        assert "command mode" in text
        assert "in-process" in text
        url = match.group(1)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(url, cookie_jar=jar) as http:
            async with http.get("/api/session") as resp:
                csrf = (await resp.json())["csrf_token"]
            body = {"message": "which pools have unhealthy servers?"}
            async with http.post("/api/chat", json=body, headers={"X-CSRF-Token": csrf}) as resp:
                assert resp.status == 200
                reply = await resp.json()
            async with http.get("/api/health") as resp:
                health = await resp.json()
        assert reply["mode"] == "command"
        table = next(p for p in reply["parts"] if p["kind"] == "table")
        assert table["rows"]
        assert health["status"] == "degraded"  # the controller answers, Ollama does not
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()


async def test_serve_mounts_slack_when_configured() -> None:
    """The real server process answers a signed `/avi` command at /slack/events via the Slack Web API."""
    import json
    import time
    from urllib.parse import urlencode

    from tests.support.fakes.slack_api import running_fake_slack, signed_headers

    secret = "serve-test-signing-secret"
    async with running_fake_slack() as slack:
        environ = env(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=secret, SLACK_API_URL=slack.api_url)
        proc = await serve("--demo", "--port", "0", environ=environ)
        assert proc.stdout is not None
        try:
            banner: list[str] = []
            while not any("slack:" in line for line in banner):
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                assert line, "the server exited: " + "".join(banner)
                banner.append(line.decode())
            text = "".join(banner)
            assert "slack: on (HTTP at /slack/events)" in text
            assert "xoxb-test" not in text
            url = re.search(r"serving on (http://127\.0\.0\.1:\d+)", text).group(1)  # type: ignore[union-attr]
            form = {
                "command": "/avi", "text": "vs list", "user_id": "U1", "user_name": "u1", "channel_id": "C1",
                "team_id": "T1", "response_url": slack.response_url(), "trigger_id": "t", "token": "legacy",
            }  # fmt: skip
            body = urlencode(form)
            headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(secret, body)}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{url}/slack/events", data=body.encode(), headers=headers) as resp:
                    assert resp.status == 200
                bad = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
                async with http.post(f"{url}/slack/events", data=body.encode(), headers=bad) as resp:
                    assert resp.status == 401
            deadline = time.monotonic() + 20
            while not slack.calls_to("chat.update") and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # the fake records calls; polling it is simplest
            posted = slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
            assert posted, [c.method for c in slack.calls]
            assert "virtual services" in json.dumps([c.args for c in posted])
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.communicate(), 30)


async def test_sigterm_is_bounded_and_tells_the_asker(tmp_path: object) -> None:
    """A hung model must not hold a shutdown: after the grace period the question waiting on it is
    answered with a message, and the process exits (a Kubernetes grace period is 30 s)."""
    from pathlib import Path

    from tests.support.fakes.ollama_server import Reply, running_fake_ollama

    config = Path(str(tmp_path)) / "config.yaml"
    config.write_text("agent:\n  shutdown_grace_seconds: 1\n")
    async with running_fake_ollama(responder=lambda body: Reply.say("too late", delay=60)) as fake:
        proc = await serve(
            "--demo", "--port", "0", "--config", str(config), environ=env(OLLAMA_HOST=fake.url)
        )
        assert proc.stdout is not None
        banner = ""
        while "auth:" not in banner:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, banner
            banner += line.decode()
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        assert "LLM" in banner
        async with aiohttp.ClientSession(match.group(1)) as http:
            asking = asyncio.create_task(http.post("/api/chat", json={"message": "how are things today?"}))
            await asyncio.sleep(1.0)  # the question waits on the hung model
            started = asyncio.get_running_loop().time()
            proc.terminate()
            resp = await asyncio.wait_for(asking, 15)
            reply = await resp.json()
            _, err = await asyncio.wait_for(proc.communicate(), 15)
            took = asyncio.get_running_loop().time() - started
    assert resp.status == 200
    assert "restarting" in reply["text"]
    assert proc.returncode == 0, err.decode()
    assert took < 10
