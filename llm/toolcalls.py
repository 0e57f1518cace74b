"""Tool calls as the model made them, made usable: string arguments parsed, calls printed as text recovered.

Two kinds of misbehaviour are handled here:

- **String arguments.** The wire format wants `arguments` as an object; some models/servers send a JSON
  string, and the ollama client's `ChatResponse` then raises `ValidationError`, losing the whole reply.
  `normalize_tool_calls` runs *before* validation (see `TolerantChatResponse` in `llm.client`): a string is
  parsed (twice if double-encoded); anything that is not an object becomes `{}` with an `argument_error`,
  so the agent can tell the model what went wrong instead of the turn failing.
- **Calls printed as text.** A model sometimes writes `{"name": ..., "arguments": {...}}` (or the
  `{"function": ...}` form, `<tool_call>...</tool_call>`, a ```json fence, `<|python_tag|>`, a list of
  them) into `content` instead of making a call. `recover_text_tool_calls` recovers those for *known* tool
  names only and marks them `from_text=True`; whether to run them is the agent's decision.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

NAME_KEYS = ("name", "tool", "tool_name", "function")
ARG_KEYS = ("arguments", "parameters", "args", "input")
THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
FUNCTION_TAG_RE = re.compile(r"<function=([\w.\-]+)>(.*?)</function>", re.DOTALL)
LEFTOVER_RE = re.compile(
    r"```(?:json|tool_call|tool)?\s*```|<tool_call>\s*(?:</tool_call>)?|</tool_call>|<\|python_tag\|>"
    r"|\[TOOL_CALLS\]|<\|eom_id\|>|<\|eot_id\|>"
)


class LLMToolCall(BaseModel):
    """One call the model asked for."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    from_text: bool = False
    "Recovered from the reply text, not a real tool call."
    argument_error: str | None = None
    "Why `arguments` is empty although the model sent something (e.g. unparseable text)."


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    """Arguments as a dict, or `({}, why)` when they cannot be one."""
    if raw is None:
        return {}, None
    value = raw
    for _ in range(2):  # a double-encoded string is seen in the wild
        if not isinstance(value, str):
            break
        text = value.strip()
        if not text:
            return {}, None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return {}, f"arguments are not valid JSON ({exc.msg} at position {exc.pos}): {_clip(text)}"
    if isinstance(value, dict):
        return value, None
    return {}, f"arguments must be a JSON object, got {type(value).__name__}: {_clip(str(raw))}"


def normalize_tool_calls(message: Any) -> dict[int, str]:
    """Rewrite, in place, a raw wire `message` so each call's `arguments` is an object.

    Returns the argument errors by call index. Used before pydantic validation of a response.
    """
    errors: dict[int, str] = {}
    if not isinstance(message, dict):
        return errors
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return errors
    for index, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        raw = function.get("arguments")
        if isinstance(raw, dict):
            continue
        args, error = parse_arguments(raw)
        function["arguments"] = args
        if error:
            errors[index] = error
    return errors


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_call(obj: Any, known: set[str]) -> list[LLMToolCall] | None:
    """The call(s) a decoded JSON value stands for, or None if it is not call-shaped."""
    if isinstance(obj, list):
        calls: list[LLMToolCall] = []
        for item in obj:
            found = _as_call(item, known)
            if found is None:
                return None
            calls.extend(found)
        return calls or None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("tool_calls"), list):
        return _as_call(obj["tool_calls"], known)
    if isinstance(obj.get("function"), dict):
        inner = obj["function"]
        return _as_call(inner, known) if "name" in inner else None
    name = next((obj[k] for k in NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name is None or name not in known:
        return None
    raw = next((obj[k] for k in ARG_KEYS if k in obj), None)
    args, error = parse_arguments(raw)
    return [LLMToolCall(name=name, arguments=args, from_text=True, argument_error=error)]


def split_text_tool_calls(content: str, known_tools: set[str]) -> tuple[str, list[LLMToolCall]]:
    """Recover calls printed in `content`; return the text left once they are cut out, and the calls.

    If nothing is recovered the content is returned unchanged.
    """
    if not content or not known_tools:
        return content, []
    text = THINK_RE.sub("", content)
    calls: list[LLMToolCall] = []
    spans: list[tuple[int, int]] = []
    for match in FUNCTION_TAG_RE.finditer(text):  # llama3.1's <function=name>{...}</function>
        if match.group(1) in known_tools:
            args, error = parse_arguments(match.group(2))
            calls.append(
                LLMToolCall(name=match.group(1), arguments=args, from_text=True, argument_error=error)
            )
            spans.append(match.span())
    decoder = json.JSONDecoder()
    pos = 0
    while pos < len(text):
        start = min((i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0), default=-1)
        if start < 0:
            break
        if any(a <= start < b for a, b in spans):
            pos = start + 1
            continue
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        found = _as_call(value, known_tools)
        if found:
            calls.extend(found)
            spans.append((start, end))
            pos = end
        else:
            pos = end  # valid JSON that is not a call: skip it whole, never half a list
    if not calls:
        return content, []
    spans.sort()
    kept, last = [], 0
    for a, b in spans:
        kept.append(text[last:a])
        last = b
    kept.append(text[last:])
    remaining = LEFTOVER_RE.sub("", "".join(kept)).strip()
    return remaining, calls


def recover_text_tool_calls(content: str, known_tools: set[str]) -> list[LLMToolCall]:
    """Calls to known tools that the model printed as text; each marked `from_text=True`."""
    return split_text_tool_calls(content, known_tools)[1]


def strip_thinking(content: str) -> str:
    """Drop `<think>...</think>` blocks some models leave in `content`."""
    return THINK_RE.sub("", content).strip() if "<think>" in content else content
