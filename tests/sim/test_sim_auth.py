"""Wire protocol: login, cookies, CSRF, expiry, logout, 419, lockout, Basic/token, versions, tenant."""

from __future__ import annotations

import asyncio
import base64

from tests.conftest import SIM_PASSWORD, SIM_USERNAME, StartSim
from tests.sim.test_sim_support import VERSION, client, login, session

NO_CREDS = {"detail": "Authentication credentials were not provided."}


async def test_login_form_sets_controller_cookies_without_secure_over_http(sim) -> None:
    async with client(sim) as c:
        r = await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        assert r.status_code == 200
        body = r.json()
        assert body["version"]["Version"] == "30.2.1"
        assert body["session_cookie_name"] == "avi-sessionid"
        assert body["user"]["username"] == SIM_USERNAME
        assert body["user"]["default_tenant_ref"] == f"{sim.url}/api/tenant/admin"
        assert {"uuid": "admin", "name": "admin"}.items() <= body["tenants"][0].items()
        cookies = r.headers.get_list("set-cookie")
        by_name = {c.split("=", 1)[0]: c for c in cookies}
        assert set(by_name) == {"csrftoken", "sessionid", "avi-sessionid"}
        assert r.cookies["sessionid"] == r.cookies["avi-sessionid"]
        assert all("secure" not in c.lower() for c in cookies)
        assert "httponly" in by_name["sessionid"].lower()
        assert "Max-Age=31449600" in by_name["csrftoken"]


async def test_login_json_body_works(sim) -> None:
    async with client(sim) as c:
        r = await c.post("/login", json={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        assert r.status_code == 200
        assert r.cookies["csrftoken"]
        r = await c.get("/api/pool", params={"page_size": 1})
        assert r.status_code == 200


async def test_bad_credentials_401_without_cookies_then_lockout(start_sim: StartSim) -> None:
    sim = await start_sim(lockout_failures=3, lockout_seconds=60)
    async with client(sim) as c:
        for _ in range(3):
            r = await c.post("/login", data={"username": SIM_USERNAME, "password": "wrong"})
            assert r.status_code == 401
            assert "Invalid credentials" in r.text
            assert not r.headers.get_list("set-cookie")
        r = await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        assert r.status_code == 403
        assert "locked" in r.json()["error"]


async def test_lockout_off_and_success_resets_counter(start_sim: StartSim) -> None:
    sim = await start_sim(lockout_failures=0)
    async with client(sim) as c:
        for _ in range(5):
            assert (
                await c.post("/login", data={"username": SIM_USERNAME, "password": "x"})
            ).status_code == 401
        assert (
            await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        ).status_code == 200


async def test_lockout_expires(start_sim: StartSim) -> None:
    sim = await start_sim(lockout_failures=3, lockout_seconds=0.3)
    async with client(sim) as c:
        for _ in range(3):
            await c.post("/login", data={"username": SIM_USERNAME, "password": "x"})
        assert (
            await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        ).status_code == 403
        await asyncio.sleep(0.4)
        assert (
            await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
        ).status_code == 200


async def test_no_session_is_401_detail(sim) -> None:
    async with client(sim) as c:
        r = await c.get("/api/virtualservice")
        assert r.status_code == 401
        assert r.json() == NO_CREDS


async def test_csrf_required_on_writes_not_on_gets(sim) -> None:
    async with session(sim) as (c, headers):
        no_csrf = {k: v for k, v in headers.items() if k not in ("X-CSRFToken", "Referer")}
        assert (await c.get("/api/pool", headers=no_csrf)).status_code == 200
        body = {"name": "csrf-pool"}
        r = await c.post("/api/pool", headers=no_csrf, json=body)
        assert r.status_code == 401
        assert r.text == "CSRF token missing or incorrect."
        r = await c.post("/api/pool", headers={**headers, "X-CSRFToken": "wrong"}, json=body)
        assert r.status_code == 401
        assert (await c.post("/api/pool", headers=headers, json=body)).status_code == 201


async def test_responses_refresh_session_cookies_but_not_csrf(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.get("/api/tenant", headers=headers)
        names = {h.split("=", 1)[0] for h in r.headers.get_list("set-cookie")}
        assert names == {"sessionid", "avi-sessionid"}


async def test_idle_expiry_gives_401(start_sim: StartSim) -> None:
    sim = await start_sim(session_timeout=0.5)
    async with session(sim) as (c, headers):
        assert (await c.get("/api/tenant", headers=headers)).status_code == 200
        await asyncio.sleep(0.3)
        assert (await c.get("/api/tenant", headers=headers)).status_code == 200  # sliding
        await asyncio.sleep(0.7)
        r = await c.get("/api/tenant", headers=headers)
        assert r.status_code == 401
        assert r.json() == NO_CREDS


async def test_logout_invalidates_session(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.post("/logout", headers=headers)
        assert r.status_code == 200
        # the client may still hold the cookie values: replay them explicitly
        assert (await c.get("/api/tenant", headers=headers)).status_code == 401


async def test_expire_hook_and_state_method(sim) -> None:
    async with session(sim) as (c, headers):
        sim.state.expire_sessions()
        assert (await c.get("/api/tenant", headers=headers)).status_code == 401
        headers = await login(c)
        assert (await c.post(f"{sim.url}/_sim/sessions/expire")).status_code == 200
        assert (await c.get("/api/tenant", headers=headers)).status_code == 401


async def test_switch_gives_419_once_then_401(sim) -> None:
    async with session(sim) as (c, headers):
        old_cookies = dict(c.cookies)
        assert (await c.post("/_sim/sessions/switch")).status_code == 200
        r = await c.get("/api/tenant", headers=headers)
        assert r.status_code == 419
        assert r.json() == {"error": "Need to switch session"}
        c.cookies.update(old_cookies)
        assert (await c.get("/api/tenant", headers=headers)).status_code == 401
        headers = await login(c)
        assert (await c.get("/api/tenant", headers=headers)).status_code == 200


async def test_basic_auth_per_call_without_csrf(sim) -> None:
    token = base64.b64encode(f"{SIM_USERNAME}:{SIM_PASSWORD}".encode()).decode()
    async with client(sim) as c:
        headers = {"Authorization": f"Basic {token}", "X-Avi-Version": VERSION}
        assert (await c.get("/api/pool", headers=headers)).status_code == 200
        r = await c.post("/api/pool", headers=headers, json={"name": "basic-pool"})
        assert r.status_code == 201
        bad = base64.b64encode(f"{SIM_USERNAME}:nope".encode()).decode()
        assert (await c.get("/api/pool", headers={"Authorization": f"Basic {bad}"})).status_code == 401


async def test_user_token_login_and_authorization_header(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.post("/api/user-token", headers=headers, json={"hours": "2"})
        assert r.status_code == 201
        token = r.json()["token"]
        assert len(token) == 40
        assert r.json()["expires_at"].endswith("Z")
    async with client(sim) as c:
        r = await c.post("/login", json={"username": SIM_USERNAME, "token": token})
        assert r.status_code == 200
        assert (await c.post("/login", json={"username": SIM_USERNAME, "token": "0" * 40})).status_code == 401
    async with client(sim) as c:
        r = await c.get("/api/tenant", headers={"Authorization": f"Token {token}"})
        assert r.status_code == 200


async def test_password_change_then_relogin(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.put(
            "/api/useraccount", headers=headers, json={"old_password": SIM_PASSWORD, "password": "n3w"}
        )
        assert r.status_code == 200
        assert r.content == b""
        r = await c.put("/api/useraccount", headers=headers, json={"old_password": "bad", "password": "x"})
        assert r.status_code == 400
    async with client(sim) as c:
        assert (await c.post("/login", data={"username": SIM_USERNAME, "password": "n3w"})).status_code == 200
        r = await c.get("/api/user", params={"name": SIM_USERNAME}, headers={"X-CSRFToken": "-"})
        assert r.status_code == 200
        assert "password" not in r.json()["results"][0]


async def test_version_echo_missing_and_invalid(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.get("/api/tenant", headers=headers)
        assert r.headers["AVI_API_VERSION"] == VERSION
        r = await c.get("/api/tenant", headers={**headers, "X-Avi-Version": "22.1.3"})
        assert r.status_code == 200
        assert r.headers["AVI_API_VERSION"] == "22.1.3"
        no_version = {k: v for k, v in headers.items() if k != "X-Avi-Version"}
        r = await c.get("/api/tenant", headers=no_version)
        assert r.status_code == 200
        assert r.headers["AVI_API_VERSION"]
        r = await c.get("/api/tenant", headers={**headers, "X-Avi-Version": "31.1.1"})
        assert r.status_code == 400
        assert "Invalid version" in r.text
        r = await c.get("/api/tenant", headers={**headers, "X-Avi-Version": "banana"})
        assert "Invalid version" in r.text


async def test_tenant_scoping_by_name_uuid_star_and_unknown(sim) -> None:
    async with session(sim) as (c, headers):
        admin_pools = (await c.get("/api/pool", headers=headers)).json()["count"]
        fin = {**headers, "X-Avi-Tenant": "finance"}
        fin_pools = (await c.get("/api/pool", headers=fin)).json()["count"]
        everything = (await c.get("/api/pool", headers={**headers, "X-Avi-Tenant": "*"})).json()["count"]
        assert admin_pools > 0
        assert fin_pools > 0
        assert everything == admin_pools + fin_pools
        r = await c.post("/api/pool", headers=fin, json={"name": "fin-only"})
        assert r.status_code == 201
        tenant_ref = r.json()["tenant_ref"]
        assert tenant_ref.endswith("#finance")
        tenant_uuid = tenant_ref.split("/")[-1].split("#")[0]
        assert (await c.get("/api/pool", headers=headers, params={"name": "fin-only"})).json()["count"] == 0
        by_uuid = {k: v for k, v in headers.items() if k != "X-Avi-Tenant"} | {
            "X-Avi-Tenant-UUID": tenant_uuid
        }
        assert (await c.get("/api/pool", headers=by_uuid, params={"name": "fin-only"})).json()["count"] == 1
        # same name in another tenant is allowed
        assert (await c.post("/api/pool", headers=headers, json={"name": "fin-only"})).status_code == 201
        r = await c.get("/api/pool", headers={**headers, "X-Avi-Tenant": "nope"})
        assert r.status_code == 403
        assert "Tenant 'nope' does not exist!" in r.text
        # a tenant_ref in the body places the object in that tenant
        placed = {"name": "placed", "tenant_ref": "/api/tenant?name=finance"}
        r = await c.post("/api/pool", headers=headers, json=placed)
        assert r.json()["tenant_ref"].endswith("#finance")
        # provider objects (clouds, SE groups) are visible from every tenant
        assert (await c.get("/api/cloud", headers=fin)).json()["count"] >= 1


async def test_older_version_hides_newer_fields_and_refuses_them_on_write(sim) -> None:
    async with session(sim) as (c, headers):
        old = {**headers, "X-Avi-Version": "20.1.1"}
        vs = (await c.get("/api/virtualservice", headers=old, params={"page_size": 1})).json()["results"][0]
        assert "vh_type" not in vs  # introduced in 20.1.3
        assert "traffic_enabled" in vs
        assert (await c.put(vs["url"], headers=old, json=vs)).status_code == 200
        r = await c.post("/api/pool", headers=old, json={"name": "v-old", "append_port": "NEVER"})
        assert r.status_code == 400
        assert r.json()["error"] == (
            "Incoming request (v20_1_1) has field (append_port) introduced in later versions(v21_1_1)."
        )
        assert (
            await c.post("/api/pool", headers=headers, json={"name": "v-new", "append_port": "NEVER"})
        ).status_code == 201
