"""The other way round: the command a person types for a list tool's call (`vs list web --down page 2`),
spelled from the same forms table the parser reads, so what is offered always parses back to the call.

Only the list forms are spelled (what a "Show more" continues); anything the grammar cannot say is None.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from bot.commands.grammar import FORMS, GENERIC_LIST, Form, is_option
from bot.commands.words import token_key

_LIST_FORMS: dict[str, tuple[str, Form]] = {
    form.tool: (f"{obj} list", form)
    for (obj, verb), form in FORMS.items()
    if verb == "list" and obj != "types"
}


def _form(tool: str, arguments: Mapping[str, Any]) -> tuple[str, Form] | None:
    if tool in _LIST_FORMS:
        return _LIST_FORMS[tool]
    object_type = arguments.get("object_type")
    if tool == GENERIC_LIST.tool and isinstance(object_type, str) and object_type.isidentifier():
        return f"list {object_type}", GENERIC_LIST
    return None


def _positional(form: Form, value: str) -> str | None:
    """The optional positional (`vs list web`), unless the word would read as something else."""
    word = token_key(value.lstrip("-"))
    if is_option(value) or value.startswith("-") or word in form.flags or word in form.keyed:
        return None
    return shlex.quote(value)


def command_for(tool: str, arguments: Mapping[str, Any]) -> str | None:
    """`vs list web --down page 2` for `list_virtual_services(name_contains=web, oper_state=down,
    page=2)`; None when the tool has no list command or an argument has no spelling."""
    found = _form(tool, arguments)
    if found is None:
        return None
    head, form = found
    flags = {(name, value): word for word, (name, value) in reversed(list(form.flags.items()))}
    keys = {field: key for key, field in reversed(list(form.keyed.items()))}
    words: list[str] = [head]
    tail: list[str] = []
    for name, value in arguments.items():
        if name == "object_type" and form is GENERIC_LIST:
            continue
        if value is None:
            continue
        if name == form.optional and isinstance(value, str) and (word := _positional(form, value)):
            words.append(word)
        elif _hashable(value) and (name, value) in flags:
            words.append(f"--{flags[(name, value)]}")
        elif name in keys and isinstance(value, (str, int)) and not isinstance(value, bool):
            tail.append(f"{keys[name]} {shlex.quote(str(value))}")
        else:
            return None
    return " ".join(words + sorted(tail, key=lambda w: w.startswith("page ")))


def narrow_hint(tool: str, arguments: Mapping[str, Any]) -> str | None:
    """How to ask for fewer rows: `vs list <name part>`, `--down`, `--up` ...; None without a form."""
    found = _form(tool, arguments)
    if found is None:
        return None
    head, form = found
    ways = [f"`{head} <name part>`"] if form.optional or "name" in form.keyed else []
    ways += [f"`--{word}`" for word in list(form.flags)[:4]]
    return ", ".join(ways) or None


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))
