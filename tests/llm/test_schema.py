"""flat_tool: pydantic schemas reduced to what Ollama keeps, without losing enums, items or defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import ollama
from pydantic import BaseModel, Field

from llm.schema import KEPT, flat_tool, schema_chars, tool_names


class Health(StrEnum):
    up = "up"
    down = "down"


class Inner(BaseModel):
    a: int


class ListPools(BaseModel):
    name: str = Field(description="Pool name, or a glob.")
    tenant: str | None = Field(None, description="Tenant; the caller's by default.")
    limit: int = Field(50, ge=1, le=500, description="How many to return.")
    sort: Literal["name", "health"] = "name"
    health: Health | None = None
    fields: list[str] = Field(default_factory=list, description="Extra fields.")
    states: list[Literal["up", "down"]] = Field(default_factory=list)
    detail: bool = False
    nested: Inner | None = None


def test_flat_tool_shape_and_required() -> None:
    tool = flat_tool("list_pools", "List pools\n   with filters.", ListPools.model_json_schema())
    assert tool["type"] == "function"
    fn = tool["function"]
    assert fn["name"] == "list_pools"
    assert fn["description"] == "List pools with filters."
    params = fn["parameters"]
    assert params["type"] == "object"
    assert params["required"] == ["name"]
    assert set(params["properties"]) == set(ListPools.model_fields)


def test_properties_keep_only_type_description_enum_items() -> None:
    props = flat_tool("t", "d", ListPools.model_json_schema())["function"]["parameters"]["properties"]
    for name, prop in props.items():
        assert set(prop) <= set(KEPT), f"{name} kept {set(prop) - set(KEPT)}"
    assert props["name"] == {"type": "string", "description": "Pool name, or a glob."}
    assert props["tenant"] == {"type": "string", "description": "Tenant; the caller's by default."}
    assert props["limit"]["type"] == "integer"
    assert "default 50" in props["limit"]["description"]
    assert "min 1" in props["limit"]["description"]
    assert "max 500" in props["limit"]["description"]
    assert props["sort"]["enum"] == ["name", "health"]
    assert props["sort"]["type"] == "string"
    assert 'default "name"' in props["sort"]["description"]
    assert props["health"]["enum"] == ["up", "down"], "a $ref enum behind Optional is inlined"
    assert props["fields"] == {"type": "array", "description": "Extra fields.", "items": {"type": "string"}}
    assert props["states"]["items"] == {"type": "string", "enum": ["up", "down"]}
    assert props["detail"]["type"] == "boolean"
    assert "default false" in props["detail"]["description"]
    assert props["nested"]["type"] == "object"


def test_passing_the_model_class_is_the_same() -> None:
    assert flat_tool("t", "d", ListPools) == flat_tool("t", "d", ListPools.model_json_schema())


def test_survives_the_clients_tool_model_unchanged() -> None:
    # What the ollama client would send for our dict must equal the dict itself: nothing silently lost.
    tool = flat_tool("list_pools", "List pools.", ListPools)
    sent = ollama.Tool.model_validate(tool).model_dump(exclude_none=True, by_alias=True)
    assert sent == tool


def test_schema_chars_and_names() -> None:
    tools = [flat_tool("a", "x", ListPools), flat_tool("b", "y", {"type": "object", "properties": {}})]
    assert tool_names(tools) == {"a", "b"}
    assert 200 < schema_chars(tools) < 5000
    assert schema_chars(tools[:1]) < schema_chars(tools)
