"""The alert feed on the web page and the alert JSON routes, over real HTTP: the real server app
(avibot.server) with its AlertService routed to a web feed, the simulator raising and clearing alerts,
the embedded store, command mode. A "browser" is the test client's cookie jar plus the CSRF token the
page gave it, as htmx sends it.

The server's own poller polls once at start (poll_seconds is an hour here); each test then polls with
`service.poll_once()` when it wants the controller's news, as the poller would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse

from adapters.web import alerts as web_alerts
from adapters.web.settings import WebSettings
from avi.operations import AviOperations
from bot.alerts.feed import FeedItem
from bot.alerts.models import AlertView
from bot.alerts.service import AlertService
from bot.alerts.settings import AlertSettings
from tests.adapters.web.harness import Served, clean_environment, serving
from tests.alerts.helpers import clear_alert, names, raise_alert
from tests.conftest import RunningSim

ROOT = Path(__file__).resolve().parents[3]
FEED = "web:ops"
SECRET = "alert-hook-secret-0123456789"
CONTROLLER_URL = "https://avi.example.net"
SECRET_HEADER = "X-Avibot-Alert-Secret"
EVIL = "<script>alert(1)</script>"
PROXY = WebSettings(rate_limit_per_minute=0, trusted_proxies=["127.0.0.1/32"])
AS_LOCAL = {"X-Forwarded-User": "local"}  # what the trusted proxy says (ignored where none is set)


def alert_settings(**options: Any) -> AlertSettings:
    base: dict[str, Any] = {
        "routes": [{"to": FEED}],
        "poll_seconds": 3600,
        "webhook_secret": SECRET,
        "controller_url": CONTROLLER_URL,
    }
    return AlertSettings.model_validate({**base, **options})


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


async def primed(served: Served) -> AlertService:
    """The server's poller has made its first poll (the feed is registered), then one more: the
    cursor stands at now, so only alerts raised from here on are new."""
    service = served.runtime.alerts
    assert service is not None
    for _ in range(200):
        if service.health().last_poll_at is not None:
            break
        await asyncio.sleep(0.02)
    await service.poll_once()
    return service


@pytest.fixture
async def served(sim: RunningSim) -> AsyncIterator[Served]:
    async with serving(sim, web=PROXY, alerts=alert_settings()) as s:
        await primed(s)
        yield s


def service_of(served: Served) -> AlertService:
    assert served.runtime.alerts is not None
    return served.runtime.alerts


def ops_of(served: Served) -> AviOperations:
    """The server's own controller client: its writes drop its read cache, so the next poll sees them."""
    return served.runtime.agent.ops


class Browser:
    """One page session: GET / for the cookie and the CSRF token, then htmx-like requests, as a user
    the trusted proxy names (web:local is an operator, web:alice a viewer: tests/adapters/web/harness.py)."""

    def __init__(self, served: Served, user: str = "local") -> None:
        self.client = served.client
        self.headers = {"X-Forwarded-User": user}
        self.csrf = ""
        self.html = ""

    async def open(self) -> Browser:
        response = await self.client.get("/", headers=self.headers)
        assert response.status == 200
        self.html = await response.text()
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', self.html)
        assert token, self.html[:500]
        self.csrf = token.group(1)
        return self

    async def feed(self, query: str = "") -> ClientResponse:
        return await self.client.get(f"/htmx/alerts{query}", headers={**self.headers, "HX-Request": "true"})

    async def feed_html(self) -> str:
        response = await self.feed()
        assert response.status == 200
        return await response.text()

    async def post(self, path: str, data: dict[str, str], csrf: bool = True) -> ClientResponse:
        headers = {**self.headers, "HX-Request": "true", **({"X-CSRF-Token": self.csrf} if csrf else {})}
        return await self.client.post(path, data=data, headers=headers)


def thread_of(html: str) -> str:
    found = re.search(r'hx-vals=\'\{"thread": "([^"]+)"\}\'', html)
    assert found, html
    return found.group(1)


async def raised(
    served: Served, sim: RunningSim, kind: str = "pool", **extra: Any
) -> tuple[str, dict[str, Any]]:
    """Raise an alert on the first object of `kind` and poll: (its name, the controller's alert)."""
    name = names(sim, kind)[0]
    created = await raise_alert(ops_of(served), name, **extra)
    report = await service_of(served).poll_once()
    assert report.posted == 1, report
    return name, created


def pushed_alert(uuid: str = "alert-pushed-0001", **fields: Any) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "timestamp": time.time(),
        "level": "ALERT_HIGH",
        "obj_name": EVIL,
        "obj_uuid": "virtualservice-pushed-0001",
        "summary": "<img src=x onerror=alert(2)> is down",
        "reason": "vs_down",
        "events": [{"obj_type": "VIRTUALSERVICE", "event_id": "VS_DOWN"}],
        **fields,
    }


async def push(served: Served, body: Any, secret: str | None = SECRET, **kw: Any) -> ClientResponse:
    headers = {"Content-Type": "application/json", **({SECRET_HEADER: secret} if secret is not None else {})}
    data = body if isinstance(body, (bytes, str)) else None
    if data is None:
        return await served.client.post("/api/alerts/webhook", json=body, headers=headers, **kw)
    return await served.client.post("/api/alerts/webhook", data=data, headers=headers, **kw)


# -- the page's feed ---------------------------------------------------------------------------------


async def test_the_page_has_a_labelled_alert_region_that_polls(served: Served) -> None:
    page = await Browser(served).open()
    assert 'aria-labelledby="alerts-title"' in page.html
    assert '<h2 id="alerts-title"' in page.html
    assert 'id="alert-news"' in page.html
    assert 'aria-live="polite"' in page.html
    html = await page.feed_html()
    assert "No alerts." in html
    assert re.search(r'hx-trigger="every \d+s"', html)


async def test_a_raised_alert_shows_as_a_card_and_a_clear_resolves_it(
    served: Served, sim: RunningSim
) -> None:
    page = await Browser(served).open()
    name, created = await raised(served, sim, summary="pool down: 0 of 3 servers up")
    html = await page.feed_html()
    assert "alert-card level-high" in html
    assert '<span class="badge alert-level level-high">high</span>' in html  # the word, not colour alone
    assert f"pool <code>{name}</code>" in html
    assert "pool down: 0 of 3 servers up" in html
    assert "admin" in html  # the tenant
    assert re.search(r'<time class="alert-time" datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', html)
    assert ">open<" in html
    assert ">Investigate</button>" in html
    assert ">Mute 1 h</button>" in html  # with how long it lasts (alerts.mute_minutes)
    assert f'data-prefill="What is wrong with pool {name}?"' in html
    assert f'href="{CONTROLLER_URL}" target="_blank" rel="noopener noreferrer"' in html

    await clear_alert(ops_of(served), created["uuid"])
    for _ in range(3):
        await service_of(served).poll_once()
        html = await page.feed_html()
        if "is-resolved" in html:
            break
    assert "alert-card level-high is-resolved" in html
    assert '<span class="badge alert-state-resolved">resolved</span>' in html
    assert "<dt>Resolved</dt><dd>after " in html
    assert "Resolved: the controller cleared the alert after" in html  # the thread's reply


async def test_an_unchanged_feed_answers_no_content_and_news_is_said_once(
    served: Served, sim: RunningSim
) -> None:
    page = await Browser(served).open()
    first = await page.feed_html()
    url = re.search(r'hx-get="(/htmx/alerts\?[^"]+)"', first)
    assert url
    again = await served.client.get(url.group(1).replace("&amp;", "&"), headers=AS_LOCAL)
    assert again.status == 204  # nothing to swap: focus and scroll stay where they are
    assert "alert-news" not in first  # the first look announces nothing
    name, _ = await raised(served, sim)
    changed = await served.client.get(url.group(1).replace("&amp;", "&"), headers=AS_LOCAL)
    assert changed.status == 200
    html = await changed.text()
    news = re.search(r'<div id="alert-news" hx-swap-oob="innerHTML">([^<]*)</div>', html)
    assert news, html
    assert news.group(1).startswith(f"New alert: high, pool {name}")


async def test_names_and_summaries_are_text_not_markup(served: Served) -> None:
    page = await Browser(served).open()
    response = await push(served, pushed_alert())
    assert response.status == 202, await response.text()
    html = await page.feed_html()
    assert "virtual service <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    assert "&lt;img src=x onerror=alert(2)&gt; is down" in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;?" in html  # the "Ask about it" text, in its attribute


async def test_the_feed_refresh_is_not_rate_limited(sim: RunningSim) -> None:
    web = WebSettings(rate_limit_per_minute=1, rate_limit_burst=2)
    async with serving(sim, web=web, alerts=alert_settings()) as served:
        await primed(served)
        page = await Browser(served).open()
        for _ in range(12):
            response = await page.feed()
            assert response.status in (200, 204), response.status
        for _ in range(2):  # the burst is still whole: the polls took none of it
            asked = await page.post("/htmx/chat", {"message": "vs list"})
            assert asked.status == 200, await asked.text()
        limited = await page.post("/htmx/chat", {"message": "vs list"})
        assert limited.status == 429


async def test_a_store_that_cannot_say_is_a_quiet_line_and_a_503(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(feed: str | None = None, limit: int = 50) -> list[Any]:
        raise ConnectionError("store down")

    monkeypatch.setattr(served.runtime.turns, "alert_feed", broken)
    page = await Browser(served).open()
    html = await page.feed_html()
    assert "The alert feed is unavailable right now" in html
    response = await served.client.get("/api/alerts", headers=AS_LOCAL)
    assert response.status == 503
    body = await response.json()
    assert body == {"error": "the alert store is unavailable (ConnectionError)"}


async def test_alerts_off_shows_no_panel(sim: RunningSim) -> None:
    async with serving(sim) as served:
        page = await Browser(served).open()
        assert "alerts-title" not in page.html
        assert 'id="alert-feed"' not in page.html
        html = await page.feed_html()
        assert "not routed" in html
        assert "every" not in html  # nothing polls
        response = await served.client.get("/api/alerts", headers=AS_LOCAL)
        assert response.status == 200
        assert await response.json() == []
        hook = await push(served, pushed_alert())
        assert hook.status == 404


async def test_alerts_routed_only_to_slack_show_no_panel(sim: RunningSim) -> None:
    """A page whose alerts all go to chat has no empty feed to show."""
    async with serving(sim, web=PROXY, alerts=alert_settings(routes=[{"to": "slack:C0OPS"}])) as s:
        page = await Browser(s).open()
        assert 'id="alert-feed"' not in page.html
        assert "not routed" in await page.feed_html()


# -- Investigate and Mute --------------------------------------------------------------------------


async def test_investigate_posts_with_the_csrf_token_and_answers_in_the_chat(
    served: Served, sim: RunningSim
) -> None:
    page = await Browser(served).open()
    name, _ = await raised(served, sim)
    thread = thread_of(await page.feed_html())
    refused = await page.post("/htmx/alerts/investigate", {"thread": thread}, csrf=False)
    assert refused.status == 403
    assert "out of date" in await refused.text()
    response = await page.post("/htmx/alerts/investigate", {"thread": thread})
    assert response.status == 200
    html = await response.text()
    assert f'<article class="turn user"><div class="bubble">investigate {name}</div></article>' in html
    assert f"Investigating pool {name}" in html
    assert '<article class="turn assistant">' in html
    # kept in the page's conversation: a reload shows it
    again = await Browser(served).open()
    assert f"Investigating pool {name}" in again.html
    bad = await page.post("/htmx/alerts/investigate", {"thread": "slack:T1:C1:1.0"})
    assert bad.status == 400


async def test_investigate_of_a_gone_thread_says_so(served: Served) -> None:
    page = await Browser(served).open()
    response = await page.post("/htmx/alerts/investigate", {"thread": "web:alert:0000000000000000"})
    assert response.status == 200
    assert "no longer known" in await response.text()


async def test_mute_is_refused_to_a_viewer_and_done_for_an_operator(served: Served, sim: RunningSim) -> None:
    viewer = await Browser(served, user="alice").open()
    operator = await Browser(served).open()  # `local` is an operator here
    name, _ = await raised(served, sim)
    thread = thread_of(await operator.feed_html())
    no_token = await operator.post("/htmx/alerts/mute", {"thread": thread}, csrf=False)
    assert no_token.status == 403
    refused = await viewer.post("/htmx/alerts/mute", {"thread": thread})
    assert refused.status == 200
    said = await refused.text()
    assert 'class="alert-said bad"' in said
    assert "operator role" in said
    muted = await operator.post("/htmx/alerts/mute", {"thread": thread})
    text = await muted.text()
    assert 'class="alert-said ok"' in text
    assert f"Muted: no new alert about pool {name}" in text
    await raise_alert(ops_of(served), name, summary="again")
    report = await service_of(served).poll_once()
    assert report.muted == 1
    assert report.posted == 0


# -- the JSON routes -------------------------------------------------------------------------------


async def test_api_alerts_lists_the_feed_newest_first(served: Served, sim: RunningSim) -> None:
    first, _ = await raised(served, sim, "pool")
    second, _ = await raised(served, sim, "virtualservice")
    response = await served.client.get("/api/alerts", headers=AS_LOCAL)
    assert response.status == 200
    items = await response.json()
    assert [i["view"]["object_name"] for i in items] == [second, first]
    assert all(i["feed"] == "ops" and i["thread_key"].startswith("web:") for i in items)
    assert items[0]["view"]["state"] == "open"
    assert items[0]["view"]["level"] == "ALERT_HIGH"
    one = await served.client.get("/api/alerts", headers=AS_LOCAL, params={"feed": "ops", "limit": "1"})
    assert [i["view"]["object_name"] for i in await one.json()] == [second]
    other = await served.client.get("/api/alerts", headers=AS_LOCAL, params={"feed": "nowhere"})
    assert await other.json() == []
    bad = await served.client.get("/api/alerts", headers=AS_LOCAL, params={"limit": "0"})
    assert bad.status == 400
    assert (await bad.json())["field"] == "limit"


async def test_the_webhook_takes_only_its_secret(served: Served) -> None:
    missing = await push(served, pushed_alert(), secret=None)
    assert missing.status == 401
    assert SECRET_HEADER in (await missing.json())["error"]
    wrong = await push(served, pushed_alert(), secret="not-the-secret-at-all")
    assert wrong.status == 401
    # no session cookie, no CSRF token, no web access token: the secret is the whole authentication
    ok = await push(served, pushed_alert())
    assert ok.status == 202
    assert await ok.json() == {"accepted": 1}
    again = await push(served, {"results": [pushed_alert()]})
    assert again.status == 202
    assert await again.json() == {"accepted": 0}  # the same alert is posted once


async def test_the_webhook_says_what_is_wrong_with_a_body(served: Served) -> None:
    broken = await push(served, b"{not json")
    assert broken.status == 400
    assert await broken.json() == {"error": "body: not valid JSON", "field": "body"}
    empty = await push(served, {"hello": "world"})
    assert empty.status == 400
    error = (await empty.json())["error"]
    assert error.startswith("body: no alert")
    assert "\n" not in error
    too_many = await push(served, [pushed_alert(f"alert-{i}") for i in range(201)])
    assert too_many.status == 400
    deep = await push(served, b"[" * 1000 + b"]" * 1000)
    assert deep.status == 400
    huge = await push(served, b'{"pad": "' + b"x" * 300_000 + b'"}')
    assert huge.status == 413  # the app's body limit, as on every route


async def test_a_pushed_alert_appears_in_the_feed(served: Served) -> None:
    page = await Browser(served).open()
    response = await push(served, pushed_alert(summary="pushed by the control script"))
    assert response.status == 202
    assert "pushed by the control script" in await page.feed_html()
    items = await (await served.client.get("/api/alerts", headers=AS_LOCAL)).json()
    assert items[0]["view"]["object_name"] == EVIL
    assert items[0]["view"]["object_type"] == "virtualservice"


async def test_the_example_control_script_pushes_an_alert(served: Served, tmp_path: Path) -> None:
    """examples/avi-alert-webhook-controlscript.py, run as the controller runs it (the alert JSON in
    argv[1]) with its two settings filled in, reaches the webhook and the feed."""
    script = (ROOT / "examples" / "avi-alert-webhook-controlscript.py").read_text()
    hook = f"{served.origin}/api/alerts/webhook"
    script = re.sub(r'^AVIBOT_WEBHOOK = ".*"$', f'AVIBOT_WEBHOOK = "{hook}"', script, flags=re.M)
    script = re.sub(r'^SECRET = ".*"$', f'SECRET = "{SECRET}"', script, flags=re.M)
    (tmp_path / "push.py").write_text(script)
    alert = json.dumps(pushed_alert("alert-from-script", summary="pushed by a ControlScript"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(tmp_path / "push.py"), alert, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert "avibot accepted" in out.decode(), out.decode()
    assert "pushed by a ControlScript" in await Browser(served).feed_html()


async def test_the_webhook_is_off_without_a_secret_and_counts_failures(sim: RunningSim) -> None:
    async with serving(sim, alerts=alert_settings(webhook_secret=None)) as served:
        await primed(served)
        assert (await push(served, pushed_alert())).status == 404
    web = WebSettings(rate_limit_per_minute=0, auth_failures_per_minute=3)
    async with serving(sim, web=web, alerts=alert_settings()) as served:
        await primed(served)
        for _ in range(3):
            assert (await push(served, pushed_alert(), secret="wrong-secret-wrong-secret")).status == 401
        limited = await push(served, pushed_alert())
        assert limited.status == 429  # guessing the secret is bounded like any login
        assert limited.headers["Retry-After"].isdigit()
        page = await Browser(served).open()  # its own count: people on the page are not locked out
        assert (await page.feed()).status == 200


async def test_openapi_documents_the_alert_routes(served: Served) -> None:
    doc = await (await served.client.get("/api/openapi.json", headers=AS_LOCAL)).json()
    feed = doc["paths"]["/api/alerts"]["get"]
    assert feed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("AlertFeed")
    hook = doc["paths"]["/api/alerts/webhook"]["post"]
    assert "202" in hook["responses"]
    assert {"401", "404", "400"} <= set(hook["responses"])
    assert hook["security"] == [{"alertSecret": []}]
    scheme = doc["components"]["securitySchemes"]["alertSecret"]
    assert scheme == {"type": "apiKey", "in": "header", "name": SECRET_HEADER}


async def test_a_storm_shows_as_one_digest_card(sim: RunningSim) -> None:
    async with serving(sim, web=PROXY, alerts=alert_settings(storm_per_minute=1)) as served:
        await primed(served)
        page = await Browser(served).open()
        pools = names(sim, "pool")[:4]
        for name in pools:
            await raise_alert(ops_of(served), name)
        report = await service_of(served).poll_once()
        assert report.digested >= 1, report
        html = await page.feed_html()
        (digest,) = [card for card in html.split("<article")[1:] if "Alert storm: " in card]
        assert '<span class="badge alert-level level-storm">storm</span>' in digest
        for name in pools[1:]:
            assert f"<li>pool {name} <span" in digest
        assert 'data-prefill="What caused the alert storm of' in digest
        assert "/htmx/alerts/investigate" in digest
        assert digest.count("/htmx/alerts/mute") == 0  # a digest cannot be muted (the core says so too)


def test_with_several_controllers_a_card_names_its_controller_and_asks_it() -> None:
    view = AlertView(
        route_to="web:ops", object_type="pool", object_name="web-pool", summary="down", controller="b",
        link="", raised_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    item = FeedItem(thread_key="web:alert:1", feed="ops", view=view, updated_at=view.raised_at)
    card = web_alerts._card(item, "https://default.example")
    assert card["summary"] == "On controller b: down"
    assert card["controller"] == "b"
    assert card["ask"] == "On b, what is wrong with pool web-pool?"  # the question goes to b
    assert card["link"] == ""  # never the default controller's UI
    one = web_alerts._card(
        item.model_copy(update={"view": view.model_copy(update={"controller": "", "link": None})}),
        "https://d.example",
    )
    assert (one["summary"], one["ask"], one["link"]) == (
        "down",
        "What is wrong with pool web-pool?",
        "https://d.example",
    )
