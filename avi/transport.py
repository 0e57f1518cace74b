"""The HTTP layer under the client: one pooled httpx.AsyncClient with timeouts, TLS and limits.

Kept apart from the protocol (login, CSRF, tenants) so tests and the benchmark can swap the
transport (`httpx.AsyncBaseTransport`) without touching the client's logic.
"""

from __future__ import annotations

import logging
import random
import re
import ssl
from http.cookies import SimpleCookie
from typing import Any

import httpx

from avi.errors import AviOutcomeUnknown, AviUnavailableError
from avi.settings import AviSettings

log = logging.getLogger("avi.transport")
_client_log = logging.getLogger("avi.client")  # the client's own warnings, as before

# Retried on connection errors and 502/503/504. Only the methods without side effects: a PUT or DELETE
# is idempotent in theory, but sent again after a lost reply it meets the state it made itself (a DELETE
# then answers 404 for an object it did delete), so no write is ever sent twice (the login is retried
# on its own terms, see AviClient._do_login).
IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUS: frozenset[int] = frozenset({502, 503, 504})
# Failures that happen before a byte of the request leaves: the controller surely did not apply it.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)

_insecure_warned: set[str] = set()

# httpcore logs raw response headers (Set-Cookie) at DEBUG; these patterns mask session secrets.
_COOKIE_VALUE = re.compile(r"(?i)\b((?:csrftoken|sessionid|avi-sessionid)=)[^;'\",\s]+")
_SECRET_HEADER = re.compile(r"(?i)(b?'(?:x-csrftoken|authorization|cookie)',\s*b?')[^']*")
_HTTP_LOGGERS = ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy")


class SecretLogFilter(logging.Filter):
    """Masks cookies, CSRF tokens and Authorization in the HTTP libraries' own debug records."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message or "'" in message:
            masked = _SECRET_HEADER.sub(r"\1<redacted>", _COOKIE_VALUE.sub(r"\1<redacted>", message))
            if masked != message:
                record.msg, record.args = masked, ()
        return True


_FILTER = SecretLogFilter()


def install_log_filter() -> None:
    """Attach the filter to the HTTP libraries' loggers (idempotent)."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def tls_verify(settings: AviSettings) -> ssl.SSLContext | bool:
    """Verify on by default; a CA bundle if given; off only when `verify_ssl` is explicitly False."""
    if not settings.verify_ssl:
        host = settings.host or "?"
        if host not in _insecure_warned:
            _insecure_warned.add(host)
            log.warning("TLS certificate verification is OFF for %s (avi.verify_ssl=false)", host)
        return False
    if settings.ca_bundle is not None:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    return True


KEEPALIVE_SECONDS = 30.0
"Idle pooled connections live this long: a TLS handshake with the controller costs more than the idle socket."


def pool_limits(settings: AviSettings) -> httpx.Limits:
    """`avi.max_connections` at once, all of them kept alive between calls (a burst of questions then
    reuses its TLS sessions); calls beyond it wait for a free one, up to `avi.timeout` (httpx's pool
    timeout), and then fail as not sent."""
    return httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )


def build_http_client(
    settings: AviSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A pooled client for one controller; redirects are not followed (a login page is an error)."""
    install_log_filter()
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    limits = pool_limits(settings)
    kwargs: dict[str, Any] = {"timeout": timeout, "follow_redirects": False}
    if transport is not None:
        kwargs["transport"] = transport
    else:
        kwargs["verify"] = tls_verify(settings)
        kwargs["limits"] = limits
    return httpx.AsyncClient(**kwargs)


def parse_set_cookies(response: httpx.Response) -> dict[str, str]:
    """The cookies a response sets, by name (no jar: the client keeps one session explicitly)."""
    out: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except Exception:  # a malformed cookie must not break a call
            continue
        for name, morsel in jar.items():
            out[name] = morsel.value
    return out


def backoff_delay(attempt: int, base: float, cap: float = 5.0) -> float:
    """Exponential backoff with full jitter: attempt 0 -> up to `base`, 1 -> up to 2*base, ..."""
    return random.uniform(0, min(cap, base * (2**attempt))) + base / 2


def transport_error(
    exc: httpx.TransportError, method: str, path: str, write: bool, base_url: str
) -> AviUnavailableError:
    """The typed error for a request that got no answer; see `AviClient._send` for which one."""
    where = f"the controller at {base_url}"
    if write and not isinstance(exc, NOT_SENT_ERRORS):
        # No parentheses inside: the bot quotes this message in parentheses.
        if isinstance(exc, httpx.TimeoutException):
            message = f"{where} did not answer in time after the request was sent: {type(exc).__name__}"
        else:
            detail = str(exc).strip().rstrip(".")
            message = f"the connection to {where} broke after the request was sent: " + (
                f"{type(exc).__name__}, {detail}" if detail else type(exc).__name__
            )
        _client_log.warning("%s %s: outcome unknown (%s)", method, path, type(exc).__name__)
        return AviOutcomeUnknown(message, method=method, path=path)
    if isinstance(exc, httpx.TimeoutException):
        return AviUnavailableError(
            f"{where} did not answer in time ({type(exc).__name__})", method=method, path=path
        )
    return AviUnavailableError(
        f"{where} is unreachable ({type(exc).__name__}: {exc})", method=method, path=path
    )
