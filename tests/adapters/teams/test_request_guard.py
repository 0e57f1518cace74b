"""A web page must not be able to drive the Teams endpoint, and a reply goes only where it should.

Over real HTTP against the real endpoint (botbuilder's CloudAdapter, a real agent on the simulator,
Redis and the fake Ollama): a request a browser could send from another site (a CORS simple request,
a cross-site Origin), or one whose `serviceUrl` the bot should not trust, is refused before any turn
runs: no typing, no card, no history, no pending action, and nothing at any connector. With an app
id, validly signed tokens come from a local signing-key service standing in for Microsoft's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse, web
from pydantic import SecretStr

from adapters.teams import TeamsSettings
from avi.operations import AviOperations
from tests.adapters.teams.test_http import EMULATOR, TeamsEnv, activity, teams_env
from tests.support.fakes.bot_framework_keys import SigningKeys, installed_as_bot_framework, serving
from tests.support.fakes.teams_connector import FakeConnector

APP_ID = "00000000-0000-0000-0000-00000000b0t1"
WITH_APP_ID = TeamsSettings(
    app_id=APP_ID,
    app_password=SecretStr("pw"),
    tenant_id="11111111-2222-3333-4444-555555555555",
    turn_budget_seconds=1.0,
)


@pytest.fixture(autouse=True)
def _no_teams_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for var in [v for v in os.environ if v.startswith("TEAMS_")]:
        monkeypatch.delenv(var, raising=False)


@contextlib.asynccontextmanager
async def connector_on(host: str) -> AsyncIterator[FakeConnector]:
    """A connector on another address than the bot's own (127.0.0.2 is this machine, but not one
    of the loopback names the Emulator mode accepts): where an attacker would have replies sent."""
    fake = FakeConnector()
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        fake.url = f"http://{host}:{runner.addresses[0][1]}/"
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def attacker() -> AsyncIterator[FakeConnector]:
    async with connector_on("127.0.0.2") as fake:
        yield fake


@pytest.fixture
async def t(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[TeamsEnv]:
    async with teams_env(redis_url, ops, EMULATOR) as env:
        yield env


@pytest.fixture
async def authed(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[TeamsEnv]:
    async with teams_env(redis_url, ops, WITH_APP_ID) as env:
        yield env


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[SigningKeys]:
    with serving(SigningKeys()) as served:
        installed_as_bot_framework(served, monkeypatch)
        yield served


async def disable_one(t: TeamsEnv) -> str:
    """A write an attacker would ask for: it would become a pending action with Confirm buttons."""
    vs = next(v for v in await t.env.ops.virtualservices.list() if v.enabled)
    return f"vs disable {vs.name}"


async def post_raw(t: TeamsEnv, body: dict[str, Any], headers: dict[str, str]) -> ClientResponse:
    return await t.http.post("/api/messages", data=json.dumps(body), headers=headers)


async def assert_refused(resp: ClientResponse, status: int) -> str:
    assert resp.status == status, await resp.text()
    raw = await resp.text()
    assert "\n" not in raw.strip()
    assert "Traceback" not in raw
    reason: str = (await resp.json())["error"]
    assert reason
    return reason


async def assert_no_turn(t: TeamsEnv, conversation: str, *elsewhere: FakeConnector) -> None:
    """Nothing came of the request: no history, no pending action, no call to any connector."""
    await asyncio.sleep(0.5)  # a turn would have sent its typing indicator by now
    assert t.connector.calls == []
    for connector in elsewhere:
        assert connector.calls == []
    assert await t.env.agent.conversation(f"teams:{conversation}") == []
    assert await t.env.redis.keys("t:pending:*") == []
    assert t.llm.chat_requests == []


# -- a) only application/json ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; x=application/json",  # a CORS simple request: no preflight
        "text/plain;charset=application/json",
        "application/x-www-form-urlencoded; a=application/json",
        "multipart/form-data; boundary=application/json",
        "application/jsonp",
    ],
)
async def test_emulator_refuses_a_body_that_is_not_application_json(t: TeamsEnv, content_type: str) -> None:
    conversation = "a:ct-refused"
    body = activity(await disable_one(t), conversation=conversation, service_url=t.connector.url)
    resp = await post_raw(t, body, {"Content-Type": content_type})
    await assert_refused(resp, 415)
    await assert_no_turn(t, conversation)


async def test_emulator_takes_application_json_with_parameters(t: TeamsEnv) -> None:
    body = activity("vs list", conversation="a:ct-ok", service_url=t.connector.url)
    resp = await post_raw(t, body, {"Content-Type": "application/json; charset=utf-8"})
    assert resp.status == 201, await resp.text()
    assert await t.connector.wait_for(lambda: t.cards_in("a:ct-ok"))


# -- b) nothing cross-site ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, a data: page
        {"Origin": "http://127.0.0.1:1"},  # another port is another origin
        {"Origin": "http://localhost.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "{own}", "Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_a_cross_site_request_is_refused(t: TeamsEnv, headers: dict[str, str]) -> None:
    conversation = "a:cross-site"
    own = f"http://127.0.0.1:{t.http.port}"
    headers = {k: v.replace("{own}", own) for k, v in headers.items()}
    body = activity(await disable_one(t), conversation=conversation, service_url=t.connector.url)
    resp = await post_raw(t, body, {"Content-Type": "application/json", **headers})
    reason = await assert_refused(resp, 403)
    assert "cross-" in reason
    await assert_no_turn(t, conversation)


async def test_a_request_from_the_servers_own_origin_is_served(t: TeamsEnv) -> None:
    body = activity("vs list", conversation="a:same-origin", service_url=t.connector.url)
    own = f"http://127.0.0.1:{t.http.port}"
    resp = await post_raw(
        t, body, {"Content-Type": "application/json", "Origin": own, "Sec-Fetch-Site": "same-origin"}
    )
    assert resp.status == 201, await resp.text()
    assert await t.connector.wait_for(lambda: t.cards_in("a:same-origin"))


async def test_emulator_refuses_a_host_that_is_not_loopback(t: TeamsEnv) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 is same-origin with itself."""
    conversation = "a:rebinding"
    body = activity(await disable_one(t), conversation=conversation, service_url=t.connector.url)
    headers = {"Content-Type": "application/json", "Host": "evil.example:3978"}
    resp = await post_raw(t, body, {**headers, "Origin": "http://evil.example:3978"})
    await assert_refused(resp, 421)
    await assert_no_turn(t, conversation)


# -- c) without an app id, replies go to loopback only --------------------------------------------


@pytest.mark.parametrize(
    "service_url",
    [
        "{attacker}",
        "https://smba.trafficmanager.net/amer/",
        "http://127.0.0.1.evil.example/",
        "http://localhost@evil.example/",
        "http://127.0.0.1:80@evil.example/",
        "http://0.0.0.0:3978/",
        "ftp://127.0.0.1/",
        "",
        None,
    ],
)
async def test_emulator_refuses_a_service_url_that_is_not_loopback(
    t: TeamsEnv, attacker: FakeConnector, service_url: str | None
) -> None:
    conversation = "a:elsewhere"
    url = attacker.url if service_url == "{attacker}" else service_url
    body = activity(await disable_one(t), conversation=conversation, service_url=url or "")
    if service_url is None:
        del body["serviceUrl"]
    resp = await t.post(body)
    reason = await assert_refused(resp, 400)
    assert "serviceUrl" in reason
    await assert_no_turn(t, conversation, attacker)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
async def test_emulator_answers_a_loopback_service_url(t: TeamsEnv, host: str) -> None:
    port = t.connector.url.rsplit(":", 1)[1].strip("/")
    conversation = f"a:loopback-{host.strip('[]:').lower()}"
    body = activity("vs list", conversation=conversation, service_url=f"http://{host}:{port}/")
    resp = await t.post(body)
    assert resp.status == 201, await resp.text()
    if host != "[::1]":  # the fake connector listens on 127.0.0.1 only
        assert await t.connector.wait_for(lambda: t.cards_in(conversation))


# -- d) with an app id, replies go only where the token says ---------------------------------------


def token_for(keys: SigningKeys, kind: str, claimed: str) -> str:
    match kind:
        case "channel, another serviceurl":
            return keys.channel_token(APP_ID, claimed)
        case "channel, no serviceurl":
            return keys.channel_token(APP_ID, None)
        case "emulator-issued, no serviceurl":
            return keys.emulator_token(APP_ID)
        case "emulator-issued, another serviceurl":
            return keys.emulator_token(APP_ID, claimed)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "channel, another serviceurl",
        "channel, no serviceurl",
        "emulator-issued, no serviceurl",
        "emulator-issued, another serviceurl",
    ],
)
async def test_with_app_id_a_signed_token_for_another_service_url_is_refused(
    authed: TeamsEnv, attacker: FakeConnector, keys: SigningKeys, kind: str
) -> None:
    """The activity names the attacker's serviceUrl; the token (validly signed) vouches for another
    or none: refused before the turn, and no reply goes anywhere."""
    conversation = "a:signed-elsewhere"
    token = token_for(keys, kind, claimed=authed.connector.url)
    body = activity(await disable_one(authed), conversation=conversation, service_url=attacker.url)
    resp = await authed.post(body, Authorization=f"Bearer {token}")
    await assert_refused(resp, 401)
    assert keys.fetches >= 1  # the signature was checked against the served keys
    await assert_no_turn(authed, conversation, attacker)


async def test_with_app_id_a_signed_token_for_this_service_url_is_accepted(
    authed: TeamsEnv, keys: SigningKeys
) -> None:
    """The control: the same keys and claims, with a matching serviceurl, pass authentication (a
    conversationUpdate needs no reply, so no outbound token is fetched from Microsoft)."""
    url = authed.connector.url
    body = activity(service_url=url, conversation="a:signed-here", mention=False, type="conversationUpdate")
    resp = await authed.post(body, Authorization=f"Bearer {keys.channel_token(APP_ID, url)}")
    assert resp.status in (200, 201), await resp.text()
    assert keys.fetches >= 1
