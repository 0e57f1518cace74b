"""fit_messages keeps the prompt under num_ctx - reserve without orphaning tool results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llm.budget import estimate_tokens, fit_messages, message_tokens, split_turns, tools_tokens
from llm.schema import flat_tool

SYSTEM = {"role": "system", "content": "You are avibot. " * 40}
TOOLS = [
    flat_tool(
        f"tool_{i}",
        "Does a thing with pools.",
        {"type": "object", "properties": {"name": {"type": "string", "description": "Pool name."}}},
    )
    for i in range(8)
]


def turn(i: int, tool_rounds: int = 1, size: int = 400) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": f"question {i} " + "x" * 40}]
    for r in range(tool_rounds):
        msgs.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "tool_1", "arguments": {"name": f"p{i}-{r}"}}}],
            }
        )
        msgs.append({"role": "tool", "tool_name": "tool_1", "content": json.dumps({"data": "y" * size})})
    msgs.append({"role": "assistant", "content": f"answer {i}"})
    return msgs


def total(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
    return sum(message_tokens(m) for m in messages) + tools_tokens(tools)


def assert_no_orphans(messages: list[dict[str, Any]]) -> None:
    for i, m in enumerate(messages):
        if m["role"] == "tool":
            before = messages[:i]
            assert any(p["role"] == "assistant" and p.get("tool_calls") for p in before), i
            prev = [p for p in before if p["role"] != "tool"][-1]
            assert prev["role"] == "assistant", f"tool message {i} orphaned"
            assert prev.get("tool_calls"), f"tool message {i} orphaned"


def test_estimates_are_conservative() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") >= 1
    assert estimate_tokens("a" * 4000) >= 1000
    assert message_tokens({"role": "user", "content": "a" * 400}) > estimate_tokens("a" * 400)
    assert tools_tokens(TOOLS) > estimate_tokens(json.dumps(TOOLS))


@pytest.mark.parametrize("num_ctx", [2048, 4096, 8192])
def test_long_conversation_fits_keeps_system_and_newest(num_ctx: int) -> None:
    history = [m for i in range(60) for m in turn(i, tool_rounds=1 + i % 3, size=100 + 37 * (i % 11))]
    new = [{"role": "user", "content": "and now?"}]
    reserve = 1024
    result = fit_messages(SYSTEM, history, new, TOOLS, num_ctx, reserve)
    msgs = result.messages
    assert msgs[0] is SYSTEM
    assert msgs[-1] is new[0]
    assert total(msgs, TOOLS) <= num_ctx - reserve
    assert result.tokens <= result.budget == num_ctx - reserve
    assert not result.over_budget
    assert result.dropped > 0
    assert result.dropped + len(msgs) - 2 == len(history)
    kept = msgs[1:-1]
    assert kept == history[len(history) - len(kept) :], "the newest history, contiguous"
    assert not kept or kept[0]["role"] == "user", "cut at a turn boundary"
    assert_no_orphans(msgs)
    if num_ctx >= 4096:
        assert kept, "room for at least the last turn"
    if num_ctx == 8192:
        assert len(kept) > 10


def test_everything_fits_nothing_dropped() -> None:
    history = turn(1) + turn(2)
    result = fit_messages(SYSTEM, history, [{"role": "user", "content": "hi"}], TOOLS, 8192, 1024)
    assert result.dropped == 0
    assert result.messages[1:-1] == history


def test_new_messages_are_kept_even_over_budget() -> None:
    huge = [{"role": "user", "content": "z" * 40000}]
    result = fit_messages(SYSTEM, turn(1), huge, TOOLS, 2048, 1024)
    assert result.messages == [SYSTEM, huge[0]]
    assert result.over_budget
    assert result.dropped == len(turn(1))


def test_leading_orphan_tool_messages_are_dropped() -> None:
    broken = turn(1)[2:]  # starts with the tool result, its assistant call already cut by the store
    history = broken + turn(2)
    turns = split_turns(history)
    assert turns[0][0]["role"] == "assistant"
    assert all(m["role"] != "tool" for m in turns[0])
    result = fit_messages(SYSTEM, history, [{"role": "user", "content": "q"}], [], 8192, 1024)
    assert_no_orphans(result.messages)
    assert result.dropped == 1
