"""The Microsoft Teams platform, as the `PLATFORM` plug-in the server mounts from adapters/registry.py:
the Bot Framework endpoint (POST `settings.path`, `/api/messages` by default).

Inbound requests carry a Bot Framework JWT, which the SDK checks whenever an app id is configured
(so the route is `verifies_own_requests`: the web guard's sessions and CSRF do not apply). Without
one the endpoint is unauthenticated, so it answers only loopback peers (the Bot Framework Emulator
case) and says so at start. Either way a request is checked before the SDK sees it
(adapters/teams/guard.py): JSON only, nothing cross-site, and replies only to a `serviceUrl` the
token vouches for (or, without an app id, a loopback one).

Support note: the Bot Framework SDK for Python (botbuilder-*) is past its end of support (31 Dec
2025) and receives no fixes. Its successor is the Microsoft 365 Agents SDK (`microsoft-agents-*`),
which speaks the same activity protocol. This folder is the only code that touches the SDK: keep it
thin and free of decisions (they come from `bot.turns`), so moving to the Agents SDK stays a change
inside `adapters/teams/`.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import jwt
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter

from adapters.base import PlatformContext, verifies_own_requests
from adapters.teams.alerts import TeamsAlertPoster
from adapters.teams.bot import AviTeamsBot, TeamsBridge
from adapters.teams.guard import (
    ServiceUrlBoundAuthentication,
    cross_site,
    json_body,
    loopback_host,
    loopback_service_url,
)
from adapters.teams.proactive import Sender
from adapters.teams.settings import TeamsSettings

__all__ = ["PLATFORM", "TEAMS_BRIDGE", "TeamsBridge", "TeamsSettings", "is_loopback"]

log = logging.getLogger("avibot.teams")
TEAMS_BRIDGE = web.AppKey("avibot_teams_bridge", TeamsBridge)


def is_loopback(peer: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; False for anything else or unknown."""
    try:
        address = ipaddress.ip_address((peer or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def build_adapter(settings: TeamsSettings) -> CloudAdapter:
    auth = ServiceUrlBoundAuthentication(settings.sdk_config(), bind_service_url=settings.authenticated)
    adapter = CloudAdapter(auth)

    async def on_turn_error(tc: Any, error: Exception) -> None:  # no traceback reaches a user
        log.error("teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await tc.send_activity("Something went wrong answering that. Try again.")
        except Exception as exc:
            log.debug("teams error notice not sent: %s", type(exc).__name__)

    adapter.on_turn_error = on_turn_error
    return adapter


def refuse(status: int, reason: str) -> web.Response:
    """A one-line JSON refusal; logged without anything the caller sent."""
    log.warning("teams: refused (%d): %s", status, reason)
    return web.json_response({"error": reason}, status=status)


async def precheck(request: web.Request, settings: TeamsSettings) -> web.Response | None:
    """The refusal for a request that must not reach the SDK (see adapters/teams/guard.py), or None."""
    emulator = not settings.authenticated
    if emulator and not is_loopback(request.remote):
        return refuse(403, "forbidden: no TEAMS_APP_ID, so only loopback is served")
    why = cross_site(request)
    if why is not None:
        return refuse(403, why)
    if emulator and not loopback_host(request):
        return refuse(421, "misdirected request: without TEAMS_APP_ID only a loopback Host is served")
    if not json_body(request):
        return refuse(415, "unsupported media type: Content-Type must be application/json")
    if not emulator:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return refuse(401, "unauthorized")
        return None
    try:
        body = await request.json()  # kept by aiohttp: the SDK reads the same bytes again
    except (ValueError, RecursionError):
        return refuse(400, "bad request: the body is not JSON")
    if not loopback_service_url(body):
        return refuse(400, "bad request: without TEAMS_APP_ID the serviceUrl must be a loopback address")
    return None


class Teams:
    name = "teams"
    section = "teams"
    settings_type = TeamsSettings

    def status(self, settings: TeamsSettings) -> str:
        return settings.status()

    def mount(self, app: web.Application, ctx: PlatformContext, settings: TeamsSettings) -> bool:
        """Mount the endpoint on `app`; False when it is turned off or its registration cannot work."""
        if not settings.active:
            log.info(settings.status())
            return False
        try:
            adapter = build_adapter(settings)
        except Exception as exc:  # e.g. SingleTenant without a tenant id
            log.error("teams: off, the Bot Framework settings were refused: %s", type(exc).__name__)
            return False
        sender = Sender(
            adapter, settings.app_id, retries=settings.send_retries, max_wait=settings.max_retry_after_seconds
        )
        bridge = TeamsBridge(ctx.turns, settings, sender)
        bot = AviTeamsBot(bridge)
        if ctx.turns.alerts_on:
            self.mount_alerts(ctx, settings, adapter, sender)

        @verifies_own_requests
        async def messages(request: web.Request) -> web.StreamResponse:
            refused = await precheck(request, settings)
            if refused is not None:
                return refused
            try:
                response = await adapter.process(request, bot)
            except web.HTTPException as exc:  # the SDK's 401 (token refused), 400, 415: one JSON line
                return refuse(exc.status, (exc.reason or "refused").lower())
            except (PermissionError, jwt.PyJWTError):
                return refuse(401, "unauthorized")
            except ValueError:  # not JSON, or not an activity
                return refuse(400, "bad request")
            except Exception as exc:  # before the turn: only the token check is left (e.g. keys unreachable)
                log.warning("teams: request refused, token not verified: %s", type(exc).__name__)
                status = 401 if settings.authenticated else 400
                return web.json_response(
                    {"error": "unauthorized" if status == 401 else "bad request"}, status=status
                )
            return response or web.Response(status=201)

        async def drain(_: web.Application) -> None:
            await bridge.drain()

        app[TEAMS_BRIDGE] = bridge
        app.router.add_post(settings.path, messages)
        app.on_shutdown.append(drain)
        log.info(settings.status())
        return True

    @staticmethod
    def mount_alerts(
        ctx: PlatformContext, settings: TeamsSettings, adapter: CloudAdapter, sender: Sender
    ) -> None:
        """Post routed alerts (adapters/teams/alerts.py) when the connector's address is known; without
        it the engine skips `teams:` routes and says so once."""
        if not settings.alert_service_url:
            log.warning("teams: alerts routed to teams: are not posted: TEAMS_ALERT_SERVICE_URL is not set")
            return
        poster = TeamsAlertPoster(
            adapter, sender, settings, links=ctx.turns.alert_links, mute=ctx.turns.alert_mute_label
        )
        ctx.turns.add_alert_poster("teams", poster)
        log.info("teams: alerts posted through %s", settings.alert_service_url)


PLATFORM = Teams()
