"""A local Slack Web API for tests through the real slack_sdk client and Bolt app.

Usage::

    async with running_fake_slack() as slack:          # serves /api/<method>, /response/<id>, /link (ws)
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        slack.calls_to("chat.postMessage")              # recorded calls, args parsed from JSON or form
        slack.messages[ts]                              # the latest text/blocks/attachments of each message
        slack.fail("chat.postMessage", "not_in_channel")  # the next call to it answers ok:false
        url = slack.response_url()                      # a response_url; posts land in slack.responses

Every request is recorded (method, bearer token, arguments). `auth.test` answers team T1, bot user
UBOT. Socket Mode: `apps.connections.open` returns `ws://.../link`; the socket says hello, and
`await slack.send_envelope(...)` pushes an envelope whose ack lands in `slack.acks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

TEAM = "T1"
BOT_USER = "UBOT"
BOT_ID = "BBOT"


@dataclass
class Call:
    method: str
    token: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeSlack:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    acks: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _socket_open: asyncio.Event = field(default_factory=asyncio.Event)

    # -- test API ----------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def fail(self, method: str, error: str) -> None:
        self.failures.setdefault(method, []).append(error)

    def throttle(self, method: str, times: int = 1) -> None:
        """The next `times` calls to `method` answer 429 with `Retry-After: 1`."""
        self.throttled[method] = self.throttled.get(method, 0) + times

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    def replies_in(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Bot messages posted under a thread (their latest state), oldest first."""
        return [
            m for m in self.messages.values() if m["channel"] == channel and m.get("thread_ts") == thread_ts
        ]

    async def wait_for(self, predicate: Any, within: float = 5.0) -> Any:
        """Poll until `predicate()` is truthy; return its value (side effects are asynchronous)."""
        deadline = time.monotonic() + within
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; calls: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.02)

    async def send_envelope(self, envelope: dict[str, Any], within: float = 5.0) -> None:
        await asyncio.wait_for(self._socket_open.wait(), within)
        await self._sockets[-1].send_json(envelope)

    # -- server ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_get("/link", self._link)
        return app

    def _new_ts(self) -> str:
        return f"1700000{next(self._ts):03d}.000100"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json" and raw:
            args: dict[str, Any] = json.loads(raw)
        else:
            args = dict(parse_qsl(raw)) | dict(request.query)
        for key in ("blocks", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or args.get("token", "")
        self.calls.append(Call(method, token, args))
        if self.throttled.get(method):
            self.throttled[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        if self.failures.get(method):
            return web.json_response({"ok": False, "error": self.failures[method].pop(0)})
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": TEAM,
                "team": "Team",
                "user_id": BOT_USER,
                "user": "avibot",
                "bot_id": BOT_ID,
                "url": "https://team.slack.com/",
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.startStream"):
            ts = self._new_ts()
            first_text = "".join(c.get("text", "") for c in args.get("chunks") or [])
            self.messages[ts] = {
                "channel": args.get("channel"),
                "ts": ts,
                "thread_ts": args.get("thread_ts"),
                "text": args.get("text") or args.get("markdown_text", "") or first_text,
                "blocks": args.get("blocks") or [],
                "attachments": args.get("attachments") or [],
                "bot_id": BOT_ID,
            }
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": self.messages[ts]}
        if method in ("chat.update", "chat.appendStream", "chat.stopStream"):
            msg = self.messages.get(args.get("ts", ""))
            if msg is None:
                return {"ok": False, "error": "message_not_found"}
            if method == "chat.update":
                msg.update(text=args.get("text", ""), blocks=args.get("blocks") or [])
                if "attachments" in args:  # like Slack: left out, the old attachments stay
                    msg["attachments"] = args["attachments"] or []
            else:
                msg["text"] += args.get("markdown_text") or ""
                msg["text"] += "".join(c.get("text", "") for c in args.get("chunks") or [])
                if args.get("blocks"):
                    msg["blocks"] = args["blocks"]
            return {"ok": True, "channel": msg["channel"], "ts": msg["ts"]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._new_ts()}
        if method == "conversations.replies":
            return {
                "ok": True,
                "messages": self.threads.get((args.get("channel", ""), args.get("ts", "")), []),
                "has_more": False,
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/link"}
        return {"ok": True}

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"id": request.match_info["id"], **body})
        return web.Response(text="ok")

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake"},
                "connection_info": {"app_id": "A1"},
            }
        )
        self._socket_open.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.acks.append(json.loads(msg.data))
        return ws


@contextlib.asynccontextmanager
async def running_fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield fake
    finally:
        for ws in fake._sockets:
            await ws.close()
        await runner.cleanup()


def signed_headers(secret: str, body: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers exactly as Slack signs a request: v0=HMAC-SHA256(secret, "v0:<ts>:<raw body>")."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
