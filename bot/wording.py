"""Words for a person: tool names are for the model; a person is shown the command that does the
same (`get_pool web` -> `pool show web`) and sentences, never `list_virtual_services`.

The model keeps reading tool names in its tool answers (bot/invocation.py `Invocation.for_model`);
only what a chat shows goes through here.
"""

from __future__ import annotations

import re
from functools import cache

from bot.commands.grammar import FORMS
from bot.tools import build_catalogue

_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
_USAGE_HEAD = re.compile(r"^[^<\[]+")


@cache
def _commands() -> dict[str, str]:
    """Tool name -> the command that runs it (`vs list`), the first form of each tool."""
    found: dict[str, str] = {}
    for form in FORMS.values():
        head = _USAGE_HEAD.match(form.usage)
        if head is not None:
            found.setdefault(form.tool, head.group(0).strip())
    return found


@cache
def _tool_names() -> frozenset[str]:
    return frozenset(t.name for t in build_catalogue().all())


def command_for(tool: str) -> str | None:
    """The command a person types for `tool` (`list_pools` -> `pool list`), if there is one."""
    return _commands().get(tool)


def usage_for(tool: str) -> str | None:
    """The whole usage line of `tool`'s first command form, for "Usage: ..." hints."""
    return next((form.usage for form in FORMS.values() if form.tool == tool), None)


def for_person(text: str) -> str:
    """`text` with every tool name replaced by its command in backticks, or by plain words."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(0)
        if name not in _tool_names():
            return name  # a field name (oper_state), not a tool
        command = command_for(name)
        return f"`{command}`" if command else name.replace("_", " ")

    return _SNAKE.sub(swap, text)
