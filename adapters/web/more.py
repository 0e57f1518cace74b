"""`POST /htmx/more`: a table's "Show more" button on the chat page.

The button's form carries the table's `MoreRows` as JSON. It is only a request: the core re-checks it
(`Turns.more`: a read of the catalogue, valid arguments, the asker's own access), so a value edited in
the browser can only ask for a read this person may do anyway. The answer, the next page with its own
button, replaces the button (CSRF is checked by the security middleware, as for every POST).
"""

from __future__ import annotations

import logging

from aiohttp import web
from markupsafe import Markup
from pydantic import ValidationError

from adapters.web.render import render_error, render_parts
from adapters.web.security import identity, inbound
from bot.turns import Turns
from bot.types import MoreRows

log = logging.getLogger("avibot.web.more")

MORE_TURNS = web.AppKey("avibot_web_more_turns", Turns)
MAX_FIELD = 8000  # characters of the form's JSON: a MoreRows is a few hundred


def _fragment(html: str, status: int = 200) -> web.Response:
    return web.Response(
        text=html, content_type="text/html", status=status, headers={"Cache-Control": "no-store"}
    )


async def show_more(request: web.Request) -> web.Response:
    who = identity(request)
    raw = str((await request.post()).get("more", ""))
    try:
        if len(raw) > MAX_FIELD:
            raise ValueError("too long")
        more = MoreRows.model_validate_json(raw)
    except (ValidationError, ValueError):
        return _fragment(
            str(render_error("That button is not valid any more.", "Ask for the list again.")), 400
        )
    result = await request.app[MORE_TURNS].more(inbound(who, more.command or "more"), more)
    body = render_parts(list(result.reply.parts))
    return _fragment(
        str(Markup('<div class="more-page" data-outcome="{}">{}</div>').format(result.outcome, body))
    )


def setup_more(app: web.Application, turns: Turns) -> None:
    """Register the route; called by `setup_web` next to the page's routes."""
    app[MORE_TURNS] = turns
    app.router.add_post("/htmx/more", show_more)


__all__ = ["setup_more", "show_more"]
