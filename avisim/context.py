"""Per-request context handed to every handler: state, tenant, caller, path match and JSON helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from .auth import Caller
from .collections import flag
from .errors import bad_request
from .refs import render
from .state import SimulatorState

JSON = "application/json"


def base_url(request: web.Request) -> str:
    """scheme://host[:port] exactly as the client addressed us, so URLs work at any port."""
    return f"{request.scheme}://{request.host}"


@dataclass
class Ctx:
    request: web.Request
    state: SimulatorState
    tenant: str
    caller: Caller | None
    match: dict[str, str]
    version: tuple[int, ...] | None = None  # X-Avi-Version; None = not sent (newest schema served)

    @property
    def params(self) -> MultiMapping[str]:
        return self.request.query

    @property
    def base(self) -> str:
        return base_url(self.request)

    def respond(self, payload: Any, status: int = 200, include_name: bool | None = None) -> web.Response:
        """JSON response with stored refs rendered absolute (+ `#name` when asked or forced)."""
        names = flag(self.params, "include_name") if include_name is None else include_name
        text = render(payload, self.base, names, self.state.store.name_of)
        return web.Response(text=text, status=status, content_type=JSON)

    async def body(self) -> Any:
        raw = await self.request.read()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"Invalid JSON in request body: {exc.msg}") from exc


def empty(status: int = 204) -> web.Response:
    return web.Response(status=status, content_type=JSON) if status != 204 else web.Response(status=204)
