"""The web channel: the JSON API (adapters.web.api) and the HTMX page (adapters.web.pages).

`setup_web` installs the security middleware first, so every route (ours, the page's and those the
composition root adds, such as /api/avi and /api/health) sees `identity(request)`.
"""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.web.security import GUARD, Guard, security_middleware
from adapters.web.settings import AGENT, WEB_INFO, WEB_SETTINGS, WebInfo, WebSettings
from bot.agent import Agent

log = logging.getLogger("avibot.web")

__all__ = ["WebInfo", "WebSettings", "setup_web"]


def setup_web(app: web.Application, agent: Agent, settings: WebSettings, info: WebInfo) -> None:
    """Security middleware, the JSON API routes, then the page's routes."""
    from adapters.web import api

    app[AGENT] = agent
    app[WEB_INFO] = info
    app[WEB_SETTINGS] = settings
    app[GUARD] = Guard(settings)
    app.middlewares.append(security_middleware)
    api.setup_api(app)
    try:
        from adapters.web import pages
    except ModuleNotFoundError as exc:
        if exc.name != "adapters.web.pages":
            raise
        log.warning("the web page is not installed (adapters.web.pages missing); JSON API only")
        return
    pages.setup_pages(app, agent, info)
