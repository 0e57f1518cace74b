"""A reply that grows while the model writes.

`update` mode posts the first words and edits the message at most once per `interval` (chat.update
is rate-limited, ~1/s per message is safe), then replaces it with the final Block Kit. `api` mode
uses Slack's chat streaming methods (chat.startStream/appendStream/stopStream via slack_sdk's
`chat_stream` helper) for thread replies, and falls back to `update` when Slack refuses them (older
workspaces, missing scope).
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as bk
from bot.types import Reply, TextPart

log = logging.getLogger("avibot.slack")
StreamMode = Literal["api", "update", "off"]


class LiveMessage:
    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str | None,
        *,
        interval: float,
        mode: StreamMode = "update",
        ts: str | None = None,
        team: str | None = None,
        user: str | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.interval = interval
        # The streaming API only makes thread replies; a reply that edits a given message cannot use it.
        self.mode: StreamMode = "update" if mode == "api" and (ts is not None or not thread_ts) else mode
        self.ts = ts
        self.team = team
        self.user = user
        self.text = ""
        self._last = 0.0
        self._stream: AsyncChatStream | None = None

    async def delta(self, text: str) -> None:
        self.text += text
        if self.mode == "off":
            return
        if self.mode == "api":
            try:
                if self._stream is None:
                    self._stream = await self.client.chat_stream(
                        channel=self.channel,
                        thread_ts=self.thread_ts or "",
                        recipient_team_id=self.team,
                        recipient_user_id=self.user,
                    )
                await self._stream.append(markdown_text=bk.escape(text))  # data, never markup
                return
            except (SlackApiError, SlackRequestError) as exc:
                log.info("slack streaming API unavailable (%s); editing the message instead", _error(exc))
                self.mode = "update"
                if self._stream is not None and self._stream._stream_ts:  # started, then refused
                    self.ts = self._stream._stream_ts
                self._stream = None
        await self._edit()

    async def _edit(self) -> None:
        now = time.monotonic()
        if self.ts is not None and now - self._last < self.interval:
            return
        self._last = now
        rendered = bk.progress(self.text)
        try:
            await self._put(rendered)
        except SlackApiError as exc:  # a lost progress edit is harmless; the final post matters
            log.warning("slack progress update failed: %s", _error(exc))

    async def finish(
        self, reply: Reply, *, controller: str = "", preface: str = "", mode: str = ""
    ) -> str | None:
        """The final message: Block Kit (its footer saying `mode`), or plain text when Slack refuses
        the blocks."""
        if self._stream is not None:
            rest = reply.model_copy(update={"parts": [p for p in reply.parts if not isinstance(p, TextPart)]})
            try:
                blocks = bk.render_reply(rest, controller=controller, mode=mode).blocks
                resp = await self._stream.stop(blocks=blocks)
                self.ts = resp.get("ts") or self._stream._stream_ts
                return self.ts
            except (SlackApiError, SlackRequestError) as exc:
                log.warning("slack stopStream failed (%s); posting the answer", _error(exc))
                self._stream = None
        rendered = bk.render_reply(reply, controller=controller, preface=preface, mode=mode)
        try:
            await self._put(rendered)
        except SlackApiError as exc:
            log.warning("slack reply failed (%s); sending plain text", _error(exc))
            await self._put(bk.Rendered(text=bk.clip(rendered.text, 39_000) or "(no answer)", blocks=[]))
        return self.ts

    async def withdraw(self) -> None:
        """Take back what was posted so far (the answer turned out to be for one person only)."""
        if self._stream is not None:
            try:
                await self._stream.stop()
                self.ts = self.ts or self._stream._stream_ts
            except (SlackApiError, SlackRequestError) as exc:
                log.info("slack stopStream failed (%s)", _error(exc))
            self._stream = None
        if self.ts is None:
            return
        try:
            await self.client.chat_delete(channel=self.channel, ts=self.ts)
        except SlackApiError as exc:  # cannot delete it: at least say nothing more comes here
            log.info("slack message not deleted (%s); marking it instead", _error(exc))
            try:
                await self._put(
                    bk.Rendered(text="Answered privately.", blocks=[bk.context("_Answered privately._")])
                )
            except SlackApiError as again:
                log.warning("slack message left as it was: %s", _error(again))

    async def _put(self, rendered: bk.Rendered) -> None:
        if self.ts is None:
            resp = await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=rendered.text, blocks=rendered.blocks
            )
            self.ts = resp.get("ts")
        else:
            await self.client.chat_update(
                channel=self.channel, ts=self.ts, text=rendered.text, blocks=rendered.blocks
            )


def _error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("error")) if response is not None else type(exc).__name__
