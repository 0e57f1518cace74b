"""The Slack channel. `setup_slack(server, agent, settings, redis)` mounts it on the aiohttp server:
HTTP mode serves Bolt at `settings.path`; with an app token it connects over Socket Mode instead.
Without settings it stays off (`SlackSettings.status()` says why)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.slack.app import SlackChannel, build_app, make_client
from adapters.slack.settings import SlackSettings
from bot.agent import Agent
from bot.dedup import channel_guards

__all__ = ["SLACK_CHANNEL", "SlackChannel", "SlackSettings", "build_app", "setup_slack"]

log = logging.getLogger("avibot.slack")
SLACK_CHANNEL = web.AppKey("avibot_slack_channel", SlackChannel)
SLACK_BOLT = web.AppKey("avibot_slack_bolt", AsyncApp)


def setup_slack(
    server: web.Application,
    agent: Agent,
    settings: SlackSettings,
    redis: Any | None = None,
    *,
    prefix: str = "avibot:",
    controller: str = "",
) -> SlackChannel | None:
    """Mount the channel, or return None when Slack is not configured.

    `redis` (a redis.asyncio client) makes de-dup and per-thread ordering hold across replicas;
    without it they hold within this process only.
    """
    if not settings.enabled:
        log.info(settings.status())
        return None
    deduper, locks = channel_guards(redis, prefix=prefix, ttl_seconds=settings.dedup_ttl_seconds)
    channel = SlackChannel(agent, settings, deduper=deduper, locks=locks, controller=controller)
    bolt = build_app(channel, make_client(settings))
    server[SLACK_CHANNEL] = channel
    server[SLACK_BOLT] = bolt
    if settings.socket_mode:
        from adapters.slack.socket_mode import run_with

        run_with(server, bolt, settings)
    else:

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        server.router.add_post(settings.path, events)
    log.info(settings.status())
    return channel
