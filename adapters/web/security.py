"""Who is asking, and may they: Host, origin, session cookie, access token, trusted proxy, CSRF,
rate limits, and bodies too broken to hand to a handler.

One middleware (`security_middleware`) runs first on every request, in this order:

1. The Host header must be an allowed host (`web.allowed_hosts`; by default localhost, 127.0.0.1,
   [::1] and the bound address, on the port served), else 421: a DNS-rebinding page on
   `evil.example` resolving to 127.0.0.1 reaches nothing, not even the probes.
2. A state-changing request whose `Origin` is another origin than its Host, or that says
   `Sec-Fetch-Site: cross-site`, is refused (403).
3. The probes, static files and routes a channel verifies itself (`verifies_own_requests`) are let
   through from here.
4. A peer with `web.auth_failures_per_minute` failed authentications in the last minute gets 429
   with Retry-After before its credentials are even looked at.
5. Identity (`identity(request)`), before any handler runs:
   - `Authorization: Bearer <access_token>` -> the token user (`web.token_user`), CSRF-exempt (no
     browser sends it on its own).
   - `X-Forwarded-User` from a peer in `web.trusted_proxies` -> that user; ignored from anyone else.
   - `?token=<access_token>` once -> a session marked as logged in (then the cookie carries it); a
     page opened so is redirected to the same address without the token.
   - otherwise, when no token and no proxy are configured, an anonymous session as `web.local_user`.
   - otherwise 401 (and one more failure for the peer).
6. CSRF: every state-changing request not authenticated by a Bearer token needs `X-CSRF-Token` (or
   form field `csrf_token`) equal to `identity.csrf_token`, an HMAC of the session id: a page on
   another site can neither read it nor, with SameSite=Lax, send our cookie. Except a script's: a
   request with no session cookie and `Content-Type: application/json` (a type no page on another
   site may send without a CORS preflight, which is never granted) needs no token. Such requests,
   and any other cookie-less /api call but `GET /api/session` (which starts a cookie session), act
   as the local user (or the Bearer token's) in one stable session `api` (so a script's
   conversations, confirmations and history hold together), and get no cookie.
7. The per-user rate limit on questions, decisions and /api/avi calls (`counts_against_limit`).

Bodies: form bodies of state-changing requests are parsed here (400 when malformed, so handlers get
them parsed), and a JSON body nested deeper than `MAX_JSON_DEPTH` is refused (400) before anything
parses it recursively.
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
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError

from adapters.base import is_self_verified
from adapters.web.hosts import LOOPBACK_NAMES, host_name, local_address, split_host
from adapters.web.http import MAX_JSON_DEPTH, json_too_deep
from adapters.web.limits import FailureLimiter, RateLimiter
from adapters.web.settings import WebSettings
from bot.types import Inbound, User

COOKIE = "avibot_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
OPEN_PREFIXES = ("/static/",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SCRIPT_SESSION = "api"  # the session id of scripts (cookie-less /api requests)
STALE_PAGE = "This page is out of date; reload to continue."  # the page's CSRF refusal (/htmx)
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


def inbound(
    ident: WebIdentity, text: str, conversation_id: str | None = None, controller: str = ""
) -> Inbound:
    return Inbound(
        platform="web",
        conversation_key=conversation_key(ident, conversation_id),
        channel="web",
        user=ident.user,
        text=text,
        controller=controller,
    )


# -- the signed session cookie ---------------------------------------------------------------------


class Session(BaseModel):
    """What the cookie holds: no secrets, only an id, whether the token login happened, and expiry."""

    sid: str
    auth: str = ""  # fingerprint of the access token used to log in; "" for anonymous
    exp: int


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of two strings of any characters (a header may carry any bytes)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


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
        if not cookie or "." not in cookie or len(cookie) > 1024 or not cookie.isascii():
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not _same(mac, self._mac("session", payload)):
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


def refuse_json(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A refusal before anything else is known about the request: one line of JSON, whatever the path."""
    return web.json_response({"error": message}, status=status, headers=headers)


class Unauthorized(Exception):
    pass


class BadBody(Exception):
    pass


def is_scripted(request: web.Request) -> bool:
    """A script's request: no session cookie, and a JSON body (`application/json`, parameters allowed)."""
    return COOKIE not in request.cookies and request.content_type == "application/json"


def _script_session(request: web.Request) -> bool:
    """Whether a request acts in the scripts' session: cookie-less JSON, or any cookie-less /api call
    but `GET /api/session`, which is how a client asks for a cookie session and its CSRF token."""
    if COOKIE in request.cookies:
        return False
    return is_scripted(request) or (request.path.startswith("/api/") and request.path != "/api/session")


# -- the guard -------------------------------------------------------------------------------------


class Guard:
    """Decides identity, CSRF and rate limit for one app; built from WebSettings."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        secret = settings.session_secret.get_secret_value().encode() if settings.session_secret else None
        self.codec = SessionCodec(secret or secrets.token_bytes(32), settings.session_max_age)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        self.failures = FailureLimiter(settings.auth_failures_per_minute)
        self._allowed = [split_host(entry) for entry in settings.allowed_hosts]
        bind = (settings.bind_host or "").strip()
        wildcard = bind in ("", "0.0.0.0", "::", "[::]", "*")
        self._default_names = {*LOOPBACK_NAMES, *(() if wildcard else (host_name(bind),))}
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
        return self._token is not None and _same(given, self._token)

    def host_allowed(self, request: web.Request) -> bool:
        """Whether the Host header names this server (see the module docstring)."""
        raw = request.headers.get(hdrs.HOST)
        parsed = split_host(raw) if raw else None
        if parsed is None:
            return False
        name, port = parsed
        local_name, local_port = local_address(request)
        if port is None:
            port = 443 if request.secure else 80
        if self.settings.allowed_hosts:
            return any(
                entry is not None and entry[0] == name and entry[1] in (None, port) for entry in self._allowed
            )
        names = self._default_names | ({local_name} if local_name else set())
        return name in names and (local_port is None or port == local_port)

    def cross_site(self, request: web.Request) -> str | None:
        """Why a state-changing request comes from another site, or None."""
        if request.method not in STATE_CHANGING:
            return None
        if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
            return "Cross-site request refused (Sec-Fetch-Site: cross-site)."
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return None
        host = split_host(request.headers.get(hdrs.HOST, ""))
        try:
            parts = urlsplit(origin.strip())
            origin_port = parts.port
        except ValueError:
            parts, origin_port = None, None
        if host is None or parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            return "Cross-origin request refused: the Origin header is not this server."
        default = 443 if parts.scheme == "https" else 80
        same = host_name(parts.hostname) == host[0] and (origin_port or default) == (host[1] or default)
        return None if same else "Cross-origin request refused: the Origin header is not this server."

    def _ident(
        self,
        user_id: str,
        session_id: str,
        via: Literal["session", "token", "proxy"],
        groups: list[str] | None = None,
    ) -> WebIdentity:
        return WebIdentity(
            user=User(id=user_id, name=user_id, groups=groups or []),
            session_id=session_id,
            csrf_token=self.codec.csrf(session_id),
            via=via,
        )

    def authenticate(self, request: web.Request) -> tuple[WebIdentity, Session | None]:
        """The identity, and a session to (re)issue as a cookie (None: keep the current one)."""
        ident, issue = self._authenticate(request)
        if _script_session(request):
            if ident.via == "session" and issue is not None and not issue.auth:
                ident = self._ident(self.settings.local_user, SCRIPT_SESSION, "session")
            issue = None  # a script keeps no cookie (it would then need the CSRF token)
        return ident, issue

    def _authenticate(self, request: web.Request) -> tuple[WebIdentity, Session | None]:
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
                sid = "p-" + hashlib.sha256(proxy_user.encode("utf-8", "surrogatepass")).hexdigest()[:20]
                fresh = session if session is not None else self.codec.new()
                groups = [
                    g
                    for g in map(str.strip, request.headers.get(s.proxy_groups_header, "").split(","))
                    if g and _USER_RE.match(g)
                ]  # what the proxy says the person belongs to (oauth2-proxy: X-Forwarded-Groups)
                ident = self._ident(proxy_user, sid, "proxy", groups)
                return ident, (None if session is not None else fresh)
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
        if request.method not in STATE_CHANGING or ident.via == "token" or is_scripted(request):
            return True
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in FORM_TYPES:
            form = await read_form(request)
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        return given is not None and _same(given, ident.csrf_token)

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


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The parsed form (aiohttp keeps it for the handler), or BadBody when it is malformed."""
    try:
        return await request.post()
    except web.HTTPException:
        raise
    except (ValueError, LookupError, HttpProcessingError) as exc:
        raise BadBody(f"body: not a valid form ({type(exc).__name__})") from None


async def check_body(request: web.Request) -> None:
    """BadBody for a state-changing request's malformed form or too deeply nested JSON."""
    if request.method not in STATE_CHANGING or not request.can_read_body:
        return
    if request.content_type in FORM_TYPES:
        await read_form(request)
        return
    raw = await request.read()
    if json_too_deep(raw):
        raise BadBody(f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels")


def _is_open(request: web.Request) -> bool:
    """Probes, static files, and routes of channels that authenticate their own requests (Slack
    signs them, Teams sends a JWT; `adapters.base.verifies_own_requests`): no web session, CSRF
    token or web rate limit applies there."""
    path = request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return True
    return is_self_verified(request.match_info.handler)


def counts_against_limit(request: web.Request) -> bool:
    """Questions, decisions and controller calls count; following an answer's stream, polling the
    mode, reading the history or the session do not (a question must cost one, not two)."""
    path = request.path
    if path.startswith("/api/avi/"):
        return True
    return request.method not in ("GET", "HEAD", "OPTIONS") and path.startswith(("/api/", "/htmx/"))


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    guard = request.app[GUARD]
    if not guard.host_allowed(request):
        return refuse_json(
            421,
            "Misdirected request: this server does not answer for that Host; "
            "add it to web.allowed_hosts (AVIBOT_ALLOWED_HOSTS) if it should.",
        )
    why = guard.cross_site(request)
    if why is not None:
        return refuse_json(403, why)
    if _is_open(request):
        return await handler(request)
    peer = request.remote or ""
    wait = guard.failures.wait(peer)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        return refusal(
            request,
            429,
            f"Too many failed authentications from this address; try again in {seconds} s.",
            {"Retry-After": str(seconds)},
        )
    try:
        ident, issue = guard.authenticate(request)
    except Unauthorized as exc:
        guard.failures.failed(peer)
        return refusal(request, 401, str(exc), {"WWW-Authenticate": 'Bearer realm="avibot"'})
    request[IDENTITY_KEY] = ident
    if "token" in request.query and request.method == "GET" and not request.path.startswith("/api/"):
        # A one-time login link: drop the token from the address bar (and from history and logs).
        rest = [(k, v) for k, v in request.rel_url.query.items() if k != "token"]
        target = request.rel_url.with_query(rest or None)
        redirect = web.Response(status=303, headers={hdrs.LOCATION: str(target)})
        if issue is not None:
            guard.set_cookie(redirect, issue)
        return redirect
    try:
        await check_body(request)
        csrf_ok = await guard.csrf_ok(request, ident)
    except BadBody as exc:
        return _with_cookie(guard, refusal(request, 400, str(exc)), issue)
    if not csrf_ok:
        # The page's own requests (/htmx) fail so when the page outlived its session (a restart with a
        # new secret, an expired cookie): the person is told what to do, and the page keeps the draft.
        stale = request.path.startswith("/htmx/")
        return _with_cookie(
            guard,
            refusal(
                request,
                403,
                STALE_PAGE
                if stale
                else "Missing or invalid CSRF token: reload the page, or send the X-CSRF-Token header "
                "from GET /api/session (or send JSON without a session cookie).",
            ),
            issue,
        )
    if counts_against_limit(request):
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
