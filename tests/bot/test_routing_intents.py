"""The router ranks by intent: metrics before the object's own read, a write's verb first, the best tool
of each likely intent before neighbours; few tools a turn; a tool added to the catalogue is routed
by its name and description; the controller's names tell what a name is."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from bot.entities import NameTable
from bot.quality import Schemas
from bot.routing import ALWAYS_ON, GENERIC, select_tools
from bot.tools import build_catalogue
from bot.tools.base import Tool
from bot.types import Risk

CATALOGUE = build_catalogue()
TOOLS = CATALOGUE.all()


def routed(text: str, tools: list[Tool] | None = None, **kwargs: object) -> list[str]:
    return [t.name for t in select_tools(text, tools or TOOLS, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "requests per second on storefront",
        "p99 latency for vs-blog in the last hour",
        "how many errors did the intranet vip throw today",
        "is storefront slow",
        "bandwidth of pool blog-pool this week",
        "cpu of Avi-se-qwert over the past day",
        "storefront over the last 6 hours",  # a window alone, with a name
    ],
)
def test_metrics_rank_analytics_first_even_with_an_object_named(text: str) -> None:
    assert routed(text)[0] == "get_analytics"


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("turn storefront off", "disable_virtual_service"),
        ("could you re-enable vs-blog", "enable_virtual_service"),
        ("put 10.4.4.4 back in rotation in blog-pool", "enable_pool_server"),
        ("drain 10.4.4.4 from blog-pool", "disable_pool_server"),
        ("add 10.4.4.5 and 10.4.4.6 to blog-pool", "scale_out_pool"),
        ("remove 10.4.4.5 from blog-pool for good", "remove_pool_server"),
        ("fail storefront over to the standby engine", "switchover_virtual_service"),
        ("move vs-blog onto another se", "migrate_virtual_service"),
        ("spin up a virtual service blog2 on 10.9.9.1 port 80", "create_virtual_service"),
        ("get rid of vs-old", "delete_virtual_service"),
        ("set the interval of hm-blog to 10 seconds", "update_health_monitor"),
        ("create an https health check called hm-shop", "create_health_monitor"),
        ("delete monitor hm-old", "delete_health_monitor"),
    ],
)
def test_a_write_ranks_its_verbs_tool_first(text: str, first: str) -> None:
    assert routed(text)[0] == first


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("pause vs-blog", "disable_virtual_service"),
        ("suspend the storefront vip", "disable_virtual_service"),
        ("resume vs-blog", "enable_virtual_service"),
        ("retire vs old-blog", "delete_virtual_service"),
        ("throw away vs old-blog", "delete_virtual_service"),
        ("kick 10.4.4.4 out of blog-pool", "remove_pool_server"),
        ("append 10.4.4.5 to blog-pool", "add_pool_server"),
        ("bump the interval of hm-blog to 10 seconds", "update_health_monitor"),
    ],
)
def test_everyday_verbs_for_a_change_rank_its_tool_first(text: str, first: str) -> None:
    """Verbs the lexicon gained for the fallback (which never answers them) route the write too."""
    assert routed(text)[0] == first


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("is vs-blog up?", "get_virtual_service"),
        ("members of blog-prod-0101-pool", "get_pool"),
        ("what does hm-blog-https send", "get_health_monitor"),
        ("which vips are down", "list_unhealthy_virtual_services"),
        ("any backends failing", "list_unhealthy_servers"),
        ("certificates expiring in 20 days", "list_certificates"),
        ("who changed storefront yesterday", "list_events"),
        ("list the clouds", "list_objects"),
        ("show me all pools", "list_pools"),
    ],
)
def test_a_read_ranks_its_intents_tool_first(text: str, first: str) -> None:
    assert routed(text)[0] == first


def test_the_likely_intents_are_all_covered() -> None:
    both = routed("storefront latency, and is it up?")
    assert {"get_analytics", "get_virtual_service"} <= set(both)
    events_or_metrics = routed("what happened to storefront traffic in the last hour")
    assert {"list_events", "get_analytics"} <= set(events_or_metrics)
    write_and_read = routed("disable vs-blog if it is down")
    assert write_and_read[0] == "disable_virtual_service"
    assert "get_virtual_service" in write_and_read


QUESTIONS = [
    "is vs-blog up?", "latency of storefront today", "which pools are down", "list service engines",
    "drain 10.4.4.4 from blog-pool", "show tenant marketing", "who disabled storefront",
    "any expired certs", "what kinds of objects can I see", "write me a poem",
]  # fmt: skip


def test_few_tools_a_turn() -> None:
    schemas = Schemas()
    everything = schemas.chars(TOOLS)
    shares = [schemas.chars(select_tools(q, TOOLS)) / everything for q in QUESTIONS]
    assert statistics.fmean(shares) <= 0.25, shares
    for q in QUESTIONS:
        assert len(routed(q)) <= 8 + len(ALWAYS_ON) + len(GENERIC)
        assert len(routed(q, limit=3)) <= 3 + len(ALWAYS_ON) + len(GENERIC)


def test_the_generic_tools_come_when_unsure_or_asked_for() -> None:
    assert not set(GENERIC) & set(routed("is vs-blog up?"))
    assert set(GENERIC) <= set(routed("show tenant marketing"))
    assert set(GENERIC) <= set(routed("write me a poem about load balancers"))


def test_a_new_tool_is_routed_by_its_name_and_description() -> None:
    base = CATALOGUE.get("delete_virtual_service")
    assert base is not None
    licence = replace(
        base,
        name="get_license_usage",
        description="Licensing: how many service engine cores are licensed and in use, and until when.",
        risk=Risk.READ,
        topics=frozenset({"license", "licence", "cores"}),
    )
    retire = replace(
        base, name="delete_service_engine", description="Delete a service engine. Needs confirmation."
    )
    tools = [*TOOLS, licence, retire]
    assert routed("how many license cores are in use", tools)[0] == "get_license_usage"
    assert routed("delete se Avi-se-qwert", tools)[0] == "delete_service_engine"  # `<verb>_<noun>`


def test_the_controllers_names_tell_the_router_what_a_name_is() -> None:
    names = NameTable.build({"vs": [], "pool": ["ledger"], "se": [], "hm": []})
    assert routed("how is ledger", names=names)[0] == "get_pool"
    assert routed("how is ledger")[0] == "get_virtual_service"  # without them: a virtual service, likeliest


def test_a_viewer_is_offered_reads_only() -> None:
    reads = [t for t in TOOLS if t.risk is Risk.READ]
    chosen = routed("drain 10.4.4.4 from blog-pool", reads)
    assert chosen
    assert all(CATALOGUE.get(name).risk is Risk.READ for name in chosen)  # type: ignore[union-attr]
    assert "get_pool" in chosen
