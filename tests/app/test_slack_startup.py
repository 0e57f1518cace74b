"""`avibot serve` refuses to start Slack with an empty token or secret: one line on stderr naming the
variable (never its value), exit status 2, and never "slack: on". A real process, as a user runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9"
SECRET = "serve-test-signing-secret-value"


def environ(home: Path, **slack: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "AVIBOT_STATE_DIR": str(home / "state"),
        "OLLAMA_HOST": CLOSED,
        **slack,
    }


async def serve(home: Path, env: dict[str, str]) -> tuple[int | None, str, str]:
    """Run `avibot serve --demo`; (exit status, stdout, stderr), or None when it kept serving."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--demo", "--port", "0",
        cwd=home, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        return proc.returncode, out.decode(), err.decode()
    except TimeoutError:
        proc.terminate()
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        return None, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("variable", "slack"),
    [
        ("SLACK_SIGNING_SECRET", {"SLACK_BOT_TOKEN": "xoxb-serve-test", "SLACK_SIGNING_SECRET": ""}),
        ("SLACK_SIGNING_SECRET", {"SLACK_BOT_TOKEN": "xoxb-serve-test", "SLACK_SIGNING_SECRET": "  "}),
        ("SLACK_BOT_TOKEN", {"SLACK_BOT_TOKEN": " ", "SLACK_SIGNING_SECRET": SECRET}),
        ("SLACK_APP_TOKEN", {"SLACK_BOT_TOKEN": "xoxb-serve-test", "SLACK_APP_TOKEN": ""}),
    ],
    ids=["empty-secret", "blank-secret", "blank-bot-token", "empty-app-token"],
)
async def test_an_empty_slack_setting_stops_serve_with_one_line(
    tmp_path: Path, variable: str, slack: dict[str, str]
) -> None:
    status, out, err = await serve(tmp_path, environ(tmp_path, **slack))
    assert status == 2, f"kept serving or failed otherwise ({status}):\n{out}\n{err}"
    assert "slack: on" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert variable in lines[0]
    assert "empty" in lines[0]
    assert "Traceback" not in err
    assert SECRET not in out + err
    assert "xoxb-serve-test" not in out + err
