"""`avibot serve` (and `avibot audit`) as a person runs them: real processes, with their own environment."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import SIM_PASSWORD, SIM_USERNAME

START_SECONDS = 60.0  # only so that a server that never starts fails the test instead of hanging it


def environment(avi_url: str, **extra: str) -> dict[str, str]:
    """Nothing from the developer's shell but PATH and HOME; the controller, no Ollama, no Redis."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return {
        **base,
        "AVI_HOST": avi_url,
        "AVI_USERNAME": SIM_USERNAME,
        "AVI_PASSWORD": SIM_PASSWORD,
        "OLLAMA_HOST": "http://127.0.0.1:9",
        **extra,
    }


def write_config(path: Path, text: str = "") -> Path:
    """A config file in which the anonymous local web user may confirm writes."""
    path.write_text('access:\n  users:\n    "web:local": operator\n' + text)
    return path


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    url: str
    banner: str
    stderr: list[str] = field(default_factory=list)

    async def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, as when the node or the OOM killer takes it. Waits for the
        exit through asyncio (a second reaper, such as `terminate()`'s poll, would race its watcher)."""
        self.proc.kill()
        await asyncio.wait_for(self.proc.wait(), START_SECONDS)

    async def stop(self) -> str:
        """SIGTERM, then the rest of its stderr (bounded)."""
        if self.proc.returncode is None:
            self.proc.terminate()
        _, err = await asyncio.wait_for(self.proc.communicate(), START_SECONDS)
        return err.decode(errors="replace")


async def serve(environ: dict[str, str], config: Path) -> Served:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--port", "0", "--config", str(config),
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = ""
    try:
        while "auth:" not in banner:
            line = await asyncio.wait_for(proc.stdout.readline(), START_SECONDS)
            if not line:
                _, err = await asyncio.wait_for(proc.communicate(), START_SECONDS)
                raise AssertionError(f"avibot serve exited: {banner}{err.decode(errors='replace')}")
            banner += line.decode()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", banner)
    assert match, banner
    return Served(proc=proc, url=match.group(1), banner=banner)


async def audit_entries(environ: dict[str, str], config: Path) -> list[dict[str, Any]]:
    """`avibot audit --json` against the same store: every entry, oldest first."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "audit", "--json", "--config", str(config),
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), START_SECONDS)
    assert proc.returncode == 0, err.decode(errors="replace")
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]
