"""Who is asking, and may they: session cookie, access token, trusted proxy, CSRF, rate limit.

One middleware (`security_middleware`) sets `identity(request)` on every request except the
probes and static files, before any handler runs:

- `Authorization: Bearer <access_token>` -> the token user (`web.token_user`), CSRF-exempt (no
  browser sends it on its own).
- `X-Forwarded-User` from a peer in `web.trusted_proxies` -> that user; ignored from anyone else.
- `?token=<access_token>` once -> a session marked as logged in (then the cookie carries it).
- otherwise, when no token and no proxy are configured, an anonymous session as `web.local_user`.
- otherwise 401.

Every state-changing request not authenticated by a Bearer token needs `X-CSRF-Token` (or form
field `csrf_token`) equal to `identity.csrf_token`, which is an HMAC of the session id: a page on
another site can neither read it nor, with SameSite=Lax, send our cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import ipaddress
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.web.settings import WebSettings
from bot.types import Inbound, User

COOKIE = "avibot_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
OPEN_PREFIXES = ("/static/",)
_USER_RE = re.compile(r"^[\w.@+\-=\\ ]{1,128}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebIdentity(BaseModel):
    """The person behind one request, as the agent sees them (`user.id` is looked up as `web:<id>`)."""

    user: User
    session_id: str
    csrf_token: str
    via: Literal["session", "token", "proxy"]


IDENTITY_KEY = web.RequestKey("avibot_identity", WebIdentity)


def identity(request: web.Request) -> WebIdentity:
    """The identity the middleware set; handlers under /, /api and /htmx may rely on it."""
    return request[IDENTITY_KEY]


def conversation_key(ident: WebIdentity, conversation_id: str | None = None) -> str:
    """`web:<session id>` (the page) or `web:<session id>:<conversation id>` (the JSON API)."""
    base = f"web:{ident.session_id}"
    return f"{base}:{conversation_id}" if conversation_id else base


def inbound(ident: WebIdentity, text: str, conversation_id: str | None = None) -> Inbound:
    return Inbound(
        platform="web",
        conversation_key=conversation_key(ident, conversation_id),
        channel="web",
        user=ident.user,
        text=text,
    )


# -- the signed session cookie ---------------------------------------------------------------------


class Session(BaseModel):
    """What the cookie holds: no secrets, only an id, whether the token login happened, and expiry."""

    sid: str
    auth: str = ""  # fingerprint of the access token used to log in; "" for anonymous
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """HMAC-SHA256 signed cookies and the CSRF tokens derived from them."""

    def __init__(self, secret: bytes, max_age: int) -> None:
        self._secret = secret
        self.max_age = max_age

    def _mac(self, purpose: str, data: str) -> str:
        return _b64(hmac.new(self._secret, f"{purpose}|{data}".encode(), hashlib.sha256).digest())

    def new(self, auth: str = "") -> Session:
        return Session(sid=secrets.token_urlsafe(18), auth=auth, exp=int(time.time()) + self.max_age)

    def encode(self, session: Session) -> str:
        payload = _b64(session.model_dump_json().encode())
        return f"{payload}.{self._mac('session', payload)}"

    def decode(self, cookie: str | None) -> Session | None:
        """The session, or None when missing, tampered with, malformed or expired."""
        if not cookie or "." not in cookie or len(cookie) > 1024:
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            session = Session.model_validate_json(_unb64(payload))
        except (ValidationError, ValueError):
            return None
        return session if session.exp > time.time() else None

    def csrf(self, session_id: str) -> str:
        return self._mac("csrf", session_id)[:32]

    def fingerprint(self, token: str) -> str:
        return self._mac("token", token)[:16]


# -- rate limit ------------------------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """A token bucket per user: `burst` at once, refilled at `per_minute`."""

    per_minute: float
    burst: int
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """0 when allowed, else the seconds to wait before the next request is."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 10_000:
                self._prune(now, rate)
            bucket = self.buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _prune(self, now: float, rate: float) -> None:
        full = [k for k, b in self.buckets.items() if b.tokens + (now - b.updated) * rate >= self.burst]
        for k in full:
            del self.buckets[k]


# -- refusals --------------------------------------------------------------------------------------


def refusal(
    request: web.Request, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON for /api, an escaped HTML fragment for /htmx, plain text elsewhere."""
    path = request.path
    if path.startswith("/api/"):
        return web.json_response({"error": message}, status=status, headers=headers)
    if path.startswith("/htmx/"):
        body = f'<div class="error" role="alert">{html.escape(message)}</div>'
        return web.Response(text=body, status=status, content_type="text/html", headers=headers)
    return web.Response(text=message + "\n", status=status, headers=headers)


class Unauthorized(Exception):
    pass


# -- the guard -------------------------------------------------------------------------------------


class Guard:
    """Decides identity, CSRF and rate limit for one app; built from WebSettings."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        secret = settings.session_secret.get_secret_value().encode() if settings.session_secret else None
        self.codec = SessionCodec(secret or secrets.token_bytes(32), settings.session_max_age)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
        token = settings.access_token.get_secret_value() if settings.access_token else None
        self._token = token
        self._token_print = self.codec.fingerprint(token) if token else ""

    def _from_proxy(self, request: web.Request) -> bool:
        try:
            peer = ipaddress.ip_address(request.remote or "")
        except ValueError:
            return False
        return any(peer in net for net in self._proxies)

    def _token_ok(self, given: str) -> bool:
        return self._token is not None and hmac.compare_digest(given.encode(), self._token.encode())

    def _ident(self, user_id: str, session_id: str, via: Literal["session", "token", "proxy"]) -> WebIdentity:
        return WebIdentity(
            user=User(id=user_id, name=user_id),
            session_id=session_id,
            csrf_token=self.codec.csrf(session_id),
            via=via,
        )

    def authenticate(self, request: web.Request) -> tuple[WebIdentity, Session | None]:
        """The identity, and a session to (re)issue as a cookie (None: keep the current one)."""
        s = self.settings
        session = self.codec.decode(request.cookies.get(COOKIE))
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer ") and self._token is not None:
            if not self._token_ok(authorization[7:].strip()):
                raise Unauthorized("The access token is not valid.")
            return self._ident(s.token_user, "token", "token"), None
        if self._proxies and self._from_proxy(request):
            proxy_user = request.headers.get(s.proxy_user_header, "").strip()
            if proxy_user:
                if not _USER_RE.match(proxy_user):
                    raise Unauthorized(f"The {s.proxy_user_header} header is not a valid user name.")
                sid = "p-" + hashlib.sha256(proxy_user.encode()).hexdigest()[:20]
                fresh = session if session is not None else self.codec.new()
                return self._ident(proxy_user, sid, "proxy"), (None if session is not None else fresh)
        given = request.query.get("token")
        if given is not None and self._token is not None:
            if not self._token_ok(given):
                raise Unauthorized("The access token is not valid.")
            session = self.codec.new(auth=self._token_print)
            return self._ident(s.token_user, session.sid, "session"), session
        if session is not None and self._token is not None and session.auth == self._token_print:
            return self._ident(s.token_user, session.sid, "session"), None
        if s.auth_required:
            raise Unauthorized(
                "Authentication required: send `Authorization: Bearer <token>`, open the page once with "
                "`?token=<token>`, or come through the configured reverse proxy."
            )
        if session is None or session.auth:
            fresh = self.codec.new()
            return self._ident(s.local_user, fresh.sid, "session"), fresh
        return self._ident(s.local_user, session.sid, "session"), None

    async def csrf_ok(self, request: web.Request, ident: WebIdentity) -> bool:
        if request.method not in STATE_CHANGING or ident.via == "token":
            return True
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        return given is not None and hmac.compare_digest(given.encode(), ident.csrf_token.encode())

    def set_cookie(self, response: web.StreamResponse, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.codec.encode(session),
            max_age=self.settings.session_max_age,
            httponly=True,
            samesite="Lax",
            secure=self.settings.cookie_secure,
            path="/",
        )


GUARD = web.AppKey("avibot_web_guard", Guard)


# Paths of other channels that authenticate their own requests (Slack signs them, Teams sends a
# JWT): no web session, CSRF token or web rate limit applies there.
CHANNEL_PATHS = web.AppKey("avibot_channel_paths", set)


def allow_channel_path(app: web.Application, path: str) -> None:
    """Let a channel's endpoint through the web guard; the channel must verify its requests itself."""
    app.setdefault(CHANNEL_PATHS, set()).add(path)


def _is_open(path: str, app: web.Application) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or path in app.get(CHANNEL_PATHS, ())


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_open(request.path, request.app):
        return await handler(request)
    guard = request.app[GUARD]
    try:
        ident, issue = guard.authenticate(request)
    except Unauthorized as exc:
        return refusal(request, 401, str(exc), {"WWW-Authenticate": 'Bearer realm="avibot"'})
    request[IDENTITY_KEY] = ident
    if "token" in request.query and request.method == "GET" and not request.path.startswith("/api/"):
        # A one-time login link: drop the token from the address bar (and from history and logs).
        target = request.rel_url.without_query("token")
        redirect = web.HTTPSeeOther(location=str(target))
        if issue is not None:
            guard.set_cookie(redirect, issue)
        return redirect
    if not await guard.csrf_ok(request, ident):
        return _with_cookie(
            guard,
            refusal(
                request,
                403,
                "Missing or invalid CSRF token: reload the page, or send the X-CSRF-Token header "
                "from GET /api/session.",
            ),
            issue,
        )
    if request.path.startswith(("/api/", "/htmx/")):
        wait = guard.limiter.take(ident.user.id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            return refusal(
                request,
                429,
                f"Too many requests: at most {guard.settings.rate_limit_per_minute:g} a minute "
                f"(bursts of {guard.settings.rate_limit_burst}). Try again in {seconds} s.",
                {"Retry-After": str(seconds)},
            )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if issue is not None:
            guard.set_cookie(exc, issue)
        raise
    return _with_cookie(guard, response, issue)


def _with_cookie(guard: Guard, response: web.StreamResponse, issue: Session | None) -> web.StreamResponse:
    if issue is not None and not response.prepared:
        guard.set_cookie(response, issue)
    return response
