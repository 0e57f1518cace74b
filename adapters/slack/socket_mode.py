"""Socket Mode: the same Bolt app over Slack's WebSocket, for ops networks without a public URL.

Bolt's aiohttp-based handler needs no extra package; it opens the socket with the app-level token
(`apps.connections.open`) and acks each envelope. Retries arrive with the same event ids, so the
channel's de-dup applies unchanged.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from adapters.slack.settings import SlackSettings

log = logging.getLogger("avibot.slack")
SOCKET_HANDLER = web.AppKey("avibot_slack_socket", AsyncSocketModeHandler)


def socket_handler(app: AsyncApp, settings: SlackSettings) -> AsyncSocketModeHandler:
    assert settings.app_token is not None
    return AsyncSocketModeHandler(app, app_token=settings.app_token.get_secret_value(), web_client=app.client)


def run_with(server: web.Application, app: AsyncApp, settings: SlackSettings) -> None:
    """Connect when the aiohttp server starts, close when it stops."""
    handler = socket_handler(app, settings)
    server[SOCKET_HANDLER] = handler

    async def connect(_: web.Application) -> None:
        await handler.connect_async()  # type: ignore[no-untyped-call]  # slack_bolt has no annotation
        log.info("slack: Socket Mode connected")

    async def close(_: web.Application) -> None:
        await handler.close_async()  # type: ignore[no-untyped-call]

    server.on_startup.append(connect)
    server.on_cleanup.append(close)
