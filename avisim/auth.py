"""Sessions, login, CSRF, lockout, Basic and token auth: who is calling and may they write."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from .errors import ApiError
from .store import Store

SESSION_COOKIES = ("avi-sessionid", "sessionid")
CSRF_COOKIE = "csrftoken"
NO_CREDENTIALS = "Authentication credentials were not provided."
CSRF_FAILED = "CSRF token missing or incorrect."
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Session:
    id: str
    csrftoken: str
    username: str
    last_used: float = field(default_factory=time.monotonic)
    switched: bool = False


@dataclass
class Caller:
    """The authenticated identity of one request; `session` is None for Basic/token calls."""

    username: str
    session: Session | None = None


@dataclass
class UserToken:
    uuid: str
    token: str
    username: str
    expires: float  # epoch seconds


def no_credentials() -> ApiError:
    return ApiError(401, NO_CREDENTIALS, key="detail")


def parse_cookies(header: str) -> dict[str, list[str]]:
    """Every value of every cookie, in order (clients may send a stale and a fresh session id)."""
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out.setdefault(name, []).append(value.strip().strip('"'))
    return out


class Authenticator:
    """Holds live sessions, failed-login counters and API tokens."""

    def __init__(
        self, store: Store, session_timeout: float, lockout_failures: int, lockout_seconds: float
    ) -> None:
        self.store = store
        self.session_timeout = session_timeout
        self.lockout_failures = lockout_failures
        self.lockout_seconds = lockout_seconds
        self.sessions: dict[str, Session] = {}
        self.failures: dict[str, int] = {}
        self.locked_until: dict[str, float] = {}
        self.tokens: dict[str, UserToken] = {}

    # -- credentials ----------------------------------------------------------------------------------
    def _user(self, username: str) -> dict | None:
        for user in self.store.objects["user"].values():
            if user.get("username", user.get("name")) == username:
                return user
        return None

    def _check_lock(self, username: str) -> None:
        until = self.locked_until.get(username)
        if until is None:
            return
        if time.monotonic() < until:
            remaining = int(until - time.monotonic()) + 1
            raise ApiError(
                403,
                f"User account '{username}' is locked after too many failed login attempts; "
                f"try again in {remaining} seconds",
            )
        del self.locked_until[username]
        self.failures.pop(username, None)

    def _failed(self, username: str) -> None:
        if self.lockout_failures <= 0:
            return
        count = self.failures.get(username, 0) + 1
        self.failures[username] = count
        if count >= self.lockout_failures:
            self.locked_until[username] = time.monotonic() + self.lockout_seconds

    def verify(self, username: str, password: str | None = None, token: str | None = None) -> bool:
        """Check a password or API token, applying the lockout; raises 403 while locked."""
        self._check_lock(username)
        ok = False
        if token is not None:
            tok = self.tokens.get(token)
            ok = tok is not None and tok.username == username and tok.expires > time.time()
        elif password is not None:
            user = self._user(username)
            ok = user is not None and secrets.compare_digest(str(user.get("password", "")), password)
        if ok:
            self.failures.pop(username, None)
        else:
            self._failed(username)
        return ok

    # -- sessions -------------------------------------------------------------------------------------
    def new_session(self, username: str) -> Session:
        session = Session(id=secrets.token_hex(16), csrftoken=secrets.token_urlsafe(24), username=username)
        self.sessions[session.id] = session
        return session

    def session_from(self, request: web.Request) -> Session | None:
        """The caller's live session; raises 401 (expired) or 419 (switched); None if no cookie."""
        cookies = parse_cookies(request.headers.get("Cookie", ""))
        ids = [v for name in SESSION_COOKIES for v in reversed(cookies.get(name, []))]
        if not ids:
            return None
        now = time.monotonic()
        for session_id in ids:
            session = self.sessions.get(session_id)
            if session is None:
                continue
            if session.switched:
                del self.sessions[session_id]
                raise ApiError(419, "Need to switch session")
            if now - session.last_used > self.session_timeout:
                del self.sessions[session_id]
                continue
            session.last_used = now
            return session
        raise no_credentials()

    def basic(self, header: str) -> str:
        try:
            raw = base64.b64decode(header.split(None, 1)[1], validate=True).decode()
        except (IndexError, binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError(401, "Invalid basic header.", key="detail") from exc
        username, _, password = raw.partition(":")
        if not self.verify(username, password=password):
            raise ApiError(401, "Invalid username/password.", key="detail")
        return username

    def bearer(self, header: str) -> str:
        token = header.split(None, 1)[1].strip() if " " in header else ""
        tok = self.tokens.get(token)
        if tok is None or tok.expires <= time.time():
            raise ApiError(401, "Invalid token.", key="detail")
        return tok.username

    def authenticate(self, request: web.Request, allow_basic: bool) -> Caller:
        """Who is calling: Authorization header (Basic/Token/Bearer) or the session cookie."""
        header = request.headers.get("Authorization", "")
        scheme = header.split(None, 1)[0].lower() if header else ""
        if scheme == "basic" and allow_basic:
            return Caller(self.basic(header))
        if scheme in ("token", "bearer"):
            return Caller(self.bearer(header))
        session = self.session_from(request)
        if session is None:
            raise no_credentials()
        if request.method in WRITE_METHODS:
            sent = request.headers.get("X-CSRFToken", "")
            if not sent or not secrets.compare_digest(sent, session.csrftoken):
                raise ApiError(401, CSRF_FAILED, body=CSRF_FAILED)
        return Caller(session.username, session)

    def logout(self, request: web.Request) -> None:
        cookies = parse_cookies(request.headers.get("Cookie", ""))
        for name in SESSION_COOKIES:
            for session_id in cookies.get(name, []):
                self.sessions.pop(session_id, None)

    # -- test hooks -----------------------------------------------------------------------------------
    def expire_all(self) -> None:
        for session in self.sessions.values():
            session.last_used = float("-inf")

    def switch_all(self) -> None:
        for session in self.sessions.values():
            session.switched = True


def set_session_cookies(
    response: web.StreamResponse, session: Session, secure: bool, with_csrf: bool
) -> None:
    """The controller's cookies: csrftoken (1 year) and both session ids (HttpOnly, 1 day); Secure on TLS."""
    if with_csrf:
        response.set_cookie(CSRF_COOKIE, session.csrftoken, max_age=31449600, path="/", secure=secure or None)
    for name in SESSION_COOKIES:
        response.set_cookie(name, session.id, max_age=86400, path="/", httponly=True, secure=secure or None)
