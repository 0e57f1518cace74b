"""Paging past 50 rows: the list tools' pages against the simulator over real HTTP, the commands that
ask for a page (`vs list page 2`, `more`), and `Turns.more`, which runs only reads.

Real parts: the simulator, a real redis-server (history), the agent in command mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.commands import CoreCommand, ToolCommand, parse_command
from bot.commands.unparse import command_for
from bot.more import LIST_COMPLETE, NOTHING_TO_CONTINUE
from bot.tools.render import MAX_ROWS
from bot.turns import Turns
from bot.types import ErrorPart, MoreRows, Outcome, TablePart, TextPart, TurnResult, Visibility
from tests.conftest import StartSim, ops_for
from tests.support.agent_env import ADMIN, VIEWER, AgentEnv, agent_factory
from tests.support.tools_helpers import call


@pytest.fixture
async def big_ops(start_sim: StartSim) -> AsyncIterator[AviOperations]:
    """A simulator with more than two pages of virtual services."""
    ops = ops_for(await start_sim(objects=300))
    yield ops
    await ops.client.aclose()


@pytest.fixture
async def env(
    redis_url: str, redis_client: aioredis.Redis, big_ops: AviOperations
) -> AsyncIterator[AgentEnv]:
    async with agent_factory(redis_url, big_ops) as make:
        yield await make()


def table_of(parts: list[Any]) -> TablePart:
    tables = [p for p in parts if isinstance(p, TablePart)]
    assert len(tables) == 1, parts
    return tables[0]


# -- the tools -----------------------------------------------------------------------------------


async def test_list_virtual_services_pages_fifty_rows_at_a_time(big_ops: AviOperations) -> None:
    names = [vs.name for vs in await big_ops.virtualservices.list()]
    assert len(names) > 2 * MAX_ROWS, len(names)

    first = table_of((await call(big_ops, "list_virtual_services", limit=200)).parts)
    assert [r[0] for r in first.rows] == names[:MAX_ROWS]
    assert first.hidden == len(names) - MAX_ROWS  # "and N more" still counts what is left
    assert first.more is not None
    assert first.more.tool == "list_virtual_services"
    assert first.more.arguments == {"limit": 200, "page": 2}
    assert first.more.label == f"Show {MAX_ROWS} more"

    second = await call(big_ops, "list_virtual_services", **first.more.arguments)
    table = table_of(second.parts)
    assert [r[0] for r in table.rows] == names[MAX_ROWS : 2 * MAX_ROWS]
    assert f"rows {MAX_ROWS + 1}-{2 * MAX_ROWS}" in table.title
    assert second.data["page"] == 2
    assert second.data["items"][0]["name"] == names[MAX_ROWS]  # the model reads the same page

    last_page = -(-len(names) // MAX_ROWS)
    last = table_of((await call(big_ops, "list_virtual_services", page=last_page)).parts)
    assert [r[0] for r in last.rows] == names[(last_page - 1) * MAX_ROWS :]
    assert last.more is None
    assert last.hidden == 0

    past = table_of((await call(big_ops, "list_virtual_services", page=last_page + 1)).parts)
    assert past.rows == []
    assert past.more is None
    assert "past the end" in past.title


async def test_the_first_page_keeps_the_models_data_as_before(big_ops: AviOperations) -> None:
    result = await call(big_ops, "list_virtual_services")
    assert "page" not in result.data
    table = table_of(result.parts)
    assert table.more is not None
    assert table.more.arguments == {"page": 2}


async def test_filters_and_a_smaller_limit_carry_over_to_the_next_page(big_ops: AviOperations) -> None:
    enabled = [vs.name for vs in await big_ops.virtualservices.list() if vs.enabled]
    first = table_of((await call(big_ops, "list_virtual_services", enabled=True, limit=5)).parts)
    assert [r[0] for r in first.rows] == enabled[:5]
    assert first.more is not None
    assert first.more.arguments == {"enabled": True, "limit": 5, "page": 2}
    assert first.more.label == "Show 5 more"
    second = table_of((await call(big_ops, "list_virtual_services", **first.more.arguments)).parts)
    assert [r[0] for r in second.rows] == enabled[5:10]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("list_pools", {}),
        ("list_service_engines", {}),
        ("list_health_monitors", {}),
        ("list_certificates", {}),
        ("list_objects", {"object_type": "pool"}),
    ],
)
async def test_every_list_tool_pages(ops: AviOperations, tool: str, arguments: dict[str, Any]) -> None:
    first = table_of((await call(ops, tool, **arguments, limit=2)).parts)
    assert len(first.rows) == 2
    assert first.more is not None, tool
    assert first.more.tool == tool
    assert first.more.arguments == {**arguments, "limit": 2, "page": 2}
    second = table_of((await call(ops, tool, **first.more.arguments)).parts)
    assert second.rows
    assert second.rows[0] not in first.rows
    everything = table_of((await call(ops, tool, **arguments, limit=200)).parts)
    assert everything.rows[2:4] == second.rows


async def test_an_unhealthy_list_pages_too(big_ops: AviOperations) -> None:
    result = await call(big_ops, "list_unhealthy_servers")
    table = table_of(result.parts)
    if table.hidden == 0:
        pytest.skip("fewer than a page of servers down in this inventory")
    assert table.more is not None
    assert table.more.arguments == {"page": 2}
    second = table_of((await call(big_ops, "list_unhealthy_servers", page=2)).parts)
    assert second.rows[0] not in table.rows


# -- the commands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("vs list page 2", "list_virtual_services", {"page": 2}),
        ("vs list --page 2", "list_virtual_services", {"page": 2}),
        ("vs list page=3", "list_virtual_services", {"page": 3}),
        ("vs list web --down limit 5 page 2", "list_virtual_services",
         {"name_contains": "web", "oper_state": "down", "limit": 5, "page": 2}),
        ("show virtualservice page 2", "list_virtual_services", {"page": 2}),
        ("pool list --down page 2", "list_pools", {"servers_down": True, "page": 2}),
        ("list tenant page 2", "list_objects", {"object_type": "tenant", "page": 2}),
    ],
)  # fmt: skip
def test_page_in_list_commands(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert parse_command(text) == ToolCommand(tool=tool, arguments=arguments)


def test_more_alone_is_a_command_and_a_bad_page_is_a_usage_error() -> None:
    assert parse_command("more") == CoreCommand(name="more")
    bad = parse_command("vs list page two")
    assert not isinstance(bad, (ToolCommand, CoreCommand))
    assert bad is not None
    assert "page" in bad.message


@pytest.mark.parametrize(
    ("tool", "arguments", "command"),
    [
        ("list_virtual_services", {"page": 2}, "vs list page 2"),
        ("list_virtual_services", {"name_contains": "web", "oper_state": "down", "page": 3},
         "vs list web --down page 3"),
        ("list_virtual_services", {"name_contains": "down", "page": 2}, "vs list name down page 2"),
        ("list_virtual_services", {"enabled": True, "limit": 5, "page": 2},
         "vs list --enabled limit 5 page 2"),
        ("list_pools", {"servers_down": True, "page": 2}, "pool list --down page 2"),
        ("list_health_monitors", {"type": "http", "page": 2}, "hm list --http page 2"),
        ("list_objects", {"object_type": "tenant", "name_contains": "a b", "page": 2},
         "list tenant name 'a b' page 2"),
    ],
)  # fmt: skip
def test_the_offered_command_parses_back_to_the_same_call(
    tool: str, arguments: dict[str, Any], command: str
) -> None:
    assert command_for(tool, arguments) == command
    assert parse_command(command) == ToolCommand(tool=tool, arguments=arguments)


def test_calls_without_a_spelling_have_no_command() -> None:
    assert command_for("list_virtual_services", {"enabled": False, "page": 2}) is None
    assert command_for("list_certificates", {"page": 2}) is None
    assert command_for("list_unhealthy_servers", {"page": 2}) is None


# -- the agent and Turns.more --------------------------------------------------------------------


async def test_a_long_list_offers_the_next_page_with_its_command_and_filters(env: AgentEnv) -> None:
    reply = await env.handle(env.inbound("vs list"))
    table = table_of(list(reply.parts))
    assert table.more is not None
    assert table.more.command == "vs list page 2"
    hints = [p.markdown for p in reply.parts if isinstance(p, TextPart)]
    said = " ".join(hints)
    for words in ("`vs list page 2`", "`more`", "narrow it", "`vs list <name part>`", "`--down`"):
        assert words in said


async def test_typed_more_continues_the_last_list_until_it_is_complete(env: AgentEnv) -> None:
    names = [vs.name for vs in await env.ops.virtualservices.list()]
    empty = await env.handle(env.inbound("more"))
    assert NOTHING_TO_CONTINUE in empty.text

    await env.handle(env.inbound("vs list"))
    seen: list[str] = []
    for page in range(2, -(-len(names) // MAX_ROWS) + 1):
        reply = await env.handle(env.inbound("more"))
        table = table_of(list(reply.parts))
        assert [r[0] for r in table.rows] == names[(page - 1) * MAX_ROWS : page * MAX_ROWS], page
        seen += [r[0] for r in table.rows]
    assert seen == names[MAX_ROWS:]
    done = await env.handle(env.inbound("more"))
    assert LIST_COMPLETE in done.text
    history = await env.agent.conversation(env.inbound("x").conversation_key)
    assert [m["content"] for m in history if m["role"] == "user"][-1] == "more"


async def test_page_command_and_more_after_it(env: AgentEnv) -> None:
    names = [vs.name for vs in await env.ops.virtualservices.list()]
    reply = await env.handle(env.inbound("vs list page 2"))
    assert [r[0] for r in table_of(list(reply.parts)).rows] == names[MAX_ROWS : 2 * MAX_ROWS]
    following = await env.handle(env.inbound("more"))
    assert table_of(list(following.parts)).rows[0][0] == names[2 * MAX_ROWS]


async def test_turns_more_runs_a_read_with_the_askers_access_and_remembers_it(env: AgentEnv) -> None:
    names = [vs.name for vs in await env.ops.virtualservices.list()]
    turns = Turns(env.agent)
    more = MoreRows(tool="list_virtual_services", arguments={"page": 2}, command="vs list page 2")
    result = await turns.more(env.inbound("", user=VIEWER), more)
    assert isinstance(result, TurnResult)
    assert result.outcome is Outcome.ANSWERED
    assert table_of(list(result.reply.parts)).rows[0][0] == names[MAX_ROWS]
    history = await turns.history(env.inbound("x").conversation_key)
    assert {"role": "user", "content": "vs list page 2"} in history
    again = await env.handle(env.inbound("more", user=VIEWER))  # the click is the last listing now
    assert table_of(list(again.parts)).rows[0][0] == names[2 * MAX_ROWS]


@pytest.mark.parametrize(
    "more",
    [
        MoreRows(tool="delete_virtual_service", arguments={"name": "NAME"}),
        MoreRows(tool="execute_generic_operation", arguments={"method": "DELETE", "path": "/api/pool"}),
        MoreRows(tool="no_such_tool", arguments={}),
        MoreRows(tool="list_virtual_services", arguments={"page": 0}),
        MoreRows(tool="list_virtual_services", arguments={"page": 2, "bogus": 1}),
    ],
)
async def test_turns_more_refuses_anything_but_a_valid_read(env: AgentEnv, more: MoreRows) -> None:
    victim = next(vs for vs in await env.ops.virtualservices.list())
    if more.arguments.get("name") == "NAME":
        more = more.model_copy(update={"arguments": {"name": victim.name}})
    result = await Turns(env.agent).more(env.inbound("", user=ADMIN), more)
    assert result.outcome is Outcome.REFUSED
    assert result.visibility is Visibility.ASKER
    assert result.reply.pending_action is None
    assert result.action is None
    errors = [p for p in result.reply.parts if isinstance(p, ErrorPart)]
    assert errors
    assert errors[0].message.endswith(".")
    assert await env.ops.virtualservices.get(victim.name)  # nothing was deleted, nothing is pending
