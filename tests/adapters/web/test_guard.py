"""The web guard over real HTTP: Host allow-list, origin checks, the JSON API for scripts, the
`?token=` page sign-in, bad bodies, and the limit on failed authentications.

The real server app (avibot.server, as `avibot serve` builds it) on aiohttp's test server, the
simulator over HTTP; no Redis (the embedded in-memory store), no Ollama (command mode).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar
from pydantic import ValidationError

from adapters.web import security
from adapters.web.settings import WebSettings
from tests.adapters.web.harness import TOKEN, Served, clean_environment, serving
from tests.conftest import RunningSim

JSON = {"Content-Type": "application/json"}
DEEP = "[" * 100_000


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def served(sim: RunningSim) -> Any:
    async with serving(sim) as s:
        yield s


def fresh_client(served: Served) -> ClientSession:
    """A second client with an empty cookie jar: a script, not the browser that has a session.

    The jar keeps cookies of IP hosts (`unsafe`), so a cookie the server set would be sent back.
    """
    return ClientSession(served.origin, cookie_jar=CookieJar(unsafe=True))


async def raw_http(served: Served, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (headers no client library would send) and read the answer."""
    reader, writer = await asyncio.open_connection(served.client.host, served.client.port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


# -- 4a: Host allow-list and origin ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example:8080", "evil.example", "evil.example:{port}", "127.0.0.1:1"])
async def test_dns_rebinding_host_is_refused_before_anything(served: Served, host: str) -> None:
    headers = {"Host": host.format(port=served.client.port)}
    client = served.client
    for method, path in [
        ("GET", "/api/session"),
        ("GET", "/"),
        ("GET", "/healthz"),
        ("GET", "/static/app.js"),
    ]:
        resp = await client.request(method, path, headers=headers)
        assert resp.status == 421, (method, path)
        assert "Set-Cookie" not in resp.headers  # no session, no CSRF token handed out
        body = await resp.text()
        assert "\n" not in body.strip()
        assert "web.allowed_hosts" in json.loads(body)["error"]
    chat = await client.post("/api/chat", json={"message": "vs list"}, headers=headers)
    assert chat.status == 421
    confirm = await client.post("/api/actions/abcdef123/confirm", json={}, headers=headers)
    assert confirm.status == 421


async def test_a_page_on_the_rebound_name_gets_nothing_even_with_a_token(served: Served) -> None:
    """The attack in full: the page reads a CSRF token, then posts a chat and a confirmation."""
    evil = {"Host": "evil.example:8080"}
    session = await served.client.get("/api/session", headers=evil)
    assert session.status == 421
    assert "csrf_token" not in await session.text()
    good = await (await served.client.get("/api/session")).json()
    headers = {**evil, "X-CSRF-Token": good["csrf_token"]}
    assert (await served.client.post("/api/chat", json={"message": "vs list"}, headers=headers)).status == 421


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
async def test_loopback_names_on_the_served_port_are_allowed(served: Served, name: str) -> None:
    resp = await served.client.get("/api/session", headers={"Host": f"{name}:{served.client.port}"})
    assert resp.status == 200


async def test_configured_hosts_replace_the_defaults(sim: RunningSim) -> None:
    web = WebSettings(allowed_hosts=["avibot.example.com", "ops.example.com:443"], rate_limit_per_minute=0)
    async with serving(sim, web=web) as s:
        get = s.client.get
        assert (await get("/api/session", headers={"Host": "avibot.example.com"})).status == 200
        assert (await get("/api/session", headers={"Host": "avibot.example.com:8443"})).status == 200
        assert (await get("/api/session", headers={"Host": "ops.example.com:443"})).status == 200
        assert (await get("/api/session", headers={"Host": "ops.example.com:80"})).status == 421
        assert (await get("/api/session", headers={"Host": f"127.0.0.1:{s.client.port}"})).status == 421


async def test_the_bound_address_is_allowed(sim: RunningSim) -> None:
    """`avibot serve --host ctl-bot.internal` sets web.bind_host; that name, on the served port, is fine."""
    async with serving(sim, web=WebSettings(bind_host="ctl-bot.internal", rate_limit_per_minute=0)) as s:
        ok = await s.client.get("/api/session", headers={"Host": f"ctl-bot.internal:{s.client.port}"})
        assert ok.status == 200
        other = await s.client.get("/api/session", headers={"Host": "ctl-bot.internal:1"})
        assert other.status == 421


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://evil.example:{port}"}, 403),
        ({"Origin": "http://127.0.0.1:1"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "https://127.0.0.1"}, 403),  # port 443: another origin
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Origin": "http://127.0.0.1:{port}"}, 200),
        ({"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}, 200),
        ({"Sec-Fetch-Site": "none"}, 200),
    ],
)
async def test_state_changes_from_another_origin_are_refused(
    served: Served, headers: dict[str, str], status: int
) -> None:
    csrf = (await (await served.client.get("/api/session")).json())["csrf_token"]
    sent = {k: v.format(port=served.client.port) for k, v in headers.items()}
    resp = await served.client.post(
        "/api/chat", json={"message": "help"}, headers={"X-CSRF-Token": csrf, **sent}
    )
    assert resp.status == status, await resp.text()
    if status == 403:
        assert "Cross-" in (await resp.json())["error"]
    # a read from anywhere is still answered (the browser keeps the answer from the other page)
    assert (await served.client.get("/api/session", headers=sent)).status == 200


# -- 4b: the JSON API for scripts -----------------------------------------------------------------


async def test_json_without_a_cookie_needs_no_csrf_token(served: Served) -> None:
    async with fresh_client(served) as script:
        resp = await script.post("/api/chat", json={"message": "vs list"})
        assert resp.status == 200, await resp.text()
        reply = await resp.json()
        assert "Set-Cookie" not in resp.headers  # a script keeps no session it would then need a token for
        assert reply["mode"] == "command"
        charset = await script.post(
            "/api/chat",
            data=b'{"message": "vs list"}',
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert charset.status == 200
        history = await script.get("/api/chat/history", params={"conversation_id": reply["conversation_id"]})
        assert history.status == 200
        assert (await history.json())["messages"]  # one stable script session: the conversation is kept


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json-patch+json", "application/x-json", None]
)
async def test_other_bodies_without_a_cookie_still_need_the_token(
    served: Served, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    async with fresh_client(served) as script:
        resp = await script.post("/api/chat", data=b'{"message": "vs list"}', headers=headers)
        assert resp.status == 403
        assert "CSRF" in (await resp.json())["error"]


async def test_json_with_the_session_cookie_still_needs_the_token(served: Served) -> None:
    csrf = (await (await served.client.get("/api/session")).json())["csrf_token"]  # the cookie is set now
    refused = await served.client.post("/api/chat", json={"message": "help"})
    assert refused.status == 403
    allowed = await served.client.post("/api/chat", json={"message": "help"}, headers={"X-CSRF-Token": csrf})
    assert allowed.status == 200


async def test_a_script_proposes_and_confirms_a_change(served: Served) -> None:
    vs = next(v.name for v in await served.runtime.agent.ops.virtualservices.list() if v.enabled)
    async with fresh_client(served) as script:
        proposed = await (await script.post("/api/chat", json={"message": f"vs disable {vs}"})).json()
        pending = proposed["pending_action"]
        assert pending, proposed
        done = await script.post(
            f"/api/actions/{pending['id']}/confirm", json={"conversation_id": proposed["conversation_id"]}
        )
        assert done.status == 200, await done.text()
    assert not (await served.runtime.agent.ops.virtualservices.get(vs)).enabled


async def test_json_without_a_cookie_is_the_token_user_with_a_bearer(sim: RunningSim) -> None:
    web = WebSettings(access_token=TOKEN, rate_limit_per_minute=0)
    async with serving(sim, web=web) as s, fresh_client(s) as script:
        assert (await script.post("/api/chat", json={"message": "vs list"})).status == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        ok = await script.post("/api/chat", json={"message": "vs list"}, headers=bearer)
        assert ok.status == 200
        who = await (await script.get("/api/session", headers=bearer)).json()
        assert who["user"] == "token"


# -- 4c: browser sign-in with ?token= -------------------------------------------------------------


async def test_page_sign_in_with_a_token_link(sim: RunningSim) -> None:
    async with serving(sim, web=WebSettings(access_token=TOKEN, rate_limit_per_minute=0)) as s:
        browser = s.client
        assert (await browser.get("/")).status == 401
        link = await browser.get("/", params={"token": TOKEN}, allow_redirects=False)
        assert link.status == 303, await link.text()
        assert link.headers["Location"] == "/"
        assert "avibot_session=" in link.headers["Set-Cookie"]
        page = await browser.get("/")
        assert page.status == 200
        assert "X-CSRF-Token" in await page.text()
        # other query parameters survive; a wrong token signs no one in
        kept = await browser.get("/", params={"token": TOKEN, "q": "vs list"}, allow_redirects=False)
        assert kept.headers["Location"] == "/?q=vs+list"
        async with fresh_client(s) as stranger:
            assert (await stranger.get("/", params={"token": "x" * 40}, allow_redirects=False)).status == 401
            # redirects followed, as a browser does
            followed = await stranger.get("/", params={"token": TOKEN})
            assert followed.status == 200
            assert str(followed.url).endswith("/")
            assert "token=" not in str(followed.url)


# -- 4d: bad input is a 400 with a JSON error, never a 500 -----------------------------------------


@pytest.mark.parametrize("path", ["/api/chat", "/api/models/validate", "/api/avi/pool"])
@pytest.mark.parametrize(
    "body",
    [DEEP, "{" + '"a":{' * 70 + "}" * 71, "[" * 65 + "]" * 65],
    ids=["100000-brackets", "70-objects", "65-lists"],
)
async def test_deeply_nested_json_is_a_400(
    served: Served, path: str, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with fresh_client(served) as script:
        resp = await script.post(path, data=body.encode(), headers=JSON)
        assert resp.status == 400, await resp.text()
        assert "nested deeper than 64" in (await resp.json())["error"]
    csrf = (await (await served.client.get("/api/session")).json())["csrf_token"]
    browser = await served.client.post(path, data=body.encode(), headers={**JSON, "X-CSRF-Token": csrf})
    assert browser.status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_json_nested_64_deep_is_parsed(served: Served) -> None:
    async with fresh_client(served) as script:
        resp = await script.post("/api/chat", data=b"[" * 64 + b"]" * 64, headers=JSON)
        assert resp.status == 400
        assert (await resp.json())["error"] == "body: expected a JSON object"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"garbage", "multipart/form-data; boundary=xyz"),
        (b"--xyz\r\nbad header line\r\n\r\n", "multipart/form-data; boundary=xyz"),
        (b"message=hi", "multipart/form-data"),
        (
            b'--xyz\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi',
            "multipart/form-data; boundary=xyz",
        ),
    ],
    ids=["no-boundary-in-body", "bad-part-header", "no-boundary", "unterminated"],
)
@pytest.mark.parametrize("path", ["/api/chat", "/api/models/validate", "/api/avi/pool", "/htmx/chat"])
async def test_malformed_multipart_is_a_400(
    served: Served, path: str, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    await served.client.get("/api/session")  # a browser session: the form would carry the CSRF field
    resp = await served.client.post(path, data=body, headers={"Content-Type": content_type})
    assert resp.status == 400, await resp.text()
    if path.startswith("/api/"):
        assert "not a valid form" in (await resp.json())["error"]
    csrf = (await (await served.client.get("/api/session")).json())["csrf_token"]
    with_token = await served.client.post(
        path, data=body, headers={"Content-Type": content_type, "X-CSRF-Token": csrf}
    )
    assert with_token.status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("cookie", ["x.é", "eyJzaWQiOiJhIn0.mäc", "é.x", "\udcff.x"])
async def test_a_non_ascii_cookie_is_no_session(
    served: Served, cookie: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Treated like any tampered cookie: ignored, replaced by a fresh session; never a 500."""
    value = cookie.encode("utf-8", "surrogateescape")
    port = served.client.port
    head = b"Host: 127.0.0.1:%d\r\nCookie: avibot_session=%s\r\nConnection: close\r\n" % (port, value)
    status, headers, body = await raw_http(served, b"GET /api/session HTTP/1.1\r\n" + head + b"\r\n")
    assert status == 200, body
    assert "avibot_session=" in headers.get("set-cookie", "")
    post = b'{"message": "help"}'
    request = (
        b"POST /api/chat HTTP/1.1\r\n" + head
        + b"Content-Type: application/json\r\nX-CSRF-Token: \xc3\xa9\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(post)
        + post
    )  # fmt: skip
    status, _headers, body = await raw_http(served, request)
    assert status == 403, body  # it carries a cookie, so a (valid) CSRF token is needed
    assert "CSRF" in json.loads(body)["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_non_ascii_bearer_token_is_a_401(sim: RunningSim) -> None:
    async with serving(sim, web=WebSettings(access_token=TOKEN, rate_limit_per_minute=0)) as s:
        head = (
            b"Host: 127.0.0.1:%d\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n"
            % s.client.port
        )
        status, _headers, _body = await raw_http(s, b"GET /api/session HTTP/1.1\r\n" + head)
        assert status == 401


# -- 4e: failed authentication is limited per peer ------------------------------------------------


async def test_failed_authentications_are_limited_before_authentication(sim: RunningSim) -> None:
    async with serving(sim, web=WebSettings(access_token=TOKEN, rate_limit_per_minute=0)) as s:
        wrong = {"Authorization": "Bearer " + "w" * 40}
        statuses = [(await s.client.get("/api/session", headers=wrong)).status for _ in range(40)]
        assert statuses[:10] == [401] * 10
        assert set(statuses[10:]) == {429}
        limited = await s.client.get("/api/session", headers={"Authorization": f"Bearer {TOKEN}"})
        assert limited.status == 429  # even the right token: the peer is limited before it is checked
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "failed authentications" in (await limited.json())["error"]
        assert (await s.client.get("/healthz")).status == 200  # probes stay open


async def test_successes_are_not_counted(sim: RunningSim) -> None:
    async with serving(sim, web=WebSettings(access_token=TOKEN, rate_limit_per_minute=0)) as s:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert {(await s.client.get("/api/session", headers=bearer)).status for _ in range(30)} == {200}


def test_failure_window_slides() -> None:
    limiter = security.FailureLimiter(limit=3)
    for t in (0.0, 10.0, 20.0):
        assert limiter.wait("p", t) == 0
        limiter.failed("p", t)
    assert limiter.wait("p", 21.0) == pytest.approx(39.0)
    assert limiter.wait("other", 21.0) == 0
    assert limiter.wait("p", 60.5) == 0  # the first failure left the minute
    limiter.failed("p", 60.5)
    assert limiter.wait("p", 61.0) == pytest.approx(9.0)


@pytest.mark.parametrize("token", ["short", "x" * 31])
def test_access_tokens_are_at_least_32_characters(token: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        WebSettings(access_token=token)
    assert WebSettings(access_token="x" * 32).access_token is not None
