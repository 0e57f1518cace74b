"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the simulator (or any HTTP server).

Every request is forwarded as it came (method, path, query, headers, body; the reply's status, headers
and body go back unchanged, multiple Set-Cookie included) unless a `Fault` matches it by method and
path prefix. A fault then does one of:

- `delay`: forward the request (the controller applies it), hold the reply for `seconds` (past the
  client's timeout) and only then answer;
- `drop`: forward the request, wait for the upstream's answer, then close the connection without a
  byte of reply (the change is made, the answer is lost);
- `status`: answer that status itself (e.g. 503), without forwarding anything.

A fault fires `times` times (once by default), then the proxy is transparent again, so the read-back
that follows a lost reply sees the controller as it is. `seen` lists every request as "METHOD /path"
with what was done to it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

FaultKind = Literal["delay", "drop", "status"]

# Hop-by-hop headers (RFC 9110 7.6.1) and the ones the two HTTP stacks compute themselves.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


@dataclass
class Fault:
    method: str
    path_prefix: str
    kind: FaultKind
    seconds: float = 0.0
    status: int = 503
    times: int = 1
    fired: int = 0

    def matches(self, request: web.Request) -> bool:
        return (
            self.fired < self.times
            and request.method.upper() == self.method.upper()
            and request.path.startswith(self.path_prefix)
        )


@dataclass
class FaultProxy:
    """`async with FaultProxy(upstream) as proxy:` ... `proxy.url`, `proxy.drop("PATCH", "/api/vs")`."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    # -- faults -----------------------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def delay(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> Fault:
        return self.add(Fault(method, path_prefix, "delay", seconds=seconds, times=times))

    def drop(self, method: str, path_prefix: str, times: int = 1) -> Fault:
        return self.add(Fault(method, path_prefix, "drop", times=times))

    def answer(self, method: str, path_prefix: str, status: int = 503, times: int = 1) -> Fault:
        return self.add(Fault(method, path_prefix, "status", status=status, times=times))

    def clear(self) -> None:
        self.faults.clear()

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- one request ------------------------------------------------------------------------------

    def _fault_for(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                fault.fired += 1
                return fault
        return None

    async def _forward(self, request: web.Request, body: bytes) -> tuple[int, CIMultiDict[str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self._session.request(
            request.method,
            self.upstream + request.rel_url.path_qs,
            headers=headers,
            data=body if body else None,
            allow_redirects=False,
        ) as resp:
            content = await resp.read()
            out: CIMultiDict[str] = CIMultiDict()
            for key, value in resp.headers.items():
                if key.lower() not in _HOP:
                    out.add(key, value)
            return resp.status, out, content

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = self._fault_for(request)
        what = fault.kind if fault is not None else "forwarded"
        self.seen.append(f"{request.method} {request.path} {what}")
        if fault is not None and fault.kind == "status":
            return web.json_response({"error": "Service Unavailable (fault proxy)"}, status=fault.status)
        status, headers, content = await self._forward(request, body)
        if fault is not None and fault.kind == "drop":
            # The controller answered; the answer never reaches the client.
            # Writing a reply on the closed transport fails quietly inside aiohttp.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=status)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        return web.Response(status=status, headers=headers, body=content)
