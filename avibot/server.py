"""The one aiohttp application: every registered chat platform, health, metrics and the controller proxy.

`create_server_app(runtime, settings)` is what `avibot serve`, the tests and the benchmark run; it
mounts each platform of adapters/registry.py (the web platform first: its guard wraps every route)
and subscribes /metrics to what the runtime's parts report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from adapters.base import Platform, PlatformContext, ServiceInfo
from adapters.registry import platforms
from avibot.config import Settings
from avibot.factory import Runtime
from avibot.health import HealthChecker, setup_health
from avibot.metrics import Metrics
from avibot.proxy import setup_proxy
from avibot.turn_log import TurnLog

METRICS = web.AppKey("avibot_metrics", Metrics)
MOUNTED = web.AppKey("avibot_channels", list)  # names of the platforms that are on
MAX_BODY_BYTES = 256 * 1024


def channel_settings(settings: Settings, platform: Platform) -> Any:
    """A platform's config section; its defaults when config.yaml has no such section (yet)."""
    section = getattr(settings, platform.section, None)
    return platform.settings_type() if section is None else section


def ordered_platforms() -> list[Platform]:
    """The registry's platforms, the web platform first (it installs the guard the others rely on)."""
    return sorted(platforms(), key=lambda platform: platform.name != "web")


def platform_statuses(settings: Settings) -> list[str]:
    """One line per registered platform for the start banner: on, off and why."""
    return [platform.status(channel_settings(settings, platform)) for platform in ordered_platforms()]


def create_server_app(runtime: Runtime, settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    metrics = Metrics()
    metrics.subscribe(runtime.observers)
    metrics.llm_up.set(1 if runtime.turns.mode == "llm" else 0)  # changes arrive as ModelStatusChanged
    agent = runtime.agent  # the composition root may know it: the proxy checks roles as the core does
    clients = runtime.clients  # by name, default first
    for name, client in clients.items():
        client.observers.append(metrics.request_observer(name))
    TurnLog().attach(runtime.observers, *(client.observers for client in clients.values()))
    app[METRICS] = metrics
    ctx = PlatformContext(
        turns=runtime.turns,
        info=ServiceInfo(controller=runtime.controller, llm_mode=runtime.llm_mode, store=runtime.store),
        redis=runtime.redis,
        prefix=settings.redis.prefix,
    )
    app[MOUNTED] = [
        platform.name
        for platform in ordered_platforms()
        if platform.mount(app, ctx, channel_settings(settings, platform))
    ]
    setup_health(
        app,
        HealthChecker(
            clients, settings.llm, settings.redis.url, lambda: runtime.mode, runtime.store,
            alerts=runtime.turns.alert_health, labels={c.name: c.label for c in agent.controllers},
        ),
    )  # fmt: skip
    if runtime.alerts is not None:
        metrics.expect_alert_platforms(runtime.alerts.settings.platforms)
        app.cleanup_ctx.append(_alert_poller(runtime))
    setup_proxy(app, agent.controllers, runtime.turns, agent.access_settings)
    app.router.add_get("/metrics", metrics_handler)
    return app


def _alert_poller(runtime: Runtime) -> Callable[[web.Application], AsyncIterator[None]]:
    """Poll while the app runs: started once the platforms have registered their posters, stopped
    before the runtime closes the controller client."""

    async def poller(_app: web.Application) -> AsyncIterator[None]:
        assert runtime.alerts is not None
        runtime.alerts.start()
        yield
        await runtime.alerts.aclose()

    return poller


async def metrics_handler(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})
