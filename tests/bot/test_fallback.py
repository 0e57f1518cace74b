"""The plain-English fallback: most read questions answered with no model (the router's best read,
linked names, parsed windows), writes and diagnoses never guessed, and otherwise a short "did you
mean" with commands that work; through the agent, against the simulator, with the controller's names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.commands import CoreCommand, ToolCommand, parse_command
from bot.commands.plain import looks_like_prose, match_plain_english, plain_fallback
from bot.entities import EntityIndex, NameTable
from bot.types import ErrorPart
from tests.support.agent_env import MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


VS, POOL, SE = "virtualservice", "pool", "serviceengine"

ANSWERED: list[tuple[str, str, dict[str, Any]]] = [
    # listings, with their filters
    ("give me every vip we run", "list_virtual_services", {}),
    ("which virtual services are switched off", "list_virtual_services", {"enabled": False}),
    ("the staging pools please", "list_pools", {"name_contains": "staging"}),
    ("list the udp health checks", "list_health_monitors", {"type": "udp"}),
    ("which se groups are there", "list_objects", {"object_type": "serviceenginegroup"}),
    ("any ssl certs expiring within 45 days?", "list_certificates", {"expiring_within_days": 45}),
    # one object, named where a name sits
    ("how's storefront doing?", "get_virtual_service", {"name": "storefront"}),
    ("is the intranet vs alive", "get_virtual_service", {"name": "intranet"}),
    ("which engine is vs-blog placed on", "get_virtual_service", {"name": "vs-blog"}),
    ("what algorithm does pool blog use", "get_pool", {"name": "blog"}),
    ("backends of blog-prod-0101-pool", "get_pool", {"name": "blog-prod-0101-pool"}),
    ("is Avi-se-qwert ok", "get_service_engine", {"name": "Avi-se-qwert"}),
    ("timeout of monitor blog-hc", "get_health_monitor", {"name": "blog-hc"}),
    ("show cloud vcenter-east", "get_object", {"object_type": "cloud", "name": "vcenter-east"}),
    # trouble
    ("are any vips failing?", "list_unhealthy_virtual_services", {}),
    ("pools without healthy members", "list_unhealthy_pools", {}),
    ("which backends are offline", "list_unhealthy_servers", {}),
    ("any engines down?", "list_service_engines", {"oper_state": "down"}),
    # metrics rank first even with a virtual service named; windows parsed
    ("p95 latency of storefront over the past 3 hours", "get_analytics", {"entity_type": VS, "window": "6h"}),
    ("5xx on the blog vip yesterday", "get_analytics", {"entity_type": VS, "name": "blog", "window": "24h"}),
    ("connections on pool blog-pool last 45 minutes", "get_analytics", {"entity_type": POOL, "window": "1h"}),
    ("memory of Avi-se-qwert this week", "get_analytics", {"entity_type": SE, "window": "7d"}),
    ("how busy is storefront", "get_analytics", {"entity_type": VS, "name": "storefront"}),
    ("ram of se-3", "get_service_engine", {"name": "se-3"}),
    # what happened
    ("who switched off storefront-pool last night?", "list_events", {"name": "storefront-pool"}),
    ("did anyone change anything in the last 6 hours", "list_events", {"window": "6h"}),
    # names by a part
    ("which pools have blog in their name", "list_pools", {"name_contains": "blog"}),
    ("any vs called shop something?", "list_virtual_services", {"name_contains": "shop"}),
    ("thruput of storefront last hour", "get_analytics", {"entity_type": VS, "name": "storefront"}),
    # spelt wrong
    ("lsit all virtaul services", "list_virtual_services", {}),
    ("latnecy of storefront today", "get_analytics", {"name": "storefront", "window": "24h"}),
]


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(("text", "tool", "arguments"), ANSWERED)
def test_the_fallback_answers_read_questions(text: str, tool: str, arguments: dict[str, Any]) -> None:
    command = match_plain_english(text)
    assert command is not None, text
    assert command.tool == tool
    for key, value in arguments.items():
        assert command.arguments.get(key) == value, (key, command.arguments)


@pytest.mark.parametrize(
    "text",
    [
        "switch off storefront",  # writes: only through exact, confirmed commands
        "could you put 10.5.5.5 back into blog-pool",
        "bounce the engines",
        "why is storefront slow?",  # a diagnosis is the model's
        "is that broken?",  # about something said before
        "storefront or intranet, which is busier",
        "what should we do about vs-blog",
        "tell me a joke",
    ],
)
def test_the_fallback_asks_rather_than_guesses(text: str) -> None:
    answer = plain_fallback(text)
    assert answer.command is None
    assert 1 <= len(answer.suggestions) <= 3
    for suggestion in answer.suggestions:  # every command offered works as typed
        assert isinstance(parse_command(suggestion), ToolCommand | CoreCommand), suggestion
    assert "Did you mean" in answer.text()
    assert len(answer.text()) < 400


def test_a_write_is_offered_as_its_exact_command() -> None:
    answer = plain_fallback("please take vs-blog offline")
    assert answer.command is None
    assert answer.suggestions[0] == "vs disable vs-blog"  # confirmed like every write
    assert "confirm" in answer.text()


def test_a_diagnosis_answers_with_the_facts() -> None:
    """ "why is X down": the model's diagnosis is not there, but the object's state and the reason the
    controller gives are; "why did X go down last night" asks what happened: its events."""
    answer = plain_fallback("why is vs-blog down")
    assert answer.command == ToolCommand(tool="get_virtual_service", arguments={"name": "vs-blog"})
    assert "needs the model" in answer.note
    past = plain_fallback("why did vs-blog go down last night")
    assert past.command is not None
    assert past.command.tool == "list_events"
    assert past.command.arguments["name"] == "vs-blog"
    general = plain_fallback("why are things slow")
    assert general.command is None


# -- with the controller's names ---------------------------------------------------------------------

NAMES = NameTable.build(
    {
        "vs": ["checkout", "payments-api"],
        "pool": ["checkout-pool", "payments-prod-pool", "payments-stage-pool", "ledger"],
        "se": ["Avi-se-kqzpt"],
        "hm": ["hm-ledger-tcp"],
    }
)


def test_a_name_and_a_kind_word_find_the_object() -> None:
    answer = plain_fallback("is the checkout pool healthy?", NAMES)
    assert answer.command == ToolCommand(tool="get_pool", arguments={"name": "checkout-pool"})
    assert "checkout-pool" in answer.note


def test_a_name_not_found_offers_the_close_ones() -> None:
    answer = plain_fallback("is the payments pool healthy?", NAMES)
    assert answer.command is None
    assert "payments-prod-pool" in answer.text()
    assert "payments-stage-pool" in answer.text()
    assert answer.suggestions[:2] == ["pool show payments-prod-pool", "pool show payments-stage-pool"]
    assert answer.missing == "payments"


def test_a_known_name_brings_its_kind() -> None:
    assert plain_fallback("how is ledger", NAMES).command == ToolCommand(
        tool="get_pool", arguments={"name": "ledger"}
    )
    metrics = plain_fallback("traffic of ledger in the last hour", NAMES).command
    assert metrics is not None
    assert metrics.arguments == {"entity_type": POOL, "name": "ledger", "window": "1h"}


def test_prose_is_told_from_a_mistyped_command() -> None:
    assert looks_like_prose("metrics for the checkout vip")
    assert looks_like_prose("create pool p1 with servers 10.0.0.1 and 10.0.0.2")
    assert not looks_like_prose("vs show")
    assert not looks_like_prose("pool add web")


# -- through the agent ---------------------------------------------------------------------------------


async def test_command_mode_links_names_from_the_controller(make: MakeAgent, ops: AviOperations) -> None:
    env = await make()  # no model: command mode
    env.agent.entities = EntityIndex(ops)
    vs = next(v for v in await ops.virtualservices.list() if v.pool and v.pool == f"{v.name}-pool")
    reply = await env.handle(env.inbound(f"is the {vs.name} pool healthy?"))
    assert [c.name for c in reply.tool_calls] == ["get_pool"]
    assert reply.tool_calls[0].arguments == {"name": vs.pool}
    assert f"Taking `{vs.pool}`" in reply.text


async def test_command_mode_asks_with_close_names(make: MakeAgent, ops: AviOperations) -> None:
    env = await make()
    env.agent.entities = EntityIndex(ops)
    pools = [p.name for p in await ops.pools.list()]
    prefix = max({p.split("-")[0] for p in pools}, key=lambda w: sum(p.startswith(w + "-") for p in pools))
    reply = await env.handle(env.inbound(f"status of pool {prefix}"))
    assert reply.tool_calls == []
    assert f"no pool named `{prefix}`" in reply.text
    assert "did you mean" in reply.text
    assert "vs list" not in reply.text  # not the whole help


async def test_a_sentence_the_grammar_refuses_goes_to_the_model(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    fake.script(Reply.say("It is quiet."))
    reply = await env.handle(env.inbound("metrics for the checkout vip please"))
    assert reply.mode == "llm"
    assert fake.chat_requests
    assert reply.text == "It is quiet."


async def test_without_the_model_such_a_sentence_is_answered_or_shown_its_usage(
    make: MakeAgent, ops: AviOperations
) -> None:
    env = await make("http://127.0.0.1:9")  # nothing listens: the model is down
    vs = next(iter(await ops.virtualservices.list()))
    answered = await env.handle(env.inbound(f"metrics for the {vs.name} vip please"))
    assert [c.name for c in answered.tool_calls] == ["get_analytics"]
    mistyped = await env.handle(env.inbound("vs show"))
    assert isinstance(mistyped.parts[0], ErrorPart)  # a command stays a command


# -- the grammar takes a little more -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("metrics for vs-blog 6h", "get_analytics", {"entity_type": VS, "name": "vs-blog", "window": "6h"}),
        ("stats of pool blog-pool", "get_analytics", {"entity_type": POOL, "name": "blog-pool"}),
        ("pool health", "list_unhealthy_pools", {}),
        ("se groups", "list_objects", {"object_type": "serviceenginegroup"}),
        (
            "show se group Edge-Group",
            "get_object",
            {"object_type": "serviceenginegroup", "name": "Edge-Group"},
        ),
        ("api GET /api/tenant", "execute_generic_operation", {"method": "GET", "path": "/api/tenant"}),
    ],
)
def test_commands_a_sentence_is_close_to(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert parse_command(text) == ToolCommand(tool=tool, arguments=arguments)
