"""OllamaChat through the real `ollama.AsyncClient` against the fake Ollama server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from llm.client import LLMEvent, LLMResponse, OllamaChat
from llm.errors import (
    LLMError,
    LLMProtocolError,
    LLMTimeout,
    LLMUnavailable,
    ModelNotFound,
    ModelWithoutTools,
)
from llm.schema import flat_tool
from llm.settings import LLMSettings
from tests.support.fakes.ollama_server import FakeModel, FakeOllama, Reply, running_fake_ollama

POOL_TOOL = flat_tool(
    "get_pool",
    "Show one pool.",
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
)
VS_TOOL = flat_tool("list_virtualservices", "List virtual services.", {"type": "object", "properties": {}})
TOOLS = [POOL_TOOL, VS_TOOL]
USER = [{"role": "system", "content": "You are avibot."}, {"role": "user", "content": "how is pool web?"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


def settings_for(fake: FakeOllama, **kw: Any) -> LLMSettings:
    return LLMSettings(host=fake.url, **{"model": "qwen3:8b", "timeout": 5.0, **kw})


@pytest.fixture
async def llm(fake: FakeOllama) -> AsyncIterator[OllamaChat]:
    async with OllamaChat(settings_for(fake)) as chat:
        yield chat


async def collect(llm: OllamaChat, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **kw: Any):
    events: list[LLMEvent] = [e async for e in llm.stream(messages, tools, **kw)]
    finals = [e.response for e in events if e.response is not None]
    assert len(finals) == 1, "exactly one final event"
    assert events[-1].response is not None, "the final event comes last"
    return "".join(e.delta for e in events), finals[0]


async def test_options_sent_on_every_call_and_constant(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script("one", "two", "three")
    await llm.chat(USER, TOOLS)
    await collect(llm, USER, TOOLS)
    await llm.chat(USER, [], model="llama3.1:8b")
    bodies = fake.chat_requests
    assert len(bodies) == 3
    assert [b["options"]["num_ctx"] for b in bodies] == [8192, 8192, 8192]
    assert all(b["options"]["temperature"] == pytest.approx(0.1) for b in bodies)
    assert all(b["keep_alive"] == "30m" for b in bodies)
    assert [b["stream"] for b in bodies] == [False, True, False]
    assert [b["model"] for b in bodies] == ["qwen3:8b", "qwen3:8b", "llama3.1:8b"]
    assert "tools" not in bodies[2]


async def test_non_streamed_text_with_stats(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script(Reply.say("Pool web is up.", thinking="let me think about pools"))
    response = await llm.chat(USER, TOOLS)
    assert isinstance(response, LLMResponse)
    assert response.content == "Pool web is up."
    assert "think" not in response.content
    assert response.tool_calls == []
    assert response.done_reason == "stop"
    assert response.prompt_tokens
    assert response.prompt_tokens > 10
    assert response.completion_tokens
    assert response.completion_tokens >= 1
    assert response.total_ms == pytest.approx(250.0)


async def test_streamed_text_deltas_then_final(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script(Reply.say("Pool web has 3 of 4 servers up.", thinking="hmm pools"))
    events = [e async for e in llm.stream(USER, TOOLS)]
    deltas = [e.delta for e in events if e.delta]
    assert len(deltas) > 3, "text arrives as several deltas"
    assert "".join(deltas) == "Pool web has 3 of 4 servers up."
    final = events[-1].response
    assert final is not None
    assert final.content == "Pool web has 3 of 4 servers up."
    assert final.total_ms == pytest.approx(250.0)


async def test_streamed_tool_calls(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script(Reply.calls(("get_pool", {"name": "web"}), ("list_virtualservices", {})))
    text, response = await collect(llm, USER, TOOLS)
    assert text == ""
    assert [(c.name, c.arguments, c.from_text) for c in response.tool_calls] == [
        ("get_pool", {"name": "web"}, False),
        ("list_virtualservices", {}, False),
    ]
    sent = fake.last_chat["tools"]
    assert [t["function"]["name"] for t in sent] == ["get_pool", "list_virtualservices"]


async def test_history_with_tool_messages_goes_out_in_order(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script("done")
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": "",
            "thinking": "secret reasoning",
            "tool_calls": [{"function": {"name": "get_pool", "arguments": {"name": "web"}}}],
        },
        {"role": "tool", "tool_name": "get_pool", "content": '{"name": "web", "up": 3}'},
    ]
    await llm.chat(messages, TOOLS)
    sent = fake.last_chat["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert sent[3]["tool_name"] == "get_pool"
    assert sent[2]["tool_calls"][0]["function"]["arguments"] == {"name": "web"}
    assert "thinking" not in sent[2]


@pytest.mark.parametrize("streamed", [False, True])
async def test_string_arguments_are_parsed(fake: FakeOllama, llm: OllamaChat, streamed: bool) -> None:
    fake.script(Reply.calls(("get_pool", '{"name": "web", "limit": "5"}'), ("list_virtualservices", "{oops")))
    if streamed:
        _, response = await collect(llm, USER, TOOLS)
    else:
        response = await llm.chat(USER, TOOLS)
    first, second = response.tool_calls
    assert first.arguments == {"name": "web", "limit": "5"}
    assert first.argument_error is None
    assert second.name == "list_virtualservices"
    assert second.arguments == {}
    assert second.argument_error
    assert "not valid JSON" in second.argument_error


@pytest.mark.parametrize("streamed", [False, True])
async def test_text_tool_call_recovered(fake: FakeOllama, llm: OllamaChat, streamed: bool) -> None:
    fake.script('<tool_call>\n{"name": "get_pool", "arguments": {"name": "web"}}\n</tool_call>')
    if streamed:
        text, response = await collect(llm, USER, TOOLS)
        assert text == "", "a printed tool call is not streamed to the user"
    else:
        response = await llm.chat(USER, TOOLS)
    assert [(c.name, c.arguments, c.from_text) for c in response.tool_calls] == [
        ("get_pool", {"name": "web"}, True)
    ]
    assert response.content == ""


async def test_text_call_to_unknown_tool_stays_text(fake: FakeOllama, llm: OllamaChat) -> None:
    printed = '{"name": "delete_everything", "arguments": {}}'
    fake.script(printed)
    text, response = await collect(llm, USER, TOOLS)
    assert response.tool_calls == []
    assert response.content == printed
    assert text == printed, "held-back text is released when it was not a call"


async def test_unknown_model_is_model_not_found(fake: FakeOllama, llm: OllamaChat) -> None:
    with pytest.raises(ModelNotFound) as info:
        await llm.chat(USER, TOOLS, model="nosuch:1b")
    assert "`ollama pull nosuch:1b`" in info.value.hint
    assert "nosuch:1b" in info.value.message
    with pytest.raises(ModelNotFound):
        await collect(llm, USER, TOOLS, model="nosuch:1b")


@pytest.mark.parametrize("streamed", [False, True])
async def test_tools_on_incapable_model(fake: FakeOllama, llm: OllamaChat, streamed: bool) -> None:
    call = collect(llm, USER, TOOLS, model="gemma3") if streamed else llm.chat(USER, TOOLS, model="gemma3")
    with pytest.raises(ModelWithoutTools) as info:
        await call
    assert "qwen3:8b" in info.value.hint


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = OllamaChat(LLMSettings(host=f"http://127.0.0.1:{port}", timeout=2))
    try:
        for call in (llm.chat(USER, TOOLS), collect(llm, USER, TOOLS), llm.ping(), llm.list_models()):
            with pytest.raises(LLMUnavailable) as info:
                await call
            assert f"127.0.0.1:{port}" in info.value.message
            assert "ollama serve" in info.value.hint
    finally:
        await llm.aclose()


@pytest.mark.parametrize("streamed", [False, True])
async def test_slow_reply_times_out(fake: FakeOllama, streamed: bool) -> None:
    fake.script(Reply.say("late", delay=3))
    async with OllamaChat(settings_for(fake, timeout=0.5)) as llm:
        started = time.monotonic()
        call = collect(llm, USER, TOOLS) if streamed else llm.chat(USER, TOOLS)
        with pytest.raises(LLMTimeout) as info:
            await call
        assert time.monotonic() - started < 1.5
        assert "loading" in info.value.hint


async def test_trickling_stream_hits_overall_deadline(fake: FakeOllama) -> None:
    # Each chunk arrives well within httpx's read timeout; only the overall deadline can stop it.
    fake.script(Reply.say("word " * 40, chunk_delay=0.1))
    async with OllamaChat(settings_for(fake, timeout=0.6)) as llm:
        started = time.monotonic()
        with pytest.raises(LLMTimeout):
            await collect(llm, USER, TOOLS)
        assert time.monotonic() - started < 1.5


async def test_mid_stream_error_is_protocol_error(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script(Reply.mid_stream_error("out of memory", after="Pool web "))
    deltas: list[str] = []

    async def consume() -> None:
        async for event in llm.stream(USER, TOOLS):
            deltas.append(event.delta)

    with pytest.raises(LLMProtocolError) as info:
        await consume()
    assert "out of memory" in info.value.message
    assert "".join(deltas) == "Pool web "


async def test_malformed_body_is_protocol_error(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script(Reply(raw='{"message": "not an object"}'), Reply(raw="not json at all"))
    for _ in range(2):
        with pytest.raises(LLMProtocolError):
            await llm.chat(USER, TOOLS)


async def test_other_http_error_is_llm_error_without_traceback(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.script(Reply.fail(500, "model requires more system memory"))
    with pytest.raises(LLMError) as info:
        await llm.chat(USER, TOOLS)
    assert "more system memory" in info.value.message
    assert "Traceback" not in str(info.value)


async def test_list_models(llm: OllamaChat) -> None:
    models = {m.name: m for m in await llm.list_models()}
    assert set(models) == {"qwen3:8b", "llama3.1:8b", "gemma3:latest"}
    assert models["qwen3:8b"].family == "qwen3"
    assert models["qwen3:8b"].parameter_size == "8.2B"
    assert models["qwen3:8b"].quantization == "Q4_K_M"
    assert models["qwen3:8b"].size == 4_920_000_000


async def test_validate_model(llm: OllamaChat) -> None:
    good = await llm.validate_model()
    assert good.ok
    assert good.exists
    assert good.supports_tools is True
    assert good.context_length == 40960
    assert "tools" in good.capabilities

    no_tools = await llm.validate_model("gemma3")
    assert no_tools.exists
    assert no_tools.supports_tools is False
    assert not no_tools.ok
    assert "does not support tool" in no_tools.message
    assert "qwen3:8b" in no_tools.hint

    missing = await llm.validate_model("nosuch:1b")
    assert not missing.exists
    assert not missing.ok
    assert "`ollama pull nosuch:1b`" in missing.hint


async def test_validate_model_old_server_and_small_context() -> None:
    models = [
        FakeModel("old:7b", report_capabilities=False, context_length=4096),
        FakeModel("old-notools:7b", tools=False, report_capabilities=False),
    ]
    async with running_fake_ollama(models=models) as fake, OllamaChat(settings_for(fake)) as llm:
        check = await llm.validate_model("old:7b")
        assert check.supports_tools is True, "falls back to the template's .Tools"
        assert check.context_length == 4096
        assert "num_ctx 8192" in check.message
        assert "4096" in check.hint
        assert (await llm.validate_model("old-notools:7b")).supports_tools is False


async def test_ping(fake: FakeOllama, llm: OllamaChat) -> None:
    latency = await llm.ping()
    assert 0 < latency < 2000
    assert fake.requests[-1].path == "/api/version"


async def test_responder_keys_on_last_message(fake: FakeOllama, llm: OllamaChat) -> None:
    def responder(body: dict[str, Any]) -> Reply | None:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return Reply.say("Pool web is healthy.")
        return Reply.call("get_pool", {"name": "web"})

    fake.responder = responder
    first = await llm.chat(USER, TOOLS)
    assert first.tool_calls[0].name == "get_pool"
    follow = [
        *USER,
        {
            "role": "assistant",
            "tool_calls": [{"function": {"name": "get_pool", "arguments": {"name": "web"}}}],
        },
        {"role": "tool", "tool_name": "get_pool", "content": "{}"},
    ]
    assert (await llm.chat(follow, TOOLS)).content == "Pool web is healthy."


async def test_concurrent_calls_share_one_client(fake: FakeOllama, llm: OllamaChat) -> None:
    fake.responder = lambda body: "answer to " + body["messages"][-1]["content"]
    questions = [f"q{i}" for i in range(5)]
    replies = await asyncio.gather(*(llm.chat([{"role": "user", "content": q}], []) for q in questions))
    assert [r.content for r in replies] == [f"answer to {q}" for q in questions]


def feed_chars(text: str, hold_calls: bool) -> tuple[str, str]:
    from llm.client import _StreamText

    stream = _StreamText(hold_calls=hold_calls)
    shown = "".join(stream.feed(ch) for ch in text)
    return shown, stream.finish()


def test_stream_text_drops_think_blocks_split_across_chunks() -> None:
    shown, rest = feed_chars("<think>plan the <b> call</think>Pool web is up. <thin", hold_calls=True)
    assert shown + rest == "Pool web is up. <thin"
    assert "plan" not in shown


def test_stream_text_holds_possible_printed_calls_only() -> None:
    assert feed_chars('  {"name": "x"}', hold_calls=True) == ("", '{"name": "x"}')
    assert feed_chars("```json\n{}\n```", hold_calls=True)[0] == ""
    assert feed_chars('{"a": 1}', hold_calls=False) == ('{"a": 1}', "")
    shown, rest = feed_chars("Hello there", hold_calls=True)
    assert shown == "Hello there"
    assert rest == ""


async def test_markdown_answer_starting_with_bracket_is_still_delivered(
    fake: FakeOllama, llm: OllamaChat
) -> None:
    fake.script("[vs-web](https://ctrl/vs) is up.")
    text, response = await collect(llm, USER, TOOLS)
    assert text == response.content == "[vs-web](https://ctrl/vs) is up."
