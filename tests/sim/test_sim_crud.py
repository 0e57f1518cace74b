"""Simulator writes: POST defaults/Slug/409/400, refs in and out, PUT, PATCH, DELETE rules, errors, secrets"""

from __future__ import annotations

from tests.sim.test_sim_support import first, session

SERVER = {"ip": {"addr": "10.9.9.1", "type": "V4"}, "port": 8080}


async def test_post_fills_defaults_and_names_refs(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.post("/api/pool", headers=headers, json={"name": "new-pool", "servers": [SERVER]})
        assert r.status_code == 201
        pool = r.json()
        assert pool["uuid"].startswith("pool-")
        assert pool["url"] == f"{sim.url}/api/pool/{pool['uuid']}#new-pool"
        assert pool["tenant_ref"].endswith("/api/tenant/admin#admin")
        assert pool["cloud_ref"].endswith("#Default-Cloud")
        assert pool["lb_algorithm"] == "LB_ALGORITHM_LEAST_CONNECTIONS"
        assert pool["default_server_port"] == 80
        assert pool["enabled"] is True
        server = pool["servers"][0]
        assert server["enabled"] is True
        assert server["ratio"] == 1
        assert server["hostname"] == "10.9.9.1"
        r = await c.post(
            "/api/vsvip",
            headers=headers,
            json={"name": "new-vip", "vip": [{"ip_address": {"addr": "10.8.8.8", "type": "V4"}}]},
        )
        assert r.status_code == 201
        vip = r.json()
        assert vip["vip"][0]["vip_id"] == "0"
        body = {
            "name": "new-vs",
            "services": [{"port": 443, "enable_ssl": True}],
            "vsvip_ref": vip["url"],
            "pool_ref": "/api/pool?name=new-pool",
            "application_profile_name": "System-Secure-HTTP",
        }
        r = await c.post("/api/virtualservice", headers=headers, json=body)
        assert r.status_code == 201, r.text
        vs = r.json()
        assert vs["pool_ref"] == f"{sim.url}/api/pool/{pool['uuid']}#new-pool"
        # `<field>_name` shortcuts are accepted and ignored, as on the recorded 20.1.1 controller
        assert vs["application_profile_ref"].endswith("#System-HTTP")
        assert vs["network_profile_ref"].endswith("#System-TCP-Proxy")
        assert vs["se_group_ref"].endswith("#Default-Group")
        assert vs["vrf_context_ref"].endswith("#global")
        assert vs["services"][0]["port_range_end"] == 443
        assert vs["enabled"] is True
        assert vs["traffic_enabled"] is True
        assert vs["type"] == "VS_TYPE_NORMAL"
        got = (await c.get(f"/api/virtualservice/{vs['uuid']}", headers=headers)).json()
        assert "#" not in got["pool_ref"]


async def test_ref_input_forms(sim) -> None:
    async with session(sim) as (c, headers):
        pool = await first(c, "/api/pool", headers)
        forms = [
            pool["url"],
            f"{pool['url']}#{pool['name']}",
            f"/api/pool/{pool['uuid']}",
            f"/api/pool?name={pool['name']}",
            f"/api/pool/?name={pool['name']}",
        ]
        for i, ref in enumerate(forms):
            r = await c.post(
                "/api/poolgroup", headers=headers, json={"name": f"pg-{i}", "members": [{"pool_ref": ref}]}
            )
            assert r.status_code == 201, (ref, r.text)
            assert r.json()["members"][0]["pool_ref"] == f"{sim.url}/api/pool/{pool['uuid']}#{pool['name']}"
        for bad in ("/api/pool/pool-nope", "/api/pool?name=nope", "not a ref", "/api/vsvip?name=x"):
            r = await c.post(
                "/api/poolgroup", headers=headers, json={"name": "pg-bad", "members": [{"pool_ref": bad}]}
            )
            assert r.status_code == 400, bad
            assert "error" in r.json()


async def test_slug_duplicate_and_validation(sim) -> None:
    async with session(sim) as (c, headers):
        slug = "pool-11111111-2222-4333-8444-555555555555"
        r = await c.post("/api/pool", headers={**headers, "Slug": slug}, json={"name": "slugged"})
        assert r.status_code == 201
        assert r.json()["uuid"] == slug
        assert (await c.get(f"/api/pool/{slug}", headers=headers)).status_code == 200
        r = await c.post("/api/pool", headers=headers, json={"name": "slugged"})
        assert r.status_code == 409
        assert "already exists" in r.json()["error"]
        r = await c.post("/api/pool", headers=headers, json={"name": "p", "no_such_field": 1})
        assert r.status_code == 400
        assert "no_such_field" in r.json()["error"]
        r = await c.post("/api/pool", headers=headers, json={"servers": []})
        assert r.status_code == 400
        assert "name" in r.json()["error"]
        r = await c.post(
            "/api/pool", headers=headers, json={"name": "p", "lb_algorithm": "LB_ALGORITHM_MAGIC"}
        )
        assert r.status_code == 400
        r = await c.post(
            "/api/pool", headers=headers, json={"name": "p", "servers": [{"ip": {"addr": "1.1.1.1"}}]}
        )
        assert r.status_code == 400
        r = await c.post(
            "/api/virtualservice", headers=headers, json={"name": "v", "services": [{"port": 0}]}
        )
        assert r.status_code == 400
        r = await c.post("/api/pool", headers=headers, json={"name": "typed", "enabled": "maybe"})
        assert r.status_code == 400
        r = await c.post(
            "/api/pool",
            headers=headers,
            json={"name": "typed", "enabled": "false", "default_server_port": "81"},
        )
        assert r.status_code == 201
        assert r.json()["enabled"] is False
        assert r.json()["default_server_port"] == 81
        r = await c.post("/api/pool", headers=headers, content=b"{not json")
        assert r.status_code == 400


async def test_put_replaces_and_bumps_last_modified(sim) -> None:
    async with session(sim) as (c, headers):
        pool = (
            await c.post(
                "/api/pool",
                headers=headers,
                json={"name": "put-pool", "servers": [SERVER], "lb_algorithm": "LB_ALGORITHM_ROUND_ROBIN"},
            )
        ).json()
        got = (await c.get(f"/api/pool/{pool['uuid']}", headers=headers)).json()
        got["enabled"] = False
        r = await c.put(f"/api/pool/{pool['uuid']}", headers=headers, json=got)
        assert r.status_code == 200
        assert r.json()["enabled"] is False
        assert int(r.json()["_last_modified"]) > int(got["_last_modified"])
        # full replace: a field left out goes back to its default
        r = await c.put(f"/api/pool/{pool['uuid']}", headers=headers, json={"name": "put-pool"})
        assert r.json()["lb_algorithm"] == "LB_ALGORITHM_LEAST_CONNECTIONS"
        assert "servers" not in r.json()
        # a stale _last_modified is refused
        stale = {**got, "_last_modified": got["_last_modified"]}
        assert (await c.put(f"/api/pool/{pool['uuid']}", headers=headers, json=stale)).status_code == 412


async def test_patch_add_replace_delete_and_json_patch(sim) -> None:
    async with session(sim) as (c, headers):
        pool = (
            await c.post("/api/pool", headers=headers, json={"name": "patch-pool", "servers": [SERVER]})
        ).json()
        path = f"/api/pool/{pool['uuid']}"
        new = {"ip": {"addr": "10.9.9.2", "type": "V4"}, "port": 8080}
        r = await c.patch(path, headers=headers, json={"add": {"servers": [new]}})
        assert r.status_code == 200
        assert [s["ip"]["addr"] for s in r.json()["servers"]] == ["10.9.9.1", "10.9.9.2"]
        assert r.json()["servers"][1]["enabled"] is True
        # add of an existing entry updates it
        r = await c.patch(path, headers=headers, json={"add": {"servers": [{**new, "ratio": 5}]}})
        assert len(r.json()["servers"]) == 2
        assert r.json()["servers"][1]["ratio"] == 5
        r = await c.patch(
            path, headers=headers, json={"replace": {"lb_algorithm": "LB_ALGORITHM_ROUND_ROBIN"}}
        )
        assert r.json()["lb_algorithm"] == "LB_ALGORITHM_ROUND_ROBIN"
        r = await c.patch(
            path, headers=headers, json={"delete": {"servers": [{"ip": {"addr": "10.9.9.1", "type": "V4"}}]}}
        )
        assert [s["ip"]["addr"] for s in r.json()["servers"]] == ["10.9.9.2"]
        r = await c.patch(path, headers=headers, json={"delete": {"lb_algorithm": "x"}})
        assert r.json()["lb_algorithm"] == "LB_ALGORITHM_LEAST_CONNECTIONS"
        r = await c.patch(
            path,
            headers=headers,
            json={"json_patch": [{"op": "replace", "path": "/servers/0/enabled", "value": False}]},
        )
        assert r.json()["servers"][0]["enabled"] is False
        assert (await c.patch(path, headers=headers, json={"bogus": {}})).status_code == 400


async def test_delete_204_then_404_and_vs_delete_keeps_pool(sim) -> None:
    async with session(sim) as (c, headers):
        vs = await first(c, "/api/virtualservice", headers)
        pool_ref, vsvip_ref = vs["pool_ref"], vs["vsvip_ref"]
        r = await c.delete(f"/api/virtualservice/{vs['uuid']}", headers=headers)
        assert r.status_code == 204
        assert r.content == b""
        r = await c.get(f"/api/virtualservice/{vs['uuid']}", headers=headers)
        assert r.status_code == 404
        assert r.json() == {"error": "VirtualService object not found!"}
        assert (await c.delete(f"/api/virtualservice/{vs['uuid']}", headers=headers)).status_code == 404
        assert (await c.get(pool_ref, headers=headers)).status_code == 200
        assert (await c.get(vsvip_ref, headers=headers)).status_code == 200
        assert (await c.delete(vsvip_ref, headers=headers)).status_code == 204
        r = await c.get(vsvip_ref, headers=headers)
        assert r.json() == {"error": "VsVip object not found!"}


async def test_delete_referenced_and_system_objects_fails(sim) -> None:
    async with session(sim) as (c, headers):
        vs = await first(c, "/api/virtualservice", headers)
        r = await c.delete(vs["pool_ref"], headers=headers)
        assert r.status_code == 400
        assert "referred" in r.json()["error"]
        profile = await first(c, "/api/applicationprofile", headers, name="System-HTTP")
        r = await c.delete(profile["url"], headers=headers)
        assert r.status_code == 403
        assert "Cannot delete system default object" in r.json()["error"]
        cloud = await first(c, "/api/cloud", headers, name="Default-Cloud")
        assert (await c.delete(cloud["url"], headers=headers)).status_code == 403


async def test_unknown_path_and_method_errors(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.get("/api/nosuchtype", headers=headers)
        assert r.status_code == 404
        r = await c.get("/totally/else", headers=headers)
        assert r.status_code == 404
        r = await c.delete("/api/virtualservice", headers=headers)
        assert r.status_code == 405
        assert r.json() == {"detail": "Method 'DELETE' not allowed."}
        r = await c.post("/api/systemconfiguration", headers=headers, json={})
        assert r.json() == {"detail": "Method 'POST' not allowed."}
        r = await c.get("/login")
        assert r.status_code == 405
        assert r.json() == {"detail": "Method 'GET' not allowed."}
        assert (await c.get("/api/pool/pool-missing", headers=headers)).json() == {
            "error": "Pool object not found!"
        }


async def test_secrets_never_returned_except_exported_cert_key(sim) -> None:
    async with session(sim) as (c, headers):
        cert = await first(c, "/api/sslkeyandcertificate", headers)
        assert "key" not in cert
        assert "key_passphrase" not in cert
        assert cert["certificate"]["certificate"].startswith("-----BEGIN CERTIFICATE-----")
        r = await c.get(cert["url"], headers=headers, params={"export_key": "true"})
        assert r.json()["key"].startswith("-----BEGIN PRIVATE KEY-----")
        assert r.json()["key_passphrase"]
        listed = (await c.get("/api/sslkeyandcertificate", headers=headers, params={"page_size": 200})).text
        assert "PRIVATE KEY" not in listed
        clouds = (await c.get("/api/cloud", headers=headers)).json()["results"]
        by_name = {cl["name"]: cl for cl in clouds}
        assert "password" not in by_name["Default-Cloud"]["vcenter_configuration"]
        assert "username" in by_name["Default-Cloud"]["vcenter_configuration"]
        assert "secret_access_key" not in by_name["aws-east"]["aws_configuration"]
        users = (await c.get("/api/user", headers=headers)).json()["results"]
        assert users
        assert all("password" not in u for u in users)
        # a GET-modify-PUT round trip keeps the stored key
        r = await c.put(cert["url"], headers=headers, json={**cert, "_last_modified": cert["_last_modified"]})
        assert r.status_code == 200, r.text
        r = await c.get(cert["url"], headers=headers, params={"export_key": "true"})
        assert "PRIVATE KEY" in r.json()["key"]


async def test_get_modify_put_round_trips_for_seeded_types(sim) -> None:
    async with session(sim) as (c, headers):
        for obj_type in (
            "virtualservice",
            "pool",
            "vsvip",
            "serviceengine",
            "serviceenginegroup",
            "cloud",
            "healthmonitor",
            "tenant",
        ):
            obj = await first(c, f"/api/{obj_type}", headers)
            r = await c.put(obj["url"], headers=headers, json=obj)
            assert r.status_code == 200, (obj_type, r.text)


async def test_certificate_upload_is_parsed(sim) -> None:
    async with session(sim) as (c, headers):
        source = await first(
            c, "/api/sslkeyandcertificate", headers, name="System-Default-Cert", export_key="true"
        )
        body = {
            "name": "uploaded",
            "certificate": {"certificate": source["certificate"]["certificate"]},
            "key": source["key"],
        }
        r = await c.post("/api/sslkeyandcertificate", headers=headers, json=body)
        assert r.status_code == 201, r.text
        cert = r.json()
        assert cert["certificate"]["subject"]["common_name"] == "avi.sim.local"
        assert cert["certificate"]["expiry_status"] == "SSL_CERTIFICATE_GOOD"
        assert cert["type"] == "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE"
        assert "key" not in cert
        bad = {"name": "broken", "certificate": {"certificate": "-----BEGIN CERTIFICATE-----\nnope"}}
        assert (await c.post("/api/sslkeyandcertificate", headers=headers, json=bad)).status_code == 400


async def test_read_only_and_recorded_older_fields_are_accepted_and_ignored(sim) -> None:
    """A clone posts back what a GET returned (cassette test_clone_vs): read-only fields and fields of
    the older recorded controller are ignored, misspelt ones still get 400."""
    async with session(sim) as (c, headers):
        old = {**headers, "X-Avi-Version": "20.1.1"}
        vip = {"name": "clone-vip", "vip": [{"ip_address": {"addr": "10.8.8.9", "type": "V4"}}]}
        r = await c.post("/api/vsvip", headers=old, json={**vip, "vs_refs": ["/api/virtualservice/x"]})
        assert r.status_code == 201, r.text
        assert "vs_refs" not in r.json()
        legacy = {"marked_for_delete": False, "redis_db": 0, "redis_port": 0, "version": 3}
        body = {"name": "clone-vs", "services": [{"port": 80}], "vsvip_ref": r.json()["url"], **legacy}
        r = await c.post("/api/virtualservice", headers=old, json={**body, "url": "x", "sp_pool_refs": []})
        assert r.status_code == 201, r.text
        assert not legacy.keys() & r.json().keys()
        # read-only in the 30.2.1 swagger: ignored at every version
        r = await c.post("/api/pool", headers=headers, json={"name": "ro-pool", "gslb_sp_enabled": True})
        assert r.status_code == 201, r.text
        # fields only the older controller had: refused when the client says it speaks 30.2.1
        r = await c.post("/api/virtualservice", headers=headers, json={**body, "name": "clone-vs-2"})
        assert r.status_code == 400
        assert "redis_db" in r.json()["error"]
        r = await c.post("/api/virtualservice", headers=old, json={**body, "name": "v3", "redis_dbb": 0})
        assert r.status_code == 400
        assert "redis_dbb" in r.json()["error"]
