"""The official Avi SDK (avisdk, unmodified) drives the simulator over real HTTP.

The SDK installs a top-level package named `avi`, like ours, so it lives in its own folder
(`make sdk` puts it in .cache/avisdk) and runs in a subprocess whose PYTHONPATH holds only
that folder. The simulator runs in this test's event loop, so the subprocess is awaited
asynchronously while the loop serves it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SIM_PASSWORD, SIM_USERNAME, StartSim

ROOT = Path(__file__).resolve().parents[2]
SDK_PATH = Path(os.environ.get("AVIBOT_SDK_PATH", ROOT / ".cache" / "avisdk"))
SCENARIO = Path(__file__).resolve().parent / "sdk" / "scenario.py"


async def run_sdk(url: str, password: str = SIM_PASSWORD) -> dict:
    if not (SDK_PATH / "avi" / "sdk" / "avi_api.py").is_file():
        pytest.fail(f"the official SDK is not installed in {SDK_PATH}: run `make sdk` (make test does)")
    port = url.rsplit(":", 1)[1]
    env = {"PYTHONPATH": str(SDK_PATH), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-S", str(SCENARIO), url, port, SIM_USERNAME, password,
        env=env, cwd=str(SDK_PATH), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, f"SDK scenario failed:\n{stderr.decode()[-4000:]}"
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def test_official_sdk_uses_simulator_unmodified(start_sim: StartSim) -> None:
    sim = await start_sim(objects=230)
    out = await run_sdk(sim.url)

    assert str(SDK_PATH) in out["sdk_module"], "the SDK's own `avi` package must be the one imported"
    assert out["remote_version"] == sim.config.version
    assert out["get_status"] == 200
    assert out["all_tenants_count"] == 230  # every seeded virtual service, over both tenants
    assert 200 < out["get_count"] < 230  # the admin tenant's share: more than two SDK pages of 100
    assert out["get_page_len"] == 25
    assert out["get_has_next"] is True
    assert out["by_name_uuid_matches"] is True
    assert out["by_name_missing_is_none"] is True
    assert out["iter_total"] == out["get_count"]
    assert out["iter_unique"] == out["get_count"]
    assert out["post_status"] == 201
    assert out["post_url_has_name"] is True
    assert out["post_default_lb"] == "LB_ALGORITHM_LEAST_CONNECTIONS"
    assert out["put_status"] == 200
    assert out["put_port"] == 8443
    assert out["patch_status"] == 200
    assert out["patch_servers"] == ["10.9.9.1", "10.9.9.2"]
    assert out["force_uuid"] == "pool-sdk-forced-1"
    assert out["delete_status"] == 204
    assert out["delete_body"] == ""
    assert out["get_deleted_status"] == 404
    assert out["delete_by_name_status"] == 204
    assert out["tenant_admin_sees"] == 0
    assert out["tenant_other_sees"] == 1
    assert out["after_expiry_status"] == 200
    assert out["after_expiry_logins"] == 1
    assert out["after_switch_status"] == 200
    assert out["after_switch_logins"] == 1
    assert out["version_echo"] == "22.1.3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until_serving(url: str, proc: asyncio.subprocess.Process, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                pytest.fail(f"avibot sim exited with status {proc.returncode}")
            try:
                if (await http.get(f"{url}/api/initial-data", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"avibot sim did not answer within {seconds} s")


async def test_official_sdk_uses_avibot_sim_with_5000_objects() -> None:
    """The command a user runs, `avibot sim --objects 5000`, in its own process, driven by the SDK."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "sim", "--port", str(port), "--objects", "5000",
        "--username", SIM_USERNAME, "--password", "cli-Passw0rd",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_until_serving(url, proc, 120)
        out = await run_sdk(url, password="cli-Passw0rd")
    finally:
        proc.terminate()
        await proc.wait()
    assert out["all_tenants_count"] == 5000
    assert out["iter_total"] == out["get_count"]
    assert out["iter_unique"] == out["get_count"]
    assert out["get_page_len"] == 25
    assert out["post_status"] == 201
    assert out["delete_status"] == 204
    assert out["after_expiry_status"] == 200
    assert out["after_expiry_logins"] == 1
    assert out["after_switch_status"] == 200
