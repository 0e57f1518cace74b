"""A local Bot Framework connector (the service at an activity's `serviceUrl`) for tests.

It records every call (method, path, JSON body) and keeps the messages the bot posted, by id, so an
update (PUT) replaces one. POST /v3/conversations (a proactive new thread in a channel) answers as
the Bot Connector does: `{"id": "<channel>;messageid=<root>", "activityId": "<root>"}`, the root being
the activity it carried. `fail(status, times, retry_after)` answers the next calls with an error.
The SDK's client uses `requests` in a thread: a real socket, and NO_PROXY must cover 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any, TypeVar
from urllib.parse import unquote

from aiohttp import web

T = TypeVar("T")


@dataclass
class Call:
    method: str
    path: str
    body: Any
    status: int = 200
    at: float = field(default_factory=time.monotonic)

    @property
    def type(self) -> str:
        return (self.body or {}).get("type", "") if isinstance(self.body, dict) else ""


class FakeConnector:
    def __init__(self) -> None:
        self.url = ""
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}  # id -> the activity as last posted/updated
        self.conversation_of: dict[str, str] = {}
        self.threads: list[str] = []  # conversation ids answered to POST /v3/conversations, in order
        self._ids = count(1)
        self._failures: list[tuple[int, str | None]] = []

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self._failures += [(status, retry_after)] * times

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else None
        except ValueError:
            body = None
        path = unquote(request.path)
        call = Call(request.method, path, body)
        self.calls.append(call)
        if self._failures:
            status, retry_after = self._failures.pop(0)
            call.status = status
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.json_response(
                {"error": {"code": "Throttled", "message": "slow down"}}, status=status, headers=headers
            )
        parts = path.strip("/").split("/")
        if parts == ["v3", "conversations"] and request.method == "POST":
            return self._create(body)
        if len(parts) >= 4 and parts[:2] == ["v3", "conversations"] and parts[3] == "activities":
            conv = parts[2]
            if request.method == "PUT" and len(parts) == 5:
                self.messages[parts[4]] = body
                return web.json_response({"id": parts[4]})
            if request.method == "POST":
                new_id = f"act-{next(self._ids)}"
                if isinstance(body, dict) and body.get("type") == "message":
                    self.messages[new_id] = body
                    self.conversation_of[new_id] = conv
                return web.json_response({"id": new_id}, status=200)
        return web.json_response({})

    def _create(self, body: Any) -> web.Response:
        body = body if isinstance(body, dict) else {}
        root = str(1_800_000_000_000 + next(self._ids))
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        conversation = f"{channel};messageid={root}" if channel else f"19:new-{root}@thread.v2"
        self.threads.append(conversation)
        activity = body.get("activity")
        if isinstance(activity, dict):
            self.messages[root] = activity
            self.conversation_of[root] = conversation
        return web.json_response({"id": conversation, "activityId": root})

    # -- queries -----------------------------------------------------------------------------------

    def created(self) -> list[Call]:
        """The conversations (channel threads) the bot created."""
        return [
            c for c in self.calls if c.method == "POST" and c.path == "/v3/conversations" and c.status < 300
        ]

    def posts(self, conversation: str | None = None, type: str = "message") -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "POST"
            and c.status < 300
            and c.type == type
            and (conversation is None or c.path.startswith(f"/v3/conversations/{conversation}/"))
        ]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT" and c.status < 300]

    def refused(self) -> list[Call]:
        return [c for c in self.calls if c.status >= 300]

    async def wait_for(self, check: Callable[[], T], within: float = 10.0) -> T:
        deadline = time.monotonic() + within
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls: {[(c.method, c.path, c.type) for c in self.calls]}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_fake_connector() -> AsyncIterator[FakeConnector]:
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    os.environ["no_proxy"] = os.environ["NO_PROXY"]
    fake = FakeConnector()
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        yield fake
    finally:
        await runner.cleanup()
