"""The JSON API end to end: the real server app over aiohttp's test client, the simulator over HTTP,
a real redis-server and the fake Ollama (or a closed port, for command mode)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.web.settings import WebSettings
from avi.operations import AviOperations
from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings
from avibot.factory import Runtime, build_runtime
from avibot.server import create_server_app
from avisim import SimulatorConfig, create_app
from bot.agent import AgentSettings
from bot.history import HistorySettings
from bot.permissions import AccessSettings
from bot.types import Role
from llm.settings import LLMSettings
from tests.conftest import SIM_DEFAULTS, SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port: command mode
ENV_VARS = ("OLLAMA_HOST", "LLM_MODEL", "REDIS_URL", "REDIS_PREFIX", "SERVER_HOST", "SERVER_PORT")
ACCESS = AccessSettings(
    default_role=Role.VIEWER,
    users={
        "web:local": Role.OPERATOR,
        "web:alice": Role.VIEWER,
        "web:bob": Role.ADMIN,
        "web:token": Role.OPERATOR,
    },
)
QUESTION = "which servers are down?"
WEB_TOKEN = "s3cret-token-0123456789abcdef0123456789"  # access tokens have at least 32 characters
PROXY_TOKEN = "tok-123-0123456789abcdef0123456789abcd"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment first; a developer's OLLAMA_HOST must not change these tests."""
    import os

    for var in [*ENV_VARS, *(v for v in os.environ if v.startswith(("AVI_", "AVIBOT_", "LOG_")))]:
        if var == "AVIBOT_STATE_DIR":  # each test's own state directory (tests/conftest.py)
            continue
        monkeypatch.delenv(var, raising=False)


@dataclass
class Env:
    client: TestClient
    runtime: Runtime
    sim: RunningSim

    @property
    def ops(self) -> AviOperations:
        return self.runtime.agent.ops

    async def csrf(self) -> str:
        resp = await self.client.get("/api/session")
        assert resp.status == 200
        return (await resp.json())["csrf_token"]

    async def post(self, path: str, body: Any = None, **kw: Any) -> ClientResponse:
        headers = {"X-CSRF-Token": await self.csrf(), **kw.pop("headers", {})}
        return await self.client.post(path, json=body, headers=headers, **kw)

    async def ask(self, message: str, **extra: Any) -> dict[str, Any]:
        resp = await self.post("/api/chat", {"message": message, **extra})
        assert resp.status == 200, await resp.text()
        return await resp.json()


def make_settings(
    sim: RunningSim, redis_url: str | None, llm_url: str, web: WebSettings, access: AccessSettings
) -> Settings:
    return Settings(
        server=ServerSettings(),
        avi=AviSettings(host=sim.url, username=SIM_USERNAME, password=SIM_PASSWORD),
        llm=LLMSettings(host=llm_url, model="llama3.1:8b", timeout=10),
        log=LogSettings(),
        redis=RedisSettings(url=redis_url, prefix=f"tw{secrets.token_hex(4)}:"),
        history=HistorySettings(),
        access=access,
        agent=AgentSettings(),
        web=web,
    )


@asynccontextmanager
async def serving(
    sim: RunningSim,
    redis_url: str | None,
    *,
    llm_url: str = CLOSED,
    web: WebSettings | None = None,
    access: AccessSettings = ACCESS,
) -> AsyncIterator[Env]:
    settings = make_settings(sim, redis_url, llm_url, web or WebSettings(rate_limit_per_minute=0), access)
    runtime = await build_runtime(settings)
    try:
        async with TestClient(TestServer(create_server_app(runtime, settings))) as client:
            yield Env(client=client, runtime=runtime, sim=sim)
    finally:
        await runtime.aclose()


@pytest.fixture
async def env(sim: RunningSim, redis_url: str) -> AsyncIterator[Env]:
    async with serving(sim, redis_url) as e:
        yield e


async def an_enabled_vs(ops: AviOperations) -> str:
    return next(vs.name for vs in await ops.virtualservices.list() if vs.enabled and vs.pool)


# -- answers -----------------------------------------------------------------------------------------


async def test_question_answered_in_command_mode(env: Env) -> None:
    reply = await env.ask(QUESTION)
    assert set(reply) == {
        "text",
        "parts",
        "tool_calls",
        "mode",
        "conversation_id",
        "pending_action",
        "outcome",
    }
    assert reply["outcome"] == "answered"
    assert reply["mode"] == "command"
    assert reply["tool_calls"] == [{"name": "list_unhealthy_servers", "arguments": {"page": 1}, "ok": True}]
    table = next(p for p in reply["parts"] if p["kind"] == "table")
    assert table["columns"][:2] == ["Pool", "Server"]
    assert table["rows"]
    assert reply["conversation_id"]
    assert reply["pending_action"] is None


async def test_question_answered_by_the_model_and_counted_in_metrics(sim: RunningSim, redis_url: str) -> None:
    async with running_fake_ollama() as fake:
        fake.script(Reply.call("list_unhealthy_pools", {}), Reply.say("Some pools are down."))
        async with serving(sim, redis_url, llm_url=fake.url) as env:
            reply = await env.ask("are any pools down?")
            assert reply["mode"] == "llm"
            assert reply["text"].startswith("Some pools are down.")
            assert [(c["name"], c["ok"]) for c in reply["tool_calls"]] == [("list_unhealthy_pools", True)]
            metrics = await (await env.client.get("/metrics")).text()
    assert 'avibot_turns_total{mode="llm",platform="web"} 1.0' in metrics
    assert 'avibot_tool_calls_total{ok="true",tool="list_unhealthy_pools"} 1.0' in metrics
    assert "avibot_llm_seconds_count 2.0" in metrics
    assert 'avibot_llm_tokens_total{kind="prompt"}' in metrics
    assert 'avibot_avi_requests_total{controller="default",status="200"}' in metrics
    assert "avibot_turn_seconds_bucket" in metrics


async def test_history_is_kept_per_conversation_and_cleared(env: Env) -> None:
    first = await env.ask("vs list limit 1", conversation_id="c-one")
    assert first["conversation_id"] == "c-one"
    await env.ask("pool list limit 1", conversation_id="c-two")
    one = await (await env.client.get("/api/chat/history", params={"conversation_id": "c-one"})).json()
    two = await (await env.client.get("/api/chat/history", params={"conversation_id": "c-two"})).json()
    assert [m["content"] for m in one["messages"] if m["role"] == "user"] == ["vs list limit 1"]
    assert [m["content"] for m in two["messages"] if m["role"] == "user"] == ["pool list limit 1"]
    headers = {"X-CSRF-Token": await env.csrf()}
    cleared = await env.client.delete(
        "/api/chat/history", params={"conversation_id": "c-one"}, headers=headers
    )
    assert cleared.status == 200
    assert (await cleared.json())["cleared"] is True
    one = await (await env.client.get("/api/chat/history", params={"conversation_id": "c-one"})).json()
    assert one["messages"] == []
    two = await (await env.client.get("/api/chat/history", params={"conversation_id": "c-two"})).json()
    assert two["messages"]


async def test_a_write_confirmed_and_one_cancelled(env: Env) -> None:
    name = await an_enabled_vs(env.ops)
    asked = await env.ask(f"vs disable {name}", conversation_id="w1")
    pending = asked["pending_action"]
    assert pending is not None
    assert "+ enabled: false" in pending["diff"]
    assert set(pending) == {"id", "summary", "diff", "risk", "expires_at"}
    assert (await env.ops.virtualservices.get(name)).enabled is True  # nothing ran yet
    done = await env.post(f"/api/actions/{pending['id']}/confirm", {"conversation_id": "w1"})
    body = await done.json()
    assert done.status == 200
    assert body["tool_calls"][0]["ok"] is True, body
    assert asked["outcome"] == "pending"
    assert body["outcome"] == "done"
    assert (await env.ops.virtualservices.get(name)).enabled is False

    other = next(vs.name for vs in await env.ops.virtualservices.list() if vs.enabled and vs.name != name)
    asked = await env.ask(f"vs disable {other}", conversation_id="w2")
    action_id = asked["pending_action"]["id"]
    cancelled = await (await env.post(f"/api/actions/{action_id}/cancel", {"conversation_id": "w2"})).json()
    assert cancelled["text"].startswith("Cancelled")
    assert cancelled["outcome"] == "cancelled"
    late = await (await env.post(f"/api/actions/{action_id}/confirm", {"conversation_id": "w2"})).json()
    assert late["parts"][0]["kind"] == "error"
    assert late["outcome"] == "already_settled"
    assert (await env.ops.virtualservices.get(other)).enabled is True
    metrics = await (await env.client.get("/metrics")).text()
    assert 'avibot_pending_actions_total{event="confirmed",outcome="done"} 1.0' in metrics
    assert 'avibot_pending_actions_total{event="cancelled",outcome="cancelled"} 1.0' in metrics
    assert 'avibot_pending_actions_total{event="proposed",outcome="pending"} 2.0' in metrics


# -- health ------------------------------------------------------------------------------------------


async def test_health_is_ok_then_degraded_when_ollama_stops(sim: RunningSim, redis_url: str) -> None:
    async with AsyncExitStack() as ollama:
        fake = await ollama.enter_async_context(running_fake_ollama())
        async with serving(sim, redis_url, llm_url=fake.url) as env:
            health = await (await env.client.get("/api/health")).json()
            assert health["status"] == "ok", health
            statuses = {k: v["status"] for k, v in health["checks"].items()}
            assert statuses == {"avi": "ok", "ollama": "ok", "redis": "ok"}
            assert all(v["latency_ms"] is not None for v in health["checks"].values())
            await ollama.aclose()  # Ollama stops; the bot keeps serving
            resp = await env.client.get("/api/health")
            health = await resp.json()
            assert resp.status == 200
            assert health["status"] == "degraded"
            assert health["checks"]["ollama"]["status"] == "down"
            assert health["checks"]["ollama"]["detail"]
            assert health["checks"]["avi"]["status"] == "ok"
            assert (await env.client.get("/readyz")).status == 200
            assert (await env.client.get("/healthz")).status == 200


async def test_health_down_and_not_ready_when_the_controller_stops(redis_url: str) -> None:
    config = SimulatorConfig(**SIM_DEFAULTS)
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        app = runner.app
        sim = RunningSim(url=f"http://127.0.0.1:{runner.addresses[0][1]}", config=config, app=app)
        async with serving(sim, redis_url) as env:
            assert (await env.client.get("/readyz")).status == 200
            await runner.cleanup()
            health = await (await env.client.get("/api/health")).json()
            assert health["status"] == "down"
            assert health["checks"]["avi"]["status"] == "down"
            assert (await env.client.get("/readyz")).status == 503
    finally:
        await runner.cleanup()


# -- bad requests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b"", "body"),
        (b'{"conversation_id": "x"}', "message"),
        (b'{"message": 42}', "message"),
        (b'{"message": ""}', "message"),
        (b'{"message": "hi", "conversation_id": "../etc"}', "conversation_id"),
        (b'{"message": "hi", "model": ""}', "model"),
        (b'{"message": "hi", "colour": "red"}', "colour"),
    ],
)
async def test_bad_chat_bodies_get_a_400_naming_the_field(env: Env, body: bytes, field: str) -> None:
    headers = {"X-CSRF-Token": await env.csrf(), "Content-Type": "application/json"}
    resp = await env.client.post("/api/chat", data=body, headers=headers)
    assert resp.status == 400
    error = await resp.json()
    assert error["field"] == field
    assert error["error"].startswith(field)


async def test_other_bad_requests_name_the_field(env: Env) -> None:
    token = {"X-CSRF-Token": await env.csrf()}
    resp = await env.client.get("/api/chat/history")
    assert (resp.status, (await resp.json())["field"]) == (400, "conversation_id")
    resp = await env.client.delete("/api/chat/history", params={"conversation_id": "a b"}, headers=token)
    assert (resp.status, (await resp.json())["field"]) == (400, "conversation_id")
    resp = await env.client.post("/api/models/validate", json={}, headers=token)
    assert (resp.status, (await resp.json())["field"]) == (400, "model")
    resp = await env.client.post("/api/actions/x!/confirm", headers=token)
    assert (resp.status, (await resp.json())["field"]) == (400, "id")
    resp = await env.client.post("/api/actions/abcdef123/confirm", data=b"{", headers=token)
    assert (resp.status, (await resp.json())["field"]) == (400, "body")


async def test_models_say_why_when_there_is_no_model(env: Env) -> None:
    resp = await env.client.get("/api/models")
    assert resp.status == 503
    assert "Ollama" in (await resp.json())["error"]


async def test_models_listed_and_validated(sim: RunningSim, redis_url: str) -> None:
    async with running_fake_ollama() as fake, serving(sim, redis_url, llm_url=fake.url) as env:
        listed = await (await env.client.get("/api/models")).json()
        assert listed["mode"] == "llm"
        assert listed["default"] == "llama3.1:8b"
        assert "llama3.1:8b" in [m["name"] for m in listed["models"]]
        check = await (await env.post("/api/models/validate", {"model": "llama3.1:8b"})).json()
        assert check["ok"] is True
        resp = await env.post("/api/chat", {"message": "hi", "model": "no-such-model:1b"})
        assert resp.status == 400
        assert (await resp.json())["field"] == "model"


# -- security ----------------------------------------------------------------------------------------


async def test_csrf_is_required_on_cookie_sessions(env: Env) -> None:
    await env.csrf()  # a session cookie now exists
    refused = await env.client.post("/api/chat", json={"message": "help"})
    assert refused.status == 403
    assert "CSRF" in (await refused.json())["error"]
    wrong = await env.client.post("/api/chat", json={"message": "help"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status == 403
    allowed = await env.post("/api/chat", {"message": "help"})
    assert allowed.status == 200
    cookie = next(c for c in env.client.session.cookie_jar if c.key == "avibot_session")
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


async def test_access_token_is_required_when_configured(sim: RunningSim, redis_url: str) -> None:
    web = WebSettings(access_token=WEB_TOKEN, rate_limit_per_minute=0)
    async with serving(sim, redis_url, web=web) as env:
        anon = await env.client.get("/api/session")
        assert anon.status == 401
        assert "Authentication required" in (await anon.json())["error"]
        assert (await env.client.post("/api/chat", json={"message": "help"})).status == 401
        bad = await env.client.get("/api/session", headers={"Authorization": "Bearer wrong"})
        assert bad.status == 401
        bearer = {"Authorization": f"Bearer {WEB_TOKEN}"}
        ok = await env.client.post("/api/chat", json={"message": QUESTION}, headers=bearer)  # no CSRF needed
        assert ok.status == 200
        assert (await ok.json())["tool_calls"][0]["ok"] is True
        assert (await env.client.get("/metrics")).status == 200  # probes stay open
        assert (await env.client.get("/healthz")).status == 200
        # A one-time ?token= login gives a session cookie; then CSRF applies.
        login = await env.client.get("/api/session", params={"token": WEB_TOKEN})
        who = await login.json()
        assert (who["user"], who["via"]) == ("token", "session")
        again = await env.client.get("/api/session")
        assert again.status == 200
        assert (await env.client.post("/api/chat", json={"message": "help"})).status == 403
        assert (await env.post("/api/chat", {"message": "help"})).status == 200


async def test_proxy_user_without_rights_gets_403_on_avi_writes(sim: RunningSim, redis_url: str) -> None:
    web = WebSettings(trusted_proxies=["127.0.0.1/32"], rate_limit_per_minute=0)
    async with serving(sim, redis_url, web=web) as env:
        alice = {"X-Forwarded-User": "alice"}
        who = await (await env.client.get("/api/session", headers=alice)).json()
        assert (who["user"], who["via"]) == ("alice", "proxy")
        headers = {**alice, "X-CSRF-Token": who["csrf_token"]}
        pools = await env.client.get("/api/avi/pool", params={"fields": "name"}, headers=alice)
        assert pools.status == 200
        assert (await pools.json())["results"]
        refused = await env.client.post("/api/avi/pool", json={"name": "new-pool"}, headers=headers)
        assert refused.status == 403
        assert "admin" in (await refused.json())["error"]
        assert await env.ops.client.get_by_name("pool", "new-pool") is None
        # An admin may write, but like every write it waits for a confirmation, then is audited.
        bob = {"X-Forwarded-User": "bob"}
        bob_csrf = (await (await env.client.get("/api/session", headers=bob)).json())["csrf_token"]
        bob_headers = {**bob, "X-CSRF-Token": bob_csrf}
        proposed = await env.client.post("/api/avi/pool", json={"name": "new-pool"}, headers=bob_headers)
        assert proposed.status == 202, await proposed.text()
        pending = (await proposed.json())["pending_action"]
        assert "POST /api/pool" in pending["summary"]
        assert await env.ops.client.get_by_name("pool", "new-pool") is None  # nothing ran yet
        done = await env.client.post(
            f"/api/actions/{pending['id']}/confirm",
            json={"conversation_id": "avi-proxy"},
            headers=bob_headers,
        )
        assert done.status == 200, await done.text()
        assert await env.ops.client.get_by_name("pool", "new-pool") is not None
        entries = await env.runtime.agent.audit.recent(5)
        assert (entries[0].action, entries[0].user_id, entries[0].result) == (
            "execute_generic_operation", "bob", "ok",
        )  # fmt: skip
        # Without the header, from the proxy: no one.
        assert (await env.client.get("/api/session")).status == 401
        # A path outside /api is refused before anything is sent.
        bad = await env.client.get("/api/avi/pool/%2e%2e/%2e%2e/login", headers=alice)
        assert bad.status in (400, 404)


async def test_forwarded_user_from_an_untrusted_peer_is_ignored(sim: RunningSim, redis_url: str) -> None:
    web = WebSettings(trusted_proxies=["10.0.0.0/8"], access_token=PROXY_TOKEN, rate_limit_per_minute=0)
    async with serving(sim, redis_url, web=web) as env:
        assert (await env.client.get("/api/session", headers={"X-Forwarded-User": "bob"})).status == 401
        both = {"X-Forwarded-User": "bob", "Authorization": f"Bearer {PROXY_TOKEN}"}
        who = await (await env.client.get("/api/session", headers=both)).json()
        assert (who["user"], who["via"]) == ("token", "token")  # not bob
        write = await env.client.delete("/api/avi/pool/whatever", headers=both)
        assert write.status == 403  # the token user is an operator, not admin


async def test_rate_limit_answers_429_with_retry_after(sim: RunningSim, redis_url: str) -> None:
    async with serving(sim, redis_url, web=WebSettings(rate_limit_per_minute=6, rate_limit_burst=3)) as env:
        ask = {"json": {"message": "help"}}
        statuses = [(await env.client.post("/api/chat", **ask)).status for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await env.client.post("/api/chat", **ask)
        assert limited.status == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert "Too many requests" in (await limited.json())["error"]
        assert (await env.client.get("/api/session")).status == 200  # reading the session is free
        assert (await env.client.get("/healthz")).status == 200  # probes are never limited


async def test_openapi_lists_every_api_route(env: Env) -> None:
    doc = await (await env.client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path, method in [
        ("/api/chat", "post"),
        ("/api/actions/{id}/confirm", "post"),
        ("/api/actions/{id}/cancel", "post"),
        ("/api/chat/history", "get"),
        ("/api/chat/history", "delete"),
        ("/api/models", "get"),
        ("/api/models/validate", "post"),
        ("/api/health", "get"),
        ("/api/avi/{path}", "get"),
        ("/api/avi/{path}", "post"),
        ("/api/session", "get"),
    ]:
        assert method in paths.get(path, {}), (path, method)
    chat = paths["/api/chat"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ChatRequest")
    assert "ChatResponse" in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["ChatRequest"]["required"] == ["message"]
    registered = {r.resource.canonical for r in env.client.app.router.routes() if r.resource is not None}
    api_routes = {p for p in registered if p.startswith("/api/")}
    assert {p.replace("{path:.*}", "{path}") for p in api_routes} <= set(paths)


async def test_groups_from_the_trusted_proxy_map_to_roles(sim: RunningSim, redis_url: str) -> None:
    """`User.groups` is filled where the platform gives them: the trusted proxy's X-Forwarded-Groups
    (Slack and Teams events carry no groups), and `access.groups` maps them to a role."""
    web = WebSettings(trusted_proxies=["127.0.0.1/32"], rate_limit_per_minute=0)
    access = AccessSettings(default_role=Role.VIEWER, groups={"web:netops": Role.OPERATOR})
    async with serving(sim, redis_url, web=web, access=access) as env:
        name = await an_enabled_vs(env.ops)
        for groups, proposed in (("contractors", False), ("contractors, netops", True)):
            headers = {"X-Forwarded-User": "carol", "X-Forwarded-Groups": groups}
            who = await (await env.client.get("/api/session", headers=headers)).json()
            resp = await env.client.post(
                "/api/chat",
                json={"message": f"vs disable {name}"},
                headers={**headers, "X-CSRF-Token": who["csrf_token"]},
            )
            body = await resp.json()
            assert (body["pending_action"] is not None) is proposed, body
            assert body["outcome"] == ("pending" if proposed else "refused")
