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
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from avi.errors import (
    AviAuthError,
    AviError,
    AviNotFoundError,
    AviOutcomeUnknown,
    AviUnavailableError,
    error_for_status,
)
from avi.settings import AviSettings
from avi.transport import (
    IDEMPOTENT_METHODS,
    NOT_SENT_ERRORS,
    RETRYABLE_STATUS,
    WRITE_METHODS,
    backoff_delay,
    build_http_client,
    parse_set_cookies,
)

log = logging.getLogger("avi.client")

Params = Mapping[str, Any]

_UUID_RE = re.compile(r"^[a-z][a-z0-9]*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SE_UUID_RE = re.compile(r"^se-[0-9a-f]{6,}$")
_SESSION_COOKIES = ("csrftoken", "sessionid", "avi-sessionid")


@dataclass(frozen=True)
class RequestEvent:
    """One HTTP request to the controller, told to the client's observers (metrics, logs).

    `status` is the HTTP status, or None when no answer came (timeout, connection refused).
    """

    method: str
    path: str
    status: int | None
    seconds: float


RequestObserver = Callable[[RequestEvent], None]
LOGIN_BACKOFF = (30.0, 600.0)  # after a refused login: wait this long, doubling up to the maximum


@dataclass(frozen=True)
class LoginState:
    """Whether the client has a session: `ok`, `failed` (and when it will try again) or `none` yet."""

    status: str
    retry_in_seconds: float = 0.0
    message: str = ""


@dataclass
class ClientStats:
    """Counters for the benchmark and the cost tests.

    `requests` counts every HTTP request sent (logins and retries included); the difference between
    `call_seconds` and `http_seconds` is the client's own overhead.
    """

    calls: int = 0
    requests: int = 0
    logins: int = 0
    relogins: int = 0
    retries: int = 0
    errors: int = 0
    http_seconds: float = 0.0
    call_seconds: float = 0.0
    by_method: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    @property
    def overhead_seconds(self) -> float:
        """Time spent in the client outside the HTTP exchanges (including backoff sleeps)."""
        return max(0.0, self.call_seconds - self.http_seconds)


@dataclass
class _Session:
    generation: int
    cookies: dict[str, str]

    @property
    def csrftoken(self) -> str:
        return self.cookies.get("csrftoken", "")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


@dataclass(frozen=True)
class AviResponse:
    """A successful response: status, decoded JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Page:
    """One page of a collection: `count` is the controller's total over all pages."""

    number: int
    count: int
    results: list[dict[str, Any]]


def api_path(obj_type_or_path: str) -> str:
    """`pool` -> `/api/pool`; `/api/...` and `/login`-style paths are kept as given."""
    if obj_type_or_path.startswith("/"):
        return obj_type_or_path
    return "/api/" + obj_type_or_path.lstrip("/")


def looks_like_uuid(value: str) -> bool:
    """Controller uuids: `<type>-<uuid4>`, service engines `se-<hex>`, plus `admin`/`default`-style ids."""
    return bool(_UUID_RE.match(value) or _SE_UUID_RE.match(value))


def _encode_params(params: Params | None) -> dict[str, str] | None:
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


class AviClient:
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
                error = self._transport_error(exc, method, path, write)
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

    def _transport_error(
        self, exc: httpx.TransportError, method: str, path: str, write: bool
    ) -> AviUnavailableError:
        """The typed error for a request that got no answer; see `_send` for which one."""
        where = f"the controller at {self._base_url}"
        if write and not isinstance(exc, NOT_SENT_ERRORS):
            # No parentheses inside: the bot quotes this message in parentheses.
            if isinstance(exc, httpx.TimeoutException):
                message = f"{where} did not answer in time after the request was sent: {type(exc).__name__}"
            else:
                detail = str(exc).strip().rstrip(".")
                message = f"the connection to {where} broke after the request was sent: " + (
                    f"{type(exc).__name__}, {detail}" if detail else type(exc).__name__
                )
            log.warning("%s %s: outcome unknown (%s)", method, path, type(exc).__name__)
            return AviOutcomeUnknown(message, method=method, path=path)
        if isinstance(exc, httpx.TimeoutException):
            return AviUnavailableError(
                f"{where} did not answer in time ({type(exc).__name__})", method=method, path=path
            )
        return AviUnavailableError(
            f"{where} is unreachable ({type(exc).__name__}: {exc})", method=method, path=path
        )

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
        """One API call: lazy login, one transparent re-login on 401/419, typed errors."""
        method = method.upper()
        path = api_path(path)
        started = time.perf_counter()
        self.stats.calls += 1
        try:
            encoded = _encode_params(params)
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
                    method,
                    path,
                    encoded,
                    json,
                    self._headers(session, tenant, headers),
                    retryable,
                    write=write,
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
            body: Any = None
            if resp.content:
                try:
                    body = resp.json()
                except ValueError:
                    body = resp.text
            return AviResponse(resp.status_code, body, resp.headers)
        except AviError:
            self.stats.errors += 1
            raise
        finally:
            self.stats.call_seconds += time.perf_counter() - started

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

    # -- collections ---------------------------------------------------------------------------

    def _relative_next(self, next_url: str) -> str | None:
        """The path+query of a `next` link; the host is always the configured controller's."""
        url = httpx.URL(next_url)
        path = url.raw_path.decode("ascii")
        return path if path.startswith("/api/") else None

    async def iter_pages(
        self,
        obj_type_or_path: str,
        *,
        params: Params | None = None,
        tenant: str | None = None,
        page_size: int = 200,
        max_pages: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages of a collection, following the controller's absolute `next` links."""
        query = dict(params or {})
        query.setdefault("page_size", max(1, min(page_size, 200)))
        path: str | None = api_path(obj_type_or_path)
        request_params: Params | None = query
        number = 0
        while path is not None:
            body = await self.get(path, params=request_params, tenant=tenant)
            number += 1
            if not isinstance(body, dict):
                raise AviError(f"expected a collection at {path}", method="GET", path=path)
            results = body.get("results") or []
            yield Page(number, int(body.get("count", len(results))), results)
            nxt = body.get("next")
            if not nxt or not results or (max_pages is not None and number >= max_pages):
                return
            path, request_params = self._relative_next(str(nxt)), None

    async def list_all(
        self,
        obj_type_or_path: str,
        *,
        params: Params | None = None,
        tenant: str | None = None,
        page_size: int = 200,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection (or the first `limit`), in ceil(N/page_size) requests."""
        out: list[dict[str, Any]] = []
        async for page in self.iter_pages(
            obj_type_or_path, params=params, tenant=tenant, page_size=page_size
        ):
            out.extend(page.results)
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    async def get_by_name(
        self, obj_type: str, name: str, *, tenant: str | None = None, params: Params | None = None
    ) -> dict[str, Any] | None:
        """The object named `name` in the tenant (names are unique per type per tenant), or None."""
        body = await self.get(api_path(obj_type), params={**(params or {}), "name": name}, tenant=tenant)
        results = body.get("results") if isinstance(body, dict) else None
        return results[0] if results else None

    async def resolve_uuid(self, obj_type: str, name_or_uuid: str, *, tenant: str | None = None) -> str:
        """A uuid passes through; a name is looked up with `?name=` in the tenant (one request)."""
        if looks_like_uuid(name_or_uuid):
            return name_or_uuid
        found = await self.get_by_name(obj_type, name_or_uuid, tenant=tenant, params={"fields": "name"})
        if found is None and "/" not in name_or_uuid:
            # Not a name: maybe an id outside the `<type>-<uuid4>` form (`admin`, `user-1`, `default`).
            try:
                found = await self.get(f"{api_path(obj_type)}/{name_or_uuid}", tenant=tenant)
            except AviNotFoundError:
                found = None
        if not isinstance(found, dict) or not found.get("uuid"):
            raise AviNotFoundError(
                f"no {obj_type} named {name_or_uuid!r} in tenant {tenant or self._settings.tenant!r}",
                status=404,
                method="GET",
                path=api_path(obj_type),
            )
        return str(found["uuid"])
