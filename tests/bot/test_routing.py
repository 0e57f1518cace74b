"""Tool routing without an LLM call: the right tools for typical questions, few of them, and the
catalogue, the command parser and the router agree on names."""

from __future__ import annotations

import pytest

from bot.commands import FORMS
from bot.routing import ALWAYS_ON, select_tools
from bot.tools import build_catalogue
from bot.types import Risk
from llm.schema import flat_tool, schema_chars
from tests.bot.test_commands import CONTRACT_TOOLS

CATALOGUE = build_catalogue()
TOOLS = CATALOGUE.all()


def test_catalogue_matches_the_contract_the_parser_uses() -> None:
    assert set(CATALOGUE.names) == CONTRACT_TOOLS
    assert {form.tool for form in FORMS.values() if form.tool} <= set(CATALOGUE.names)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("which pools have unhealthy servers?", "list_unhealthy_servers"),
        ("what's down right now?", "list_unhealthy_virtual_services"),
        ("is web-prod-0001 up?", "get_virtual_service"),
        ("show me the pool behind checkout", "get_pool"),
        ("list all virtual services", "list_virtual_services"),
        ("how busy are the service engines? cpu?", "list_service_engines"),
        ("latency of shop-prod-0024 over the last day", "get_analytics"),
        ("disable the virtual service crm-dev-0006", "disable_virtual_service"),
        ("drain server 10.1.6.10 from crm-dev-0006-pool", "disable_pool_server"),
        ("add 10.9.9.9:8080 to the web pool", "add_pool_server"),
        ("scale out the app ads-qa-0003", "scale_out_virtual_service"),
        ("fail over vs ads-qa-0003 to the standby engine", "switchover_virtual_service"),
        ("which health monitors use http?", "list_health_monitors"),
        ("what certificates expire soon?", "list_objects"),
        ("delete virtual service old-app", "delete_virtual_service"),
        ("what kinds of objects can I ask about?", "list_object_types"),
    ],
)
def test_question_routes_to_the_tool(question: str, expected: str) -> None:
    chosen = [t.name for t in select_tools(question, TOOLS, limit=8)]
    assert expected in chosen, chosen
    assert len(chosen) <= 8 + len(ALWAYS_ON)


def test_follow_up_keeps_the_previous_turns_tools() -> None:
    chosen = [t.name for t in select_tools("and the second one?", TOOLS, previous=["get_pool"])]
    assert "get_pool" in chosen


def test_routing_sends_far_fewer_schema_characters_than_all_tools() -> None:
    def chars(tools: list) -> int:
        return schema_chars([flat_tool(t.name, t.description, t.args.model_json_schema()) for t in tools])

    routed = chars(select_tools("which pools have unhealthy servers?", TOOLS))
    everything = chars(TOOLS)
    assert routed * 3 < everything, (routed, everything)


def test_read_only_tools_for_a_viewer_still_answer_reads() -> None:
    reads = [t for t in TOOLS if t.risk is Risk.READ]
    chosen = [t.name for t in select_tools("disable pool server 10.1.1.1", reads)]
    assert "disable_pool_server" not in chosen
    assert chosen  # the always-on reads remain
