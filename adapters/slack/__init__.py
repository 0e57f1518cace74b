"""The Slack platform, as the `PLATFORM` plug-in the server mounts from adapters/registry.py.

HTTP mode serves Bolt at `settings.path` (Slack signs every request and Bolt checks the signature,
so the route is `verifies_own_requests`); with an app token it connects over Socket Mode instead and
serves nothing over HTTP. Without settings it stays off (`status()` says why). When alerts are routed,
it posts them too (adapters/slack/alerts.py), with the app's own Web API client.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.base import PlatformContext, verifies_own_requests
from adapters.slack.alerts import SlackAlertPoster
from adapters.slack.app import SlackBridge, build_app, make_client
from adapters.slack.settings import SlackSettings

__all__ = ["PLATFORM", "SLACK_BOLT", "SLACK_BRIDGE", "SlackBridge", "SlackSettings", "build_app"]

log = logging.getLogger("avibot.slack")
SLACK_BRIDGE = web.AppKey("avibot_slack_bridge", SlackBridge)
SLACK_BOLT = web.AppKey("avibot_slack_bolt", AsyncApp)


class Slack:
    name = "slack"
    section = "slack"
    settings_type = SlackSettings

    def status(self, settings: SlackSettings) -> str:
        return settings.status()

    def mount(self, app: web.Application, ctx: PlatformContext, settings: SlackSettings) -> bool:
        """Mount the platform on `app` (HTTP route or Socket Mode connection); False when not configured."""
        if not settings.enabled:
            log.info(settings.status())
            return False
        bridge = SlackBridge(ctx.turns, settings)
        bolt = build_app(bridge, make_client(settings))
        app[SLACK_BRIDGE] = bridge
        app[SLACK_BOLT] = bolt
        if ctx.turns.alerts_on:
            ctx.turns.add_alert_poster(
                "slack",
                SlackAlertPoster(bolt.client, links=ctx.turns.alert_links, mute=ctx.turns.alert_mute_label),
            )
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


PLATFORM = Slack()
