"""A scriptable fake Ollama server speaking the real wire protocol, for tests through the real client.

Usage::

    from tests.support.fakes.ollama_server import Reply, running_fake_ollama

    async with running_fake_ollama() as fake:           # models: qwen3:8b, llama3.1:8b, gemma3 (no tools)
        fake.script("Hello!")                            # plain text
        fake.script(Reply.call("get_pool", {"name": "web"}))       # one real tool call (object arguments)
        fake.script(Reply.call("get_pool", '{"name": "web"}'))     # arguments sent as a JSON *string*
        fake.script('{"name": "get_pool", "arguments": {}}')       # a call printed as text
        fake.script(Reply.fail(500, "boom"), Reply.mid_stream_error("oops"), Reply.say("hi", delay=2))
        llm = OllamaChat(LLMSettings(host=fake.url, model="qwen3:8b"))
        ...
        body = fake.chat_requests[-1]                    # the JSON body of the last POST /api/chat
        assert body["options"]["num_ctx"] == 8192

Replies are served in order from the queue; `fake.responder = fn` (body -> Reply | str | None) answers
first, keyed on the request (e.g. the last message), falling back to the queue when it returns None.
With neither, /api/chat answers 500 `{"error": "fake ollama: no scripted reply"}` so a missing script is
loud. Before any script, like the real server: an unknown model gets 404 `{"error": "model 'x' not
found"}`, and tools sent to a model without the `tools` capability get 400 "... does not support tools".

Streaming (`"stream": true`, the server default) sends NDJSON: content deltas (word by word), one chunk
with the complete `tool_calls`, then a `done: true` chunk with token counts and durations in ns.
Every request is recorded in `fake.requests` (method, path, JSON body).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

ToolArgs = dict[str, Any] | str


@dataclass
class FakeModel:
    """A model the fake has "pulled"."""

    name: str
    tools: bool = True
    thinking: bool = False
    context_length: int = 32768
    family: str = "llama"
    parameter_size: str = "8.0B"
    quantization: str = "Q4_K_M"
    size: int = 4_920_000_000
    report_capabilities: bool = True
    "False mimics an old server whose /api/show has no `capabilities`."


DEFAULT_MODELS = (
    FakeModel("qwen3:8b", thinking=True, context_length=40960, family="qwen3", parameter_size="8.2B"),
    FakeModel("llama3.1:8b", context_length=131072, family="llama"),
    FakeModel("gemma3:latest", tools=False, family="gemma3", parameter_size="4.3B"),
)


@dataclass
class Reply:
    """One scripted answer to POST /api/chat."""

    text: str = ""
    tool_calls: list[tuple[str, ToolArgs]] = field(default_factory=list)
    "(name, arguments); arguments go on the wire exactly as given (a str stays a string)."
    thinking: str = ""
    done_reason: str = "stop"
    status: int = 200
    "Not 200: answer `{'error': error}` with this status and nothing else."
    error: str = ""
    "With status 200: a mid-stream `{'error': ...}` line after the text (non-streamed: HTTP 500)."
    raw: str | None = None
    "Sent verbatim as the body (status 200), to test malformed replies."
    delay: float = 0.0
    "Seconds before the first byte."
    chunk_delay: float = 0.0
    "Seconds between streamed chunks (a slow trickle)."

    @classmethod
    def say(cls, text: str, **kw: Any) -> Reply:
        return cls(text=text, **kw)

    @classmethod
    def call(cls, name: str, arguments: ToolArgs | None = None, **kw: Any) -> Reply:
        return cls(tool_calls=[(name, {} if arguments is None else arguments)], **kw)

    @classmethod
    def calls(cls, *calls: tuple[str, ToolArgs], **kw: Any) -> Reply:
        return cls(tool_calls=list(calls), **kw)

    @classmethod
    def fail(cls, status: int, message: str, **kw: Any) -> Reply:
        return cls(status=status, error=message, **kw)

    @classmethod
    def mid_stream_error(cls, message: str, after: str = "partial ", **kw: Any) -> Reply:
        return cls(text=after, error=message, **kw)


Responder = Callable[[dict[str, Any]], "Reply | str | None"]


@dataclass
class Recorded:
    method: str
    path: str
    body: Any


def _full_name(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeOllama:
    """The fake's state: models, scripted replies, recorded requests. Create with `running_fake_ollama`."""

    def __init__(self, models: list[FakeModel] | None = None, responder: Responder | None = None) -> None:
        self.models = {_full_name(m.name): m for m in (models or DEFAULT_MODELS)}
        self.responder = responder
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.version = "0.12.6"
        self.url = ""
        self._closing = asyncio.Event()

    # -- test API -----------------------------------------------------------------------------------

    def script(self, *replies: Reply | str) -> None:
        """Queue replies for the next POST /api/chat calls, in order."""
        self.replies.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of every POST /api/chat so far."""
        return [r.body for r in self.requests if r.path == "/api/chat"]

    @property
    def last_chat(self) -> dict[str, Any]:
        return self.chat_requests[-1]

    # -- server -------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/chat", self._chat)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/show", self._show)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _record(self, request: web.Request) -> Any:
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                body = text
        self.requests.append(Recorded(request.method, request.path, body))
        return body

    @staticmethod
    def _err(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    def _model(self, name: Any) -> FakeModel | None:
        return self.models.get(_full_name(name)) if isinstance(name, str) and name else None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        if not isinstance(body, dict):
            return self._err(400, "invalid JSON body")
        name = body.get("model", "")
        model = self._model(name)
        if model is None:
            return self._err(404, f"model '{name}' not found")
        if body.get("tools") and not model.tools:
            return self._err(400, f"registry.ollama.ai/library/{_full_name(name)} does not support tools")
        reply = self._next_reply(body)
        await self._sleep(reply.delay)
        if reply.status != 200:
            return self._err(reply.status, reply.error or "error")
        if reply.raw is not None:
            return web.Response(text=reply.raw, content_type="application/json")
        stats = self._stats(body, reply)
        if not body.get("stream", True):
            if reply.error:
                return self._err(500, reply.error)
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.thinking:
                message["thinking"] = reply.thinking
            if reply.tool_calls:
                message["tool_calls"] = self._wire_calls(reply)
            return web.json_response({"model": name, "created_at": _now(), "message": message, **stats})
        return await self._stream(request, name, reply, stats)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        if self.responder is not None:
            answer = self.responder(body)
            if answer is not None:
                return Reply(text=answer) if isinstance(answer, str) else answer
        if self.replies:
            return self.replies.popleft()
        return Reply(status=500, error="fake ollama: no scripted reply")

    @staticmethod
    def _wire_calls(reply: Reply) -> list[dict[str, Any]]:
        return [
            {"id": f"call_{i}", "function": {"index": i, "name": name, "arguments": args}}
            for i, (name, args) in enumerate(reply.tool_calls)
        ]

    @staticmethod
    def _stats(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt = len(json.dumps(body.get("messages", []))) + len(json.dumps(body.get("tools", [])))
        return {
            "done": True,
            "done_reason": reply.done_reason,
            "total_duration": 250_000_000,
            "load_duration": 20_000_000,
            "prompt_eval_count": max(1, prompt // 4),
            "prompt_eval_duration": 100_000_000,
            "eval_count": max(1, len(reply.text) // 4 + 10 * len(reply.tool_calls)),
            "eval_duration": 120_000_000,
        }

    async def _stream(
        self, request: web.Request, name: str, reply: Reply, stats: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)

        async def send(obj: dict[str, Any], pause: bool = True) -> None:
            if pause:
                await self._sleep(reply.chunk_delay)
            await response.write((json.dumps(obj) + "\n").encode())

        def chunk(**message: Any) -> dict[str, Any]:
            return {
                "model": name,
                "created_at": _now(),
                "message": {"role": "assistant", "content": "", **message},
                "done": False,
            }

        first = True
        for piece in re.findall(r"\S+\s*|\s+", reply.thinking):
            await send(chunk(thinking=piece), pause=not first)
            first = False
        for piece in re.findall(r"\S+\s*|\s+", reply.text):
            await send(chunk(content=piece), pause=not first)
            first = False
        if reply.error:
            await send({"error": reply.error})
            await response.write_eof()
            return response
        if reply.tool_calls:
            await send(chunk(tool_calls=self._wire_calls(reply)), pause=not first)
        done = {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": ""}}
        await send({**done, **stats})
        await response.write_eof()
        return response

    def _details(self, m: FakeModel) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": m.family,
            "families": [m.family],
            "parameter_size": m.parameter_size,
            "quantization_level": m.quantization,
        }

    async def _tags(self, request: web.Request) -> web.Response:
        await self._record(request)
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": _now(),
                "size": m.size,
                "digest": "0" * 64,
                "details": self._details(m),
            }
            for name, m in self.models.items()
        ]
        return web.json_response({"models": models})

    async def _show(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        name = (body or {}).get("model") or (body or {}).get("name") if isinstance(body, dict) else None
        m = self._model(name)
        if m is None:
            return self._err(404, f"model '{name}' not found")
        capabilities = ["completion"] + (["tools"] if m.tools else []) + (["thinking"] if m.thinking else [])
        template = "{{- if .Tools }}tools: {{ .Tools }}{{ end }}{{ .Prompt }}" if m.tools else "{{ .Prompt }}"
        out: dict[str, Any] = {
            "license": "fake",
            "modelfile": f"FROM {name}",
            "parameters": 'stop "<|im_end|>"',
            "template": template,
            "details": self._details(m),
            "model_info": {
                "general.architecture": m.family,
                "general.parameter_count": 8_000_000_000,
                f"{m.family}.context_length": m.context_length,
                f"{m.family}.embedding_length": 4096,
            },
            "modified_at": _now(),
        }
        if m.report_capabilities:
            out["capabilities"] = capabilities
        return web.json_response(out)

    async def _version(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response({"version": self.version})

    async def _ps(self, request: web.Request) -> web.Response:
        await self._record(request)
        loaded = [
            {
                "name": name,
                "model": name,
                "size": m.size,
                "digest": "0" * 64,
                "details": self._details(m),
                "expires_at": "2099-01-01T00:00:00Z",
                "size_vram": m.size,
                "context_length": 8192,
            }
            for name, m in list(self.models.items())[:1]
        ]
        return web.json_response({"models": loaded})

    async def _not_found(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=404, text="404 page not found")


@contextlib.asynccontextmanager
async def running_fake_ollama(
    models: list[FakeModel] | None = None, responder: Responder | None = None, *, port: int = 0
) -> AsyncIterator[FakeOllama]:
    """Serve a `FakeOllama` on 127.0.0.1 (a free port, or `port`) for the duration of the block."""
    fake = FakeOllama(models, responder)
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield fake
    finally:
        fake._closing.set()
        await runner.cleanup()
