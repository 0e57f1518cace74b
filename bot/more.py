"""The next page of a table: what a reply says about it, what the history keeps of it, and which calls
may be continued.

A list tool's table carries `more` (bot/tools/paging.py); here the core adds the command a person can
type for the same page (spelled by the grammar) and a hint with the filters that narrow the list. The
conversation's history keeps the last listing's `more` on the assistant message of that turn (`"more"`:
the MoreRows, or None when that list was complete), so a typed `more` continues it on any replica and
after a restart, whichever store (Redis, SQLite, memory) holds the history: messages are JSON dicts.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.commands.unparse import command_for, narrow_hint
from bot.tools import ToolCatalogue
from bot.types import MoreRows, Part, Risk, TablePart, TextPart
from bot.validation import describe

MORE_KEY = "more"
NOTHING_TO_CONTINUE = "There is no list to continue here: `more` shows the next page of the last list shown."
LIST_COMPLETE = "The last list here is complete: there is nothing more to show."


def offer(parts: list[Part]) -> list[Part]:
    """The parts with each table's `more` given its command, and a hint under it: how many rows are
    left, what to type for them, and how to narrow the list."""
    out: list[Part] = []
    for part in parts:
        if not isinstance(part, TablePart) or part.more is None:
            out.append(part)
            continue
        more = part.more
        command = more.command or command_for(more.tool, more.arguments)
        table = part.model_copy(update={"more": more.model_copy(update={"command": command})})
        out += [table, TextPart(markdown=hint(table.hidden, command, narrow_hint(more.tool, more.arguments)))]
    return out


def hint(left: int, command: str | None, narrow: str | None) -> str:
    rows = f"{left} more row{'s' if left != 1 else ''}"
    typed = f"`{command}` or `more`" if command else "`more`"
    return f"_{rows}: type {typed}" + (f"; narrow it: {narrow}" if narrow else "") + "._"


def remembered(parts: list[Part]) -> dict[str, Any]:
    """What the turn's assistant message keeps: the last table's `more` (None: that list was complete);
    nothing when the turn showed no table."""
    tables = [p for p in parts if isinstance(p, TablePart)]
    if not tables:
        return {}
    more = tables[-1].more
    return {MORE_KEY: more.model_dump(mode="json") if more is not None else None}


def last_more(messages: list[dict[str, Any]]) -> MoreRows | str:
    """The conversation's last listing's next page, or why there is none (a sentence)."""
    for message in reversed(messages):
        if message.get("role") != "assistant" or MORE_KEY not in message:
            continue
        if message[MORE_KEY] is None:
            return LIST_COMPLETE
        try:
            return MoreRows.model_validate(message[MORE_KEY])
        except ValidationError:
            return NOTHING_TO_CONTINUE
    return NOTHING_TO_CONTINUE


def refusal(catalogue: ToolCatalogue, more: MoreRows) -> str | None:
    """Why `more` may not run (a sentence), or None: only a read tool of the catalogue, with valid
    arguments. The asker's own access is checked when it runs, as for every call."""
    tool = catalogue.get(more.tool)
    if tool is None:
        return f"There is no list named {more.tool!r} to continue."
    if tool.risk is not Risk.READ or tool.risk_of is not None:
        return "Only a list can be continued: that is a change, and nothing was done."
    try:
        tool.args.model_validate(more.arguments)
    except ValidationError as exc:
        return f"That next page cannot be shown: {describe(exc)}."
    return None
