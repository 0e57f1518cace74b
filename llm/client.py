"""Ollama chat with tool calling, on the official `ollama.AsyncClient`.

Every chat call sends the same `num_ctx` (a change makes Ollama reload the model, and its default is too
small and varies by version), the temperature and `keep_alive`, and is bounded in time twice: httpx's
timeout per read, and an asyncio deadline over the whole reply so a trickling stream cannot hang a turn.

Chat requests go through the client's `_request(cls, ...)` seam rather than `chat()`, with
`TolerantChatResponse` as the response class: it is `ChatResponse` plus a pre-validation step that parses
tool-call arguments sent as a JSON string (the plain class raises `ValidationError` and the reply is
lost). Everything else (request shape via the client's `Message`/`Tool` models, error mapping for HTTP
status, mid-stream `{"error"}`, refused connections, NDJSON streaming) stays the client's own code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any, TypeVar

import httpx
import ollama
import orjson
from pydantic import BaseModel, Field, model_validator

from llm.errors import LLMError, ModelWithoutTools, translate_error
from llm.schema import tool_names
from llm.settings import LLMSettings, http_limits, http_timeout
from llm.toolcalls import LLMToolCall, normalize_tool_calls, split_text_tool_calls, strip_thinking
from llm.transport import fast_transport

log = logging.getLogger(__name__)

_T = TypeVar("_T")

META_TIMEOUT = 15.0
"Upper bound in seconds for the small metadata calls (/api/tags, /api/show, /api/version)."
TOOL_CACHE_SIZE = 256
"Tool schemas whose wire form is kept (the catalogue has a few dozen)."
HELD_PREFIXES = ("{", "[", "```", "<tool_call>", "<|python_tag|>", "<function=", "[TOOL_CALLS]")
"A reply starting like this may be a tool call printed as text: hold it back from the stream."


class LLMResponse(BaseModel):
    """One complete model reply. Thinking text is never part of `content`."""

    content: str = ""
    tool_calls: list[LLMToolCall] = Field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    done_reason: str | None = None
    total_ms: float | None = None
    load_ms: float | None = None
    model: str | None = None

    @property
    def truncated(self) -> bool:
        """The reply stopped at `num_predict` or the end of the context."""
        return self.done_reason == "length"


class LLMEvent(BaseModel):
    """A streamed event: a text `delta`, or (last, exactly once) the full `response`."""

    delta: str = ""
    response: LLMResponse | None = None


class ModelInfo(BaseModel):
    """A pulled model, from /api/tags."""

    name: str
    size: int | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None


class ModelCheck(BaseModel):
    """Whether a model can serve this bot, and a sentence saying so or why not."""

    name: str
    exists: bool
    supports_tools: bool | None = None
    "None when the server does not report capabilities and the template says nothing."
    context_length: int | None = None
    capabilities: list[str] = Field(default_factory=list)
    message: str
    hint: str = ""

    @property
    def ok(self) -> bool:
        return self.exists and self.supports_tools is not False


class VersionInfo(BaseModel):
    version: str = ""


class TolerantChatResponse(ollama.ChatResponse):
    """`ChatResponse` that accepts tool-call arguments sent as a JSON string (see `llm.toolcalls`)."""

    argument_errors: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _parse_string_arguments(cls, data: Any) -> Any:
        # Only a chunk with calls needs it: the others (every streamed word) pass through as they are.
        if (
            isinstance(data, dict)
            and isinstance(data.get("message"), dict)
            and data["message"].get("tool_calls")
        ):
            data = {**data, "message": dict(data["message"])}
            errors = normalize_tool_calls(data["message"])
            if errors:
                data["argument_errors"] = errors
        return data


class _StreamText:
    """Turns raw content chunks into deltas fit to show: no `<think>` blocks, and a reply that may be a
    tool call printed as text held back until the end (the caller decides then whether to show it)."""

    def __init__(self, hold_calls: bool) -> None:
        self.hold_calls = hold_calls
        self.state = "start"  # start (undecided) | text | held
        self.thinking = False
        self.pending = ""
        self.held = ""

    def feed(self, chunk: str) -> str:
        self.pending += chunk
        out: list[str] = []
        while self.pending:
            if self.thinking:
                end = self.pending.find("</think>")
                if end < 0:
                    self.pending = self.pending[-7:]
                    break
                self.pending = self.pending[end + len("</think>") :]
                self.thinking = False
                continue
            start = self.pending.find("<think>")
            if start >= 0:
                out.append(self._text(self.pending[:start]))
                self.pending = self.pending[start + len("<think>") :]
                self.thinking = True
                continue
            longest = min(len("<think>") - 1, len(self.pending))
            keep = next((n for n in range(longest, 0, -1) if "<think>".startswith(self.pending[-n:])), 0)
            cut = len(self.pending) - keep
            text, self.pending = self.pending[:cut], self.pending[cut:]
            out.append(self._text(text))
            break
        return "".join(out)

    def _text(self, text: str) -> str:
        if not text or self.state == "text":
            return text
        self.held += text
        if self.state == "held":
            return ""
        head = self.held.lstrip()
        if not head:
            return ""
        if self.hold_calls and any(head.startswith(p) for p in HELD_PREFIXES):
            self.state = "held"
            return ""
        if self.hold_calls and any(p.startswith(head) for p in HELD_PREFIXES):
            return ""
        self.state = "text"
        text, self.held = self.held, ""
        return text

    def finish(self) -> str:
        """What is still unshown (held text and any partial tag), once the reply is complete."""
        rest = "" if self.thinking else self.pending
        self.pending = ""
        text = (self.held if self.state != "text" else "") + rest
        self.held = ""
        return text.lstrip() if self.state != "text" else text


def _ms(ns: int | None) -> float | None:
    return None if ns is None else ns / 1_000_000


class OllamaChat:
    """Chat with one Ollama server. Safe to share between concurrent turns."""

    def __init__(self, settings: LLMSettings, *, client: ollama.AsyncClient | None = None) -> None:
        self.settings = settings
        self._owns_client = client is None
        self._tools: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        limits = http_limits(settings)
        self._client = client or ollama.AsyncClient(
            host=settings.host,
            timeout=http_timeout(settings),
            limits=limits,
            transport=fast_transport(settings.host, limits),
        )
        # /api/chat as an absolute URL, made once: merging a relative path with the base URL parses
        # both again on every call (a tenth of a millisecond here).
        self._chat_url = self._client._client.base_url.join("api/chat")

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def num_ctx(self) -> int:
        return self.settings.num_ctx

    async def aclose(self) -> None:
        if self._owns_client:
            # ollama's `AsyncClient.close` has no annotations (ollama 0.6).
            await self._client.close()  # type: ignore[no-untyped-call]

    async def __aenter__(self) -> OllamaChat:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- chat ---------------------------------------------------------------------------------------

    def _body(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], model: str, stream: bool
    ) -> dict[str, Any]:
        """The /api/chat request, shaped by the client's own `Message` and `Tool` models."""
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                ollama.Message.model_validate(
                    {k: v for k, v in dict(m).items() if v and k != "thinking"}
                ).model_dump(exclude_none=True)
                for m in messages
            ],
            "stream": stream,
            "options": {"num_ctx": self.settings.num_ctx, "temperature": self.settings.temperature},
            "keep_alive": self.settings.keep_alive,
        }
        if tools:
            body["tools"] = [self._wire_tool(t) for t in tools]
        if self.settings.think is not None:
            body["think"] = self.settings.think
        return body

    def _wire_tool(self, tool: dict[str, Any]) -> dict[str, Any]:
        """A tool schema as the client's `Tool` model shapes it, once per schema object: the catalogue
        builds each tool's schema once, and validating ~8 of them on every call cost more than the rest
        of building the request."""
        cached = self._tools.get(id(tool))
        if cached is not None and cached[0] is tool:
            return cached[1]
        if len(self._tools) >= TOOL_CACHE_SIZE:
            self._tools.clear()
        wire = ollama.Tool.model_validate(tool).model_dump(exclude_none=True, by_alias=True)
        self._tools[id(tool)] = (tool, wire)
        return wire

    def _error(self, exc: BaseException, model: str) -> LLMError:
        if isinstance(exc, httpx.PoolTimeout):  # our own pool is full: the model is not down, just busy
            error = LLMError(
                f"All {self.settings.max_connections} connections to Ollama were busy for "
                f"{self.settings.pool_timeout:g} s",
                "raise llm.max_connections (LLM_MAX_CONNECTIONS) or llm.pool_timeout",
            )
        else:
            error = translate_error(exc, host=self.host, model=model, timeout=self.settings.timeout)
        log.warning("ollama call failed: %s (%s)", error.message, type(exc).__name__)
        return error

    async def chat(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, model: str | None = None
    ) -> LLMResponse:
        """One non-streamed reply."""
        name = model or self.model
        try:
            body = self._body(messages, tools, name, stream=False)
            async with asyncio.timeout(self.settings.timeout):
                reply = await self._client._request(
                    TolerantChatResponse, "POST", self._chat_url, content=orjson.dumps(body), stream=False
                )
        except Exception as exc:
            raise self._error(exc, name) from exc
        calls = _calls(reply)
        return self._response(reply.message.content or "", calls, reply, tool_names(tools), name)

    async def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, model: str | None = None
    ) -> AsyncIterator[LLMEvent]:
        """Text deltas as they come, then one event with the complete `LLMResponse`.

        The deadline (`settings.timeout`) counts time spent waiting for Ollama, not time the consumer
        spends between events.
        """
        name = model or self.model
        known = tool_names(tools)
        loop = asyncio.get_running_loop()
        remaining = self.settings.timeout
        text = _StreamText(hold_calls=bool(known))
        content: list[str] = []
        calls: list[LLMToolCall] = []
        final: TolerantChatResponse | None = None
        parts: Any = None
        try:
            body = self._body(messages, tools, name, stream=True)
            started = loop.time()
            async with asyncio.timeout(remaining):
                parts = await self._client._request(
                    TolerantChatResponse, "POST", self._chat_url, content=orjson.dumps(body), stream=True
                )
            remaining -= loop.time() - started
            while True:
                started = loop.time()
                try:
                    async with asyncio.timeout(max(remaining, 0.0)):
                        part = await anext(parts)
                except StopAsyncIteration:
                    break
                remaining -= loop.time() - started
                calls.extend(_calls(part))
                if part.message.content:
                    content.append(part.message.content)
                    delta = text.feed(part.message.content)
                    if delta:
                        yield LLMEvent(delta=delta)
                if part.done:
                    final = part
                    break
        except Exception as exc:
            raise self._error(exc, name) from exc
        finally:
            if parts is not None:
                await parts.aclose()
        if final is None:
            raise self._error(ValueError("stream ended without a done chunk"), name)
        response = self._response("".join(content), calls, final, known, name)
        rest = text.finish()
        if rest and not any(c.from_text for c in response.tool_calls):
            yield LLMEvent(delta=rest)
        yield LLMEvent(response=response)

    def _response(
        self,
        raw_content: str,
        calls: list[LLMToolCall],
        stats: ollama.ChatResponse,
        known: set[str],
        model: str,
    ) -> LLMResponse:
        content = strip_thinking(raw_content)
        if not calls and known:
            content, calls = split_text_tool_calls(content, known)
            if calls:
                log.info("recovered %d tool call(s) the model printed as text", len(calls))
        response = LLMResponse(
            content=content,
            tool_calls=calls,
            prompt_tokens=stats.prompt_eval_count,
            completion_tokens=stats.eval_count,
            done_reason=stats.done_reason,
            total_ms=_ms(stats.total_duration),
            load_ms=_ms(stats.load_duration),
            model=stats.model or model,
        )
        if response.prompt_tokens and response.prompt_tokens >= self.settings.num_ctx - 16:
            log.warning(
                "prompt of %d tokens filled num_ctx=%d: Ollama may have cut the oldest messages",
                response.prompt_tokens,
                self.settings.num_ctx,
            )
        log.debug(
            "ollama %s: %s prompt + %s completion tokens, %s ms, %d tool call(s), done_reason=%s",
            model,
            response.prompt_tokens,
            response.completion_tokens,
            response.total_ms,
            len(calls),
            response.done_reason,
        )
        return response

    # -- metadata -----------------------------------------------------------------------------------

    async def _meta(self, coro: Awaitable[_T], model: str) -> _T:
        try:
            async with asyncio.timeout(min(self.settings.timeout, META_TIMEOUT)):
                return await coro
        except Exception as exc:
            raise self._error(exc, model) from exc

    async def version(self) -> str:
        """The server's version string (/api/version)."""
        info = await self._meta(self._client._request(VersionInfo, "GET", "/api/version"), self.model)
        return info.version

    async def ping(self) -> float:
        """Round-trip latency in ms to /api/version; raises `LLMUnavailable` when unreachable."""
        started = time.perf_counter()
        await self.version()
        return (time.perf_counter() - started) * 1000

    async def list_models(self) -> list[ModelInfo]:
        """The models pulled on the server."""
        listing = await self._meta(self._client.list(), self.model)
        models = []
        for m in listing.models:
            details = m.details
            models.append(
                ModelInfo(
                    name=m.model or "",
                    size=int(m.size) if m.size is not None else None,
                    family=details.family if details else None,
                    parameter_size=details.parameter_size if details else None,
                    quantization=details.quantization_level if details else None,
                )
            )
        return models

    async def validate_model(self, name: str | None = None) -> ModelCheck:
        """Whether `name` (default: the configured model) is pulled and can call tools.

        A missing model is a result (`exists=False`), not an exception; an unreachable server raises.
        """
        name = name or self.model
        try:
            async with asyncio.timeout(min(self.settings.timeout, META_TIMEOUT)):
                shown = await self._client.show(name)
        except ollama.ResponseError as exc:
            if exc.status_code != 404:
                raise self._error(exc, name) from exc
            return ModelCheck(
                name=name,
                exists=False,
                message=f"Model {name} is not available on Ollama at {self.host}",
                hint=f"run `ollama pull {name}`",
            )
        except Exception as exc:
            raise self._error(exc, name) from exc
        capabilities = list(shown.capabilities or [])
        if shown.capabilities is not None:
            supports_tools: bool | None = "tools" in capabilities
        elif shown.template:
            supports_tools = ".Tools" in shown.template
        else:
            supports_tools = None
        context_length = _context_length(shown.modelinfo or {})
        if supports_tools is False:
            message = f"Model {name} does not support tool calling"
            hint = ModelWithoutTools.default_hint
        else:
            message = f"Model {name}: tools {'yes' if supports_tools else 'unknown'}"
            message += f", context {context_length}" if context_length else ""
            hint = ""
            if context_length and context_length < self.settings.num_ctx:
                message += f" (num_ctx {self.settings.num_ctx} is larger; Ollama will cap it)"
                hint = f"set llm.num_ctx to at most {context_length}"
        return ModelCheck(
            name=name,
            exists=True,
            supports_tools=supports_tools,
            context_length=context_length,
            capabilities=capabilities,
            message=message,
            hint=hint,
        )


def _calls(reply: TolerantChatResponse) -> list[LLMToolCall]:
    errors = reply.argument_errors
    return [
        LLMToolCall(
            name=call.function.name,
            arguments=dict(call.function.arguments or {}),
            argument_error=errors.get(index),
        )
        for index, call in enumerate(reply.message.tool_calls or [])
    ]


def _context_length(model_info: Mapping[str, Any]) -> int | None:
    arch = model_info.get("general.architecture")
    value = model_info.get(f"{arch}.context_length") if arch else None
    if value is None:
        value = next((v for k, v in model_info.items() if k.endswith(".context_length")), None)
    return int(value) if isinstance(value, int | float) else None
