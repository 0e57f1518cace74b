"""The Slack channel, as the `CHANNEL` plug-in the server mounts from adapters/registry.py.

HTTP mode serves Bolt at `settings.path` (Slack signs every request and Bolt checks the signature,
so the route is `verifies_own_requests`); with an app token it connects over Socket Mode instead and
serves nothing over HTTP. Without settings it stays off (`status()` says why).
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.base import ChannelContext, verifies_own_requests
from adapters.slack.app import SlackChannel, build_app, make_client
from adapters.slack.settings import SlackSettings

__all__ = ["CHANNEL", "SLACK_BOLT", "SLACK_CHANNEL", "SlackChannel", "SlackSettings", "build_app"]

log = logging.getLogger("avibot.slack")
SLACK_CHANNEL = web.AppKey("avibot_slack_channel", SlackChannel)
SLACK_BOLT = web.AppKey("avibot_slack_bolt", AsyncApp)


class Slack:
    name = "slack"
    section = "slack"
    settings_type = SlackSettings

    def status(self, settings: SlackSettings) -> str:
        return settings.status()

    def mount(self, app: web.Application, ctx: ChannelContext, settings: SlackSettings) -> bool:
        """Mount the channel on `app` (HTTP route or Socket Mode connection); False when not configured."""
        if not settings.enabled:
            log.info(settings.status())
            return False
        channel = SlackChannel(ctx.turns, settings)
        bolt = build_app(channel, make_client(settings))
        app[SLACK_CHANNEL] = channel
        app[SLACK_BOLT] = bolt
        if settings.socket_mode:
            from adapters.slack.socket_mode import run_with

            run_with(app, bolt, settings)
        else:

            @verifies_own_requests
            async def events(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

            app.router.add_post(settings.path, events)
        log.info(settings.status())
        return True


CHANNEL = Slack()
