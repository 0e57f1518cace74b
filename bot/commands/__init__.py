"""Command mode: `/avi <command>` parsed into a tool call or a core command, with no LLM.

Ops engineers want exact, instant answers, and the assistant must keep working when Ollama is down.
`parse_command` returns a `ToolCommand` or `CoreCommand`, a `CommandError` when the text is clearly a
command but malformed, or None for free text (the LLM's job); `plain_fallback` (and its short form
`match_plain_english`) is the plain-English fallback for when the LLM is down; `help_text` is built
from the same tables as the parser, so it cannot drift from the grammar. All their words come from
`bot.lexicon`.

Modules: `models` (the results), `words` (addressing, splitting, name lookups), `grammar` (the forms
table), `bind` (words to arguments), `parse`, `help`; for sentences `vocabulary` (the lexicon as one
phrase table), `spelling`, `reading` (what a sentence names), `intents` (what it asks for, ranked,
shared with the router) and `plain` (the fallback).
"""

from __future__ import annotations

from bot.commands.grammar import FORMS, Form
from bot.commands.help import help_text
from bot.commands.models import Command, CommandError, CoreCommand, CoreName, ToolCommand
from bot.commands.parse import parse_command
from bot.commands.plain import Fallback, looks_like_prose, match_plain_english, plain_fallback
from bot.commands.words import strip_address

__all__ = [
    "FORMS",
    "Command",
    "CommandError",
    "CoreCommand",
    "CoreName",
    "Fallback",
    "Form",
    "ToolCommand",
    "help_text",
    "looks_like_prose",
    "match_plain_english",
    "parse_command",
    "plain_fallback",
    "strip_address",
]
