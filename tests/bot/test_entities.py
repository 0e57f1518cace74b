"""Entity linking: the controller's object names, built from one page-walk per type against the real
simulator, kept per tenant, refreshed, small at 10,000 objects, and recognised in questions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import pytest

from avi.client_types import RequestEvent
from avi.operations import AviOperations
from bot.commands.reading import read_sentence
from bot.entities import PAGE_SIZE, EntityIndex, NameTable, indexed_kinds
from tests.conftest import RunningSim, StartSim, ops_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def count_gets(ops: AviOperations) -> Counter[str]:
    """GET requests by collection (`/api/pool?page=2` counts for `pool`), from now on."""
    seen: Counter[str] = Counter()

    def observe(event: RequestEvent) -> None:
        if event.method == "GET" and event.path.startswith("/api/"):
            seen[event.path.removeprefix("/api/").split("?")[0].split("/")[0]] += 1

    ops.client.observers.append(observe)
    return seen


async def collection_sizes(ops: AviOperations, tenant: str | None = None) -> dict[str, int]:
    sizes = {}
    for obj_type in indexed_kinds():
        body = await ops.client.get(obj_type, params={"page_size": 1}, tenant=tenant)
        sizes[obj_type] = body["count"]
    return sizes


TABLE = NameTable.build(
    {
        "vs": ["checkout", "web-prod-01", "Billing-API"],
        "pool": ["checkout-pool", "web-prod-01-pool", "payments-prod-pool", "payments-stage-pool"],
        "se": ["Avi-se-kqzpt"],
        "hm": ["hm-web-https", "System-HTTP"],
    }
)


# -- the table -------------------------------------------------------------------------------------


def test_exact_names_are_found_in_any_case_with_their_kind_and_spelling() -> None:
    assert TABLE.kinds_of("checkout") == [("vs", "checkout")]
    assert TABLE.kinds_of("billing-api") == [("vs", "Billing-API")]
    assert TABLE.kinds_of("system-http") == [("hm", "System-HTTP")]
    assert TABLE.kinds_of("nothing-here") == []
    both = NameTable.build({"vs": ["shop"], "pool": ["shop"]})
    assert both.kinds_of("SHOP") == [("vs", "shop"), ("pool", "shop")]


def test_close_names_prefer_the_word_with_a_kind_suffix_then_longer_names_then_spellings() -> None:
    assert TABLE.close("checkout", "pool") == [("pool", "checkout-pool")]
    assert [n for _, n in TABLE.close("payments", "pool")] == ["payments-prod-pool", "payments-stage-pool"]
    assert TABLE.close("chekout-pool", "pool") == [("pool", "checkout-pool")]  # a typo
    assert TABLE.close("hm-web-http", "hm") == [("hm", "hm-web-https")]
    assert TABLE.close("zebra") == []
    assert ("vs", "checkout") not in TABLE.close("checkout")  # the name itself is not "close"


def test_a_known_name_tells_the_reading_its_kind() -> None:
    r = read_sentence("is payments-stage-pool ok", TABLE)
    assert r.name is not None
    assert (r.name.name, r.name.kind, r.name.known) == ("payments-stage-pool", "pool", True)
    r = read_sentence("how is BILLING-api", TABLE)
    assert r.name is not None
    assert (r.name.name, r.name.kind) == ("Billing-API", "vs")


# -- against the simulator --------------------------------------------------------------------------


async def test_one_page_walk_per_type_builds_the_index(ops: AviOperations) -> None:
    sizes = await collection_sizes(ops)
    gets = count_gets(ops)
    index = EntityIndex(ops, controller="sim")
    table = await index.names(None)
    assert table is not None
    assert dict(gets) == {t: math.ceil(n / PAGE_SIZE) for t, n in sizes.items()}
    vs_names = {vs.name for vs in await ops.virtualservices.list()}
    assert set(table.by_kind["vs"]) == vs_names
    assert len(table) == sum(sizes.values())


async def test_refreshed_when_stale_in_the_background_and_on_demand(ops: AviOperations) -> None:
    clock = Clock()
    index = EntityIndex(ops, refresh_seconds=60, retry_seconds=10, clock=clock)
    first = await index.names(None)
    gets = count_gets(ops)
    assert await index.names(None) is first
    assert not gets
    clock.now += 61
    assert await index.names(None) is first  # stale: answered at once ...
    await index.settle()
    second = index.cached(None)
    assert second is not first
    assert index.builds == 2
    gets.clear()
    clock.now += 5
    assert await index.refresh_after_miss(None) is second
    assert not gets
    clock.now += 10
    assert await index.refresh_after_miss(None) is not second
    await index.refresh(None)
    assert index.builds == 4
    index.invalidate()
    assert index.cached(None) is None


async def test_a_new_object_is_found_after_a_miss(ops: AviOperations) -> None:
    clock = Clock()
    index = EntityIndex(ops, clock=clock)
    await index.names(None)
    await ops.client.post("pool", {"name": "fresh-entity-pool"})
    assert index.cached(None).kinds_of("fresh-entity-pool") == []  # type: ignore[union-attr]
    clock.now += 11
    table = await index.refresh_after_miss(None)
    assert table is not None
    assert table.kinds_of("fresh-entity-pool") == [("pool", "fresh-entity-pool")]


async def test_each_tenant_has_its_own_names(ops: AviOperations) -> None:
    index = EntityIndex(ops)
    admin, finance = await index.names(None), await index.names("finance")
    assert admin is not None
    assert finance is not None
    sizes = await collection_sizes(ops, "finance")
    assert len(finance) == sum(sizes.values()) < len(admin)
    assert index.cached("finance") is finance
    assert index.cached(None) is admin


async def test_a_controller_that_cannot_be_read_leaves_the_last_names(
    start_sim: StartSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim: RunningSim = await start_sim()
    ops = ops_for(sim)
    try:
        clock = Clock()
        index = EntityIndex(ops, clock=clock)
        table = await index.names(None)
        failing: Callable[..., object] = _raise
        monkeypatch.setattr(ops.client, "list_all", failing)
        clock.now += 61
        assert await index.names(None) is table
        await index.settle()
        assert index.cached(None) is table  # the rebuild failed: the last names stay
        assert await EntityIndex(ops).names(None) is None  # never built: nothing to offer
    finally:
        await ops.client.aclose()


async def _raise(*args: object, **kwargs: object) -> object:
    raise ConnectionError("controller unreachable")


async def test_ten_thousand_objects_stay_small_and_cost_one_page_walk_per_type(start_sim: StartSim) -> None:
    sim = await start_sim(objects=10000)
    ops = ops_for(sim)
    try:
        sizes = await collection_sizes(ops)
        gets = count_gets(ops)
        table = await EntityIndex(ops).refresh(None)
        assert dict(gets) == {t: math.ceil(n / PAGE_SIZE) for t, n in sizes.items()}
        assert len(table) == sum(sizes.values()) > 10000
        assert table.size_bytes() < 2_500_000, table.size_bytes()  # 18,052 names: about 1.8 MB
        assert table.close("checkout-prod-001-pool", "pool")  # still answers close names
    finally:
        await ops.client.aclose()
