"""A chat platform in one file, for tests: what a new platform costs (this folder and one registry entry).

POST `{"user", "text", "conversation"}` to `settings.path`; the answer is `{"text", "outcome",
"visibility"}`. It verifies nothing itself, so the web guard in front of it decides who may call it.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.base import PlatformContext
from bot.types import Inbound, User


class EchoSettings(BaseModel):
    enabled: bool = True
    path: str = "/echo"


class EchoMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    text: str = Field(max_length=8000)
    conversation: str = Field(min_length=1)


class Echo:
    name = "echo"
    section = "echo"
    settings_type = EchoSettings

    def status(self, settings: EchoSettings) -> str:
        return f"echo: on at {settings.path}" if settings.enabled else "echo: off"

    def mount(self, app: web.Application, ctx: PlatformContext, settings: EchoSettings) -> bool:
        if not settings.enabled:
            return False

        async def message(request: web.Request) -> web.Response:
            try:
                body = EchoMessage.model_validate_json(await request.read())
            except ValidationError:
                return web.json_response({"error": "expected {user, text, conversation}"}, status=400)
            result = await ctx.turns.run(
                Inbound(
                    platform="echo",
                    conversation_key=f"echo:{body.conversation}",
                    channel="echo",
                    user=User(id=body.user, name=body.user),
                    text=body.text,
                )
            )
            return web.json_response(
                {
                    "text": result.reply.text,
                    "outcome": result.outcome.value,
                    "visibility": result.visibility.value,
                }
            )

        app.router.add_post(settings.path, message)
        return True


PLATFORM = Echo()
