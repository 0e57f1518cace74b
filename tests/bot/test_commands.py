"""Command mode: every command form to its exact (tool, arguments), errors with usage, and the fallback."""

from __future__ import annotations

from typing import Any

import pytest

from bot.commands import (
    FORMS,
    CommandError,
    CoreCommand,
    ToolCommand,
    help_text,
    match_plain_english,
    parse_command,
    strip_address,
)

# The tool catalogue contract (tools-spec, issue 3). bot/tools' catalogue must provide every one of
# these names; the lead's cross-check test compares this set with the real catalogue.
CONTRACT_TOOLS = {
    "list_virtual_services", "get_virtual_service", "create_virtual_service", "update_virtual_service",
    "delete_virtual_service", "enable_virtual_service", "disable_virtual_service",
    "scale_out_virtual_service", "scale_in_virtual_service", "migrate_virtual_service",
    "switchover_virtual_service", "list_pools",
    "get_pool", "create_pool", "update_pool", "delete_pool",
    "scale_out_pool", "scale_in_pool", "add_pool_server", "remove_pool_server",
    "enable_pool_server", "disable_pool_server", "list_health_monitors", "get_health_monitor",
    "list_service_engines", "get_service_engine", "get_analytics", "list_unhealthy_virtual_services",
    "list_unhealthy_pools", "list_unhealthy_servers", "list_object_types", "list_objects", "get_object",
    "execute_generic_operation", "list_certificates", "list_events", "create_health_monitor",
    "update_health_monitor", "delete_health_monitor",
}  # fmt: skip

TOOL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    # virtual services
    ("vs list", "list_virtual_services", {}),
    ("list vs", "list_virtual_services", {}),
    ("vs", "list_virtual_services", {}),
    ("vs list --down", "list_virtual_services", {"oper_state": "down"}),
    ("vs list down", "list_virtual_services", {"oper_state": "down"}),
    ("vs list --up", "list_virtual_services", {"oper_state": "up"}),
    ("vs list disabled", "list_virtual_services", {"oper_state": "disabled"}),
    ("vs list name~web", "list_virtual_services", {"name_contains": "web"}),
    ("vs list web", "list_virtual_services", {"name_contains": "web"}),
    (
        "vs list web --down limit 5",
        "list_virtual_services",
        {"name_contains": "web", "oper_state": "down", "limit": 5},
    ),
    ("vs list --limit=10", "list_virtual_services", {"limit": 10}),
    ("vs show vs-web", "get_virtual_service", {"name": "vs-web"}),
    ("vs get vs-web", "get_virtual_service", {"name": "vs-web"}),
    ('vs show "my vs"', "get_virtual_service", {"name": "my vs"}),
    ("show vs vs-web", "get_virtual_service", {"name": "vs-web"}),
    ("vs enable vs-web", "enable_virtual_service", {"name": "vs-web"}),
    ("vs disable vs-web", "disable_virtual_service", {"name": "vs-web"}),
    ("disable vs vs-web", "disable_virtual_service", {"name": "vs-web"}),
    ("vs scaleout vs-web", "scale_out_virtual_service", {"name": "vs-web"}),
    ("vs scale-out vs-web vip 1", "scale_out_virtual_service", {"name": "vs-web", "vip_id": "1"}),
    ("vs scalein vs-web", "scale_in_virtual_service", {"name": "vs-web"}),
    ("vs scale_in vs-web --vip 2", "scale_in_virtual_service", {"name": "vs-web", "vip_id": "2"}),
    ("vs migrate vs-web", "migrate_virtual_service", {"name": "vs-web"}),
    ("vs migrate vs-web to se-2", "migrate_virtual_service", {"name": "vs-web", "to_service_engine": "se-2"}),
    ("vs switchover vs-web", "switchover_virtual_service", {"name": "vs-web"}),
    (
        "vs metrics vs-web 24h",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "24h"},
    ),
    ("vs unhealthy", "list_unhealthy_virtual_services", {}),
    ("vs delete vs-web", "delete_virtual_service", {"name": "vs-web"}),
    (
        "vs create shop 10.1.1.10 port 443 ssl pool shop-pool",
        "create_virtual_service",
        {"name": "shop", "vip": "10.1.1.10", "port": 443, "ssl": True, "pool": "shop-pool"},
    ),
    # pools
    ("pool list", "list_pools", {}),
    ("pools", "list_pools", {}),
    ("list pools", "list_pools", {}),
    ("pool list --down", "list_pools", {"servers_down": True}),
    ("pool list web limit 3", "list_pools", {"name_contains": "web", "limit": 3}),
    ("pool show web-pool", "get_pool", {"name": "web-pool"}),
    ("pool add-server web-pool 10.0.0.5", "add_pool_server", {"pool": "web-pool", "server": "10.0.0.5"}),
    (
        "pool add-server web-pool 10.0.0.5:8080",
        "add_pool_server",
        {"pool": "web-pool", "server": "10.0.0.5:8080"},
    ),
    ("pool add web-pool 10.0.0.5", "add_pool_server", {"pool": "web-pool", "server": "10.0.0.5"}),
    (
        "pool add-server web-pool [2001:db8::1]:80",
        "add_pool_server",
        {"pool": "web-pool", "server": "[2001:db8::1]:80"},
    ),
    (
        "pool remove-server web-pool 10.0.0.5",
        "remove_pool_server",
        {"pool": "web-pool", "server": "10.0.0.5"},
    ),
    (
        "pool enable-server web-pool 10.0.0.5",
        "enable_pool_server",
        {"pool": "web-pool", "server": "10.0.0.5"},
    ),
    (
        "pool disable-server web-pool 10.0.0.5",
        "disable_pool_server",
        {"pool": "web-pool", "server": "10.0.0.5"},
    ),
    ("pool disable web-pool 10.0.0.5", "disable_pool_server", {"pool": "web-pool", "server": "10.0.0.5"}),
    (
        "pool scaleout web-pool 10.0.0.7 10.0.0.8:81",
        "scale_out_pool",
        {"name": "web-pool", "servers": ["10.0.0.7", "10.0.0.8:81"]},
    ),
    ("pool scalein web-pool 10.0.0.7", "scale_in_pool", {"name": "web-pool", "servers": ["10.0.0.7"]}),
    (
        "pool create api 10.0.1.1 10.0.1.2 port 8080",
        "create_pool",
        {"name": "api", "servers": ["10.0.1.1", "10.0.1.2"], "port": 8080},
    ),
    ("pool unhealthy", "list_unhealthy_pools", {}),
    # service engines, health monitors
    ("se list", "list_service_engines", {}),
    ("se list --down", "list_service_engines", {"oper_state": "down"}),
    ("se show se-1", "get_service_engine", {"name": "se-1"}),
    ("hm list", "list_health_monitors", {}),
    ("hm list type http", "list_health_monitors", {"type": "http"}),
    ("hm list tcp", "list_health_monitors", {"type": "tcp"}),
    ("hm show http-hm", "get_health_monitor", {"name": "http-hm"}),
    # metrics
    ("metrics vs-web", "get_analytics", {"entity_type": "virtualservice", "name": "vs-web"}),
    (
        "metrics vs-web 1h",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "1h"},
    ),
    (
        "metrics vs-web 6h",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "6h"},
    ),
    (
        "metrics vs-web 24h",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "24h"},
    ),
    (
        "metrics vs-web 7d",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "7d"},
    ),
    (
        "metrics vs vs-web 1d",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "24h"},
    ),
    ("metrics pool web-pool", "get_analytics", {"entity_type": "pool", "name": "web-pool"}),
    ("metrics se se-1 7d", "get_analytics", {"entity_type": "serviceengine", "name": "se-1", "window": "7d"}),
    (
        "analytics vs-web window 6h",
        "get_analytics",
        {"entity_type": "virtualservice", "name": "vs-web", "window": "6h"},
    ),
    (
        "metrics vs-web 1h l4_client.avg_bandwidth",
        "get_analytics",
        {
            "entity_type": "virtualservice",
            "name": "vs-web",
            "window": "1h",
            "metrics": ["l4_client.avg_bandwidth"],
        },
    ),
    # health
    ("unhealthy", "list_unhealthy_virtual_services", {}),
    ("unhealthy vs", "list_unhealthy_virtual_services", {}),
    ("unhealthy pools", "list_unhealthy_pools", {}),
    ("unhealthy servers", "list_unhealthy_servers", {}),
    ("unhealthy virtual services", "list_unhealthy_virtual_services", {}),
    # generic objects
    ("types", "list_object_types", {}),
    ("types ssl", "list_object_types", {"name_contains": "ssl"}),
    ("show types", "list_object_types", {}),
    ("show sslkeyandcertificate", "list_objects", {"object_type": "sslkeyandcertificate"}),
    ("show tenant", "list_objects", {"object_type": "tenant"}),
    ("show tenants", "list_objects", {"object_type": "tenant"}),
    ("show tenant admin", "get_object", {"object_type": "tenant", "name": "admin"}),
    (
        "list cloud default limit 5",
        "list_objects",
        {"object_type": "cloud", "name_contains": "default", "limit": 5},
    ),
    ("show vsvip vsvip-web", "get_object", {"object_type": "vsvip", "name": "vsvip-web"}),
    (
        "api GET /api/cloud?name=Default-Cloud",
        "execute_generic_operation",
        {"method": "GET", "path": "/api/cloud", "query": "name=Default-Cloud"},
    ),
    ("api /virtualservice", "execute_generic_operation", {"method": "GET", "path": "/api/virtualservice"}),
    ("api cluster", "execute_generic_operation", {"method": "GET", "path": "/api/cluster"}),
    ("api tenant", "execute_generic_operation", {"method": "GET", "path": "/api/tenant"}),
    (
        'api patch /pool/p1 {"enabled": false}',
        "execute_generic_operation",
        {"method": "PATCH", "path": "/api/pool/p1", "body": '{"enabled": false}'},
    ),
]


@pytest.mark.parametrize(("text", "tool", "arguments"), TOOL_CASES)
def test_command_forms(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert parse_command(text) == ToolCommand(tool=tool, arguments=arguments)


@pytest.mark.parametrize("text", ["api certs expiry", "api certs", "api gateway latency today"])
def test_words_after_api_that_name_no_path_are_prose(text: str) -> None:
    """A bare word after "api" that is no object type nor endpoint is a sentence about something
    called api ("api certs expiry"), not GET /api/certs: it goes to the model, or the fallback."""
    assert parse_command(text) is None
    assert match_plain_english("api certs expiry") == ToolCommand(tool="list_certificates")


SPELLINGS = {
    "vs": ["vs", "VS", "virtualservice", "virtualservices", "virtual-service", "virtual-services",
           "virtual_services", "virtual service", "Virtual Services", "VirtualService"],
    "pool": ["pool", "pools", "Pool", "POOLS"],
    "se": ["se", "serviceengine", "serviceengines", "service-engine", "service-engines", "service engines",
           "engines"],
    "hm": ["hm", "healthmonitor", "healthmonitors", "health-monitor", "health-monitors", "health monitors",
           "monitors"],
}  # fmt: skip
LIST_TOOLS = {
    "vs": "list_virtual_services",
    "pool": "list_pools",
    "se": "list_service_engines",
    "hm": "list_health_monitors",
}
GET_TOOLS = {
    "vs": "get_virtual_service",
    "pool": "get_pool",
    "se": "get_service_engine",
    "hm": "get_health_monitor",
}


@pytest.mark.parametrize(
    ("obj", "spelling"), [(obj, spelling) for obj, spellings in SPELLINGS.items() for spelling in spellings]
)
def test_forgiving_object_spellings_both_orders(obj: str, spelling: str) -> None:
    assert parse_command(f"{spelling} list") == ToolCommand(tool=LIST_TOOLS[obj])
    assert parse_command(f"list {spelling}") == ToolCommand(tool=LIST_TOOLS[obj])
    assert parse_command(f"{spelling} show thing-1") == ToolCommand(
        tool=GET_TOOLS[obj], arguments={"name": "thing-1"}
    )
    assert parse_command(f"show {spelling} thing-1") == ToolCommand(
        tool=GET_TOOLS[obj], arguments={"name": "thing-1"}
    )


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("show virtualservice vs-web", "get_virtual_service", {"name": "vs-web"}),
        ("show virtualservice", "list_virtual_services", {}),
        ("show virtualservice vs-web detail", "get_virtual_service", {"name": "vs-web"}),
        ("show pool web-pool server", "get_pool", {"name": "web-pool"}),
        ("show pool web-pool", "get_pool", {"name": "web-pool"}),
        ("show pool", "list_pools", {}),
        ("show pool --down", "list_pools", {"servers_down": True}),
        ("show vs down", "list_virtual_services", {"oper_state": "down"}),
        ("show serviceengine se-1", "get_service_engine", {"name": "se-1"}),
        ("show healthmonitor http-hm", "get_health_monitor", {"name": "http-hm"}),
        ("scaleout virtualservice vs-web", "scale_out_virtual_service", {"name": "vs-web"}),
        ("scalein virtualservice vs-web", "scale_in_virtual_service", {"name": "vs-web"}),
        ("migrate virtualservice vs-web", "migrate_virtual_service", {"name": "vs-web"}),
        ("switchover virtualservice vs-web", "switchover_virtual_service", {"name": "vs-web"}),
        ("scaleout pool web-pool 10.0.0.9", "scale_out_pool", {"name": "web-pool", "servers": ["10.0.0.9"]}),
        ("SHOW VIRTUALSERVICE Vs-Web", "get_virtual_service", {"name": "Vs-Web"}),
    ],
)
def test_controller_shell_forms(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert parse_command(text) == ToolCommand(tool=tool, arguments=arguments)


@pytest.mark.parametrize(
    "text",
    [
        "/avi vs show vs-web",
        "avi vs show vs-web",
        "AVI: vs show vs-web",
        "<@U123ABC> vs show vs-web",
        "<@U123ABC|avibot> vs show vs-web",
        "@avibot vs show vs-web",
        "<at>avibot</at> vs show vs-web",
        "<@U1> /avi vs show vs-web",
        "  vs   show   vs-web  ",
    ],
)
def test_address_is_stripped(text: str) -> None:
    assert parse_command(text) == ToolCommand(tool="get_virtual_service", arguments={"name": "vs-web"})


def test_strip_address_keeps_names_that_start_with_avi() -> None:
    assert strip_address("avi-vs show") == ("avi-vs show", False)
    assert parse_command("show vs avi-vs") == ToolCommand(
        tool="get_virtual_service", arguments={"name": "avi-vs"}
    )


@pytest.mark.parametrize(
    ("text", "name", "argument"),
    [
        ("help", "help", None),
        ("/avi", "help", None),
        ("<@U1>", "help", None),
        ("?", "help", None),
        ("help?", "help", None),
        ("help pool", "help", "pool"),
        ("help Metrics", "help", "metrics"),
        ("audit", "audit", None),
        ("audit 50", "audit", "50"),
        ("audit log 10", "audit", "10"),
        ("reset", "reset", None),
        ("clear history", "reset", None),
        ("model list", "model_list", None),
        ("models", "model_list", None),
        ("model", "model_list", None),
        ("model use llama3.1:8b", "model_use", "llama3.1:8b"),
        ("confirm a1b2c3", "confirm", "a1b2c3"),
        ("cancel a1b2c3", "cancel", "a1b2c3"),
    ],
)
def test_core_commands(text: str, name: str, argument: str | None) -> None:
    assert parse_command(text) == CoreCommand(name=name, argument=argument)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("vs show", "vs show <name>"),
        ("vs enable", "vs enable <name>"),
        ("show vs --limit x", "vs list [filter] [--down|--up|--disabled] [limit N]"),
        ("vs list limit", "vs list [filter] [--down|--up|--disabled] [limit N]"),
        ("vs list limit 0", "vs list [filter] [--down|--up|--disabled] [limit N]"),
        ("vs show a b", "vs show <name>"),
        ("vs migrate", "vs migrate <name> [to <se>] [vip <id>]"),
        ("vs lsit", "vs show <name>"),
        ("pool add-server web-pool", "pool add-server <pool> <ip[:port]>"),
        ("pool add-server 10.0.0.1 web-pool", "pool add-server <pool> <ip[:port]>"),
        ("pool add-server web-pool 10.0.0.1:99999", "pool add-server <pool> <ip[:port]>"),
        ("pool add-server web-pool 10.0.0.1 10.0.0.2", "pool add-server <pool> <ip[:port]>"),
        ("pool scaleout web-pool", "pool scaleout <pool> <ip[:port]>..."),
        ("vs create shop not-an-ip", "vs create <name> <vip> [port N] [ssl] [pool <pool>]"),
        ("metrics", "metrics [vs|pool|se] <name> [1h|6h|24h|7d]"),
        ("metrics vs-web 3h", "metrics [vs|pool|se] <name> [1h|6h|24h|7d]"),
        ("metrics pool", "metrics [vs|pool|se] <name> [1h|6h|24h|7d]"),
        ("unhealthy things", "unhealthy [vs|pools|servers]"),
        ("enable vs", "vs enable <name>"),
        ("audit lots", "audit [n]"),
        ("model use", "model list\nmodel use <name>"),
        ("confirm", "confirm <action id>"),
        ("cancel", "cancel <action id>"),
        ("api", "api <GET|POST|PUT|PATCH|DELETE> <path>[?query] [json body]"),
    ],
)
def test_malformed_commands_give_usage(text: str, usage: str) -> None:
    result = parse_command(text)
    assert isinstance(result, CommandError), result
    assert usage in result.usage
    assert result.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "which pools have unhealthy servers?",
        "why is checkout slow today",
        "show me all pools",
        "list pools that are down and tell me why",
        "show vs vs-web?",
        "/avi what is the cpu on se-1?",
        "can you disable vs-web for me",
        "pools are slow today in prod",
        "hello there",
        "the virtual service web is flapping",
        "delete sslkeyandcertificate old-cert",
        "add server 10.0.0.5 to pool web",
    ],
)
def test_free_text_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


def test_parser_emits_only_contract_tools() -> None:
    emitted = {form.tool for form in FORMS.values()}
    emitted |= {
        result.tool for text, _, _ in TOOL_CASES if isinstance(result := parse_command(text), ToolCommand)
    }
    assert emitted <= CONTRACT_TOOLS, emitted - CONTRACT_TOOLS


# -- plain-English fallback ----------------------------------------------------------------------

PLAIN_ENGLISH: list[tuple[str, str, dict[str, Any]]] = [
    ("show me all pools", "list_pools", {}),
    ("list virtual services", "list_virtual_services", {}),
    ("what virtual services do we have?", "list_virtual_services", {}),
    ("how many service engines are there", "list_service_engines", {}),
    ("show me the health monitors", "list_health_monitors", {}),
    ("which pools have unhealthy servers?", "list_pools", {"servers_down": True}),  # the catalogue's example
    ("which servers are down?", "list_unhealthy_servers", {}),
    ("what's down?", "list_unhealthy_virtual_services", {}),
    ("is anything broken?", "list_unhealthy_virtual_services", {}),
    ("which virtual services are unhealthy", "list_unhealthy_virtual_services", {}),
    ("which pools are down", "list_unhealthy_pools", {}),
    ("list service engines that are down", "list_service_engines", {"oper_state": "down"}),
    ("is web-vs up?", "get_virtual_service", {"name": "web-vs"}),
    ("Is web-vs healthy", "get_virtual_service", {"name": "web-vs"}),
    ("status of vs web-vs", "get_virtual_service", {"name": "web-vs"}),
    ("what's the status of pool web-pool?", "get_pool", {"name": "web-pool"}),
    ("is pool web-pool down?", "get_pool", {"name": "web-pool"}),
    ("how is web-vs doing?", "get_virtual_service", {"name": "web-vs"}),
    ("show pool web-pool", "get_pool", {"name": "web-pool"}),
    ("tell me about service engine se-1", "get_service_engine", {"name": "se-1"}),
    ("cpu of service engines", "list_service_engines", {}),
    ("what is the cpu of se-1", "get_service_engine", {"name": "se-1"}),
    ("metrics for web-vs", "get_analytics", {"entity_type": "virtualservice", "name": "web-vs"}),
    (
        "traffic on pool web-pool over the last day",
        "get_analytics",
        {"entity_type": "pool", "name": "web-pool", "window": "24h"},
    ),
    ("<@U123> what object types are there?", "list_object_types", {}),
]


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(("text", "tool", "arguments"), PLAIN_ENGLISH)
def test_plain_english_maps_to_one_read(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert match_plain_english(text) == ToolCommand(tool=tool, arguments=arguments)
    assert tool in CONTRACT_TOOLS
    assert not tool.startswith(("create", "delete", "enable", "disable", "scale", "add", "remove", "migrate"))


@pytest.mark.parametrize(
    "text",
    [
        # writes are never guessed from prose
        "disable web-vs",
        "please disable vs web-vs",
        "add server 10.0.0.5 to pool web-pool",
        "remove the broken servers from web-pool",
        "can you scale out web-vs",
        "restart the service engines",
        "turn off web-vs",
        "take 10.0.0.5 out of web-pool",
        "delete pool web-pool",
        # ambiguous or not about one read
        "is it up?",
        "show me everything",
        "why is checkout slow?",
        "compare pools and virtual services",
        "what should I do about web-vs",
        "hello",
        "",
    ],
)
def test_plain_english_refuses_writes_and_ambiguity(text: str) -> None:
    assert match_plain_english(text) is None


# -- help ----------------------------------------------------------------------------------------


def test_help_lists_every_command_group_and_form() -> None:
    text = help_text()
    for form in FORMS.values():
        assert f"`{form.usage}`" in text, form.usage
    for usage in ("metrics <vs>", "unhealthy servers", "types [filter]", "show <object type>", "audit [n]",
                  "model list", "reset", "confirm <id>", "help [topic]", "api <GET"):  # fmt: skip
        assert usage in text, usage


@pytest.mark.parametrize(
    ("topic", "expected", "absent"),
    [
        ("pool", "pool add-server", "vs migrate"),
        ("pools", "pool add-server", "vs migrate"),
        ("virtual services", "vs migrate", "pool add-server"),
        ("se", "se show", "pool add-server"),
        ("hm", "hm list", "vs migrate"),
        ("metrics", "metrics se <name>", "pool add-server"),
        ("unhealthy", "unhealthy servers", "vs migrate"),
        ("audit", "audit [n]", "vs migrate"),
    ],
)
def test_help_per_topic(topic: str, expected: str, absent: str) -> None:
    text = help_text(topic)
    assert expected in text
    assert absent not in text


def test_help_for_an_unknown_topic_says_so_and_lists_everything() -> None:
    text = help_text("kubernetes")
    assert "No help topic 'kubernetes'" in text
    assert "vs list" in text
    assert "pool list" in text
