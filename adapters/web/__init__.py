"""The web platform: the JSON API (adapters.web.api) and the HTMX page (adapters.web.pages), as the
`PLATFORM` plug-in the server mounts first from adapters/registry.py.

Mounting installs the security middleware first, so every route (ours, the page's, other platforms'
and those the composition root adds, such as /api/avi and /api/health) sees `identity(request)`;
routes a platform authenticates itself (`adapters.base.verifies_own_requests`) are let through.
"""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.base import PlatformContext
from adapters.web.security import GUARD, Guard, security_middleware
from adapters.web.settings import WEB_INFO, WEB_SETTINGS, WebInfo, WebSettings
from bot.turns import Turns

log = logging.getLogger("avibot.web")

__all__ = ["PLATFORM", "WebInfo", "WebSettings", "setup_web"]


def setup_web(app: web.Application, turns: Turns, settings: WebSettings, info: WebInfo) -> None:
    """Security middleware, the JSON API routes, the alert feed and webhook (adapters/web/alerts.py),
    then the page's routes (and its "Show more")."""
    from adapters.web import api
    from adapters.web.alerts import setup_alerts

    app[api.TURNS_KEY] = turns
    app[WEB_INFO] = info
    app[WEB_SETTINGS] = settings
    app[GUARD] = Guard(settings)
    app.middlewares.append(security_middleware)
    api.setup_api(app)
    setup_alerts(app, turns)
    try:
        from adapters.web import pages
    except ModuleNotFoundError as exc:
        if exc.name != "adapters.web.pages":
            raise
        log.warning("the web page is not installed (adapters.web.pages missing); JSON API only")
        return
    pages.setup_pages(app, turns, info)
    from adapters.web.more import setup_more

    setup_more(app, turns)  # the tables' "Show more" button


class Web:
    name = "web"
    section = "web"
    settings_type = WebSettings

    def status(self, settings: WebSettings) -> str:
        """Always on; who may use it is the banner's `auth:` line."""
        return "web: on (chat page at /, JSON API at /api)"

    def mount(self, app: web.Application, ctx: PlatformContext, settings: WebSettings) -> bool:
        info = WebInfo(controller=ctx.info.controller, llm_mode=ctx.info.llm_mode, store=ctx.info.store)
        setup_web(app, ctx.turns, settings, info)
        return True


PLATFORM = Web()
