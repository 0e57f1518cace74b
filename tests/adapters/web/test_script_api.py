"""A script talks to a real `avibot serve --demo` process with plain JSON: no cookie, no CSRF token.

And the guard's refusals hold for that process too: another Host gets 421, another Origin 403.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

AVIBOT = Path(sys.executable).with_name("avibot")
CLOSED = "http://127.0.0.1:9"


@pytest.fixture
async def demo_url(tmp_path: Path) -> AsyncIterator[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "OLLAMA_HOST": CLOSED}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    proc = await asyncio.create_subprocess_exec(
        str(AVIBOT), "serve", "--demo", "--port", "0", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        banner = ""
        while "auth:" not in banner:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "the server exited: " + banner
            banner += line.decode()
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        yield match.group(1)
    finally:
        proc.terminate()
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert "Traceback" not in err.decode(), err.decode()


async def test_plain_json_client_gets_an_answer(demo_url: str) -> None:
    async with httpx.AsyncClient(base_url=demo_url, timeout=30) as http:
        resp = await http.post("/api/chat", json={"message": "vs list"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["mode"] == "command"
        assert "set-cookie" not in resp.headers
        again = await http.post("/api/chat", json={"message": "pool list"})  # the client keeps cookies
        assert again.status_code == 200
        evil = await http.post(
            "/api/chat", json={"message": "vs list"}, headers={"Host": "evil.example:8080"}
        )
        assert evil.status_code == 421
        cross = await http.post(
            "/api/chat", json={"message": "vs list"}, headers={"Origin": "http://evil.example"}
        )
        assert cross.status_code == 403
        form = await http.post("/api/chat", data={"message": "vs list"})  # a form any page could send
        assert form.status_code == 403


async def test_curl_gets_an_answer(demo_url: str) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    proc = await asyncio.create_subprocess_exec(
        curl, "-s", "-w", "\n%{http_code}", "-X", "POST", f"{demo_url}/api/chat",
        "-H", "Content-Type: application/json", "-d", '{"message":"vs list"}',
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _err = await asyncio.wait_for(proc.communicate(), 60)
    body, _, status = out.decode().rpartition("\n")
    assert status == "200", body
    assert json.loads(body)["parts"]
