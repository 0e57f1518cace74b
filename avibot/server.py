"""The one aiohttp application: the web channel, health, metrics and the controller proxy.

`create_server_app(runtime, settings)` is what `avibot serve`, the tests and the benchmark run; it
subscribes /metrics to what the runtime's parts report.
"""

from __future__ import annotations

from aiohttp import web

from adapters.slack import setup_slack
from adapters.teams import setup_teams
from adapters.web import WebInfo, setup_web
from adapters.web.security import allow_channel_path
from avibot.config import Settings
from avibot.factory import Runtime
from avibot.health import HealthChecker, setup_health
from avibot.metrics import Metrics
from avibot.proxy import setup_proxy

METRICS = web.AppKey("avibot_metrics", Metrics)
MAX_BODY_BYTES = 256 * 1024


def create_server_app(runtime: Runtime, settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    metrics = Metrics()
    metrics.subscribe(runtime.observers)
    runtime.client.observers.append(metrics.observe_request)
    app[METRICS] = metrics
    info = WebInfo(controller=runtime.controller, llm_mode=runtime.llm_mode, store=runtime.store)
    setup_web(app, runtime.agent, settings.web, info)
    setup_health(
        app,
        HealthChecker(runtime.client, settings.llm, settings.redis.url, runtime.mode, runtime.store),
    )
    setup_proxy(app, runtime.client)
    slack = setup_slack(
        app,
        runtime.agent,
        settings.slack,
        runtime.redis,
        prefix=settings.redis.prefix,
        controller=runtime.controller,
    )
    if slack is not None and not settings.slack.socket_mode:
        allow_channel_path(app, settings.slack.path)  # Slack signs its requests; Bolt verifies them
    teams = setup_teams(
        app,
        runtime.agent,
        settings.teams,
        runtime.redis,
        prefix=settings.redis.prefix,
        controller=runtime.controller,
    )
    if teams is not None:
        allow_channel_path(app, settings.teams.path)  # the channel checks the Bot Framework JWT (or loopback)
    app.router.add_get("/metrics", metrics_handler)
    return app


async def metrics_handler(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})
