"""Keep the prompt inside `num_ctx`, because Ollama overflows silently and drops the system prompt first.

Estimates are deliberately pessimistic (3.5 characters a token rather than the usual 4: tool results are
JSON with short keys and ids, which tokenize worse than prose). History is dropped oldest first and whole
turns at a time (a turn starts at a `user` message), so a `tool` message never loses the assistant
`tool_calls` message it answers, and the system prompt and the new messages are always kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD = 6
"Role markers and separators the chat template adds around each message."
TOOL_OVERHEAD = 24
"Template text around each tool schema."
PROMPT_OVERHEAD = 16


def estimate_tokens(text: str) -> int:
    """Tokens `text` is likely to take, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def message_tokens(msg: dict[str, Any]) -> int:
    """Tokens one chat message takes, including its tool calls and tool name."""
    total = MESSAGE_OVERHEAD + estimate_tokens(str(msg.get("content") or ""))
    if msg.get("tool_calls"):
        total += estimate_tokens(json.dumps(msg["tool_calls"], separators=(",", ":"), default=str))
    if msg.get("tool_name"):
        total += estimate_tokens(str(msg["tool_name"]))
    return total


def tools_tokens(tools: list[dict[str, Any]]) -> int:
    """Tokens the tool schemas take in the prompt."""
    return sum(
        TOOL_OVERHEAD + estimate_tokens(json.dumps(t, separators=(",", ":"), default=str)) for t in tools
    )


@dataclass(frozen=True)
class FitResult:
    """The messages to send (the caller's own dicts, not copies), and what fitting them cost."""

    messages: list[dict[str, Any]]
    dropped: int
    "History messages left out (oldest first)."
    tokens: int
    "Estimated prompt tokens: messages plus tools."
    budget: int
    "num_ctx - reserve."

    @property
    def over_budget(self) -> bool:
        """True when even system + new messages + tools do not fit (nothing more can be dropped here)."""
        return self.tokens > self.budget


def split_turns(history: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """History cut at each `user` message; a leading orphan `tool` message is discarded."""
    turns: list[list[dict[str, Any]]] = []
    for msg in history:
        if msg.get("role") == "user" or not turns:
            turns.append([])
        turns[-1].append(msg)
    if turns and turns[0] and turns[0][0].get("role") != "user":
        turns[0] = _without_orphans(turns[0])
    return [t for t in turns if t]


def _without_orphans(turn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    answered = False
    for msg in turn:
        if msg.get("role") == "tool" and not answered:
            continue
        if msg.get("role") == "assistant" and msg.get("tool_calls"):
            answered = True
        kept.append(msg)
    return kept


def fit_messages(
    system: dict[str, Any],
    history: list[dict[str, Any]],
    new: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    num_ctx: int,
    reserve: int,
) -> FitResult:
    """System prompt + the newest whole turns of history that fit + the new messages."""
    budget = num_ctx - reserve
    fixed = (
        PROMPT_OVERHEAD + message_tokens(system) + sum(message_tokens(m) for m in new) + tools_tokens(tools)
    )
    kept: list[list[dict[str, Any]]] = []
    used = fixed
    for turn in reversed(split_turns(history)):
        cost = sum(message_tokens(m) for m in turn)
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept_history = [m for turn in reversed(kept) for m in turn]
    return FitResult(
        messages=[system, *kept_history, *new],
        dropped=len(history) - len(kept_history),
        tokens=used,
        budget=budget,
    )
