"""Binding the words after `<object> <verb>` to one form's tool arguments, with field-specific checks."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from bot import lexicon
from bot.commands.grammar import Form
from bot.commands.models import ToolCommand, UsageError
from bot.commands.words import token_key


def _server(word: str, usage: str) -> str:
    """`ip` or `ip:port` (IPv6 as `[addr]:port`), checked here so swapped arguments fail early."""
    host, port = word, None
    if m := re.fullmatch(r"\[(.+)\]:(\d+)", word):
        host, port = m.group(1), m.group(2)
    elif word.count(":") == 1:
        host, port = word.split(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"'{word}' is not a server address (ip or ip:port)", usage) from None
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise UsageError(f"'{port}' is not a port", usage)
    return word


def _unknown_window(value: str, usage: str) -> UsageError:
    choices = [window.key for window in lexicon.LEXICON.windows]
    return UsageError(f"unknown window '{value}' (use {', '.join(choices[:-1])} or {choices[-1]})", usage)


def _convert(name: str, value: Any, usage: str) -> Any:
    """Field-specific checks, so a typo is a usage error here rather than a vague one later."""
    if name in ("limit", "port", "page"):
        if not (isinstance(value, str) and value.isdigit() and int(value) > 0):
            raise UsageError(f"{name} must be a positive number, not '{value}'", usage)
        return int(value)
    if name == "window":
        windows = lexicon.LEXICON.window_names
        if value.lower() not in windows:
            raise _unknown_window(value, usage)
        return windows[value.lower()]
    if name in ("server", "servers"):
        return _server(value, usage) if name == "server" else [_server(v, usage) for v in value]
    if name == "vip":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise UsageError(f"'{value}' is not an IP address", usage) from None
    if name == "metrics":
        for metric in value:
            if re.fullmatch(r"\d+[mhdw]", metric.lower()):
                raise _unknown_window(metric, usage)
            if "." not in metric:
                raise UsageError(f"unexpected '{metric}'", usage, stray=True)
    return value


def bind(form: Form, words: list[str]) -> dict[str, Any]:
    """Arguments for `form` from the words after the verb; raises UsageError with the form's usage."""
    usage = form.usage
    args: dict[str, Any] = dict(form.fixed)
    positionals: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        bare = token_key(word.lstrip("-"))
        if not word.startswith("--") and (sep := re.search(r"[~=]", word)):
            key, value = token_key(word[: sep.start()]), word[sep.end() :]
            if key not in form.keyed:
                raise UsageError(f"unknown option '{word}'", usage, stray=True)
            args[form.keyed[key]] = value
        elif bare in form.flags:
            name, value = form.flags[bare]
            args[name] = value
        elif bare.split("=")[0] in form.keyed:
            key, _, value = bare.partition("=")
            if not value:
                if i + 1 >= len(words):
                    raise UsageError(f"'{word}' needs a value", usage)
                i += 1
                value = words[i]
            else:
                value = word.split("=", 1)[1]
            args[form.keyed[key]] = value
        elif word.startswith("--"):
            raise UsageError(f"unknown option '{word}'", usage, stray=True)
        elif word.lower() not in form.ignore:
            positionals.append(word)
        i += 1

    for name in form.required:
        if not positionals:
            raise UsageError(f"missing <{name}>", usage)
        args[name] = positionals.pop(0)
    if form.optional and positionals:
        args[form.optional] = positionals.pop(0)
    if form.rest:
        if positionals:
            args[form.rest], positionals = positionals, []
        elif form.rest_required:
            raise UsageError(f"missing <{form.rest}>", usage)
    if positionals:
        raise UsageError(f"unexpected '{' '.join(positionals)}'", usage, stray=True)
    return {name: _convert(name, value, usage) for name, value in args.items()}


def tool_command(form: Form, words: list[str]) -> ToolCommand:
    """The form's tool call with the arguments bound from `words`."""
    return ToolCommand(tool=form.tool, arguments=bind(form, words))
