"""Health scans over shared reads: concurrent identical scans decode and parse each inventory page once,
every report is the caller's own to edit, and a write is still seen by the next scan."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import avi.collections
from avi.errors import AviError
from avi.operations import AviOperations
from avi.operations._common import pool_summary_from_inventory
from avi.read_share import RawAnswer
from tests.conftest import RunningSim, ops_for

SCAN = {"include": "health_score,runtime", "include_name": True}


@pytest.fixture(autouse=True)
def _cache_setting_from_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AVI_CACHE_SECONDS", raising=False)  # the environment would win over the test's


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the bodies the collection reads decode."""
    seen: list[int] = []
    decode = avi.collections.decode_body

    def counted(content: bytes) -> Any:
        seen.append(len(content))
        return decode(content)

    monkeypatch.setattr(avi.collections, "decode_body", counted)
    return seen


async def test_concurrent_scans_decode_each_page_once(sim: RunningSim, decodes: list[int]) -> None:
    ops = ops_for(sim, cache_seconds=5)
    reports = await asyncio.gather(*(ops.health.unhealthy_pools() for _ in range(50)))
    assert len(decodes) == 1
    assert reports[0].pools
    assert all(r.model_dump() == reports[0].model_dump() for r in reports)
    await ops.health.unhealthy_pools()  # kept: still no second decode
    assert len(decodes) == 1
    await ops.client.aclose()


async def test_without_the_cache_every_scan_decodes(sim: RunningSim, decodes: list[int]) -> None:
    ops = ops_for(sim, cache_seconds=0)
    await asyncio.gather(*(ops.health.unhealthy_pools() for _ in range(5)))
    assert len(decodes) == 5
    await ops.client.aclose()


async def test_shared_scans_answer_what_a_fresh_read_does(sim: RunningSim) -> None:
    shared, fresh = ops_for(sim, cache_seconds=60), ops_for(sim, cache_seconds=0)
    for ops in (shared, fresh):
        await ops.health.unhealthy_pools()  # a first scan fills the share
    cost = {"requests"}  # a kept answer costs no request
    pools = [(await ops.health.unhealthy_pools()).model_dump(exclude=cost) for ops in (shared, fresh)]
    vses = [
        (await ops.health.unhealthy_virtual_services()).model_dump(exclude=cost) for ops in (shared, fresh)
    ]
    down = [(await ops.health.pools_with_servers_down()).model_dump(exclude=cost) for ops in (shared, fresh)]
    assert pools[0] == pools[1]
    assert vses[0] == vses[1]
    assert down[0] == down[1]
    for ops in (shared, fresh):
        await ops.client.aclose()


async def test_editing_a_report_spoils_nobody_elses(sim: RunningSim) -> None:
    ops = ops_for(sim, cache_seconds=60)
    first, second = await asyncio.gather(ops.health.unhealthy_pools(), ops.health.unhealthy_pools())
    before = second.model_dump(exclude={"requests"})
    for pool in first.pools:
        pool.name = "spoiled"
        pool.num_servers_up = 999
        pool.oper_status.state = "SPOILED"
        pool.oper_status.reason.append("spoiled")
        pool.virtualservices.append("spoiled")
    first.pools.clear()
    third = await ops.health.unhealthy_pools()
    down = await ops.health.pools_with_servers_down()
    assert second.model_dump(exclude={"requests"}) == before
    assert third.model_dump(exclude={"requests"}) == before
    assert "spoiled" not in str(down.model_dump()).lower()
    vs_first, vs_second = await asyncio.gather(
        ops.health.unhealthy_virtual_services(), ops.health.unhealthy_virtual_services()
    )
    vs_before = vs_second.model_dump(exclude={"requests"})
    for vs in vs_first.virtualservices:
        vs.vips.append("203.0.113.66")
        vs.oper_status.reason.append("spoiled")
    assert (await ops.health.unhealthy_virtual_services()).model_dump(exclude={"requests"}) == vs_before
    await ops.client.aclose()


async def test_a_write_is_seen_by_the_next_scan(sim: RunningSim) -> None:
    ops = ops_for(sim, cache_seconds=60)
    found = (await ops.health.unhealthy_virtual_services()).virtualservices
    assert found
    await ops.virtualservices.disable(found[0].name)  # a disabled service is not unhealthy
    after = (await ops.health.unhealthy_virtual_services()).virtualservices
    assert found[0].name not in [v.name for v in after]
    await ops.client.aclose()


async def test_map_pages_follows_next_links_like_list_all(sim: RunningSim, decodes: list[int]) -> None:
    ops: AviOperations = ops_for(sim, cache_seconds=60)
    items = await ops.client.list_all("pool-inventory", params=SCAN, page_size=7)
    decodes.clear()
    parsed = await ops.client.map_pages(
        "pool-inventory", pool_summary_from_inventory, params=SCAN, page_size=7
    )
    pages = len(decodes)
    assert pages == -(-len(items) // 7) > 1
    assert [p.model_dump() for p in parsed] == [pool_summary_from_inventory(i).model_dump() for i in items]
    again = await ops.client.map_pages(
        "pool-inventory", pool_summary_from_inventory, params=SCAN, page_size=7
    )
    assert len(decodes) == pages  # every page was kept, parsed
    assert [id(p) for p in again] == [id(p) for p in parsed]  # shared: read-only for the callers
    await ops.client.aclose()


def test_a_page_that_is_not_a_collection_fails() -> None:
    with pytest.raises(AviError, match="expected a collection at /api/x"):
        avi.collections._parsed(b"[1, 2]", pool_summary_from_inventory, "/api/x")


def test_an_answer_derives_each_value_once_per_key() -> None:
    answer = RawAnswer(200, b'{"a": 1}', httpx.Headers())
    made: list[str] = []

    def make(tag: str) -> Any:
        def inner(content: bytes) -> Any:
            made.append(tag)
            return (tag, content)

        return inner

    first = answer.derive("one", make("one"))
    assert answer.derive("one", make("other")) is first  # the key decides, not the function
    assert answer.derive("two", make("two")) == ("two", b'{"a": 1}')
    assert made == ["one", "two"]
    assert RawAnswer(200, b'{"a": 1}', httpx.Headers()) == answer  # what was derived is no part of equality
