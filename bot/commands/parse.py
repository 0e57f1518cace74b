"""`parse_command`: `/avi <command>` to a tool call or a core command, with no LLM.

Pure and deterministic (no I/O): object and verb words come from the lexicon, what each (object, verb)
means from the forms table (`grammar.FORMS`). It emits the contract's tool names and argument fields;
the tool's own pydantic model validates the arguments later, exactly as for an LLM call, and writes go
through the same confirmation path.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from avi.object_types import OBJECT_TYPES
from bot import lexicon
from bot.commands.bind import tool_command
from bot.commands.grammar import (
    AUDIT_FILLER,
    CANCEL_WORDS,
    CONFIRM_WORDS,
    FORMS,
    GENERIC_LIST,
    GENERIC_SHOW,
    HELP_WORDS,
    MODEL_USE_WORDS,
    MODEL_WORDS,
    MORE_WORDS,
    OBJECT_VERBS,
    OBJECTS,
    RESET_WORDS,
    USAGE_API,
    USAGE_METRICS,
    USAGE_UNHEALTHY,
    is_option,
    object_usage,
)
from bot.commands.models import Command, CommandError, CoreCommand, CoreName, ToolCommand, UsageError
from bot.commands.words import kind_at, object_type_at, split_words, strip_address, token_key


def _core(head: str, rest: list[str]) -> Command | None:
    """help, audit, reset, model, confirm, cancel, more; None when `head` is not one of them."""
    if head in MORE_WORDS and not rest:
        return CoreCommand(name="more")
    if head in HELP_WORDS:
        return CoreCommand(name="help", argument=" ".join(rest).lower() or None)
    if head == "audit":
        rest = [w for w in rest if w.lower() != AUDIT_FILLER]
        if rest and not (len(rest) == 1 and rest[0].isdigit()):
            raise UsageError("audit takes a number of entries", "audit [n]")
        return CoreCommand(name="audit", argument=rest[0] if rest else None)
    if head in RESET_WORDS or (head == "clear" and [w.lower() for w in rest] in ([], ["history"])):
        if head != "clear" and rest:
            raise UsageError(f"unexpected '{' '.join(rest)}'", "reset")
        return CoreCommand(name="reset")
    if head in MODEL_WORDS:
        sub = rest[0].lower() if rest else "list"
        if lexicon.LEXICON.verb_names.get(token_key(sub)) == "list" and len(rest) <= 1:
            return CoreCommand(name="model_list")
        if sub in MODEL_USE_WORDS and len(rest) == 2:
            return CoreCommand(name="model_use", argument=rest[1])
        raise UsageError("model takes `list` or `use <name>`", "model list\nmodel use <name>")
    if head in (*CONFIRM_WORDS, *CANCEL_WORDS):
        name: CoreName = "confirm" if head in CONFIRM_WORDS else "cancel"
        if len(rest) != 1:
            raise UsageError(
                f"{name} needs the action id shown with the pending change", f"{name} <action id>"
            )
        return CoreCommand(name=name, argument=rest[0])
    return None


_METRICS_FILLER = ("for", "of", "on")


def _metrics(words: list[str]) -> ToolCommand:
    """`metrics <vs> [window]`, `metrics pool|se|vs <name> [window]`; `metrics for <vs>` too."""
    if len(words) > 1 and words[0].lower() in _METRICS_FILLER:
        words = words[1:]
    obj, n = kind_at(words, 0, OBJECTS)
    if obj is not None and lexicon.LEXICON.kind(obj).metrics and len(words) > n:
        return tool_command(FORMS[(obj, "metrics")], words[n:])
    if not words or obj is not None:
        raise UsageError("metrics needs an object name", USAGE_METRICS)
    return tool_command(replace(FORMS[("vs", "metrics")], usage=USAGE_METRICS), words)


def _unhealthy(words: list[str]) -> ToolCommand:
    """`unhealthy` (virtual services), `unhealthy vs|pools|servers`."""
    obj, n = kind_at(words, 0) if words else ("vs", 0)
    tool = lexicon.LEXICON.kind(obj).unhealthy_tool if obj is not None else None
    if tool is None or n != len(words):
        raise UsageError(f"unhealthy what? '{' '.join(words)}'", USAGE_UNHEALTHY)
    return ToolCommand(tool=tool)


# Paths the controller serves that are no object type, accepted bare ("api cluster")
_BARE = frozenset((*OBJECT_TYPES, "cluster", "initial-data", "analytics"))


def _api(text: str) -> ToolCommand | None:
    """`api [METHOD] <path>[?query] [body]`; the raw text keeps a JSON body intact. Without a method
    or a slash the path must be an object type or an endpoint: "api certs expiry" is prose about the
    api certificates, not GET /api/certs."""
    m = re.fullmatch(r"api\s+(?:(get|post|put|patch|delete)\s+)?(/?\S+)(?:\s+(.+))?", text, re.I | re.S)
    if not m:
        raise UsageError("api needs a path", USAGE_API)
    bare = m.group(1) is None and "/" not in m.group(2)
    if bare and m.group(2).partition("?")[0].lower() not in _BARE:
        return None
    method, target, body = (m.group(1) or "GET").upper(), m.group(2), m.group(3)
    path, _, query = target.partition("?")
    path = "/api/" + re.sub(r"^(?:https?://[^/]+)?/?(?:api/)?", "", path)  # the controller's paths: /api/...
    args: dict[str, Any] = {"method": method, "path": path}
    if query:
        args["query"] = query
    if body:
        args["body"] = body.strip()
    return ToolCommand(tool="execute_generic_operation", arguments=args)


def _object_first(obj: str, words: list[str]) -> ToolCommand | None:
    """`vs list`, `pool show web-pool`, `vs` (= list), `pool health` (= `pool unhealthy`)."""
    if not words or obj == "types":
        return tool_command(FORMS[(obj, "list")], words)
    word = token_key(words[0])
    verb = lexicon.LEXICON.verb_names.get(word) or lexicon.LEXICON.leading_names.get(word)
    verb = OBJECT_VERBS.get((obj, verb or word), verb)
    form = FORMS.get((obj, verb or ""))
    if form is None and len(words) > 2:
        return None  # prose that starts with an object word ("pools are slow today")
    if form is None:
        raise UsageError(f"unknown {obj} command '{words[0]}'", object_usage(obj))
    return tool_command(form, words[1:])


def _verb_first(verb: str, words: list[str]) -> ToolCommand | None:
    """`list vs`, `show virtualservice vs-web`, `scaleout virtualservice vs-web`, `show tenant`.

    A sentence can start like this too ("show me all pools", "list pools that are down"), so
    anything that does not fit exactly is left to the LLM (None) rather than called an error.
    """
    obj, n = kind_at(words, 0, OBJECTS)
    if object_type_at(words, 0)[1] > n:
        obj = None  # `show se group x`: a type named in more words than the kind it starts with
    rest = words[n:]
    if obj is not None:
        list_flags = FORMS[(obj, "list")].flags
        if verb == "show" and (not rest or is_option(rest[0]) or token_key(rest[0]) in list_flags):
            verb = "list"  # `show virtualservice`, `show pool --down`, `show vs down` list, as on the shell
        form = FORMS.get((obj, OBJECT_VERBS.get((obj, verb), verb)))
    else:
        type_, n = object_type_at(words, 0)
        if type_ is None or verb not in ("list", "show"):
            return None
        rest = words[n:]
        list_it = verb == "list" or not rest or is_option(rest[0])
        form = GENERIC_LIST if list_it else GENERIC_SHOW
        form = replace(
            form, fixed={"object_type": type_}, optional="name_contains" if verb == "list" else None
        )
    if form is None:
        return None
    try:
        return tool_command(form, rest)
    except UsageError as err:
        if err.stray:
            return None
        raise


def _parse(text: str) -> Command | None:
    words = split_words(text)
    if not words:
        return None
    obj, n = kind_at(words, 0, OBJECTS)  # first: "health monitors" is an object, not `health`
    if obj is not None and object_type_at(words, 0)[1] > n:  # `se groups`: another type
        return _verb_first("show", words)
    if obj is not None:
        return _object_first(obj, words[n:])
    lex = lexicon.LEXICON
    head = token_key(words[0])
    verb = lex.verb_names.get(head) or lex.leading_names.get(head)
    if verb == "metrics":
        return _metrics(words[1:])
    if verb == "unhealthy":
        return _unhealthy(words[1:])
    if verb == "api":
        return _api(text)
    if (core := _core(head, words[1:])) is not None:
        return core
    if verb is not None:
        return _verb_first(verb, words[1:])
    return None


def parse_command(text: str) -> Command | CommandError | None:
    """A command, a CommandError (a malformed command, with its usage), or None (free text for the LLM).

    A question (ending in `?`) is never a command: `/avi which pools are down?` goes to the LLM.
    """
    body, addressed = strip_address(text)
    if not body:
        return CoreCommand(name="help") if addressed else None
    if body.endswith("?"):
        body = body.rstrip("? ")
        if body and token_key(body.split()[0]) not in HELP_WORDS:
            return None
        body = body or "help"
    try:
        return _parse(body)
    except UsageError as err:
        return CommandError(message=err.message, usage=err.usage)
