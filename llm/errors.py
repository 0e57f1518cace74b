"""What can go wrong talking to Ollama, as short user-facing text plus the next step to take.

Callers catch `LLMError` and show `message` and `hint`; no traceback or raw library text reaches a user.
`translate_error` is the one place that maps the ollama client's, httpx's and pydantic's exceptions.
"""

from __future__ import annotations

import json

import httpx
import ollama
from pydantic import ValidationError

TOOL_MODELS = "qwen3:8b or llama3.1:8b"


class LLMError(Exception):
    """Base: `message` says what happened, `hint` what to do about it."""

    default_hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class LLMUnavailable(LLMError):
    """Ollama cannot be reached: refused, DNS failure, connect timeout, queue full."""

    default_hint = "start it with `ollama serve` or set OLLAMA_HOST"


class ModelNotFound(LLMError):
    """The model is not pulled on that Ollama server (HTTP 404)."""


class ModelWithoutTools(LLMError):
    """The model cannot call tools (HTTP 400 "does not support tools", or no `tools` capability)."""

    default_hint = f"pick a tool-capable model, e.g. {TOOL_MODELS}"


class LLMTimeout(LLMError):
    """No (complete) answer within the configured time."""

    default_hint = "the model may still be loading; try again, or raise llm.timeout (LLM_TIMEOUT)"


class LLMProtocolError(LLMError):
    """A reply we cannot use: a malformed body, or an error reported in the middle of a stream."""

    default_hint = "try again; if it persists, check the Ollama server log"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def translate_error(exc: BaseException, *, host: str, model: str, timeout: float) -> LLMError:
    """Map any exception raised while calling Ollama to the matching `LLMError`."""
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, ollama.ResponseError):
        text = _short(exc.error)
        if exc.status_code == 404:
            return ModelNotFound(
                f"Model {model} is not available on Ollama at {host}", f"run `ollama pull {model}`"
            )
        if "does not support tools" in text:
            return ModelWithoutTools(f"Model {model} does not support tool calling")
        if exc.status_code == -1:
            return LLMProtocolError(f"Ollama reported an error mid-reply: {text}")
        if exc.status_code == 503:
            return LLMUnavailable(
                f"Ollama at {host} is busy ({text})", "try again shortly, or raise OLLAMA_NUM_PARALLEL"
            )
        return LLMError(f"Ollama returned an error (HTTP {exc.status_code}): {text}", "check the Ollama log")
    if isinstance(exc, httpx.ConnectTimeout):
        return LLMUnavailable(f"Ollama is not reachable at {host} (no answer within {timeout:g} s)")
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return LLMTimeout(f"The model {model} did not answer within {timeout:g} s")
    if isinstance(exc, ConnectionError | httpx.ConnectError | OSError):
        return LLMUnavailable(f"Ollama is not reachable at {host}")
    if isinstance(exc, httpx.TransportError):
        return LLMProtocolError(f"The connection to Ollama at {host} broke mid-reply")
    if isinstance(exc, ValidationError | json.JSONDecodeError | ValueError | KeyError | TypeError):
        return LLMProtocolError(f"Ollama at {host} sent a reply that could not be read")
    return LLMError(f"Unexpected error talking to Ollama at {host}: {type(exc).__name__}")
