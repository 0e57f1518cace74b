"""Shared reads against the simulator over real HTTP: a hundred people asking "which pools have
unhealthy servers?" at once cost the controller what one does, every write is seen by the next read,
and no caller can spoil another's answer by editing it."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from avi.client import AviClient
from avi.errors import AviNotFoundError
from avi.operations import AviOperations
from avi.read_share import RawAnswer, ReadShare, read_key
from avi.settings import AviSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.tools_helpers import call


def ops_with_cache(sim: RunningSim, seconds: float) -> AviOperations:
    settings = AviSettings(host=sim.url, username=SIM_USERNAME, password=SIM_PASSWORD, cache_seconds=seconds)
    return AviOperations(AviClient(settings, retry_backoff=0.01))


@pytest.fixture(autouse=True)
def _cache_setting_from_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AVI_CACHE_SECONDS", raising=False)  # the environment would win over the test's


async def requests_for(sim: RunningSim, ops: AviOperations, askers: int) -> tuple[int, list[str]]:
    await ops.client.login()
    before = sim.state.stats.requests
    results = await asyncio.gather(*(call(ops, "list_unhealthy_pools") for _ in range(askers)))
    return sim.state.stats.requests - before, [json.dumps(r.data, sort_keys=True) for r in results]


async def test_a_hundred_askers_cost_what_one_does(sim: RunningSim) -> None:
    one_ops, many_ops = ops_with_cache(sim, 5), ops_with_cache(sim, 5)
    one, [answer] = await requests_for(sim, one_ops, 1)
    many, answers = await requests_for(sim, many_ops, 100)
    assert one >= 1
    assert many <= 2 * one, (one, many)
    assert set(answers) == {answer}  # the same answer for everyone
    assert many_ops.client.reads.shared >= 99 * one
    for ops in (one_ops, many_ops):
        await ops.client.aclose()


async def test_without_the_cache_every_asker_reads(sim: RunningSim) -> None:
    one_ops, many_ops = ops_with_cache(sim, 0), ops_with_cache(sim, 0)
    one, _ = await requests_for(sim, one_ops, 1)
    many, _ = await requests_for(sim, many_ops, 20)
    assert many == 20 * one
    for ops in (one_ops, many_ops):
        await ops.client.aclose()


async def test_a_write_is_seen_by_the_next_read(sim: RunningSim) -> None:
    ops = ops_with_cache(sim, 60)
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    assert (await ops.virtualservices.get(vs.name)).enabled is True  # kept for a minute now
    await ops.virtualservices.disable(vs.name)
    assert (await ops.virtualservices.get(vs.name)).enabled is False
    listed = {v.name: v.enabled for v in await ops.virtualservices.list()}
    assert listed[vs.name] is False  # another type of read (the inventory) is dropped too
    await ops.client.aclose()


async def test_a_caller_editing_its_answer_spoils_nobody_elses(sim: RunningSim) -> None:
    ops = ops_with_cache(sim, 60)
    first, second = await asyncio.gather(ops.client.get("/api/pool"), ops.client.get("/api/pool"))
    first["results"].clear()
    third = await ops.client.get("/api/pool")
    assert second["results"]
    assert third["results"] == second["results"]
    await ops.client.aclose()


async def test_errors_are_shared_by_those_waiting_but_never_kept(sim: RunningSim) -> None:
    ops = ops_with_cache(sim, 60)
    path = "/api/pool/pool-00000000-0000-4000-8000-000000000000"
    outcomes = await asyncio.gather(*(ops.client.get(path) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(o, AviNotFoundError) for o in outcomes)
    before = sim.state.stats.requests
    with pytest.raises(AviNotFoundError):
        await ops.client.get(path)
    assert sim.state.stats.requests == before + 1  # asked again: an error is not kept
    await ops.client.aclose()


# -- the share alone -------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_kept_answers_expire_and_a_cancelled_caller_leaves_the_others_theirs() -> None:
    clock = Clock()
    share = ReadShare(5, clock=clock)
    key = read_key("admin", "/api/pool", None)
    fetched = 0
    gate = asyncio.Event()

    async def fetch() -> RawAnswer:
        nonlocal fetched
        fetched += 1
        await gate.wait()
        return RawAnswer(200, b"{}", httpx.Headers())

    leader = asyncio.ensure_future(share.read(key, fetch))
    follower = asyncio.ensure_future(share.read(key, fetch))
    await asyncio.sleep(0)
    leader.cancel()
    gate.set()
    assert (await follower).status == 200
    assert fetched == 1
    await share.read(key, fetch)
    assert fetched == 1  # kept
    clock.now = 5.1
    await share.read(key, fetch)
    assert fetched == 2  # expired, read again


async def test_a_read_in_flight_during_a_write_is_not_kept() -> None:
    share = ReadShare(60)
    key = read_key("admin", "/api/pool", None)
    gate = asyncio.Event()
    fetched = 0

    async def fetch() -> RawAnswer:
        nonlocal fetched
        fetched += 1
        await gate.wait()
        return RawAnswer(200, b"{}", httpx.Headers())

    before_write = asyncio.ensure_future(share.read(key, fetch))
    await asyncio.sleep(0)
    share.invalidate()  # a write went out meanwhile
    after_write = asyncio.ensure_future(share.read(key, fetch))  # does not join the older read
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(before_write, after_write)
    assert fetched == 2
    await share.read(key, fetch)
    assert fetched == 2  # the read that started after the write was kept
