"""Tool calls printed as text are recovered for known tools only; string arguments are parsed."""

from __future__ import annotations

import pytest

from llm.toolcalls import (
    normalize_tool_calls,
    parse_arguments,
    recover_text_tool_calls,
    split_text_tool_calls,
    strip_thinking,
)

KNOWN = {"get_pool", "list_pools"}


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "get_pool", "arguments": {"name": "web"}}',
        '{"name": "get_pool", "parameters": {"name": "web"}}',
        '{"function": {"name": "get_pool", "arguments": {"name": "web"}}}',
        '{"type": "function", "function": {"name": "get_pool", "arguments": "{\\"name\\": \\"web\\"}"}}',
        '<tool_call>\n{"name": "get_pool", "arguments": {"name": "web"}}\n</tool_call>',
        '```json\n{"name": "get_pool", "arguments": {"name": "web"}}\n```',
        '<|python_tag|>{"name": "get_pool", "parameters": {"name": "web"}}',
        '<function=get_pool>{"name": "web"}</function>',
        '<think>I should call it.</think>{"name": "get_pool", "arguments": {"name": "web"}}',
    ],
)
def test_recovers_one_call(content: str) -> None:
    remaining, calls = split_text_tool_calls(content, KNOWN)
    assert [(c.name, c.arguments, c.from_text) for c in calls] == [("get_pool", {"name": "web"}, True)]
    assert remaining == ""


def test_recovers_a_list_and_keeps_surrounding_text() -> None:
    content = (
        'Let me check.\n[{"name": "get_pool", "arguments": {"name": "web"}}, '
        '{"name": "list_pools", "arguments": {}}]'
    )
    remaining, calls = split_text_tool_calls(content, KNOWN)
    assert [c.name for c in calls] == ["get_pool", "list_pools"]
    assert remaining == "Let me check."


def test_unknown_names_and_plain_json_are_not_calls() -> None:
    assert recover_text_tool_calls('{"name": "rm_rf", "arguments": {}}', KNOWN) == []
    assert recover_text_tool_calls('The pool is {"name": "web", "up": 3}.', KNOWN) == []
    assert recover_text_tool_calls("Pool web is up.", KNOWN) == []
    assert recover_text_tool_calls('{"name": "get_pool"', KNOWN) == []
    assert recover_text_tool_calls('{"name": "get_pool", "arguments": {}}', set()) == []
    text = 'mixed [{"name": "get_pool", "arguments": {}}, {"name": "rm_rf", "arguments": {}}]'
    assert split_text_tool_calls(text, KNOWN) == (text, [])


def test_bad_arguments_in_text_call_carry_an_error() -> None:
    calls = recover_text_tool_calls('{"name": "get_pool", "arguments": "not json"}', KNOWN)
    assert calls[0].arguments == {}
    assert calls[0].argument_error
    assert "not valid JSON" in calls[0].argument_error


def test_parse_arguments() -> None:
    assert parse_arguments({"a": 1}) == ({"a": 1}, None)
    assert parse_arguments('{"a": 1}') == ({"a": 1}, None)
    assert parse_arguments('"{\\"a\\": 1}"') == ({"a": 1}, None), "double-encoded"
    assert parse_arguments(None) == ({}, None)
    assert parse_arguments("") == ({}, None)
    args, error = parse_arguments("[1, 2]")
    assert args == {}
    assert error
    assert "object" in error
    args, error = parse_arguments("{bad")
    assert args == {}
    assert error


def test_normalize_tool_calls_in_place() -> None:
    message = {
        "role": "assistant",
        "tool_calls": [
            {"function": {"name": "a", "arguments": '{"x": 1}'}},
            {"function": {"name": "b", "arguments": {"y": 2}}},
            {"function": {"name": "c", "arguments": "nope"}},
        ],
    }
    errors = normalize_tool_calls(message)
    assert [c["function"]["arguments"] for c in message["tool_calls"]] == [{"x": 1}, {"y": 2}, {}]
    assert set(errors) == {2}


def test_strip_thinking() -> None:
    assert strip_thinking("<think>plan</think>\nAnswer.") == "Answer."
    assert strip_thinking("<think>never closed") == ""
    assert strip_thinking("No thinking.") == "No thinking."
