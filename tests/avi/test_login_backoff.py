"""A wrong password must not lock the controller account for everyone: after a refused login the
client makes no new attempt for a growing backoff, answers at once with the cause, and a probe
(`reachable`, `login_state`) never logs in. Against the simulator, which locks like the controller."""

from __future__ import annotations

import asyncio

import pytest

from avi.client import AviClient
from avi.errors import AviAuthError
from avi.settings import AviSettings
from tests.conftest import SIM_USERNAME, StartSim


async def test_three_questions_with_a_wrong_password_cost_one_login(start_sim: StartSim) -> None:
    sim = await start_sim(lockout_failures=3)
    client = AviClient(AviSettings(host=sim.url, username=SIM_USERNAME, password="wrong"), retry_backoff=0.01)
    try:
        for _ in range(3):
            with pytest.raises(AviAuthError) as refused:
                await client.get("/api/pool")
        assert client.stats.logins == 1
        assert "not retrying for" in refused.value.message
        state = client.login_state
        assert state.status == "failed"
        assert 0 < state.retry_in_seconds <= 30
        assert not sim.state.auth.locked_until  # the account is not locked for the others
    finally:
        await client.aclose()


async def test_the_backoff_grows_and_a_good_login_resets_it(start_sim: StartSim) -> None:
    sim = await start_sim(lockout_failures=0)
    settings = AviSettings(host=sim.url, username=SIM_USERNAME, password="wrong")
    client = AviClient(settings, retry_backoff=0.01, login_backoff=(0.2, 0.3))
    try:
        with pytest.raises(AviAuthError):
            await client.login()
        first = client.login_state.retry_in_seconds
        await asyncio.sleep(0.25)
        with pytest.raises(AviAuthError):
            await client.login()  # the backoff ended: one more real attempt
        assert client.stats.logins == 2
        assert client.login_state.retry_in_seconds > first  # 0.2 s, then 0.3 s (the maximum)
        await asyncio.sleep(0.35)
        client._settings = AviSettings(host=sim.url, username=SIM_USERNAME, password=sim.config.password)
        await client.login()
        assert client.login_state.status == "ok"
    finally:
        await client.aclose()


async def test_probes_never_log_in(start_sim: StartSim) -> None:
    sim = await start_sim()
    client = AviClient(AviSettings(host=sim.url, username=SIM_USERNAME, password="wrong"), retry_backoff=0.01)
    try:
        assert await client.reachable()
        assert client.login_state.status == "none"
        assert client.stats.logins == 0
    finally:
        await client.aclose()
    dead = AviClient(AviSettings(host="http://127.0.0.1:9", username="x", password="y"), retry_backoff=0.01)
    try:
        assert not await dead.reachable()
    finally:
        await dead.aclose()
