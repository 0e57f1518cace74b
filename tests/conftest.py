"""Shared fixtures: a real simulator on a real loopback port, started inside the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from avisim import SimulatorConfig, SimulatorState, create_app, get_state

pytest_plugins = ["tests.support.redis_server"]


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test keeps the embedded store's file (`avibot serve` without Redis) in a directory of its
    own, never in the working tree (AVIBOT_STATE_DIR; subprocesses inherit it)."""
    monkeypatch.setenv("AVIBOT_STATE_DIR", str(tmp_path_factory.mktemp("state") / "avibot"))


SIM_USERNAME = "admin"
SIM_PASSWORD = "sim-Passw0rd!"
# Small but with every kind of object; tests that need more pass objects=.
SIM_DEFAULTS: dict[str, Any] = {
    "username": SIM_USERNAME,
    "password": SIM_PASSWORD,
    "objects": 40,
    "seed": 7,
}


@dataclass
class RunningSim:
    """A simulator serving on 127.0.0.1 over real HTTP."""

    url: str
    config: SimulatorConfig
    app: web.Application

    @property
    def state(self) -> SimulatorState:
        return get_state(self.app)


StartSim = Callable[..., Awaitable[RunningSim]]


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Factory: `await start_sim(objects=1200, session_timeout=1)` starts one more simulator."""
    runners: list[web.AppRunner] = []

    async def _start(**overrides: Any) -> RunningSim:
        config = SimulatorConfig(**{**SIM_DEFAULTS, **overrides})
        app = create_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return RunningSim(url=f"http://127.0.0.1:{port}", config=config, app=app)

    yield _start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def sim(start_sim: StartSim) -> RunningSim:
    """The default small simulator."""
    return await start_sim()


def ops_for(sim: RunningSim, **settings_: Any) -> AviOperations:
    """Operations over a fresh client logged in to `sim` as the test user (backoff kept short)."""
    settings = AviSettings(host=sim.url, username=SIM_USERNAME, password=SIM_PASSWORD, **settings_)
    return AviOperations(AviClient(settings, retry_backoff=0.01))


@pytest.fixture
async def ops(sim: RunningSim) -> AsyncIterator[AviOperations]:
    """Operations on the default simulator."""
    ops = ops_for(sim)
    yield ops
    await ops.client.aclose()
