"""A write proxied through `/api/avi/*` is confirmed on the same plan as the generic tool, with no secret.

The real server app, a real redis-server and the simulator over HTTP: an admin behind the trusted proxy
sends a write, and the 202 answer, the pending action as stored in Redis, the confirm answer and the
audit trail are all searched for the password.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.web.settings import WebSettings
from tests.adapters.web.harness import Served, clean_environment, serving
from tests.conftest import RunningSim

PASSWORD = "Sup3r-S3cret-pw"
ADMIN = {"X-Forwarded-User": "bob"}
WEB = WebSettings(trusted_proxies=["127.0.0.1/32"], rate_limit_per_minute=0)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


async def admin_headers(served: Served) -> dict[str, str]:
    csrf = (await (await served.client.get("/api/session", headers=ADMIN)).json())["csrf_token"]
    return {**ADMIN, "X-CSRF-Token": csrf}


def changes(diff: list[str]) -> list[str]:
    return [line for line in diff if line[:2] in ("~ ", "+ ", "- ")]


async def test_proxied_user_create_never_shows_nor_stores_the_password_in_the_plan(
    sim: RunningSim, redis_url: str, redis_client: aioredis.Redis
) -> None:
    async with serving(sim, redis_url, web=WEB) as served:
        headers = await admin_headers(served)
        body = {"name": "proxied-user", "username": "proxied-user", "password": PASSWORD}
        proposed = await served.client.post("/api/avi/user", json=body, headers=headers)
        assert proposed.status == 202, await proposed.text()
        answer: dict[str, Any] = await proposed.json()
        assert PASSWORD not in json.dumps(answer)  # summary, diff, text, parts and tool calls
        pending = answer["pending_action"]
        assert pending["summary"] == "POST /api/user: create user proxied-user (tenant admin)"
        assert "+ password (secret): set" in pending["diff"]
        raw = await redis_client.get(f"{served.settings.redis.prefix}pending:{pending['id']}")
        assert raw is not None
        stored = json.loads(raw)
        assert PASSWORD not in stored["summary"]
        assert PASSWORD not in json.dumps(stored["diff"])
        done = await served.client.post(
            f"/api/actions/{pending['id']}/confirm", json={"conversation_id": "avi-proxy"}, headers=headers
        )
        assert done.status == 200, await done.text()
        entries = await served.runtime.agent.audit.recent(5)
        created = await served.runtime.agent.ops.client.get_by_name("user", "proxied-user")
    assert created is not None
    assert [e.result for e in entries if e.action == "execute_generic_operation"] == ["ok", "requested"]
    requested = next(e for e in entries if e.result == "requested")
    assert "create user proxied-user" in requested.detail
    assert "password (secret): set" in requested.detail
    assert PASSWORD not in json.dumps([e.model_dump(mode="json") for e in entries])


async def test_proxied_patch_names_the_vs_and_shows_enabled_first(sim: RunningSim, redis_url: str) -> None:
    analytics = {f"analytics_setting_{i:02d}": i for i in range(1, 23)}
    async with serving(sim, redis_url, web=WEB) as served:
        ops = served.runtime.agent.ops
        vs = next(v for v in await ops.virtualservices.list() if v.enabled)
        headers = await admin_headers(served)
        proposed = await served.client.patch(
            f"/api/avi/virtualservice/{vs.uuid}",
            json={"replace": {**analytics, "enabled": False}},
            headers=headers,
        )
        assert proposed.status == 202, await proposed.text()
        pending = (await proposed.json())["pending_action"]
    assert pending["summary"] == f"PATCH virtualservice {vs.name} (tenant admin)"
    lines = changes(pending["diff"])
    assert lines[0] == "~ enabled: true → false"
    assert len(lines) == 23


async def test_proxied_delete_names_the_object(sim: RunningSim, redis_url: str) -> None:
    async with serving(sim, redis_url, web=WEB) as served:
        pool = (await served.runtime.agent.ops.pools.list())[0]
        headers = await admin_headers(served)
        proposed = await served.client.delete(f"/api/avi/pool/{pool.uuid}", headers=headers)
        assert proposed.status == 202, await proposed.text()
        pending = (await proposed.json())["pending_action"]
    assert pending["summary"] == f"DELETE pool {pool.name} (tenant admin)"


async def test_the_confirm_answer_shows_no_password(sim: RunningSim, redis_url: str) -> None:
    async with serving(sim, redis_url, web=WEB) as served:
        headers = await admin_headers(served)
        body = {"name": "confirmed-user", "username": "confirmed-user", "password": PASSWORD}
        proposed = await served.client.post("/api/avi/user", json=body, headers=headers)
        assert proposed.status == 202, await proposed.text()
        action = (await proposed.json())["pending_action"]["id"]
        done = await served.client.post(
            f"/api/actions/{action}/confirm", json={"conversation_id": "avi-proxy"}, headers=headers
        )
        assert done.status == 200, await done.text()
        assert PASSWORD not in await done.text()
