"""The benchmark's cost-charging fake Ollama: it charges prefill per prompt token and decode per output
token, through the real `ollama` client (bench/fake_ollama.py)."""

from __future__ import annotations

import time
from typing import Any

from bench.fake_ollama import Answer, CostModel, prompt_tokens, running_cost_fake, tokens
from llm.client import OllamaChat
from llm.settings import LLMSettings

TOOL = {
    "type": "function",
    "function": {"name": "list_pools", "description": "List pools.", "parameters": {"type": "object"}},
}


def test_token_estimate_is_characters_over_four() -> None:
    assert [tokens(n) for n in (0, 1, 4, 5, 400)] == [0, 1, 1, 2, 100]
    body = {"messages": [{"role": "user", "content": "x" * 100}], "tools": [TOOL]}
    assert prompt_tokens(body) > prompt_tokens({"messages": body["messages"]}) > 25


def test_charge_is_prefill_plus_decode() -> None:
    cost = CostModel(prefill_ms=0.3, decode_ms=20)
    assert cost.charge(1000, 10) == 0.3 + 0.2
    assert CostModel(prefill_ms=1, decode_ms=0).charge(500, 99) == 0.5


async def test_the_fake_charges_for_prompt_and_output_tokens() -> None:
    def script(body: dict[str, Any]) -> Answer:
        if any(m.get("role") == "tool" for m in body["messages"]):
            return Answer.say("All four pools are up.")
        return Answer.call("list_pools")

    cost = CostModel(prefill_ms=0.5, decode_ms=5)
    async with running_cost_fake(script, cost) as fake:
        llm = OllamaChat(LLMSettings(host=fake.url, model="llama3.1:8b"))
        big = [{"role": "user", "content": "which pools? " + "padding " * 400}]
        try:
            started = time.perf_counter()
            first = await llm.chat(big, [TOOL])
            elapsed = time.perf_counter() - started
            expected_prompt = prompt_tokens({"messages": big, "tools": [TOOL]})
            assert first.tool_calls[0].name == "list_pools"
            assert first.prompt_tokens == expected_prompt  # reported like Ollama's prompt_eval_count
            assert fake.counters.calls == 1
            assert fake.counters.prompt_tokens == expected_prompt
            output = Answer.call("list_pools").output_tokens()
            assert fake.counters.charged == cost.charge(expected_prompt, output)
            assert elapsed >= fake.counters.charged  # it really waits (a lower bound only)

            fake.reset()
            events = [e async for e in llm.stream([*big, {"role": "tool", "content": "[]"}], [TOOL])]
            deltas = [e.delta for e in events if e.delta]
            assert "".join(deltas) == "All four pools are up."
            assert len(deltas) == 5  # word by word, each after its own decode cost
            assert events[-1].response is not None
            assert events[-1].response.completion_tokens == tokens(len("All four pools are up."))
            assert fake.counters.charged > 0.5 * 0.8 * fake.counters.prompt_tokens / 1000
        finally:
            await llm.aclose()
