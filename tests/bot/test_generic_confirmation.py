"""What a person confirms for `execute_generic_operation` is the whole change, read from the controller.

Against the simulator over HTTP: the plan names the object (one GET of the path), shows every field the
body touches as `before → after` with the risky ones first, collapses long values without dropping a
field, understands Avi's PATCH forms and never shows a secret's value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from avi.operations import AviOperations
from bot.tools import ToolError, WritePlan
from tests.support.tools_helpers import plan

PASSWORD = "Sup3r-S3cret-pw"
# 22 analytics settings, all sorting before `enabled`: the old diff cut the body after 20 lines.
ANALYTICS = {f"analytics_setting_{i:02d}": i for i in range(1, 23)}


def changes(p: WritePlan) -> list[str]:
    """The field lines of a plan (context lines start with two spaces)."""
    return [line for line in p.diff if line[:2] in ("~ ", "+ ", "- ")]


def field_of(line: str) -> str:
    return line[2:].split(":", 1)[0].split("[", 1)[0].strip()


async def a_vs(ops: AviOperations) -> dict[str, Any]:
    vs = next(v for v in await ops.virtualservices.list() if v.enabled)
    found = await ops.client.get_by_name("virtualservice", vs.name)
    assert found is not None
    return found


async def a_pool(ops: AviOperations) -> dict[str, Any]:
    pool = next(p for p in await ops.pools.list() if p.num_servers >= 1)
    found = await ops.client.get_by_name("pool", pool.name)
    assert found is not None
    return found


async def test_patch_shows_enabled_first_names_the_vs_and_every_field(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    body = json.dumps({"replace": {**ANALYTICS, "enabled": False}})
    path = f"/api/virtualservice/{vs['uuid']}"
    p = await plan(ops, "execute_generic_operation", method="PATCH", path=path, body=body)
    assert p.summary == f"PATCH virtualservice {vs['name']} (tenant admin)"
    lines = changes(p)
    assert lines[0] == "~ enabled: true → false"
    assert len(lines) == 23
    assert {field_of(line) for line in lines} == {*ANALYTICS, "enabled"}
    assert lines[1:] == [f"+ {k}: {v}" for k, v in ANALYTICS.items()]  # new fields, sorted
    assert not any("more" in line for line in p.diff)
    assert f"  path: {path}" in p.diff
    assert (await ops.client.get(path))["enabled"] is True  # planning changes nothing


async def test_risky_fields_come_first(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    other_pool = next(p for p in await ops.pools.list() if not vs["pool_ref"].endswith(p.uuid))
    body = {
        "replace": {
            "description": "moved",
            "weight": 3,
            "services": [{"port": 8443, "enable_ssl": True}],
            "pool_ref": f"/api/pool?name={other_pool.name}",
            "traffic_enabled": False,
        },
        "delete": {"fqdn": vs["fqdn"]},
    }
    path = f"/api/virtualservice/{vs['uuid']}"
    p = await plan(ops, "execute_generic_operation", method="PATCH", path=path, body=json.dumps(body))
    assert list(dict.fromkeys(field_of(line) for line in changes(p))) == [
        "traffic_enabled", "fqdn", "pool_ref", "services", "description", "weight",
    ]  # fmt: skip
    lines = changes(p)
    assert lines[0] == "~ traffic_enabled: true → false"
    assert lines[1].startswith(f'- fqdn: "{vs["fqdn"]}"')
    assert "→ " + other_pool.name in lines[2]  # refs read by name
    assert any(line.startswith("  patch:") and "replace" in line for line in p.diff)
    assert any(line.startswith("  patch:") and "delete" in line for line in p.diff)


async def test_unchanged_fields_are_named_but_not_shown_as_changes(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    body = {
        "replace": {"enabled": True, "weight": vs.get("weight", 1), "pool_ref": vs["pool_ref"].split("#")[0]}
    }
    path = f"/api/virtualservice/{vs['uuid']}"
    p = await plan(ops, "execute_generic_operation", method="PATCH", path=path, body=json.dumps(body))
    assert changes(p) == []
    unchanged = next(line for line in p.diff if line.startswith("  unchanged:"))
    for name in ("enabled", "pool_ref", "weight"):
        assert name in unchanged


async def test_patch_add_and_delete_show_the_list_entries(ops: AviOperations) -> None:
    pool = await a_pool(ops)
    first = pool["servers"][0]
    new = {"ip": {"addr": "10.77.0.9", "type": "V4"}, "port": 8080}
    body = {"add": {"servers": [new]}, "delete": {"servers": [{"ip": first["ip"]}]}}
    path = f"/api/pool/{pool['uuid']}"
    p = await plan(ops, "execute_generic_operation", method="PATCH", path=path, body=json.dumps(body))
    assert p.summary == f"PATCH pool {pool['name']} (tenant admin)"
    lines = changes(p)
    assert lines[0].startswith("~ servers: 1 added, 1 removed")
    assert any(line.startswith("+ servers[]: ") and "10.77.0.9" in line for line in lines)
    assert any(line.startswith("- servers[]: ") and first["ip"]["addr"] in line for line in lines)


async def test_put_shows_changes_and_removed_fields_only(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    path = f"/api/virtualservice/{vs['uuid']}"
    current = await ops.client.get(path)
    new = {k: v for k, v in current.items() if k != "description"}
    new["enabled"] = False
    p = await plan(ops, "execute_generic_operation", method="PUT", path=path, body=json.dumps(new))
    assert p.summary == f"PUT virtualservice {vs['name']} (tenant admin)"
    assert changes(p) == [
        "~ enabled: true → false",
        f'- description: "{current["description"]}" (removed)',
    ]


async def test_delete_names_the_object(ops: AviOperations) -> None:
    pool = await a_pool(ops)
    p = await plan(ops, "execute_generic_operation", method="DELETE", path=f"/api/pool/{pool['uuid']}")
    assert p.summary == f"DELETE pool {pool['name']} (tenant admin)"
    assert changes(p)[0] == f"- pool {pool['name']} ({pool['uuid']})"


async def test_post_names_what_is_created(ops: AviOperations) -> None:
    body = json.dumps({"name": "created-pool", "default_server_port": 81, "enabled": False})
    p = await plan(ops, "execute_generic_operation", method="POST", path="/api/pool", body=body)
    assert p.summary == "POST /api/pool: create pool created-pool (tenant admin)"
    assert changes(p) == ["+ enabled: false", "+ default_server_port: 81", '+ name: "created-pool"']


async def test_post_user_password_value_is_never_shown(ops: AviOperations) -> None:
    body = json.dumps({"name": "new-user", "username": "new-user", "password": PASSWORD})
    p = await plan(ops, "execute_generic_operation", method="POST", path="/api/user", body=body)
    assert p.summary == "POST /api/user: create user new-user (tenant admin)"
    assert PASSWORD not in p.summary
    assert PASSWORD not in json.dumps(p.diff)
    assert "+ password (secret): set" in p.diff


async def test_long_values_are_collapsed_but_their_field_is_shown(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    long_text = "x" * 500
    services = [{"port": 8000 + i} for i in range(12)]
    body = {"replace": {"description": long_text, "services": services}}
    path = f"/api/virtualservice/{vs['uuid']}"
    p = await plan(ops, "execute_generic_operation", method="PATCH", path=path, body=json.dumps(body))
    lines = changes(p)
    assert {field_of(line) for line in lines} == {"services", "description"}
    described = next(line for line in lines if field_of(line) == "description")
    assert long_text not in described
    assert len(described) < 200
    assert "500 chars" in described
    assert lines[0].startswith("~ services: 12 added, 1 removed")
    assert all(len(line) < 200 for line in p.diff)


async def test_a_patch_body_outside_avis_forms_is_refused_before_pending(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    path = f"/api/virtualservice/{vs['uuid']}"
    with pytest.raises(ToolError, match="replace") as err:
        await plan(ops, "execute_generic_operation", method="PATCH", path=path, body='{"enabled": false}')
    assert '{"replace": {"enabled": false}}' in err.value.hint


async def test_a_certificate_key_is_a_secret_on_create_and_on_patch(ops: AviOperations) -> None:
    key = "not-a-pem-but-still-the-key"
    body = json.dumps({"name": "new-cert", "key": key, "key_passphrase": "pass-1"})
    p = await plan(
        ops, "execute_generic_operation", method="POST", path="/api/sslkeyandcertificate", body=body
    )
    assert key not in json.dumps(p.diff)
    assert "pass-1" not in json.dumps(p.diff)
    assert {"+ key (secret): set", "+ key_passphrase (secret): set"} <= set(p.diff)
    cert = (await ops.client.get("/api/sslkeyandcertificate"))["results"][0]
    path = f"/api/sslkeyandcertificate/{cert['uuid']}"
    p = await plan(
        ops,
        "execute_generic_operation",
        method="PATCH",
        path=path,
        body=json.dumps({"replace": {"key": key}}),
    )
    assert p.summary == f"PATCH sslkeyandcertificate {cert['name']} (tenant admin)"
    assert key not in json.dumps(p.diff)
    assert any(line.startswith(("+ key (secret):", "~ key (secret):")) for line in p.diff)


async def test_json_patch_is_shown_field_by_field(ops: AviOperations) -> None:
    vs = await a_vs(ops)
    body = {"json_patch": [{"op": "replace", "path": "/enabled", "value": False}]}
    path = f"/api/virtualservice/{vs['uuid']}"
    p = await plan(ops, "execute_generic_operation", method="PATCH", path=path, body=json.dumps(body))
    assert changes(p) == ["~ enabled: true → false"]
    assert "  patch: json_patch: replace /enabled" in p.diff


async def test_a_write_to_a_missing_object_fails_before_pending(ops: AviOperations) -> None:
    body = json.dumps({"replace": {"enabled": False}})
    for method, sent in (("PATCH", body), ("PUT", '{"name": "ghost"}')):
        with pytest.raises(ToolError, match="not found"):
            await plan(
                ops, "execute_generic_operation", method=method, path="/api/pool/pool-ghost", body=sent
            )


async def test_the_refusal_of_a_plain_patch_body_shows_no_secret(ops: AviOperations) -> None:
    with pytest.raises(ToolError) as err:
        await plan(
            ops,
            "execute_generic_operation",
            method="PATCH",
            path="/api/user/user-1",
            body=json.dumps({"password": PASSWORD}),
        )
    assert PASSWORD not in str(err.value)
