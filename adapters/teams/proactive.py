"""Sending outside the HTTP turn: `continue_conversation` with a saved reference, and retries.

Teams gives up on a request after about 15 s, and a finished turn's context must not be reused, so
every answer goes out as a proactive message. The connector client (msrest over `requests`) does
not retry a 429 on POST, so `with_retries` does: Retry-After when given (capped), else backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ErrorResponseException

log = logging.getLogger("avibot.teams")
T = TypeVar("T")
RETRYABLE = frozenset({429, 502, 503, 504})


def _status_and_wait(exc: Exception) -> tuple[int | None, float | None]:
    """The connector's status code and Retry-After seconds, from msrest's error, when present."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After")
    try:
        wait = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        wait = None
    return status, wait


async def with_retries(
    call: Callable[[], Awaitable[T]], *, retries: int, max_wait: float, backoff: float = 0.5
) -> T:
    """`call()`, again after a 429/5xx-busy answer, at most `retries` more times."""
    attempt = 0
    while True:
        try:
            return await call()
        except ErrorResponseException as exc:
            status, wait = _status_and_wait(exc)
            if status not in RETRYABLE or attempt >= retries:
                raise
            delay = min(max_wait, wait if wait is not None else backoff * 2**attempt)
            attempt += 1
            log.info("teams connector answered %s; retry %d in %.1fs", status, attempt, delay)
            await asyncio.sleep(delay)


class Sender:
    """Proactive sends to a known conversation; each call raises when the connector refused for good."""

    def __init__(self, adapter: BotAdapter, app_id: str, *, retries: int, max_wait: float) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.retries = retries
        self.max_wait = max_wait

    async def _in_conversation(
        self, ref: ConversationReference, act: Callable[[TurnContext], Awaitable[Any]]
    ) -> Any:
        result: list[Any] = []
        failed: list[Exception] = []

        async def logic(tc: TurnContext) -> None:
            # Caught here: the SDK would hand it to `on_turn_error` (which posts "Something went wrong"
            # into the conversation) and return normally, so the caller could not tell it failed.
            try:
                result.append(
                    await with_retries(lambda: act(tc), retries=self.retries, max_wait=self.max_wait)
                )
            except Exception as exc:
                failed.append(exc)

        # No app id (the Emulator): None, as the SDK expects for "no claims", though typed `str`.
        await self.adapter.continue_conversation(ref, logic, self.app_id or None)  # type: ignore[arg-type]
        if failed:
            raise failed[0]
        return result[0] if result else None

    async def send(self, ref: ConversationReference, activity: Activity) -> str | None:
        """Post into the conversation (a channel thread's id carries the thread); the new message id."""
        resp = await self._in_conversation(ref, lambda tc: tc.send_activity(activity))
        return getattr(resp, "id", None)

    async def reply(self, ref: ConversationReference, activity: Activity) -> str | None:
        """Post into `ref`'s conversation as a reply to `ref.activity_id` (a channel thread's root), or
        as a plain post without one; the new message id. (`send` replies to the continuation turn's
        own id, which the SDK makes up.)"""

        async def act(tc: TurnContext) -> Any:
            tc.activity.id = ref.activity_id  # what TurnContext addresses a reply to; None: no reply
            return await tc.send_activity(activity)

        resp = await self._in_conversation(ref, act)
        return getattr(resp, "id", None)

    async def update(self, ref: ConversationReference, activity: Activity) -> None:
        """Replace a message the bot sent (`activity.id`), e.g. a card after Confirm."""
        await self._in_conversation(ref, lambda tc: tc.update_activity(activity))

    async def typing(self, ref: ConversationReference) -> None:
        await self._in_conversation(ref, lambda tc: tc.send_activity(Activity(type=ActivityTypes.typing)))
