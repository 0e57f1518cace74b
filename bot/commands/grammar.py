"""The command forms table: one `Form` per (object, verb) saying which tool it calls and how the words
become arguments, plus the generic forms, the core commands' words and the usage lines.

Object and verb words come from the lexicon (`bot.lexicon`); this table only says what each pair means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import lexicon


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


_LEX = lexicon.LEXICON  # the forms are built once; only titles, entities and windows are read here
WINDOW_CHOICES = "|".join(window.key for window in _LEX.windows)  # 1h|6h|24h|7d

# Where a verb means something else for one object: `pool add web 10.0.0.1` adds a server.
OBJECT_VERBS: dict[tuple[str, str], str] = {
    ("pool", "enable"): "enableserver",
    ("pool", "disable"): "disableserver",
    ("pool", "add"): "addserver",
    ("pool", "remove"): "removeserver",
}

LIST_KEYS = {"name": "name_contains", "limit": "limit", "page": "page"}
_SHOW_FILLER = frozenset({"detail", "details", "runtime", "summary", "config", "status", "server", "servers"})
_VIP_KEYS = {"vip": "vip_id", "vipid": "vip_id"}
_WINDOW_FLAGS = {word: ("window", key) for word, key in _LEX.window_names.items()}


def _state_flags(*states: str) -> dict[str, tuple[str, Any]]:
    """`--down`, `up`: the lexicon's states as `oper_state` filters."""
    unknown = set(states) - {state.key for state in _LEX.states}
    if unknown:
        raise ValueError(f"not lexicon states: {sorted(unknown)}")
    return {state: ("oper_state", state) for state in states}


def _metrics_form(obj: str) -> Form:
    kind = _LEX.kind(obj)
    return Form(
        "get_analytics",
        f"{obj} metrics <name> [{WINDOW_CHOICES}]",
        f"traffic and health metrics of a {(kind.title or obj).lower()[:-1]}",
        required=("name",),
        rest="metrics",
        keyed={"window": "window", "last": "window"},
        flags=_WINDOW_FLAGS,
        fixed={"entity_type": kind.object_type},
    )


def _server_form(tool: str, verb: str, summary: str) -> Form:
    return Form(
        tool, f"pool {verb} <pool> <ip[:port]>", summary, ("pool", "server"), ignore=frozenset({"server"})
    )


FORMS: dict[tuple[str, str], Form] = {
    ("vs", "list"): Form(
        "list_virtual_services",
        "vs list [filter] [--down|--up|--disabled] [limit N] [page N]",
        "list virtual services, optionally by name part or state",
        optional="name_contains",
        keyed={**LIST_KEYS, "state": "oper_state"},
        flags={**_state_flags("down", "up", "disabled"), "enabled": ("enabled", True)},
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
        "pool list [filter] [--down] [limit N] [page N]",
        "list pools; `--down`: only pools with servers down",
        optional="name_contains",
        keyed=LIST_KEYS,
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
        "se list [filter] [--down|--up] [limit N] [page N]",
        "list service engines with CPU and state",
        optional="name_contains",
        keyed={**LIST_KEYS, "state": "oper_state"},
        flags=_state_flags("down", "up"),
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
        "hm list [filter] [type <http|tcp|...>] [limit N] [page N]",
        "list health monitors",
        optional="name_contains",
        keyed={**LIST_KEYS, "type": "type"},
        flags={t: ("type", t) for t in ("http", "https", "tcp", "udp", "ping", "dns", "external")},
    ),
    ("hm", "show"): Form(
        "get_health_monitor", "hm show <name>", "one health monitor", ("name",), ignore=_SHOW_FILLER
    ),
    ("types", "list"): Form(
        "list_object_types", "types [filter]", "object types you can `show`", optional="name_contains"
    ),
}

# The kinds that are command objects (`vs ...`, `list pools`); other kinds only appear in their commands.
OBJECTS: frozenset[str] = frozenset(obj for obj, _ in FORMS)

GENERIC_LIST = Form(
    "list_objects",
    "show <object type> [limit N] [page N]",
    "list objects of any type (tenant, cloud, sslkeyandcertificate, ...)",
    keyed=LIST_KEYS,
)
GENERIC_SHOW = Form("get_object", "show <object type> <name>", "one object of any type", ("name",))

# The assistant's own commands (answered by the core, not a tool).
HELP_WORDS = ("help", "h", "?", "commands")
AUDIT_FILLER = "log"  # `audit log 10`
RESET_WORDS = ("reset", "forget")  # and `clear [history]`
MODEL_WORDS = ("model", "models")
MODEL_USE_WORDS = ("use", "set", "switch")
CONFIRM_WORDS = ("confirm", "approve")
CANCEL_WORDS = ("cancel", "abort")
MORE_WORDS = ("more",)  # the next page of the conversation's last list

USAGE_METRICS = f"metrics [vs|pool|se] <name> [{WINDOW_CHOICES}]"
USAGE_UNHEALTHY = "unhealthy [vs|pools|servers]"
USAGE_API = "api <GET|POST|PUT|PATCH|DELETE> <path>[?query] [json body]"


def object_usage(obj: str) -> str:
    """Every usage line of one object's forms."""
    return "\n".join(form.usage for (o, _), form in FORMS.items() if o == obj)


_OPTION_WORDS = ("limit", "name", "state", "page")


def is_option(word: str) -> bool:
    """`--limit`, `name~web`, `limit=5`, `limit`: an option rather than a name."""
    return word.startswith("--") or "~" in word or "=" in word or word.lower() in _OPTION_WORDS
