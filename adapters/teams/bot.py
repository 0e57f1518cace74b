"""`TeamsChannel`: everything between a Teams activity and the agent; `AviTeamsBot` is the SDK's
ActivityHandler that forwards to it.

A message turn does only quick things inside the HTTP request: drop a re-delivered activity, send
a typing indicator, save the conversation reference and start the answer as a task. It waits at most
`turn_budget_seconds` for that task (so a command is usually answered before the 201), never longer:
the answer is always posted proactively, one turn at a time per conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ConversationReference,
)

from adapters.teams import cards
from adapters.teams.proactive import Sender
from adapters.teams.settings import TeamsSettings
from bot.agent import Agent
from bot.dedup import EventDeduper, MemoryDeduper
from bot.serial import KeyedLock
from bot.types import ErrorPart, Inbound, PendingActionView, Reply, User

log = logging.getLogger("avibot.teams")
PLATFORM = "teams"
MAX_TEXT = 8000


def conversation_key(conversation_id: str) -> str:
    """`teams:<conversation id>`: a channel thread's id ends in `;messageid=<root>`, so it is the thread."""
    return f"{PLATFORM}:{conversation_id}"


def person(activity: Activity) -> User:
    """The sender, by AAD object id (what `access.users` maps as `teams:<id>`), else the Teams id."""
    sender = activity.from_property
    if sender is None:
        return User(id="", name="")
    return User(id=sender.aad_object_id or sender.id or "", name=sender.name or "")


def channel_of(activity: Activity) -> str:
    """The team channel's id for a channel message, else the chat's id (for `access.channels`)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team_channel = (data.get("channel") or {}).get("id") if isinstance(data.get("channel"), dict) else None
    conv = activity.conversation.id if activity.conversation else ""
    return team_channel or conv.split(";")[0]


def message_text(activity: Activity) -> str:
    """The text without the bot's @mention; the SDK leaves the surrounding whitespace."""
    TurnContext.remove_recipient_mention(activity)
    return (activity.text or "").strip()[:MAX_TEXT]


def click_data(value: Any) -> tuple[str, str, str] | None:
    """(verb, action id, conversation key) from a button's data, or None when it is not ours."""
    if not isinstance(value, dict):
        return None
    verb = value.get("avibot")
    if verb not in ("confirm", "cancel") or not isinstance(value.get("a"), str):
        return None
    return verb, value["a"], str(value.get("k") or "")


class TeamsChannel:
    """The agent's side of Teams, independent of how the SDK calls it."""

    def __init__(
        self,
        agent: Agent,
        settings: TeamsSettings,
        sender: Sender,
        *,
        deduper: EventDeduper | None = None,
        locks: KeyedLock | None = None,
        controller: str = "",
    ) -> None:
        self.agent = agent
        self.settings = settings
        self.sender = sender
        self.deduper = deduper or MemoryDeduper(ttl_seconds=settings.dedup_ttl_seconds)
        self.locks = locks or KeyedLock()
        self.controller = controller
        self._tasks: set[asyncio.Task[None]] = set()

    # -- messages ----------------------------------------------------------------------------------

    async def first_delivery(self, activity: Activity) -> bool:
        """False for an activity already seen (Teams re-delivers, or another replica got it first)."""
        if not activity.id or activity.conversation is None:
            return True
        try:
            return await self.deduper.first_time(f"teams:act:{activity.conversation.id}:{activity.id}")
        except Exception as exc:  # Redis down: answering twice beats never answering
            log.warning("teams de-dup unavailable: %s", type(exc).__name__)
            return True

    def inbound(self, activity: Activity, text: str) -> Inbound:
        return Inbound(
            platform=PLATFORM,
            conversation_key=conversation_key(activity.conversation.id),
            channel=channel_of(activity),
            user=person(activity),
            text=text or "help",
        )

    async def on_message(self, tc: TurnContext) -> None:
        activity = tc.activity
        if not await self.first_delivery(activity):
            log.info("teams: duplicate activity %s dropped", activity.id)
            return
        click = click_data(activity.value)
        if click is not None:  # an Action.Submit (the fallback of Action.Execute)
            await self.on_submit(tc, *click)
            return
        inbound = self.inbound(activity, message_text(activity))
        try:
            await tc.send_activity(Activity(type=ActivityTypes.typing))
        except Exception as exc:  # a missing indicator is no reason to drop the question
            log.info("teams typing not sent: %s", type(exc).__name__)
        ref = TurnContext.get_conversation_reference(activity)
        task = asyncio.create_task(self.answer(ref, inbound), name=f"teams-answer-{activity.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.settings.turn_budget_seconds > 0:
            await asyncio.wait({task}, timeout=self.settings.turn_budget_seconds)

    async def answer(self, ref: ConversationReference, inbound: Inbound) -> None:
        """One turn, in order with the conversation's other turns, posted as a card."""
        try:
            async with self.locks.hold(inbound.conversation_key):
                typing = asyncio.create_task(self._keep_typing(ref))
                try:
                    reply = await self.agent.handle(inbound)
                finally:
                    typing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await typing
                await self.sender.send(ref, self.reply_activity(reply))
        except Exception as exc:  # the connector refused for good: nobody to tell but the log
            log.error("teams answer for %s not delivered: %s", inbound.conversation_key, type(exc).__name__)

    async def _keep_typing(self, ref: ConversationReference) -> None:
        """Teams shows "typing" for about 3 s; keep it up while the agent works."""
        while True:
            await asyncio.sleep(self.settings.typing_interval_seconds)
            try:
                await self.sender.typing(ref)
            except Exception as exc:
                log.debug("teams typing not sent: %s", type(exc).__name__)

    def reply_activity(self, reply: Reply) -> Activity:
        content = cards.render_reply(reply, controller=self.controller)
        return Activity(
            type=ActivityTypes.message,
            summary=cards.plain_summary(reply),
            attachments=[cards.attachment(content)],  # type: ignore[list-item]
        )

    # -- buttons -----------------------------------------------------------------------------------

    def _click_inbound(self, activity: Activity, verb: str, action_id: str, key: str) -> Inbound:
        """The key from the button when it belongs to this chat or team channel (a channel thread's
        click may come without the thread suffix), else this conversation's key."""
        here = activity.conversation.id if activity.conversation else ""
        base = conversation_key(here.split(";")[0])
        if not (key == base or key.startswith(base + ";")):
            key = conversation_key(here)
        return Inbound(
            platform=PLATFORM,
            conversation_key=key,
            channel=channel_of(activity),
            user=person(activity),
            text=f"{verb} {action_id}",
        )

    async def click(
        self, activity: Activity, verb: str, action_id: str, key: str
    ) -> tuple[bool, dict[str, Any]]:
        """Run Confirm/Cancel through the agent (once, by someone allowed); (refused?, card)."""
        inbound = self._click_inbound(activity, verb, action_id, key)
        view: PendingActionView | None = None
        try:
            action = await self.agent.pending.get(action_id)
            view = action.view() if action is not None else None
        except Exception as exc:  # only the card's detail is lost
            log.warning("teams: pending action unreadable: %s", type(exc).__name__)
        run = self.agent.confirm if verb == "confirm" else self.agent.cancel
        reply = await run(action_id, inbound)
        if not reply.tool_calls and any(isinstance(p, ErrorPart) for p in reply.parts):
            message = next(p.message for p in reply.parts if isinstance(p, ErrorPart))
            return True, cards.refusal(
                view, f"{inbound.user.name or 'You'}: {message}", inbound.conversation_key
            )
        who = inbound.user.name or inbound.user.id
        note = f"✅ Confirmed by {who}" if verb == "confirm" else f"❌ Cancelled by {who}"
        if verb == "confirm" and any(isinstance(p, ErrorPart) for p in reply.parts):
            note = f"⚠ Confirmed by {who}, but it failed"
        return False, cards.outcome(view, note, reply, controller=self.controller)

    async def on_execute(self, tc: TurnContext, value: AdaptiveCardInvokeValue) -> AdaptiveCardInvokeResponse:
        """Action.Execute: the response card replaces the clicked card in place; an outcome is also
        written to the message itself so everyone in the conversation sees it."""
        action = value.action or {}
        click = click_data(action.get("data"))
        if click is None:
            return AdaptiveCardInvokeResponse(
                status_code=400,
                type="application/vnd.microsoft.error",
                value={"code": "BadRequest", "message": "Not an avibot button."},
            )
        refused, content = await self.click(tc.activity, *click)
        if not refused and tc.activity.reply_to_id:
            await self._replace(tc, tc.activity.reply_to_id, content)
        return AdaptiveCardInvokeResponse(status_code=200, type=cards.CONTENT_TYPE, value=content)

    async def on_submit(self, tc: TurnContext, verb: str, action_id: str, key: str) -> None:
        """Action.Submit: an outcome replaces the card; a refusal is said in the conversation (Teams
        has no message for one person only), leaving the buttons for someone allowed."""
        refused, content = await self.click(tc.activity, verb, action_id, key)
        if refused or not tc.activity.reply_to_id:
            body = (
                [e for e in content["body"] if e.get("type") != "Container"] if refused else content["body"]
            )
            await tc.send_activity(
                Activity(type=ActivityTypes.message, attachments=[cards.attachment(cards.card(body))])  # type: ignore[list-item]
            )
            return
        await self._replace(tc, tc.activity.reply_to_id, content)

    async def _replace(self, tc: TurnContext, message_id: str, content: dict[str, Any]) -> None:
        ref = TurnContext.get_conversation_reference(tc.activity)
        update = Activity(
            id=message_id,
            type=ActivityTypes.message,
            attachments=[cards.attachment(content)],  # type: ignore[list-item]
        )
        try:
            await self.sender.update(ref, update)
        except Exception as exc:  # the clicker still sees the outcome (invoke) or can ask again
            log.warning("teams: card %s not updated: %s", message_id, type(exc).__name__)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def drain(self, within: float = 5.0) -> None:
        """Let answers in flight finish (tests, shutdown), then cancel the rest."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
        for task in list(self._tasks):
            task.cancel()


class AviTeamsBot(ActivityHandler):
    """The SDK's entry points, forwarded: messages, and `adaptiveCard/action` invokes."""

    def __init__(self, channel: TeamsChannel) -> None:
        self.channel = channel

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.channel.on_message(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """`adaptiveCard/action` answered with the response *model*: the base class serialises it to
        a dict and CloudAdapter.process serialises again, which fails (500) in 4.17."""
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        invoke_value = AdaptiveCardInvokeValue(action=action)
        response = await self.channel.on_execute(turn_context, invoke_value)
        return InvokeResponse(status=response.status_code, body=response)
