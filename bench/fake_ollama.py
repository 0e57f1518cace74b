"""A fake Ollama for the benchmarks that charges for tokens, so prompt size shows up as latency.

A real model's time for one call is roughly a *prefill* cost per prompt token (reading the system
prompt, tool schemas, history and tool results) plus a *decode* cost per token it writes. This fake
sleeps exactly that, per call and independently for each concurrent call (as if the GPU had room for
all of them, so any queueing the benchmark sees is the bot's own):

    charge = prefill_ms * prompt_tokens + decode_ms * output_tokens

Tokens are estimated as characters / 4 (rounded up), the usual rule of thumb for English and JSON
with Llama-family tokenizers: the prompt counts the JSON of `messages` and `tools` as sent on the
wire (Ollama's chat template adds a few tokens per message on top, not counted). Streamed text goes
out word by word, each word after its own decode cost, so the first word arrives after the prefill
plus one word's decode; a tool call is decoded whole and sent in one chunk, as Ollama does.

It speaks enough of Ollama's HTTP API for `ollama.AsyncClient` and `avibot serve`: /api/chat
(streamed and not), /api/tags, /api/show, /api/version, /api/ps. It keeps counters, not request
bodies, so a long benchmark does not grow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

MODEL = "llama3.1:8b"
CHARS_PER_TOKEN = 4
_WORDS = re.compile(r"\S+\s*|\s+")


def tokens(chars: int) -> int:
    """Estimated tokens for `chars` characters (at least 1 for any text)."""
    return -(-chars // CHARS_PER_TOKEN) if chars > 0 else 0


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated prompt tokens of one /api/chat body: its messages and tool schemas as JSON."""
    return tokens(len(orjson.dumps(body.get("messages") or [])) + len(orjson.dumps(body.get("tools") or [])))


@dataclass(frozen=True)
class Answer:
    """What the fake model says to one call: text, or tool calls (name, arguments)."""

    text: str = ""
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()

    @classmethod
    def say(cls, text: str) -> Answer:
        return cls(text=text)

    @classmethod
    def call(cls, name: str, arguments: dict[str, Any] | None = None) -> Answer:
        return cls(calls=((name, arguments or {}),))

    def wire_calls(self) -> list[dict[str, Any]]:
        return [
            {"id": f"call_{i}", "function": {"index": i, "name": name, "arguments": args}}
            for i, (name, args) in enumerate(self.calls)
        ]

    def output_tokens(self) -> int:
        calls = self.wire_calls()
        return tokens(len(self.text)) + (tokens(len(orjson.dumps(calls))) if calls else 0)


@dataclass(frozen=True)
class CostModel:
    """Milliseconds per prompt token read and per output token written."""

    prefill_ms: float = 0.3
    decode_ms: float = 20.0

    def charge(self, prompt: int, output: int) -> float:
        """Seconds one call takes for `prompt` tokens in and `output` tokens out."""
        return (self.prefill_ms * prompt + self.decode_ms * output) / 1000


@dataclass
class Counters:
    """What the fake has served since the last `reset()`."""

    calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    charged: float = 0.0
    "Sum of every call's charge in seconds (what a model with unlimited parallelism would spend)."
    max_prompt_tokens: int = 0


Script = Callable[[dict[str, Any]], Answer]


@dataclass
class CostFakeOllama:
    """The fake's state. `script(body)` decides the answer; `cost` what it costs."""

    script: Script
    cost: CostModel = field(default_factory=CostModel)
    counters: Counters = field(default_factory=Counters)
    url: str = ""

    def reset(self) -> None:
        self.counters = Counters()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/api/chat", self._chat)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/show", self._show)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/ps", self._ps)
        return app

    def account(self, body: dict[str, Any], answer: Answer) -> tuple[int, int, float]:
        """Count one call; (prompt tokens, output tokens, charge in seconds)."""
        prompt, output = prompt_tokens(body), answer.output_tokens()
        charge = self.cost.charge(prompt, output)
        c = self.counters
        c.calls += 1
        c.prompt_tokens += prompt
        c.output_tokens += output
        c.charged += charge
        c.max_prompt_tokens = max(c.max_prompt_tokens, prompt)
        return prompt, output, charge

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        body = orjson.loads(await request.read())
        if body.get("model") != MODEL:
            return _json({"error": f"model '{body.get('model')}' not found"}, 404)
        answer = self.script(body)
        prompt, output, _ = self.account(body, answer)
        await asyncio.sleep(self.cost.prefill_ms * prompt / 1000)
        stats = {
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": prompt,
            "eval_count": output,
        }
        if not body.get("stream", True):
            await asyncio.sleep(self.cost.decode_ms * output / 1000)
            message: dict[str, Any] = {"role": "assistant", "content": answer.text}
            if answer.calls:
                message["tool_calls"] = answer.wire_calls()
            stats["total_duration"] = int((time.perf_counter() - started) * 1e9)
            return _json({"model": MODEL, "created_at": _NOW, "message": message, **stats})
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for word in _WORDS.findall(answer.text):
            await asyncio.sleep(self.cost.decode_ms * tokens(len(word)) / 1000)
            await response.write(_chunk(content=word))
        if answer.calls:
            calls = answer.wire_calls()
            await asyncio.sleep(self.cost.decode_ms * tokens(len(orjson.dumps(calls))) / 1000)
            await response.write(_chunk(tool_calls=calls))
        stats["total_duration"] = int((time.perf_counter() - started) * 1e9)
        done = {"model": MODEL, "created_at": _NOW, "message": {"role": "assistant", "content": ""}}
        await response.write(orjson.dumps({**done, **stats}) + b"\n")
        await response.write_eof()
        return response

    async def _tags(self, request: web.Request) -> web.Response:
        return _json(
            {"models": [{"name": MODEL, "model": MODEL, "modified_at": _NOW, "size": 4_920_000_000}]}
        )

    async def _show(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        if (body.get("model") or body.get("name")) != MODEL:
            return _json({"error": "model not found"}, 404)
        return _json(
            {
                "template": "{{ .Tools }}{{ .Prompt }}",
                "capabilities": ["completion", "tools"],
                "details": {"family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
                "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
                "modified_at": _NOW,
            }
        )

    async def _version(self, request: web.Request) -> web.Response:
        return _json({"version": "0.12.6"})

    async def _ps(self, request: web.Request) -> web.Response:
        return _json({"models": [{"name": MODEL, "model": MODEL, "context_length": 8192}]})


_NOW = "2026-01-01T00:00:00Z"


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json")


def _chunk(**message: Any) -> bytes:
    obj = {
        "model": MODEL,
        "created_at": _NOW,
        "message": {"role": "assistant", "content": "", **message},
        "done": False,
    }
    return orjson.dumps(obj) + b"\n"


@contextlib.asynccontextmanager
async def running_cost_fake(script: Script, cost: CostModel | None = None) -> AsyncIterator[CostFakeOllama]:
    """Serve a `CostFakeOllama` on 127.0.0.1 (a free port) for the duration of the block."""
    fake = CostFakeOllama(script=script, cost=cost or CostModel())
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
        fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield fake
    finally:
        await runner.cleanup()
