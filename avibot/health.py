"""What the bot depends on, and whether it answers: /api/health, /readyz and /healthz.

Overall status of /api/health (always HTTP 200, so a dashboard can show *why*):
- `ok`: the controller answers, and Ollama and Redis too when configured;
- `degraded`: the controller answers but Ollama or Redis does not (command mode / no shared state);
- `down`: the controller does not answer, so no question about it can be answered.
/readyz is the probe for a load balancer: 200 only when the controller and the store answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from adapters.web.http import json_api, ok
from adapters.web.openapi import RouteDoc, document
from avi.client import AviClient
from avi.errors import AviError
from llm.client import OllamaChat
from llm.settings import LLMSettings

CHECK_SECONDS = 3.0
Status = Literal["ok", "down", "off"]


class Check(BaseModel):
    status: Status
    latency_ms: float | None = None
    detail: str = ""


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "down"]
    mode: Literal["llm", "command"]
    store: str
    checks: dict[str, Check]


class ReadyResponse(BaseModel):
    ready: bool
    checks: dict[str, Check]


class HealthChecker:
    """Pings each dependency with its own client (the agent's may be in the middle of a turn)."""

    def __init__(
        self, client: AviClient, llm: LLMSettings, redis_url: str | None, mode: str, store: str
    ) -> None:
        self.client = client
        self.llm = OllamaChat(llm)
        self.redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(redis_url, socket_connect_timeout=CHECK_SECONDS)
        self.mode = "llm" if mode == "llm" else "command"
        self.store = store

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

    async def avi(self) -> Check:
        return await self._timed(self.client.get("/api/cluster"))

    async def ollama(self) -> Check:
        return await self._timed(self.llm.ping())

    async def store_check(self) -> Check:
        if self.redis is None:
            return Check(status="off", detail="in-process store (no REDIS_URL)")
        return await self._timed(self.redis.ping())

    async def health(self) -> HealthResponse:
        avi, ollama, redis = await asyncio.gather(self.avi(), self.ollama(), self.store_check())
        if avi.status != "ok":
            status: Literal["ok", "degraded", "down"] = "down"
        elif ollama.status == "down" or redis.status == "down":
            status = "degraded"
        else:
            status = "ok"
        checks = {"avi": avi, "ollama": ollama, "redis": redis}
        return HealthResponse(status=status, mode=self.mode, store=self.store, checks=checks)  # type: ignore[arg-type]

    async def ready(self) -> ReadyResponse:
        avi, redis = await asyncio.gather(self.avi(), self.store_check())
        return ReadyResponse(
            ready=avi.status == "ok" and redis.status != "down", checks={"avi": avi, "redis": redis}
        )


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
            "Status and latency of Avi, Ollama and Redis",
            HealthResponse,
            errors=(401, 429),
        ),
    )

    async def close(_app: web.Application) -> None:
        await checker.aclose()

    app.on_cleanup.append(close)
