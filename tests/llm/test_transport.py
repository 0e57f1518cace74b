"""The aiohttp transport under the Ollama client (llm/transport.py) keeps httpx's contract: a bounded
pool that raises PoolTimeout, connections reused, a slot freed whatever happens, errors as httpx's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from llm.client import OllamaChat
from llm.errors import LLMError, LLMProtocolError, LLMTimeout, LLMUnavailable
from llm.settings import LLMSettings
from llm.transport import AiohttpTransport, fast_transport
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama

USER = [{"role": "user", "content": "hi"}]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


async def serve(handler: Handler) -> tuple[web.AppRunner, str, list[Any]]:
    """A one-route Ollama stand-in; the list collects each request's client (host, port)."""
    peers: list[Any] = []

    async def chat(request: web.Request) -> web.StreamResponse:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return await handler(request)

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}", peers


def answer(text: str) -> bytes:
    return b'{"model":"m","message":{"role":"assistant","content":"' + text.encode() + b'"},"done":true}'


def chat_for(url: str, **kw: Any) -> OllamaChat:
    return OllamaChat(LLMSettings(host=url, model="m", **{"timeout": 5.0, **kw}))


async def test_the_ollama_client_runs_on_it_and_reuses_connections() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=answer("yes"), content_type="application/json")

    runner, url, peers = await serve(handler)
    try:
        async with chat_for(url) as llm:
            assert isinstance(llm._client._client._transport, AiohttpTransport)
            replies = [(await llm.chat(USER, [])).content for _ in range(3)]
        assert replies == ["yes", "yes", "yes"]
        assert len(peers) == 3
        assert len(set(peers)) == 1  # one kept-alive connection
    finally:
        await runner.cleanup()


async def test_a_full_pool_raises_pool_timeout_and_frees_its_slots(fake: FakeOllama) -> None:
    fake.script(Reply.say("slow answer", delay=1.0), "second", "third")
    async with OllamaChat(
        LLMSettings(host=fake.url, model="qwen3:8b", timeout=5.0, max_connections=1, pool_timeout=0.2)
    ) as llm:
        slow = asyncio.create_task(llm.chat(USER, []))
        await asyncio.sleep(0.1)
        with pytest.raises(LLMError) as info:
            await llm.chat(USER, [])
        assert "All 1 connections to Ollama were busy" in info.value.message
        assert (await slow).content == "slow answer"
        # Both slots came back: after a complete reply and after a stream read to its end.
        assert (await llm.chat(USER, [])).content == "second"
        assert "".join([e.delta async for e in llm.stream(USER, [])]) == "third"


async def test_a_stream_closed_early_frees_its_slot(fake: FakeOllama) -> None:
    fake.script(Reply.say("one two three four", chunk_delay=0.05), "next")
    async with OllamaChat(
        LLMSettings(host=fake.url, model="qwen3:8b", timeout=5.0, max_connections=1, pool_timeout=0.5)
    ) as llm:
        events = llm.stream(USER, [])
        assert (await anext(events)).delta
        await events.aclose()  # the consumer left mid-reply
        assert (await llm.chat(USER, [])).content == "next"


async def test_refused_and_failed_requests_free_their_slots() -> None:
    with socket_closed() as url:
        async with chat_for(url, max_connections=1, pool_timeout=0.2) as llm:
            for _ in range(3):  # a leaked slot would turn the second one into a pool timeout
                with pytest.raises(LLMUnavailable):
                    await llm.chat(USER, [])


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3)
        return web.Response(body=answer("late"), content_type="application/json")

    runner, url, _ = await serve(handler)
    try:
        async with chat_for(url, timeout=0.3) as llm:
            started = time.monotonic()
            with pytest.raises(LLMTimeout):
                await llm.chat(USER, [])
            assert time.monotonic() - started < 1.5
    finally:
        await runner.cleanup()


async def test_a_connection_that_breaks_mid_stream_is_a_protocol_error() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        await response.write(b'{"model":"m","message":{"role":"assistant","content":"par"},"done":false}\n')
        assert request.transport is not None
        request.transport.close()  # gone before the chunked body ends
        return response

    runner, url, _ = await serve(handler)
    try:
        async with chat_for(url) as llm:
            with pytest.raises(LLMProtocolError, match="broke mid-reply"):
                [e async for e in llm.stream(USER, [])]
    finally:
        await runner.cleanup()


def test_an_environment_proxy_keeps_httpx_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = httpx.Limits(max_connections=5)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert isinstance(fast_transport("http://ollama.internal:11434", limits), AiohttpTransport)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    assert fast_transport("http://ollama.internal:11434", limits) is None
    assert fast_transport("ollama.internal:11434", limits) is None
    monkeypatch.setenv("NO_PROXY", "ollama.internal")
    assert isinstance(fast_transport("http://ollama.internal:11434", limits), AiohttpTransport)


class socket_closed:
    """A URL on 127.0.0.1 where nothing listens."""

    def __enter__(self) -> str:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        return None
