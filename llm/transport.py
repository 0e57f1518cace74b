"""An httpx transport on aiohttp's client, for the Ollama client (`ollama.AsyncClient(transport=...)`).

Why: at a hundred concurrent streamed calls, httpcore's pool and its per-chunk anyio machinery cost
more CPU than the rest of a turn, and kept-alive connections make it worse (each request scans every
pooled connection and polls the idle ones). aiohttp parses HTTP in C and keeps idle connections in a
deque per host, so a connection is reused for the price of a pop.

Everything above the transport stays httpx's and ollama's own: requests, `raise_for_status`, NDJSON
lines, event hooks. What this module guarantees is httpx's contract below it:
- the pool holds at most `Limits.max_connections` requests at once; one that waits longer than the
  `pool` timeout raises `httpx.PoolTimeout`;
- `connect` bounds the TCP (and TLS) connect (`httpx.ConnectTimeout`), `read` the wait for each chunk
  (`httpx.ReadTimeout`); a refused connection is `httpx.ConnectError`, a connection that breaks
  mid-reply `httpx.RemoteProtocolError` or `httpx.ReadError`;
- idle connections are kept `Limits.keepalive_expiry` seconds (none with `max_keepalive_connections=0`;
  otherwise their number is bounded by `max_connections` alone);
- TLS is verified with httpx's default context (which honours `SSL_CERT_FILE`/`SSL_CERT_DIR`).

A proxy from the environment (`HTTP(S)_PROXY`/`ALL_PROXY`, unless `NO_PROXY` exempts the host) is
httpx's business: `fast_transport` then answers None and httpx's own transport is used, as before.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import AsyncIterator

import aiohttp
import httpx

_AIOHTTP_SETS = frozenset({"host", "content-length", "transfer-encoding"})
"Request headers that aiohttp writes itself, from the URL and the body."
_NO_TIMEOUT: dict[str, float | None] = {"connect": None, "read": None, "write": None, "pool": None}


def fast_transport(host: str, limits: httpx.Limits) -> AiohttpTransport | None:
    """The aiohttp transport for Ollama at `host`, or None when an environment proxy may apply to it."""
    url = httpx.URL(host if "://" in host else f"http://{host}")
    proxies = urllib.request.getproxies()
    if any(proxies.get(k) for k in (url.scheme, "all")) and not urllib.request.proxy_bypass(url.host):
        return None
    return AiohttpTransport(limits)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncBaseTransport` over one `aiohttp.ClientSession`, made on first use (it needs the loop)."""

    def __init__(self, limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True) -> None:
        self._limits = limits
        self._verify = verify
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limits.max_connections or 1_000_000)

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # A session belongs to one event loop (a second `asyncio.run` gets its own).
            limits = self._limits
            self._loop = loop
            self._slots = asyncio.Semaphore(limits.max_connections or 1_000_000)
            ssl_context = httpx.create_ssl_context() if self._verify is True else self._verify
            expiry = limits.keepalive_expiry
            connector = aiohttp.TCPConnector(
                limit=0,  # the semaphore bounds requests, so that a wait can raise PoolTimeout
                limit_per_host=0,
                keepalive_timeout=expiry if expiry is not None else 5.0,
                force_close=limits.max_keepalive_connections == 0,
                ssl=ssl_context,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
                auto_decompress=False,  # httpx decodes by Content-Encoding
                trust_env=False,  # no proxy applies (see `fast_transport`), and no ~/.netrc read per request
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = {**_NO_TIMEOUT, **request.extensions.get("timeout", {})}
        session = self._open()
        slots = self._slots
        try:
            async with asyncio.timeout(timeout["pool"]):
                await slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection to Ollama in time", request=request) from None
        try:
            response = await self._send(session, request, timeout)
        except BaseException:
            slots.release()
            raise
        return httpx.Response(
            response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            stream=_Body(response, slots, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
        )

    async def _send(
        self, session: aiohttp.ClientSession, request: httpx.Request, limits: dict[str, float | None]
    ) -> aiohttp.ClientResponse:
        body = await request.aread()
        client_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=limits["connect"], sock_read=limits["read"]
        )
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _AIOHTTP_SETS]
        try:
            return await session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=client_timeout,
            )
        except Exception as exc:
            raise _mapped(exc, request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _Body(httpx.AsyncByteStream):
    """A response body read from aiohttp; closing it frees the request's slot (once)."""

    def __init__(self, response: aiohttp.ClientResponse, slots: asyncio.Semaphore, request: httpx.Request):
        self._response = response
        self._slots = slots
        self._request = request
        self._open = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as exc:
            raise _mapped(exc, self._request) from exc

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            self._response.release()  # back to the pool when read to its end, else closed
            self._slots.release()


def _mapped(exc: BaseException, request: httpx.Request) -> BaseException:
    """aiohttp's exception as the httpx one that its caller expects."""
    message = str(exc) or type(exc).__name__
    kind: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.ClientOSError | OSError):
        kind = httpx.ReadError
    elif isinstance(exc, aiohttp.ClientError):
        kind = httpx.RemoteProtocolError
    else:
        return exc
    return kind(message, request=request)
