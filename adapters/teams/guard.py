"""What a request to the Bot Framework endpoint must be before any activity is read from it.

A browser page may POST to any address without asking (a CORS "simple request": `text/plain`, no
custom header), and without an app id nothing else would tell it from the Emulator. So:

- the body must be `application/json` (parameters such as `charset` aside): a type no page on
  another site can send without a preflight, which is never granted (415 otherwise);
- a request that says it comes from another site (`Origin` not this server, or
  `Sec-Fetch-Site: cross-site`) is refused (403): neither Teams nor the Emulator sends one;
- without an app id (the Emulator) the `Host` must be a loopback name (DNS rebinding), and the
  activity's `serviceUrl`, where every reply goes, must be a loopback address (400);
- with an app id, the token's `serviceurl` claim, signed by the Bot Framework, must be the activity's
  `serviceUrl` (`ServiceUrlBoundAuthentication`): the SDK checks it for channel tokens only, not for
  tokens it takes for the Emulator's.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication

JSON_TYPE = "application/json"
SERVICE_URL_CLAIM = "serviceurl"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._\-]+)(?::(\d{1,5}))?$")
_LOOPBACK_URL = re.compile(r"^https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?(?:/[^\s\\@]*)?$", re.I)


def split_host(value: str) -> tuple[str, int | None] | None:
    """(lower-case name or `[v6]`, port or None) of a Host header; None when malformed."""
    match = _HOST.match(value.strip().lower())
    if match is None:
        return None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def json_body(request: web.Request) -> bool:
    """Whether the media type is exactly application/json (`; charset=utf-8` and the like are fine)."""
    return request.content_type == JSON_TYPE


def cross_site(request: web.Request) -> str | None:
    """Why the request comes from a page on another site, or None."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return "cross-site request refused (Sec-Fetch-Site: cross-site)"
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return None
    refused = "cross-origin request refused: the Origin header is not this server"
    host = split_host(request.headers.get(hdrs.HOST, ""))
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return refused
    if host is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return refused
    name = parts.hostname.lower()
    name = f"[{name}]" if ":" in name else name
    default = 443 if parts.scheme == "https" else 80
    return None if (name, port or default) == (host[0], host[1] or default) else refused


def loopback_host(request: web.Request) -> bool:
    """Whether the Host header names this machine's loopback (not a rebinding name)."""
    host = split_host(request.headers.get(hdrs.HOST, ""))
    return host is not None and host[0] in LOOPBACK_HOSTS


def loopback_service_url(body: Any) -> bool:
    """Whether the activity's `serviceUrl` is http(s) on 127.0.0.1, localhost or [::1] (any port)."""
    url = body.get("serviceUrl") if isinstance(body, dict) else None
    return isinstance(url, str) and _LOOPBACK_URL.match(url) is not None


class ServiceUrlBoundAuthentication(ConfigurationBotFrameworkAuthentication):
    """The SDK's authentication, plus: with an app id, a token is good only for the `serviceUrl`
    its `serviceurl` claim names (a token without the claim, e.g. an Emulator-style one, for none)."""

    def __init__(self, configuration: Any, *, bind_service_url: bool) -> None:
        super().__init__(configuration)
        self._bind = bind_service_url

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = await super().authenticate_request(activity, auth_header)
        if self._bind:
            identity = result.claims_identity
            claim = identity.get_claim_value(SERVICE_URL_CLAIM) if identity is not None else None
            if not claim or claim != activity.service_url:
                raise PermissionError("the token's serviceurl claim is not the activity's serviceUrl")
        return result
