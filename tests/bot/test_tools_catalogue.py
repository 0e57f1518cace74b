"""The catalogue keeps the contract: names, risks and argument fields, flat schemas, lenient coercion."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.tools import ToolCatalogue, build_catalogue
from bot.types import Risk
from tests.support.tools_helpers import CATALOGUE

R, W, D = Risk.READ, Risk.WRITE, Risk.DESTRUCTIVE
# tools-spec.md: name -> (risk, argument fields). The command parser depends on these.
SPEC: dict[str, tuple[Risk, set[str]]] = {
    "list_virtual_services": (R, {"name_contains", "enabled", "oper_state", "limit", "page"}),
    "get_virtual_service": (R, {"name"}),
    "create_virtual_service": (W, {"name", "vip", "port", "ssl", "pool"}),
    "update_virtual_service": (
        W,
        {
            "name",
            "enabled",
            "description",
            "pool",
            "application_profile",
            "ssl_port",
            "certificate",
            "ssl_profile",
        },
    ),
    "delete_virtual_service": (D, {"name"}),
    "enable_virtual_service": (W, {"name"}),
    "disable_virtual_service": (W, {"name"}),
    "scale_out_virtual_service": (W, {"name", "vip_id"}),
    "scale_in_virtual_service": (W, {"name", "vip_id"}),
    "migrate_virtual_service": (W, {"name", "vip_id", "to_service_engine"}),
    "switchover_virtual_service": (W, {"name", "vip_id"}),
    "list_pools": (R, {"name_contains", "servers_down", "limit", "page"}),
    "get_pool": (R, {"name"}),
    "create_pool": (W, {"name", "servers", "port", "lb_algorithm"}),
    "update_pool": (
        W,
        {
            "name",
            "new_name",
            "default_server_port",
            "lb_algorithm",
            "attach_health_monitors",
            "detach_health_monitors",
            "enabled",
            "description",
        },
    ),
    "delete_pool": (D, {"name"}),
    "scale_out_pool": (W, {"name", "servers"}),
    "scale_in_pool": (D, {"name", "servers"}),
    "add_pool_server": (W, {"pool", "server"}),
    "remove_pool_server": (D, {"pool", "server"}),
    "enable_pool_server": (W, {"pool", "server"}),
    "disable_pool_server": (W, {"pool", "server"}),
    "list_health_monitors": (R, {"name_contains", "type", "limit", "page"}),
    "get_health_monitor": (R, {"name"}),
    "list_service_engines": (R, {"name_contains", "oper_state", "limit", "page"}),
    "get_service_engine": (R, {"name"}),
    "get_analytics": (R, {"entity_type", "name", "window", "metrics"}),
    "list_unhealthy_virtual_services": (R, {"page"}),
    "list_unhealthy_pools": (R, {"page"}),
    "list_unhealthy_servers": (R, {"page"}),
    "list_object_types": (R, {"name_contains"}),
    "list_objects": (R, {"object_type", "name_contains", "limit", "page"}),
    "get_object": (R, {"object_type", "name"}),
    "execute_generic_operation": (D, {"method", "path", "query", "body"}),
    "list_certificates": (R, {"expiring_within_days", "name_contains", "limit", "page"}),
    "list_events": (R, {"name", "object_type", "window", "limit"}),
    "create_health_monitor": (
        W,
        {
            "name",
            "type",
            "send_interval",
            "receive_timeout",
            "successful_checks",
            "failed_checks",
            "port",
            "http_request",
            "response_codes",
            "description",
        },
    ),
    "update_health_monitor": (
        W,
        {
            "name",
            "send_interval",
            "receive_timeout",
            "successful_checks",
            "failed_checks",
            "port",
            "http_request",
            "response_codes",
            "description",
        },
    ),
    "delete_health_monitor": (D, {"name"}),
}
DEFAULTS = {
    ("list_virtual_services", "limit"): 50,
    ("list_pools", "limit"): 50,
    ("list_objects", "limit"): 25,
    ("create_virtual_service", "port"): 80,
    ("create_virtual_service", "ssl"): False,
    ("create_pool", "port"): 80,
    ("scale_out_virtual_service", "vip_id"): "0",
    ("get_analytics", "window"): "1h",
    ("execute_generic_operation", "method"): "GET",
}


def test_catalogue_has_exactly_the_spec() -> None:
    assert set(CATALOGUE.names) == set(SPEC)
    for name, (risk, fields) in SPEC.items():
        tool = CATALOGUE.get(name)
        assert tool is not None
        assert tool.risk is risk, name
        assert set(tool.args.model_fields) == fields, name
    for (name, field), default in DEFAULTS.items():
        assert CATALOGUE.get(name).args.model_fields[field].default == default  # type: ignore[union-attr]


def test_every_tool_is_described_and_routable() -> None:
    for tool in CATALOGUE.all():
        assert 30 <= len(tool.description) <= 300, tool.name
        assert tool.topics, tool.name
        assert all(t == t.lower() and " " not in t for t in tool.topics), tool.name
        assert (tool.plan is None) == (tool.risk is Risk.READ), tool.name
    assert {"disable", "vs"} <= CATALOGUE.get("disable_virtual_service").topics  # type: ignore[union-attr]
    assert "cpu" in CATALOGUE.get("get_analytics").topics  # type: ignore[union-attr]


ALLOWED_PROPERTY_KEYS = {
    "type",
    "description",
    "items",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "title",
    "enum",
    "minItems",
}


def test_every_schema_is_flat() -> None:
    for tool in CATALOGUE.all():
        schema = tool.args.model_json_schema()
        assert "$defs" not in schema, tool.name
        for field, prop in schema.get("properties", {}).items():
            assert set(prop) <= ALLOWED_PROPERTY_KEYS, (tool.name, field, prop)
            assert prop["type"] in {"string", "integer", "boolean", "number", "array"}, (tool.name, field)
            assert prop.get("description"), (tool.name, field)
            if prop["type"] == "array":
                assert prop["items"] == {"type": "string"}, (tool.name, field)


def test_arguments_are_coerced() -> None:
    args = CATALOGUE.get("list_virtual_services").args  # type: ignore[union-attr]
    parsed = args.model_validate({"limit": "5", "enabled": "true", "oper_state": None, "name_contains": ""})
    assert parsed.limit == 5
    assert parsed.enabled is True
    assert parsed.oper_state is None
    assert parsed.name_contains is None
    servers = CATALOGUE.get("scale_out_pool").args.model_validate(  # type: ignore[union-attr]
        {"name": "p", "servers": "10.0.0.1, 10.0.0.2:8080"}
    )
    assert servers.servers == ["10.0.0.1", "10.0.0.2:8080"]
    metrics = CATALOGUE.get("get_analytics").args.model_validate(  # type: ignore[union-attr]
        {"entity_type": "VS", "name": "x", "window": "last hour", "metrics": "a.b,c.d"}
    )
    assert (metrics.entity_type, metrics.window, metrics.metrics) == (
        "virtualservice",
        "hour",
        ["a.b", "c.d"],
    )
    se = CATALOGUE.get("get_analytics").args.model_validate(  # type: ignore[union-attr]
        {"entity_type": "service engine", "name": "x", "window": "7d"}
    )
    assert (se.entity_type, se.window, se.metrics) == ("serviceengine", "week", None)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        CATALOGUE.get("get_pool").args.model_validate({"name": "p", "tenant": "x"})  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        CATALOGUE.get("list_pools").args.model_validate({"limit": "many"})  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="entity_type"):
        CATALOGUE.get("get_analytics").args.model_validate({"entity_type": "cat", "name": "x"})  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="window"):
        CATALOGUE.get("get_analytics").args.model_validate(  # type: ignore[union-attr]
            {"entity_type": "pool", "name": "x", "window": "fortnight"}
        )
    with pytest.raises(ValidationError, match="not valid JSON"):
        CATALOGUE.get("execute_generic_operation").args.model_validate(  # type: ignore[union-attr]
            {"method": "POST", "path": "/api/pool", "body": "{name: x"}
        )
    with pytest.raises(ValidationError, match="ip"):
        CATALOGUE.get("create_virtual_service").args.model_validate(  # type: ignore[union-attr]
            {"name": "x", "vip": "not-an-ip"}
        )
    with pytest.raises(ValidationError, match="unknown object type"):
        CATALOGUE.get("get_object").args.model_validate({"object_type": "kitten", "name": "x"})  # type: ignore[union-attr]


def test_generic_risk_depends_on_method() -> None:
    tool = CATALOGUE.get("execute_generic_operation")
    assert tool is not None
    assert tool.risk_for(tool.args.model_validate({"path": "/api/cloud"})) is Risk.READ
    assert tool.risk_for(tool.args.model_validate({"method": "get", "path": "/api/cloud"})) is Risk.READ
    assert (
        tool.risk_for(tool.args.model_validate({"method": "post", "path": "/api/pool"})) is Risk.DESTRUCTIVE
    )
    assert (
        tool.risk_for(tool.args.model_validate({"method": "DELETE", "path": "/api/pool/x"}))
        is Risk.DESTRUCTIVE
    )


def test_for_risks_and_lookup() -> None:
    catalogue = build_catalogue()
    reads = {t.name for t in catalogue.for_risks({Risk.READ})}
    assert "get_pool" in reads
    assert "disable_pool_server" not in reads
    assert "execute_generic_operation" in reads  # offered; risk_for(args) decides per call
    writes = {t.name for t in catalogue.for_risks({Risk.READ, Risk.WRITE})}
    assert "disable_pool_server" in writes
    assert "delete_virtual_service" not in writes
    assert len(catalogue.for_risks({Risk.READ, Risk.WRITE, Risk.DESTRUCTIVE})) == len(SPEC)
    assert catalogue.get("nope") is None
    with pytest.raises(ValueError, match="duplicate"):
        ToolCatalogue([*catalogue.all(), catalogue.all()[0]])
