"""Async client for the Avi controller REST API, speaking its session protocol.

Speaks the controller's session protocol: `POST /login`, the `csrftoken`/`sessionid`/`avi-sessionid`
cookies, `X-CSRFToken` + `Referer` on writes, `X-Avi-Version` and a per-call `X-Avi-Tenant`.
It logs in lazily, re-logs in transparently once on 401/419 (one login at a time, however many calls
are in flight), retries reads (GET/HEAD/OPTIONS) and the login on connection errors and 502/503/504 with
jittered exponential backoff, never a write, and maps failures to the typed errors of `avi.errors`: a
write whose request may have reached the controller without an answer is `AviOutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from avi.client_types import (
    LOGIN_BACKOFF,
    AviResponse,
    ClientStats,
    LoginState,
    Page,
    Params,
    RequestEvent,
    RequestObserver,
    _encode_params,
    _Session,
    api_path,
    decode_body,
    looks_like_uuid,
)
from avi.collections import CollectionReads
from avi.errors import AviAuthError, AviError, AviOutcomeUnknown, AviUnavailableError, error_for_status
from avi.read_share import RawAnswer, ReadShare, read_key
from avi.settings import AviSettings
from avi.transport import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUS,
    WRITE_METHODS,
    backoff_delay,
    build_http_client,
    parse_set_cookies,
    transport_error,
)

log = logging.getLogger("avi.client")

__all__ = ["AviClient", "AviResponse", "LoginState", "Page", "RequestEvent", "api_path", "looks_like_uuid"]

_SESSION_COOKIES = ("csrftoken", "sessionid", "avi-sessionid")


class AviClient(CollectionReads):
    """One controller, one session, shared by any number of concurrent calls."""

    def __init__(
        self,
        settings: AviSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_backoff: float = 0.25,
        observers: list[RequestObserver] | None = None,
        login_backoff: tuple[float, float] = LOGIN_BACKOFF,
    ) -> None:
        self._settings = settings
        self.observers: list[RequestObserver] = list(observers or [])
        self._base_url = settings.base_url
        self._http = build_http_client(settings, transport)
        self._retry_backoff = retry_backoff
        self._session: _Session | None = None
        self._generation = 0
        self._login_lock = asyncio.Lock()
        self._controller_version: str | None = None
        self._login_info: dict[str, Any] = {}
        self._login_attempts = 0
        self._login_error: AviError | None = None
        self._login_backoff = login_backoff
        self._refusals = 0  # logins refused in a row (wrong password, locked account)
        self._blocked_until = 0.0
        self.stats = ClientStats()
        self.reads = ReadShare(settings.cache_seconds)

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> AviClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def settings(self) -> AviSettings:
        return self._settings

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def controller_version(self) -> str | None:
        """The controller's version from the last login response (None before the first login)."""
        return self._controller_version

    @property
    def api_version(self) -> str | None:
        """The `X-Avi-Version` sent: the configured one, else the controller's own."""
        return self._settings.version or self._controller_version

    @property
    def logged_in(self) -> bool:
        return self._session is not None

    # -- session -------------------------------------------------------------------------------

    async def login(self) -> dict[str, Any]:
        """Log in now (calls log in lazily anyway); returns the user and tenants, without secrets."""
        async with self._login_lock:
            await self._login_locked()
        return dict(self._login_info)

    async def _ensure_session(self, stale_generation: int | None) -> _Session:
        """The current session; logs in if there is none or if it is the one that just failed.

        Calls that queued behind a login that failed share its error instead of each trying again:
        100 concurrent calls with a wrong password cost one failed login, not a locked account.
        """
        attempts_seen = self._login_attempts
        async with self._login_lock:
            session = self._session
            if session is not None and (stale_generation is None or session.generation != stale_generation):
                return session
            error = self._login_error
            if self._login_attempts != attempts_seen and error is not None:
                raise type(error)(error.message, status=error.status, method=error.method, path=error.path)
            return await self._login_locked()

    @property
    def login_state(self) -> LoginState:
        """What the last login came to, without making one (health probes read this)."""
        if self._session is not None:
            return LoginState("ok")
        if isinstance(self._login_error, AviAuthError):
            retry = max(0.0, self._blocked_until - time.monotonic())
            return LoginState("failed", round(retry, 1), self._login_error.message)
        return LoginState("none")

    async def reachable(self) -> bool:
        """Whether the controller answers `GET /api/initial-data`, which needs no login: a probe
        must never cost a login (a wrong password would lock the account sooner)."""
        try:
            resp = await self._send(
                "GET", "/api/initial-data", None, None, {"Accept": "application/json"}, retryable=False
            )
        except AviUnavailableError:
            return False
        return resp.status_code == 200

    def _refused_recently(self) -> AviAuthError | None:
        """The last refusal while its backoff lasts: then no new attempt is made."""
        error = self._login_error
        remaining = self._blocked_until - time.monotonic()
        if not isinstance(error, AviAuthError) or remaining <= 0:
            return None
        return AviAuthError(
            f"{error.message} (not retrying for {remaining:.0f} s, so that the account is not locked)",
            status=error.status,
            method=error.method,
            path=error.path,
        )

    async def _login_locked(self) -> _Session:
        refused = self._refused_recently()
        if refused is not None:
            raise refused
        settings = self._settings
        body: dict[str, str] = {"username": settings.username}
        if settings.token is not None:
            body["token"] = settings.token.get_secret_value()
        elif settings.password is not None:
            body["password"] = settings.password.get_secret_value()
        else:
            raise AviAuthError("no password or token configured", method="POST", path="/login")
        self._session = None
        self._http.cookies.clear()
        try:
            session = await self._do_login(body)
        except AviError as exc:
            self._login_error = exc
            if isinstance(exc, AviAuthError):
                first, most = self._login_backoff
                self._blocked_until = time.monotonic() + min(most, first * 2**self._refusals)
                self._refusals += 1
            raise
        finally:
            # Counted when the attempt ends, so calls that queued during it see that it happened.
            self._login_attempts += 1
        self._login_error = None
        self._refusals = 0
        self._blocked_until = 0.0
        return session

    async def _do_login(self, body: dict[str, str]) -> _Session:
        settings = self._settings
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        # Login has no side effect, so it may be retried on connection errors like a GET.
        resp = await self._send("POST", "/login", None, body, headers, retryable=True)
        self.stats.logins += 1
        if resp.status_code != 200:
            message = error_for_status(resp.status_code, resp.text, method="POST", path="/login")
            if 400 <= resp.status_code < 500 and resp.status_code != 429:
                raise AviAuthError(
                    f"login as {settings.username!r} failed: {message.message}",
                    status=resp.status_code,
                    method="POST",
                    path="/login",
                )
            raise message
        cookies = {k: v for k, v in parse_set_cookies(resp).items() if k in _SESSION_COOKIES}
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if "csrftoken" not in cookies:
            raise AviAuthError("login response carried no csrftoken cookie", method="POST", path="/login")
        session_name = str(data.get("session_cookie_name") or "sessionid")
        session_id = parse_set_cookies(resp).get(session_name) or cookies.get("sessionid")
        if not session_id:
            raise AviAuthError("login response carried no session cookie", method="POST", path="/login")
        # Newer controllers read avi-sessionid, older ones sessionid: send both.
        cookies["sessionid"] = session_id
        cookies["avi-sessionid"] = session_id
        version = data.get("version")
        if isinstance(version, dict) and version.get("Version"):
            self._controller_version = str(version["Version"])
        user_value = data.get("user")
        user: dict[str, Any] = user_value if isinstance(user_value, dict) else {}
        self._login_info = {
            "username": user.get("username", settings.username),
            "controller_version": self._controller_version,
            "tenants": [t.get("name") for t in data.get("tenants", []) if isinstance(t, dict)],
        }
        self._generation += 1
        self._session = _Session(self._generation, cookies)
        log.info("logged in to %s as %s", self._base_url, settings.username)
        return self._session

    async def logout(self) -> None:
        """`POST /logout` and forget the session; the next call logs in again."""
        async with self._login_lock:
            session = self._session
            self._session = None
            if session is None:
                return
            try:
                resp = await self._send("POST", "/logout", None, None, self._headers(session, None), False)
                log.debug("logout -> %s", resp.status_code)
            except AviUnavailableError:
                pass
            self._http.cookies.clear()

    # -- requests ------------------------------------------------------------------------------

    def _headers(
        self, session: _Session, tenant: str | None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Referer": self._base_url,
            "X-CSRFToken": session.csrftoken,
            "Cookie": session.cookie_header(),
            "X-Avi-Tenant": tenant or self._settings.tenant,
        }
        version = self.api_version
        if version:
            headers["X-Avi-Version"] = version
        if extra:
            headers.update(extra)
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: Any,
        headers: Mapping[str, str],
        retryable: bool,
        *,
        write: bool = False,
    ) -> httpx.Response:
        """Send with bounded retries (`retryable` only) on connection errors and 502/503/504.

        A `write` is sent once, and a failure after its request may have left is `AviOutcomeUnknown`:
        a read or write timeout, a connection broken or closed mid-exchange. Only a failure before
        anything was sent (connection refused, connect or pool timeout) is a plain `AviUnavailableError`.
        """
        attempts = (self._settings.retries + 1) if retryable else 1
        url = self._base_url + path
        content = None if json is None else jsonlib.dumps(json).encode()
        for attempt in range(attempts):
            self.stats.requests += 1
            self.stats.by_method[method] += 1
            started = time.perf_counter()
            error: AviError | None = None
            try:
                resp = await self._http.request(method, url, params=params, content=content, headers=headers)
            except httpx.TransportError as exc:
                error = transport_error(exc, method, path, write, self._base_url)
            finally:
                elapsed = time.perf_counter() - started
                self.stats.http_seconds += elapsed
            self._notify(RequestEvent(method, path, resp.status_code if error is None else None, elapsed))
            if error is None:
                if resp.status_code not in RETRYABLE_STATUS or attempt == attempts - 1:
                    log.debug("%s %s -> %s", method, path, resp.status_code)
                    return resp
                log.info("%s %s -> %s, retrying", method, path, resp.status_code)
            elif attempt == attempts - 1:
                raise error
            self.stats.retries += 1
            await asyncio.sleep(backoff_delay(attempt, self._retry_backoff))
        raise AssertionError("unreachable")  # pragma: no cover

    def _notify(self, event: RequestEvent) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except Exception:  # watching a request must never break it
                log.exception("controller request observer failed")

    def _absorb_cookies(self, resp: httpx.Response, session: _Session) -> None:
        """Sliding sessions: a response may re-set the session cookies or issue a new csrftoken."""
        if "set-cookie" not in resp.headers or self._session is not session:
            return
        for name, value in parse_set_cookies(resp).items():
            if name in _SESSION_COOKIES and value:
                session.cookies[name] = value

    async def request_full(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        tenant: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AviResponse:
        """One API call: lazy login, one transparent re-login on 401/419, typed errors; identical
        reads shared and kept briefly, every write dropping what was kept (avi/read_share.py)."""
        raw = await self._answer(method, path, params, json, tenant, headers)
        return AviResponse(raw.status, decode_body(raw.content), raw.headers)

    async def get_raw(
        self, path: str, *, params: Params | None = None, tenant: str | None = None
    ) -> RawAnswer:
        """A GET's undecoded answer, shared with identical reads: for `map_pages` (avi/collections.py)."""
        return await self._answer("GET", path, params, None, tenant, None)

    async def _answer(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: Any,
        tenant: str | None,
        headers: Mapping[str, str] | None,
    ) -> RawAnswer:
        method = method.upper()
        path = api_path(path)
        started = time.perf_counter()
        self.stats.calls += 1
        try:
            encoded = _encode_params(params)
            if method == "GET" and headers is None and self.reads.enabled:
                key = read_key(tenant or self._settings.tenant, path, encoded)
                return await self.reads.read(
                    key, lambda: self._exchange(method, path, encoded, None, tenant, None)
                )
            if method in WRITE_METHODS:
                self.reads.invalidate()
                try:
                    return await self._exchange(method, path, encoded, json, tenant, headers)
                finally:
                    self.reads.invalidate()
            return await self._exchange(method, path, encoded, json, tenant, headers)
        except AviError:
            self.stats.errors += 1
            raise
        finally:
            self.stats.call_seconds += time.perf_counter() - started

    async def _exchange(
        self,
        method: str,
        path: str,
        encoded: dict[str, str] | None,
        json: Any,
        tenant: str | None,
        headers: Mapping[str, str] | None,
    ) -> RawAnswer:
        """Send one call (logging in as needed) and map a failure to its typed error."""
        retryable = method in IDEMPOTENT_METHODS
        write = method in WRITE_METHODS
        session = self._session or await self._ensure_session(None)
        resp = await self._send(
            method, path, encoded, json, self._headers(session, tenant, headers), retryable, write=write
        )
        if resp.status_code in (401, 419) and path not in ("/login", "/logout"):
            # Refused before it was applied: sending the write again after a login is not a retry.
            log.info("%s %s -> %s, logging in again", method, path, resp.status_code)
            self.stats.relogins += 1
            session = await self._ensure_session(session.generation)
            resp = await self._send(
                method, path, encoded, json, self._headers(session, tenant, headers), retryable, write=write
            )
        self._absorb_cookies(resp, session)
        if resp.status_code >= 400:
            error = error_for_status(resp.status_code, resp.text, method=method, path=path)
            if isinstance(error, AviUnavailableError):
                message = f"the controller at {self._base_url} is unavailable: {error.message}"
                if write and resp.status_code >= 500:
                    # A 5xx may come after the change was made (a proxy's 504, a crash mid-commit).
                    raise AviOutcomeUnknown(
                        message, method=method, path=path, status=resp.status_code, body=error.body
                    )
                error.message = message
                error.args = (error.message,)
            raise error
        return RawAnswer(resp.status_code, resp.content, resp.headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        tenant: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON body of one API call (None for an empty body, e.g. DELETE's 204)."""
        resp = await self.request_full(method, path, params=params, json=json, tenant=tenant, headers=headers)
        return resp.body

    async def get(self, path: str, *, params: Params | None = None, tenant: str | None = None) -> Any:
        return await self.request("GET", path, params=params, tenant=tenant)

    async def post(
        self, path: str, json: Any = None, *, params: Params | None = None, tenant: str | None = None
    ) -> Any:
        return await self.request("POST", path, json=json, params=params, tenant=tenant)

    async def put(
        self, path: str, json: Any = None, *, params: Params | None = None, tenant: str | None = None
    ) -> Any:
        return await self.request("PUT", path, json=json, params=params, tenant=tenant)

    async def patch(
        self, path: str, json: Any = None, *, params: Params | None = None, tenant: str | None = None
    ) -> Any:
        return await self.request("PATCH", path, json=json, params=params, tenant=tenant)

    async def delete(self, path: str, *, params: Params | None = None, tenant: str | None = None) -> Any:
        return await self.request("DELETE", path, params=params, tenant=tenant)
