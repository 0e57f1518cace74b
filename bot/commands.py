"""Command mode: `/avi <command>` parsed into a tool call or a core command, with no LLM.

Ops engineers want exact, instant answers, and the assistant must keep working when Ollama is down.
The parser is pure and deterministic (no I/O) and table-driven: an object synonym table, a verb
synonym table, and one `Form` per (object, verb) saying which tool it calls and how the words become
arguments. It emits the contract's tool names and argument fields; the tool's own pydantic model
validates the arguments later, exactly as for an LLM call, and writes go through the same
confirmation path.

`parse_command` returns a `ToolCommand` or `CoreCommand`, a `CommandError` when the text is clearly
a command but malformed, or None for free text (the LLM's job). `help_text` is built from the same
tables, so it cannot drift from the grammar.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, Field

from avi.object_types import OBJECT_TYPES

# -- results -------------------------------------------------------------------------------------


class ToolCommand(BaseModel):
    """Run one catalogue tool with these arguments (validated later by the tool's model)."""

    kind: Literal["tool"] = "tool"
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


CoreName = Literal["help", "audit", "reset", "model_list", "model_use", "confirm", "cancel"]


class CoreCommand(BaseModel):
    """A command the core answers itself: help, audit log, history reset, model choice, confirmations."""

    kind: Literal["core"] = "core"
    name: CoreName
    argument: str | None = None


class CommandError(BaseModel):
    """Text that is clearly a command but malformed: say what is wrong and how to write it."""

    kind: Literal["error"] = "error"
    message: str
    usage: str = ""


Command = ToolCommand | CoreCommand


class _Usage(Exception):
    """Raised inside the parser; `stray` marks unexpected extra words (prose, when the verb came first)."""

    def __init__(self, message: str, usage: str = "", *, stray: bool = False) -> None:
        super().__init__(message)
        self.message, self.usage, self.stray = message, usage, stray


# -- lexicon -------------------------------------------------------------------------------------


def _key(word: str) -> str:
    """Spelling-insensitive key: `Virtual-Services`, `virtual_services` both give `virtualservices`."""
    return re.sub(r"[-_]", "", word.lower())


def _synonyms(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {alias: canonical for canonical, aliases in table.items() for alias in aliases}


# Keys after `_key`; multi-word spellings ("virtual service") are joined before the lookup.
OBJECTS: dict[str, str] = _synonyms(
    {
        "vs": ("vs", "vss", "virtualservice", "virtualservices", "vservice", "vservices"),
        "pool": ("pool", "pools"),
        "se": ("se", "ses", "serviceengine", "serviceengines", "engine", "engines"),
        "hm": ("hm", "hms", "healthmonitor", "healthmonitors", "monitor", "monitors"),
        "types": ("types", "objecttypes", "objecttype"),
    }
)

VERBS: dict[str, str] = _synonyms(
    {
        "list": ("list", "ls"),
        "show": ("show", "get", "describe", "info", "details", "status"),
        "enable": ("enable",),
        "disable": ("disable",),
        "scaleout": ("scaleout",),
        "scalein": ("scalein",),
        "migrate": ("migrate", "move"),
        "switchover": ("switchover", "failover"),
        "metrics": ("metrics", "metric", "analytics", "stats"),
        "unhealthy": ("unhealthy", "down"),
        "create": ("create", "new"),
        "delete": ("delete", "del"),
        "addserver": ("addserver",),
        "removeserver": ("removeserver", "delserver", "deleteserver", "rmserver"),
        "enableserver": ("enableserver",),
        "disableserver": ("disableserver",),
    }
)

# Where a verb means something else for one object: `pool add web 10.0.0.1` adds a server.
OBJECT_VERBS: dict[tuple[str, str], str] = {
    ("pool", "enable"): "enableserver",
    ("pool", "disable"): "disableserver",
    ("pool", "add"): "addserver",
    ("pool", "remove"): "removeserver",
}

WINDOWS: dict[str, str] = {
    "1h": "1h",
    "60m": "1h",
    "hour": "1h",
    "6h": "6h",
    "24h": "24h",
    "1d": "24h",
    "day": "24h",
    "7d": "7d",
    "1w": "7d",
    "week": "7d",
}

TITLES = {"vs": "Virtual services", "pool": "Pools", "se": "Service engines", "hm": "Health monitors"}
ENTITY = {"vs": "virtualservice", "pool": "pool", "se": "serviceengine"}

# -- forms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """How the words after `<object> <verb>` become one tool's arguments.

    `required` positionals in order, then an `optional` one, then `rest` collects the remainder as a
    list. `keyed` maps option words (`limit 5`, `--limit 5`, `limit=5`, `name~web`) to fields;
    `flags` maps bare words (`--down`, `down`) to a field value; `ignore` lists controller-shell
    filler (`show pool p server`).
    """

    tool: str
    usage: str
    summary: str
    required: tuple[str, ...] = ()
    optional: str | None = None
    rest: str | None = None
    rest_required: bool = False
    keyed: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, tuple[str, Any]] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()


_LIST_KEYS = {"name": "name_contains", "limit": "limit"}
_STATE_FLAGS: dict[str, tuple[str, Any]] = {"down": ("oper_state", "down"), "up": ("oper_state", "up")}
_SHOW_FILLER = frozenset({"detail", "details", "runtime", "summary", "config", "status", "server", "servers"})
_VIP_KEYS = {"vip": "vip_id", "vipid": "vip_id"}
_WINDOW_FLAGS = {word: ("window", value) for word, value in WINDOWS.items()}


def _metrics_form(obj: str) -> Form:
    return Form(
        "get_analytics",
        f"{obj} metrics <name> [1h|6h|24h|7d]",
        f"traffic and health metrics of a {TITLES[obj].lower()[:-1]}",
        required=("name",),
        rest="metrics",
        keyed={"window": "window", "last": "window"},
        flags=_WINDOW_FLAGS,
        fixed={"entity_type": ENTITY[obj]},
    )


def _server_form(tool: str, verb: str, summary: str) -> Form:
    return Form(
        tool, f"pool {verb} <pool> <ip[:port]>", summary, ("pool", "server"), ignore=frozenset({"server"})
    )


FORMS: dict[tuple[str, str], Form] = {
    ("vs", "list"): Form(
        "list_virtual_services",
        "vs list [filter] [--down|--up|--disabled] [limit N]",
        "list virtual services, optionally by name part or state",
        optional="name_contains",
        keyed={**_LIST_KEYS, "state": "oper_state"},
        flags={**_STATE_FLAGS, "disabled": ("oper_state", "disabled"), "enabled": ("enabled", True)},
    ),
    ("vs", "show"): Form(
        "get_virtual_service",
        "vs show <name>",
        "one virtual service: VIP, pool, state",
        ("name",),
        ignore=_SHOW_FILLER,
    ),
    ("vs", "enable"): Form(
        "enable_virtual_service", "vs enable <name>", "enable a virtual service", ("name",)
    ),
    ("vs", "disable"): Form(
        "disable_virtual_service", "vs disable <name>", "disable a virtual service", ("name",)
    ),
    ("vs", "scaleout"): Form(
        "scale_out_virtual_service",
        "vs scaleout <name> [vip <id>]",
        "place the VS on one more service engine",
        ("name",),
        keyed=_VIP_KEYS,
    ),
    ("vs", "scalein"): Form(
        "scale_in_virtual_service",
        "vs scalein <name> [vip <id>]",
        "remove the VS from one service engine",
        ("name",),
        keyed=_VIP_KEYS,
    ),
    ("vs", "migrate"): Form(
        "migrate_virtual_service",
        "vs migrate <name> [to <se>] [vip <id>]",
        "move the VS to another service engine",
        ("name",),
        keyed={**_VIP_KEYS, "to": "to_service_engine"},
    ),
    ("vs", "switchover"): Form(
        "switchover_virtual_service",
        "vs switchover <name> [vip <id>]",
        "switch the VS over to its standby service engine",
        ("name",),
        keyed=_VIP_KEYS,
    ),
    ("vs", "metrics"): _metrics_form("vs"),
    ("vs", "unhealthy"): Form(
        "list_unhealthy_virtual_services", "vs unhealthy", "virtual services that are down or degraded"
    ),
    ("vs", "create"): Form(
        "create_virtual_service",
        "vs create <name> <vip> [port N] [ssl] [pool <pool>]",
        "create a virtual service on a VIP",
        ("name", "vip"),
        keyed={"port": "port", "pool": "pool"},
        flags={"ssl": ("ssl", True), "https": ("ssl", True)},
    ),
    ("vs", "delete"): Form(
        "delete_virtual_service", "vs delete <name>", "delete a virtual service", ("name",)
    ),
    ("pool", "list"): Form(
        "list_pools",
        "pool list [filter] [--down] [limit N]",
        "list pools; `--down`: only pools with servers down",
        optional="name_contains",
        keyed=_LIST_KEYS,
        flags={"down": ("servers_down", True)},
    ),
    ("pool", "show"): Form(
        "get_pool", "pool show <name>", "one pool: servers and their health", ("name",), ignore=_SHOW_FILLER
    ),
    ("pool", "addserver"): _server_form("add_pool_server", "add-server", "add a server to a pool"),
    ("pool", "removeserver"): _server_form(
        "remove_pool_server", "remove-server", "remove a server from a pool"
    ),
    ("pool", "enableserver"): _server_form(
        "enable_pool_server", "enable-server", "put a server back in service"
    ),
    ("pool", "disableserver"): _server_form(
        "disable_pool_server", "disable-server", "take a server out of service"
    ),
    ("pool", "scaleout"): Form(
        "scale_out_pool",
        "pool scaleout <pool> <ip[:port]>...",
        "add several servers at once",
        ("name",),
        rest="servers",
        rest_required=True,
    ),
    ("pool", "scalein"): Form(
        "scale_in_pool",
        "pool scalein <pool> <ip[:port]>...",
        "remove several servers at once",
        ("name",),
        rest="servers",
        rest_required=True,
    ),
    ("pool", "create"): Form(
        "create_pool",
        "pool create <name> <ip[:port]>... [port N] [algo <lb algorithm>]",
        "create a pool with servers",
        ("name",),
        rest="servers",
        rest_required=True,
        keyed={"port": "port", "algo": "lb_algorithm", "algorithm": "lb_algorithm", "lb": "lb_algorithm"},
    ),
    ("pool", "metrics"): _metrics_form("pool"),
    ("pool", "unhealthy"): Form("list_unhealthy_pools", "pool unhealthy", "pools that are down or degraded"),
    ("se", "list"): Form(
        "list_service_engines",
        "se list [filter] [--down|--up] [limit N]",
        "list service engines with CPU and state",
        optional="name_contains",
        keyed={**_LIST_KEYS, "state": "oper_state"},
        flags=_STATE_FLAGS,
    ),
    ("se", "show"): Form(
        "get_service_engine",
        "se show <name>",
        "one service engine: CPU, memory, VSs",
        ("name",),
        ignore=_SHOW_FILLER,
    ),
    ("se", "metrics"): _metrics_form("se"),
    ("hm", "list"): Form(
        "list_health_monitors",
        "hm list [filter] [type <http|tcp|...>] [limit N]",
        "list health monitors",
        optional="name_contains",
        keyed={**_LIST_KEYS, "type": "type"},
        flags={t: ("type", t) for t in ("http", "https", "tcp", "udp", "ping", "dns", "external")},
    ),
    ("hm", "show"): Form(
        "get_health_monitor", "hm show <name>", "one health monitor", ("name",), ignore=_SHOW_FILLER
    ),
    ("types", "list"): Form(
        "list_object_types", "types [filter]", "object types you can `show`", optional="name_contains"
    ),
}

_GENERIC_LIST = Form(
    "list_objects",
    "show <object type> [limit N]",
    "list objects of any type (tenant, cloud, sslkeyandcertificate, ...)",
    keyed=_LIST_KEYS,
)
_GENERIC_SHOW = Form("get_object", "show <object type> <name>", "one object of any type", ("name",))

UNHEALTHY: dict[str, str] = {
    "vs": "list_unhealthy_virtual_services",
    "pool": "list_unhealthy_pools",
    "server": "list_unhealthy_servers",
}
_SERVER_WORDS = {"server", "servers"}

USAGE_METRICS = "metrics [vs|pool|se] <name> [1h|6h|24h|7d]"
USAGE_UNHEALTHY = "unhealthy [vs|pools|servers]"
USAGE_API = "api <GET|POST|PUT|PATCH|DELETE> <path>[?query] [json body]"

# -- front matter: addressing and words ----------------------------------------------------------

_ADDRESS = re.compile(
    r"^\s*(?:<@[\w.-]+(?:\|[^>]*)?>|<at>[^<]*</at>|@[\w.-]+|/?avi(?=[\s:,]|$))[\s:,]*",
    re.IGNORECASE,
)


def strip_address(text: str) -> tuple[str, bool]:
    """The text without a leading `/avi`, `avi`, `<@U123>`, `<at>..</at>`, `@avibot`; and if one was there."""
    addressed = False
    while match := _ADDRESS.match(text):
        text, addressed = text[match.end() :], True
    return text.strip(), addressed


def _words(text: str) -> list[str]:
    """Shell-like words, so `vs show "my vs"` works; an apostrophe in prose falls back to spaces."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _object_at(words: list[str], i: int) -> tuple[str | None, int]:
    """The object named at words[i], joining up to three words ("virtual service", "health monitors")."""
    for n in (3, 2, 1):
        if i + n <= len(words):
            joined = "".join(_key(w) for w in words[i : i + n])
            if joined in OBJECTS:
                return OBJECTS[joined], n
    return None, 0


def _generic_type_at(words: list[str], i: int) -> tuple[str | None, int]:
    """A controller object type at words[i] (`tenant`, `tenants`, `sslkeyandcertificate`, `vs vip`)."""
    for n in (3, 2, 1):
        if i + n <= len(words):
            joined = "".join(_key(w) for w in words[i : i + n])
            for candidate in (joined, joined.removesuffix("s")):
                if candidate in OBJECT_TYPES:
                    return candidate, n
    return None, 0


def _is_option(word: str) -> bool:
    return word.startswith("--") or "~" in word or "=" in word or word.lower() in ("limit", "name", "state")


# -- binding words to arguments ------------------------------------------------------------------


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
        raise _Usage(f"'{word}' is not a server address (ip or ip:port)", usage) from None
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise _Usage(f"'{port}' is not a port", usage)
    return word


def _convert(name: str, value: Any, usage: str) -> Any:
    """Field-specific checks, so a typo is a usage error here rather than a vague one later."""
    if name in ("limit", "port"):
        if not (isinstance(value, str) and value.isdigit() and int(value) > 0):
            raise _Usage(f"{name} must be a positive number, not '{value}'", usage)
        return int(value)
    if name == "window":
        if value.lower() not in WINDOWS:
            raise _Usage(f"unknown window '{value}' (use 1h, 6h, 24h or 7d)", usage)
        return WINDOWS[value.lower()]
    if name in ("server", "servers"):
        return _server(value, usage) if name == "server" else [_server(v, usage) for v in value]
    if name == "vip":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise _Usage(f"'{value}' is not an IP address", usage) from None
    if name == "metrics":
        for metric in value:
            if re.fullmatch(r"\d+[mhdw]", metric.lower()):
                raise _Usage(f"unknown window '{metric}' (use 1h, 6h, 24h or 7d)", usage)
            if "." not in metric:
                raise _Usage(f"unexpected '{metric}'", usage, stray=True)
    return value


def _bind(form: Form, words: list[str]) -> dict[str, Any]:
    """Arguments for `form` from the words after the verb; raises _Usage with the form's usage."""
    usage = form.usage
    args: dict[str, Any] = dict(form.fixed)
    positionals: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        bare = _key(word.lstrip("-"))
        if not word.startswith("--") and (sep := re.search(r"[~=]", word)):
            key, value = _key(word[: sep.start()]), word[sep.end() :]
            if key not in form.keyed:
                raise _Usage(f"unknown option '{word}'", usage, stray=True)
            args[form.keyed[key]] = value
        elif bare in form.flags:
            name, value = form.flags[bare]
            args[name] = value
        elif bare.split("=")[0] in form.keyed:
            key, _, value = bare.partition("=")
            if not value:
                if i + 1 >= len(words):
                    raise _Usage(f"'{word}' needs a value", usage)
                i += 1
                value = words[i]
            else:
                value = word.split("=", 1)[1]
            args[form.keyed[key]] = value
        elif word.startswith("--"):
            raise _Usage(f"unknown option '{word}'", usage, stray=True)
        elif word.lower() not in form.ignore:
            positionals.append(word)
        i += 1

    for name in form.required:
        if not positionals:
            raise _Usage(f"missing <{name}>", usage)
        args[name] = positionals.pop(0)
    if form.optional and positionals:
        args[form.optional] = positionals.pop(0)
    if form.rest:
        if positionals:
            args[form.rest], positionals = positionals, []
        elif form.rest_required:
            raise _Usage(f"missing <{form.rest}>", usage)
    if positionals:
        raise _Usage(f"unexpected '{' '.join(positionals)}'", usage, stray=True)
    return {name: _convert(name, value, usage) for name, value in args.items()}


def _tool(form: Form, words: list[str]) -> ToolCommand:
    return ToolCommand(tool=form.tool, arguments=_bind(form, words))


def _object_usage(obj: str) -> str:
    return "\n".join(form.usage for (o, _), form in FORMS.items() if o == obj)


# -- the grammar ---------------------------------------------------------------------------------


def _core(head: str, rest: list[str]) -> Command | None:
    """help, audit, reset, model, confirm, cancel; None when `head` is not one of them."""
    if head in ("help", "h", "?", "commands"):
        return CoreCommand(name="help", argument=" ".join(rest).lower() or None)
    if head == "audit":
        rest = [w for w in rest if w.lower() != "log"]
        if rest and not (len(rest) == 1 and rest[0].isdigit()):
            raise _Usage("audit takes a number of entries", "audit [n]")
        return CoreCommand(name="audit", argument=rest[0] if rest else None)
    if head in ("reset", "forget") or (head == "clear" and [w.lower() for w in rest] in ([], ["history"])):
        if head != "clear" and rest:
            raise _Usage(f"unexpected '{' '.join(rest)}'", "reset")
        return CoreCommand(name="reset")
    if head in ("model", "models"):
        sub = rest[0].lower() if rest else "list"
        if sub in ("list", "ls") and len(rest) <= 1:
            return CoreCommand(name="model_list")
        if sub in ("use", "set", "switch") and len(rest) == 2:
            return CoreCommand(name="model_use", argument=rest[1])
        raise _Usage("model takes `list` or `use <name>`", "model list\nmodel use <name>")
    if head in ("confirm", "approve", "cancel", "abort"):
        name: CoreName = "confirm" if head in ("confirm", "approve") else "cancel"
        if len(rest) != 1:
            raise _Usage(f"{name} needs the action id shown with the pending change", f"{name} <action id>")
        return CoreCommand(name=name, argument=rest[0])
    return None


def _metrics(words: list[str]) -> ToolCommand:
    """`metrics <vs> [window]`, `metrics pool|se|vs <name> [window]`."""
    obj, n = _object_at(words, 0)
    if obj in ENTITY and len(words) > n:
        return _tool(FORMS[(obj, "metrics")], words[n:])
    if not words or obj is not None:
        raise _Usage("metrics needs an object name", USAGE_METRICS)
    return _tool(replace(FORMS[("vs", "metrics")], usage=USAGE_METRICS), words)


def _unhealthy(words: list[str]) -> ToolCommand:
    """`unhealthy` (virtual services), `unhealthy vs|pools|servers`."""
    if not words:
        return ToolCommand(tool=UNHEALTHY["vs"])
    obj, n = _object_at(words, 0)
    if obj is None and words[0].lower() in _SERVER_WORDS:
        obj, n = "server", 1
    if obj not in UNHEALTHY or n != len(words):
        raise _Usage(f"unhealthy what? '{' '.join(words)}'", USAGE_UNHEALTHY)
    return ToolCommand(tool=UNHEALTHY[obj])


def _api(text: str) -> ToolCommand:
    """`api [METHOD] <path>[?query] [body]`; the raw text keeps a JSON body intact."""
    m = re.fullmatch(r"api\s+(?:(get|post|put|patch|delete)\s+)?(/?\S+)(?:\s+(.+))?", text, re.I | re.S)
    if not m:
        raise _Usage("api needs a path", USAGE_API)
    method, target, body = (m.group(1) or "GET").upper(), m.group(2), m.group(3)
    path, _, query = target.partition("?")
    path = "/" + re.sub(r"^(?:https?://[^/]+)?/?(?:api/)?", "", path)
    args: dict[str, Any] = {"method": method, "path": path}
    if query:
        args["query"] = query
    if body:
        args["body"] = body.strip()
    return ToolCommand(tool="execute_generic_operation", arguments=args)


def _object_first(obj: str, words: list[str]) -> ToolCommand | None:
    """`vs list`, `pool show web-pool`, `vs` (= list)."""
    if not words or obj == "types":
        return _tool(FORMS[(obj, "list")], words)
    verb = VERBS.get(_key(words[0]))
    verb = OBJECT_VERBS.get((obj, verb or _key(words[0])), verb)
    form = FORMS.get((obj, verb or ""))
    if form is None and len(words) > 2:
        return None  # prose that starts with an object word ("pools are slow today")
    if form is None:
        raise _Usage(f"unknown {obj} command '{words[0]}'", _object_usage(obj))
    return _tool(form, words[1:])


def _verb_first(verb: str, words: list[str]) -> ToolCommand | None:
    """`list vs`, `show virtualservice vs-web`, `scaleout virtualservice vs-web`, `show tenant`.

    A sentence can start like this too ("show me all pools", "list pools that are down"), so
    anything that does not fit exactly is left to the LLM (None) rather than called an error.
    """
    obj, n = _object_at(words, 0)
    rest = words[n:]
    if obj is not None:
        list_flags = FORMS[(obj, "list")].flags
        if verb == "show" and (not rest or _is_option(rest[0]) or _key(rest[0]) in list_flags):
            verb = "list"  # `show virtualservice`, `show pool --down`, `show vs down` list, as on the shell
        form = FORMS.get((obj, OBJECT_VERBS.get((obj, verb), verb)))
    else:
        type_, n = _generic_type_at(words, 0)
        if type_ is None or verb not in ("list", "show"):
            return None
        rest = words[n:]
        list_it = verb == "list" or not rest or _is_option(rest[0])
        form = _GENERIC_LIST if list_it else _GENERIC_SHOW
        form = replace(
            form, fixed={"object_type": type_}, optional="name_contains" if verb == "list" else None
        )
    if form is None:
        return None
    try:
        return _tool(form, rest)
    except _Usage as err:
        if err.stray:
            return None
        raise


def _parse(text: str) -> Command | None:
    words = _words(text)
    if not words:
        return None
    head = _key(words[0])
    obj, n = _object_at(words, 0)  # first: "health monitors" is an object, not `health`
    if obj is not None:
        return _object_first(obj, words[n:])
    if head in ("metrics", "metric", "analytics", "stats"):
        return _metrics(words[1:])
    if head in ("unhealthy", "down", "health"):
        return _unhealthy(words[1:])
    if head == "api":
        return _api(text)
    if (core := _core(head, words[1:])) is not None:
        return core
    if head in VERBS or head in ("add", "remove"):
        return _verb_first(VERBS.get(head, head), words[1:])
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
        if body and _key(body.split()[0]) not in ("help", "h", "commands"):
            return None
        body = body or "help"
    try:
        return _parse(body)
    except _Usage as err:
        return CommandError(message=err.message, usage=err.usage)


def match_plain_english(text: str) -> ToolCommand | None:
    """The plain-English fallback for when the LLM is down (see bot.commands_nl)."""
    from bot.commands_nl import match_plain_english as match

    return match(text)


# -- help ----------------------------------------------------------------------------------------

_EXAMPLES: dict[str, list[str]] = {
    "vs": [
        "vs list --down",
        "show virtualservice vs-web",
        "vs migrate vs-web to se-2",
        "vs metrics vs-web 6h",
    ],
    "pool": ["pool list --down", "show pool web-pool server", "pool disable-server web-pool 10.0.0.5:8080"],
    "se": ["se list --down", "se show se-1"],
    "hm": ["hm list type http", "hm show http-hm"],
    "metrics": ["metrics vs-web 24h", "metrics pool web-pool", "metrics se se-1 7d"],
    "health": ["unhealthy", "unhealthy servers"],
    "objects": ["types ssl", "show tenant", "show sslkeyandcertificate web-cert", "api GET /cloud"],
    "assistant": ["help pool", "audit 50", "model use llama3.1:8b", "confirm a1b2c3"],
}

_EXTRA_SECTIONS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "metrics": (
        "Metrics",
        [
            ("metrics <vs> [1h|6h|24h|7d]", "a virtual service's traffic and latency (default 1h)"),
            ("metrics pool <name> [window]", "a pool's metrics"),
            ("metrics se <name> [window]", "a service engine's CPU, memory, throughput"),
        ],
    ),
    "health": (
        "Health",
        [
            ("unhealthy", "virtual services that are down or degraded"),
            ("unhealthy pools", "pools that are down or degraded"),
            ("unhealthy servers", "pools with servers down, and which servers"),
        ],
    ),
    "objects": (
        "Any object type",
        [
            ("types [filter]", "object types you can ask about"),
            (_GENERIC_LIST.usage, _GENERIC_LIST.summary),
            (_GENERIC_SHOW.usage, _GENERIC_SHOW.summary),
            (USAGE_API, "raw controller API call (anything but GET needs confirmation)"),
        ],
    ),
    "assistant": (
        "Assistant",
        [
            ("help [topic]", "this help; topics: vs, pool, se, hm, metrics, health, objects, assistant"),
            ("audit [n]", "the last n changes made through the assistant"),
            ("model list | model use <name>", "the LLM models available, and switching"),
            ("reset", "forget this conversation's history"),
            ("confirm <id> | cancel <id>", "run or drop a pending change"),
        ],
    ),
}

_TOPICS: dict[str, str] = {
    **dict.fromkeys(("metrics", "metric", "analytics", "stats"), "metrics"),
    **dict.fromkeys(("health", "unhealthy", "down"), "health"),
    **dict.fromkeys(("objects", "object", "show", "generic", "api"), "objects"),
    **dict.fromkeys(
        ("assistant", "core", "audit", "model", "models", "reset", "confirm", "cancel"), "assistant"
    ),
}


def _sections() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    sections = {
        obj: (title, [(f.usage, f.summary) for (o, _), f in FORMS.items() if o == obj])
        for obj, title in TITLES.items()
    }
    return {**sections, **_EXTRA_SECTIONS}


def _render(key: str, title: str, lines: list[tuple[str, str]]) -> str:
    body = "\n".join(f"• `{usage}` — {summary}" for usage, summary in lines)
    examples = ", ".join(f"`{e}`" for e in _EXAMPLES.get(key, []))
    return f"*{title}*\n{body}" + (f"\n_e.g._ {examples}" if examples else "")


def help_text(topic: str | None = None) -> str:
    """Markdown help: every command with a one-line description, or one topic (`help pool`)."""
    sections = _sections()
    if topic:
        words = topic.split()
        obj, _ = _object_at(words, 0)
        key = obj if obj in sections else _TOPICS.get(_key(words[0]) if words else "")
        if key:
            return _render(key, *sections[key])
    intro = (
        "*Command mode* — type `/avi <command>`. Objects: `vs`, `pool`, `se`, `hm` (long names such as "
        "`virtualservice` work too); verbs in either order (`vs list` = `list vs`), controller-shell "
        "style included (`show virtualservice vs-web`). Changes ask for confirmation first."
    )
    if topic:
        intro = f"No help topic '{topic}'.\n\n{intro}"
    return "\n\n".join([intro, *(_render(key, *section) for key, section in sections.items())])
