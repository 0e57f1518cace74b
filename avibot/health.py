"""What the bot depends on, and whether it answers: /api/health, /readyz and /healthz.

Overall status of /api/health (always HTTP 200, so a dashboard can show *why*):
- `ok`: every controller answers, and Ollama and Redis too when configured;
- `degraded`: the default controller answers but another controller, Ollama or Redis does not;
- `down`: the default controller does not answer, so no question about it can be answered.
`checks.avi` is the default controller; `controllers` lists each one (the default first), all
checked concurrently, each within CHECK_SECONDS.
/readyz is the probe for a load balancer: 200 only when the default controller and the store answer
(another controller being down does not take a replica out: it would be down on every replica). It
is unauthenticated, so it says reason codes only (`avi_unreachable`, `avi_login_failed`,
`store_unreachable`), never a message, and it keeps its verdict for READY_CACHE_SECONDS (an
/api/health check refreshes it). No probe ever logs in to a controller: it asks the
unauthenticated `/api/initial-data` and reads the client's login state, so a prober cannot lock
the service account with a wrong password.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from adapters.web.http import json_api, ok
from adapters.web.openapi import RouteDoc, document
from avi.client import AviClient
from avi.errors import AviError
from bot.alerts.service import PollerHealth
from llm.client import OllamaChat
from llm.settings import LLMSettings

CHECK_SECONDS = 3.0
READY_CACHE_SECONDS = 5.0
Status = Literal["ok", "down", "off"]


class Check(BaseModel):
    status: Status
    latency_ms: float | None = None
    detail: str = ""


class ControllerCheck(BaseModel):
    """One controller's reachability and login state."""

    name: str
    label: str = ""
    status: Status
    latency_ms: float | None = None
    detail: str = ""


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "down"]
    mode: Literal["llm", "command"]
    store: str
    checks: dict[str, Check] = Field(description="avi (the default controller), ollama and redis")
    controllers: list[ControllerCheck] = Field(
        default_factory=list, description="every controller, the default first"
    )
    alerts: PollerHealth | None = None  # the alert poller, when alerts are routed


class ReadyResponse(BaseModel):
    ready: bool
    reasons: list[str]


class HealthChecker:
    """Pings each dependency with its own client (the agent's may be in the middle of a turn)."""

    def __init__(
        self,
        clients: Mapping[str, AviClient],
        llm: LLMSettings,
        redis_url: str | None,
        mode: Callable[[], str],
        store: str,
        alerts: Callable[[], PollerHealth | None] = lambda: None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """`clients` by controller name, the default first; `labels` how people call them."""
        if not clients:
            raise ValueError("at least one controller client is needed")
        self._alerts = alerts
        self.clients = dict(clients)
        self.client = next(iter(self.clients.values()))  # the default controller's
        self.labels = dict(labels or {})
        self.llm = OllamaChat(llm)
        self.redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(redis_url, socket_connect_timeout=CHECK_SECONDS)
        self._mode = mode  # the live mode: Ollama is probed and the breaker may open at any time
        self.store = store
        self._ready: tuple[float, ReadyResponse] | None = None

    async def aclose(self) -> None:
        await self.llm.aclose()
        if self.redis is not None:
            await self.redis.aclose()

    @staticmethod
    async def _timed(probe: Awaitable[Any]) -> Check:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(probe, CHECK_SECONDS)
        except TimeoutError:
            return Check(status="down", detail=f"no answer within {CHECK_SECONDS:g} s")
        except AviError as exc:
            return Check(status="down", detail=exc.message)
        except Exception as exc:  # each client has its own errors; only the sentence is shown
            detail = getattr(exc, "message", None) or type(exc).__name__
            return Check(status="down", detail=str(detail))
        return Check(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 1))

    async def avi(self, client: AviClient | None = None) -> Check:
        """Reachable without a login, and what the client's own last login came to (the default
        controller's unless `client` is given)."""
        client = self.client if client is None else client
        started = time.perf_counter()
        try:
            reachable = await asyncio.wait_for(client.reachable(), CHECK_SECONDS)
        except TimeoutError:
            reachable = False
        except Exception as exc:  # a client that cannot even try says why, and counts as down
            detail = getattr(exc, "message", None) or type(exc).__name__
            return Check(status="down", detail=str(detail))
        latency = round((time.perf_counter() - started) * 1000, 1)
        if not reachable:
            return Check(status="down", detail="the controller does not answer")
        state = client.login_state
        if state.status == "failed":
            retry = state.retry_in_seconds
            when = f"; next login attempt in {retry:.0f} s" if retry else ""
            return Check(status="down", latency_ms=latency, detail=f"login refused{when}")
        detail = "reachable; not logged in yet" if state.status == "none" else ""
        return Check(status="ok", latency_ms=latency, detail=detail)

    async def ollama(self) -> Check:
        return await self._timed(self.llm.ping())

    async def store_check(self) -> Check:
        if self.redis is None:
            return Check(status="off", detail="in-process store (no REDIS_URL)")
        return await self._timed(self.redis.ping())

    async def controllers(self) -> list[ControllerCheck]:
        """Every controller, concurrently (a dead one costs CHECK_SECONDS, not one each)."""
        found = await asyncio.gather(*(self.avi(client) for client in self.clients.values()))
        return [
            ControllerCheck(name=name, label=self.labels.get(name, ""), **check.model_dump())
            for name, check in zip(self.clients, found, strict=True)
        ]

    async def health(self) -> HealthResponse:
        controllers, ollama, redis = await asyncio.gather(
            self.controllers(), self.ollama(), self.store_check()
        )
        default, others = controllers[0], controllers[1:]
        avi = Check(status=default.status, latency_ms=default.latency_ms, detail=default.detail)
        if avi.status != "ok":
            status: Literal["ok", "degraded", "down"] = "down"
        elif ollama.status == "down" or redis.status == "down" or any(c.status == "down" for c in others):
            status = "degraded"
        else:
            status = "ok"
        checks = {"avi": avi, "ollama": ollama, "redis": redis}
        self._remember(avi, redis)
        mode: Literal["llm", "command"] = "llm" if self._mode() == "llm" else "command"
        return HealthResponse(
            status=status, mode=mode, store=self.store, checks=checks, controllers=controllers,
            alerts=self._alerts(),
        )  # fmt: skip

    async def ready(self) -> ReadyResponse:
        """The cached verdict while it is fresh, else a new one."""
        if self._ready is not None and time.monotonic() - self._ready[0] < READY_CACHE_SECONDS:
            return self._ready[1]
        avi, redis = await asyncio.gather(self.avi(), self.store_check())
        return self._remember(avi, redis)

    def _remember(self, avi: Check, redis: Check) -> ReadyResponse:
        reasons = []
        if avi.status != "ok":
            reasons.append(
                "avi_login_failed" if avi.detail.startswith("login refused") else "avi_unreachable"
            )
        if redis.status == "down":
            reasons.append("store_unreachable")
        verdict = ReadyResponse(ready=not reasons, reasons=reasons)
        self._ready = (time.monotonic(), verdict)
        return verdict


HEALTH = web.AppKey("avibot_health", HealthChecker)


@json_api
async def api_health(request: web.Request) -> web.Response:
    return ok(await request.app[HEALTH].health())


async def readyz(request: web.Request) -> web.Response:
    report = await request.app[HEALTH].ready()
    return ok(report, status=200 if report.ready else 503)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


def setup_health(app: web.Application, checker: HealthChecker) -> None:
    app[HEALTH] = checker
    app.router.add_get("/api/health", api_health)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/healthz", healthz)
    document(
        app,
        RouteDoc(
            "GET",
            "/api/health",
            "Status and latency of each Avi controller, Ollama and Redis",
            HealthResponse,
            errors=(401, 429),
        ),
    )

    async def close(_app: web.Application) -> None:
        await checker.aclose()

    app.on_cleanup.append(close)
