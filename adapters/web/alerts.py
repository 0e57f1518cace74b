"""Alerts on the web platform: the page's alert feed, its buttons, and the alert JSON routes.

- `GET /htmx/alerts` renders the feed (`Turns.alert_feed`) as cards. The page polls it; the poll carries a
  hash of what it shows, and an unchanged feed answers 204 so htmx swaps nothing (focus and reading
  position stay). A GET, so the web rate limit (adapters/web/security.py) never counts it.
- `POST /htmx/alerts/investigate` and `/htmx/alerts/mute` are the cards' buttons: CSRF-checked and rate
  limited by the security middleware like every page POST; the core decides (roles, a gone thread).
  Investigate answers as a chat turn; Mute's sentence shows in its card.
- `GET /api/alerts`: the feed as JSON (503 when the store cannot say).
- `POST /api/alerts/webhook`: alerts pushed by a script (the controller has no HTTP alert action), as
  the default controller's or, with `?controller=<name>`, that controller's. It
  has no web session: it is authenticated only by `X-Avibot-Alert-Secret` (`Turns.webhook_accepts`),
  so it is marked `verifies_own_requests` like the Slack and Teams routes (the guard still checks its
  Host and Origin). Wrong secrets are counted per peer (`web.auth_failures_per_minute`, then 429).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, RootModel

from adapters.base import verifies_own_requests
from adapters.web.http import ApiError, json_api, loads, ok, parse_query
from adapters.web.limits import FailureLimiter
from adapters.web.openapi import RouteDoc, document
from adapters.web.render import render, render_reply
from adapters.web.security import GUARD, identity, inbound
from bot.alerts.models import AlertView, duration_text, kind_word, object_words
from bot.turns import FeedItem, Turns
from bot.types import Outcome, TurnResult, render_plain

log = logging.getLogger("avibot.web.alerts")

ALERT_TURNS = web.AppKey("avibot_web_alert_turns", Turns)
# Wrong webhook secrets per peer: its own window, so a script with a stale secret (or a proxy in front of
# both) never locks people out of the page, while guessing stays bounded.
WEBHOOK_FAILURES = web.AppKey("avibot_web_webhook_failures", FailureLimiter)
SECRET_HEADER = "X-Avibot-Alert-Secret"
POLL_SECONDS = 15  # the page's feed refresh
PAGE_LIMIT = 50  # cards on the page
MAX_SECRET = 1024  # characters of the header compared at all
THREAD_KEY = r"^web:[A-Za-z0-9:_.-]{1,200}$"
FEED_NAME = r"^[A-Za-z0-9:_.-]{1,100}$"
CONTROLLER_NAME = r"^[A-Za-z0-9_-]{1,64}$"  # ?controller= on the webhook: whose alerts they are
LEVELS = {"high": "high", "medium": "medium", "low": "low"}  # CSS classes; any other level is "other"
UNAVAILABLE = "The alert feed is unavailable right now; it will try again."
HTML = "text/html"


def _turns(request: web.Request) -> Turns:
    return request.app[ALERT_TURNS]


def _fragment(html: str, status: int = 200) -> web.Response:
    return web.Response(
        text=str(html), content_type=HTML, status=status, headers={"Cache-Control": "no-store"}
    )


def _when(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def _what(view: AlertView) -> str:
    return view.what


def _card(item: FeedItem, links: str | None, mute: str = "Mute") -> dict[str, Any]:
    """What the card template shows; every value is text, escaped by the template."""
    view = item.view
    anchor = hashlib.sha256(item.thread_key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    resolved = view.state == "resolved"
    digest = view.kind == "digest"
    what = _what(view)
    on = view.on_controller  # " on controller b" when the bot has several, else ""
    summary = f"On controller {view.controller}: {view.summary}" if on and view.summary else view.summary
    ask = f"What caused the alert storm of {view.total} alerts?" if digest else f"What is wrong with {what}?"
    return {
        "anchor": anchor,
        "thread": item.thread_key,
        "digest": digest,
        # a digest's view carries no level of its own (AlertView's default): it says "storm" instead
        "level": "storm" if digest else LEVELS.get(view.level_word, "other"),
        "level_word": "storm" if digest else view.level_word or "alert",
        "resolved": resolved,
        "kind": "alert storm" if digest else kind_word(view.object_type),
        "name": "" if digest else view.object_name,
        "title": what,
        "tenant": view.tenant or "",
        "controller": view.controller,
        "summary": summary,
        "health": view.health,
        "raised": _when(view.raised_at),
        "raised_iso": _iso(view.raised_at),
        "fired": view.fired,
        "resolved_after": duration_text(view.resolved_after_seconds)
        if resolved and view.resolved_after_seconds is not None
        else "",
        "lines": [
            {"what": object_words(d.object_type, d.object_name), "count": d.count} for d in view.digest
        ],
        "total": view.total,
        "replies": [{"text": r.text, "at": _when(r.at), "iso": _iso(r.at)} for r in item.replies],
        "ask": f"On {view.controller}, {ask[0].lower()}{ask[1:]}" if on else ask,
        "link": view.link_or(links) or "",
        "mute": mute,
    }


def _news(items: list[FeedItem], since_ms: int | None) -> str:
    """One sentence for the polite live region: the open alerts changed since the page's last look."""
    if since_ms is None:
        return ""
    fresh = [i for i in items if i.view.state == "open" and _ms(i.updated_at) > since_ms]
    if not fresh:
        return ""
    first = fresh[0].view
    if first.kind == "digest":
        text = f"New: {first.headline()}"
    else:
        text = f"New alert: {first.level_word}, {_what(first)}{first.on_controller}" + (
            f": {first.summary}" if first.summary else ""
        )
    if len(fresh) > 1:
        text += f" (and {len(fresh) - 1} more)"
    return text[:300]


def _ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return math.floor(value.timestamp() * 1000)


# -- the page's feed -------------------------------------------------------------------------------


async def feed_fragment(request: web.Request) -> web.Response:
    """The feed element (which polls itself), or 204 when it would show what the page already has."""
    turns = _turns(request)
    if not turns.alert_feed_on:
        return _fragment(render("alerts/feed.html", off=True))
    since_raw = request.query.get("since", "")
    since_ms = int(since_raw) if since_raw.isdigit() and len(since_raw) < 16 else None
    error = ""
    items: list[FeedItem] = []
    try:
        items = await turns.alert_feed(None, PAGE_LIMIT)
    except Exception as exc:
        log.warning("alert feed unavailable for the page: %s", type(exc).__name__)
        error = UNAVAILABLE
    cards = [_card(item, turns.alert_links, turns.alert_mute_label) for item in items]
    inner = render("alerts/cards.html", cards=cards, error=error)
    seen = hashlib.sha256(str(inner).encode()).hexdigest()[:16]
    if request.query.get("seen") == seen:
        return web.Response(status=204, headers={"Cache-Control": "no-store"})
    newest = max((_ms(i.updated_at) for i in items), default=since_ms or 0)
    html = render(
        "alerts/feed.html",
        off=False,
        inner=inner,
        seen=seen,
        since=newest,
        poll=POLL_SECONDS,
        news="" if error else _news(items, since_ms),
    )
    return _fragment(html)


def _thread(form: Any) -> str | None:
    value = form.get("thread")
    return value if isinstance(value, str) and re.match(THREAD_KEY, value) else None


async def investigate(request: web.Request) -> web.Response:
    """Investigate: the fixed reads about the card's object, answered as a turn of the conversation."""
    who = identity(request)
    thread = _thread(await request.post())
    if thread is None:
        return _fragment(render("alerts/status.html", ok=False, text="That alert button is not valid."), 400)
    turns = _turns(request)
    ctx = await turns.alert_context("web", thread)
    question = f"investigate {ctx.object_name or 'the alerts'}" if ctx is not None else "investigate"
    result = await turns.investigate(inbound(who, question), thread)
    return _fragment(render("turn_user.html", turn={"content": question}) + render_reply(result.reply))


async def mute(request: web.Request) -> web.Response:
    """Mute: the core allows operators and above; its sentence (or refusal) replaces the card's status."""
    who = identity(request)
    thread = _thread(await request.post())
    if thread is None:
        return _fragment(render("alerts/status.html", ok=False, text="That alert button is not valid."), 400)
    result: TurnResult = await _turns(request).mute(inbound(who, "mute"), thread)
    text = " ".join(render_plain(p) for p in result.reply.parts).removeprefix("Error: ")
    return _fragment(render("alerts/status.html", ok=result.outcome is Outcome.ANSWERED, text=text))


# -- JSON ------------------------------------------------------------------------------------------


class FeedQuery(BaseModel):
    feed: str | None = Field(
        None, pattern=FEED_NAME, description="one web feed's name; every feed when omitted"
    )
    limit: int = Field(50, ge=1, le=200)


class AlertFeed(RootModel[list[FeedItem]]):
    """The feed's threads, newest change first."""


class WebhookAccepted(BaseModel):
    accepted: int = Field(description="alerts new to the pipeline (the poller may already have had others)")


@json_api
async def api_feed(request: web.Request) -> web.Response:
    query = parse_query(request, FeedQuery)
    try:
        items = await _turns(request).alert_feed(query.feed, query.limit)
    except Exception as exc:
        log.warning("alert feed unavailable: %s", type(exc).__name__)
        raise ApiError(503, f"the alert store is unavailable ({type(exc).__name__})") from None
    return ok(AlertFeed(items))


def _accepts(turns: Turns, given: str) -> bool:
    if not given or len(given) > MAX_SECRET:
        return False
    try:
        return turns.webhook_accepts(given)
    except UnicodeEncodeError:  # a header that was not UTF-8 is no secret of ours
        return False


@verifies_own_requests
@json_api
async def webhook(request: web.Request) -> web.Response:
    turns = _turns(request)
    if not turns.webhook_on:
        raise ApiError(404, "no alert webhook here: set alerts.webhook_secret (AVIBOT_ALERT_WEBHOOK_SECRET)")
    failures, peer = request.app[WEBHOOK_FAILURES], request.remote or ""
    wait = failures.wait(peer)
    if wait > 0:
        seconds = str(max(1, math.ceil(wait)))
        error = ApiError(429, f"too many failed authentications from this address; try again in {seconds} s")
        return error.response({"Retry-After": seconds})
    if not _accepts(turns, request.headers.get(SECRET_HEADER, "")):
        failures.failed(peer)
        raise ApiError(401, f"missing or wrong {SECRET_HEADER} header")
    controller = request.query.get("controller", "").strip() or None
    if controller is not None and not re.match(CONTROLLER_NAME, controller):
        raise ApiError(400, "controller: not a controller name", field="controller")
    body = loads(await request.read())  # bounded by the app's client_max_size (413 beyond)
    try:
        accepted = await turns.push_alerts(body, controller)
    except ValueError as exc:
        raise ApiError(
            400, f"body: {str(exc).splitlines()[0] if str(exc) else 'no alert'}", field="body"
        ) from None
    except Exception as exc:
        log.warning("pushed alerts not taken: %s", type(exc).__name__)
        raise ApiError(503, f"the alert store is unavailable ({type(exc).__name__})") from None
    return ok(WebhookAccepted(accepted=accepted), status=202)


SECRET_SECURITY: tuple[dict[str, list[str]], ...] = ({"alertSecret": []},)
DOCS = (
    RouteDoc(
        "GET",
        "/api/alerts",
        "The web alert feed, newest first",
        AlertFeed,
        query={"feed": "one feed: the <name> of a web:<name> route; all when omitted", "limit": "1 to 200"},
        errors=(400, 401, 429, 503),
    ),
    RouteDoc(
        "POST",
        "/api/alerts/webhook",
        "Push controller alerts (one alert object, a list, or {results: [...]})",
        WebhookAccepted,
        query={"controller": "whose alerts they are, by name; the default controller when omitted"},
        raw_request={"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
        status=202,
        errors=(400, 401, 404, 413, 429, 503),
        security=SECRET_SECURITY,
    ),
)


def setup_alerts(app: web.Application, turns: Turns) -> None:
    """Register the feed, its buttons and the JSON routes; called by `setup_web`."""
    app[ALERT_TURNS] = turns
    guard = app.get(GUARD)
    per_minute = guard.settings.auth_failures_per_minute if guard is not None else 10
    app[WEBHOOK_FAILURES] = FailureLimiter(per_minute)
    r = app.router
    r.add_get("/htmx/alerts", feed_fragment)
    r.add_post("/htmx/alerts/investigate", investigate)
    r.add_post("/htmx/alerts/mute", mute)
    r.add_get("/api/alerts", api_feed)
    r.add_post("/api/alerts/webhook", webhook)
    document(app, *DOCS)


__all__ = ["SECRET_HEADER", "setup_alerts"]
