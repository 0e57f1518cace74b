"""`TeamsBridge`: everything between a Teams activity and the core (`bot.turns.Turns`);
`AviTeamsBot` is the SDK's ActivityHandler that forwards to it.

A message turn does only quick things inside the HTTP request: drop a re-delivered activity, send
a typing indicator, save the conversation reference and start the answer as a task. It waits at most
`turn_budget_seconds` for that task (so a command is usually answered before the 201), never longer:
the answer is always posted proactively, one turn at a time per conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import Coroutine
from enum import StrEnum
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ConversationAccount,
    ConversationReference,
)
from pydantic import ValidationError

from adapters.teams import alert_cards, cards
from adapters.teams.proactive import Sender
from adapters.teams.settings import TeamsSettings
from bot.turns import Turns
from bot.types import Inbound, MoreRows, Outcome, TurnResult, User, Visibility

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


BROKEN_MORE = "This button is out of date or damaged; ask for the list again."
# What an alert button's clicker is told in place (the answer itself goes into the alert's thread).
ALERT_ACKS = {
    alert_cards.INVESTIGATE: "Investigating: the findings are posted in this thread.",
    alert_cards.MUTE: "Done: see this thread.",
}
STILL_WORKING = "Working on it: the answer will be posted in this thread."
CLICK_FAILED = "That did not work; try again in a moment."
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"


class MessageResponse(AdaptiveCardInvokeResponse):
    """An `adaptiveCard/action` answer that is one line shown to the clicker alone (a Universal Actions
    message response). The SDK's model types `value` as an object, which a string cannot be
    serialised as."""

    _attribute_map = {**AdaptiveCardInvokeResponse._attribute_map, "value": {"key": "value", "type": "str"}}


def thread_reference(activity: Activity, key: str) -> ConversationReference:
    """Where an alert button's answer goes: the key's conversation (the alert's thread), as a reply to
    the thread's root when the key names one."""
    ref = TurnContext.get_conversation_reference(activity)
    conversation = copy.copy(ref.conversation) if ref.conversation else ConversationAccount()
    conversation.id = key.removeprefix(f"{PLATFORM}:")
    ref.conversation = conversation
    ref.activity_id = conversation.id.partition(";messageid=")[2] or None
    return ref


# The outcome line's icon, for each way a confirmation can end.
ICONS = {
    Outcome.DONE: "✅",
    Outcome.FAILED: "⚠",
    Outcome.UNKNOWN: "❔",
    Outcome.CANCELLED: "❌",
    Outcome.EXPIRED: "⌛",
    Outcome.ALREADY_SETTLED: "☑",
}


def click_by(verb: str, outcome: Outcome, who: str) -> str | None:
    """Who settled the action, for the outcome line of the card; None when the click did not."""
    match outcome:
        case Outcome.DONE | Outcome.UNKNOWN:
            return f"Confirmed by {who}"
        case Outcome.FAILED if verb == "confirm":
            return f"Confirmed by {who}"
        case Outcome.FAILED:
            return f"Cancel by {who} failed"
        case Outcome.CANCELLED:
            return f"Cancelled by {who}"
    return None


def more_of(value: Any) -> tuple[str, MoreRows | None] | None:
    """A "Show more" click's (conversation key, next page); the page None when the data is damaged;
    None when the click is not a "Show more" one."""
    if not isinstance(value, dict) or value.get("avibot") != cards.MORE:
        return None
    try:
        more = MoreRows.model_validate_json(json.dumps(value.get("m")))
    except (ValidationError, TypeError, ValueError):
        more = None
    return str(value.get("k") or ""), more


class Click(StrEnum):
    """Who a click's card is for: everyone (it replaces the card), the clicker with the buttons kept
    (a refusal), or the clicker with the stale buttons gone (someone else settled it first)."""

    EVERYONE = "everyone"
    REFUSED = "refused"
    STALE = "stale"


class TeamsBridge:
    """The core's side of Teams, independent of how the SDK calls it."""

    def __init__(self, turns: Turns, settings: TeamsSettings, sender: Sender) -> None:
        self.turns = turns
        self.settings = settings
        self.sender = sender
        self._tasks: set[asyncio.Task[None]] = set()

    # -- messages ----------------------------------------------------------------------------------

    async def first_delivery(self, activity: Activity) -> bool:
        """False for an activity already seen (Teams re-delivers, or another replica got it first)."""
        if not activity.id or activity.conversation is None:
            return True
        key = f"teams:act:{activity.conversation.id}:{activity.id}"
        return await self.turns.first_delivery(key, self.settings.dedup_ttl_seconds)

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
        more = more_of(activity.value)
        if more is not None:
            await self.on_more(tc, *more)
            return
        alert = alert_cards.parse_click(activity.value)
        if alert is not None:  # an alert's Investigate/Mute by Action.Submit: all of it in the thread
            task = self._spawn(self.alert_click(activity, *alert, None), f"teams-alert-{activity.id}")
            if self.settings.turn_budget_seconds > 0:
                await asyncio.wait({task}, timeout=self.settings.turn_budget_seconds)
            return
        inbound = self.inbound(activity, message_text(activity))
        try:
            await tc.send_activity(Activity(type=ActivityTypes.typing))
        except Exception as exc:  # a missing indicator is no reason to drop the question
            log.info("teams typing not sent: %s", type(exc).__name__)
        ref = TurnContext.get_conversation_reference(activity)
        task = self._spawn(self.answer(ref, inbound), f"teams-answer-{activity.id}")
        if self.settings.turn_budget_seconds > 0:
            await asyncio.wait({task}, timeout=self.settings.turn_budget_seconds)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Work that outlives the HTTP turn, drained at shutdown."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def answer(self, ref: ConversationReference, inbound: Inbound) -> None:
        """One turn, posted as a card in the conversation (an answer for the asker too: Teams has no
        message for one person, and the asker is there). `Turns` holds the conversation until the card
        is sent, so turns are answered in order."""
        typing = asyncio.create_task(self._keep_typing(ref))
        try:
            async with contextlib.aclosing(self.turns.stream(inbound)) as events:
                async for event in events:
                    if isinstance(event, TurnResult):
                        typing.cancel()
                        await self.sender.send(ref, self.reply_activity(event))
        except Exception as exc:  # the connector refused for good: nobody to tell but the log
            log.error("teams answer for %s not delivered: %s", inbound.conversation_key, type(exc).__name__)
        finally:
            typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await typing

    async def _keep_typing(self, ref: ConversationReference) -> None:
        """Teams shows "typing" for about 3 s; keep it up while the agent works."""
        while True:
            await asyncio.sleep(self.settings.typing_interval_seconds)
            try:
                await self.sender.typing(ref)
            except Exception as exc:
                log.debug("teams typing not sent: %s", type(exc).__name__)

    def mode(self) -> cards.Mode:
        """The live mode, read when a card is rendered: the model may have gone or come back since."""
        return cards.Mode(self.turns.mode, self.turns.offline_reason)

    def reply_activity(self, result: TurnResult) -> Activity:
        content = cards.render_reply(result.reply, controller=result.controller, mode=self.mode())
        return Activity(
            type=ActivityTypes.message,
            summary=cards.plain_summary(result.reply),
            attachments=[cards.attachment(content)],
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
    ) -> tuple[Click, cards.Card]:
        """Run Confirm/Cancel through the core (once, by someone allowed); who the card is for, and it."""
        inbound = self._click_inbound(activity, verb, action_id, key)
        result = await self.turns.settle(verb, action_id, inbound)
        if result.visibility is Visibility.ASKER:
            why = f"{inbound.user.name or 'You'}: {cards.message_of(result.reply)}"
            return Click.REFUSED, cards.refusal(result.action, why, inbound.conversation_key)
        by = click_by(verb, result.outcome, inbound.user.name or inbound.user.id)
        card = cards.outcome(
            result.action,
            ICONS.get(result.outcome, ""),
            by or "",
            result.reply,
            controller=result.controller,
            mode=self.mode(),
        )
        if by is not None or result.outcome is Outcome.EXPIRED:  # expired: stale for everyone
            return Click.EVERYONE, card
        return Click.STALE, card  # someone else settled it; their click replaces the card for everyone

    async def on_execute(self, tc: TurnContext, value: AdaptiveCardInvokeValue) -> AdaptiveCardInvokeResponse:
        """Action.Execute: the response card replaces the clicked card in place for the clicker; an
        outcome is also written to the message itself so everyone in the conversation sees it."""
        action = value.action or {}
        alert = alert_cards.parse_click(action.get("data"))
        if alert is not None:
            return await self.on_alert_execute(tc, *alert)
        click = click_data(action.get("data"))
        if click is None:
            return AdaptiveCardInvokeResponse(
                status_code=400,
                type="application/vnd.microsoft.error",
                value={"code": "BadRequest", "message": "Not an avibot button."},
            )
        audience, content = await self.click(tc.activity, *click)
        if audience is Click.EVERYONE and tc.activity.reply_to_id:
            await self._replace(tc, tc.activity.reply_to_id, content)
        return AdaptiveCardInvokeResponse(status_code=200, type=cards.CONTENT_TYPE, value=content)

    async def on_submit(self, tc: TurnContext, verb: str, action_id: str, key: str) -> None:
        """Action.Submit: an outcome replaces the card; anything for the clicker alone is said in the
        conversation (Teams has no message for one person only), leaving a refused card's buttons for
        someone allowed."""
        audience, content = await self.click(tc.activity, verb, action_id, key)
        if audience is not Click.EVERYONE or not tc.activity.reply_to_id:
            body = content["body"]
            if audience is Click.REFUSED:
                body = [e for e in body if e.get("type") != "Container"]
            await tc.send_activity(
                Activity(type=ActivityTypes.message, attachments=[cards.attachment(cards.card(body))])
            )
            return
        await self._replace(tc, tc.activity.reply_to_id, content)

    async def on_more(self, tc: TurnContext, key: str, more: MoreRows | None) -> None:
        """ "Show more" (an Action.Submit): the next page, read as the clicker, as a reply here; a
        damaged button, or a read the clicker may not do, gets one line."""
        if more is None:
            await tc.send_activity(self.one_line(BROKEN_MORE))
            return
        inbound = self._click_inbound(tc.activity, "more", "", key).model_copy(update={"text": ""})
        result = await self.turns.more(inbound, more)
        if result.visibility is Visibility.ASKER:
            await tc.send_activity(self.one_line(cards.message_of(result.reply)))
            return
        await tc.send_activity(self.reply_activity(result))

    # -- alert buttons (adapters/teams/alert_cards.py) -----------------------------------------------

    async def on_alert_execute(self, tc: TurnContext, verb: str, key: str) -> AdaptiveCardInvokeResponse:
        """Action.Execute on an alert card: the clicker is answered in place with one line (a refusal
        stays theirs alone), the result goes into the thread. Waits at most `turn_budget_seconds`."""
        if not await self.first_delivery(tc.activity):
            return MessageResponse(status_code=200, type=MESSAGE_TYPE, value=STILL_WORKING)
        private: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._spawn(self.alert_click(tc.activity, verb, key, private), f"teams-alert-{tc.activity.id}")
        await asyncio.wait({private}, timeout=self.settings.turn_budget_seconds)
        line = private.result() if private.done() else STILL_WORKING
        private.cancel()  # too late now: whatever is left goes into the thread
        return MessageResponse(status_code=200, type=MESSAGE_TYPE, value=line)

    async def alert_click(
        self, activity: Activity, verb: str, key: str, private: asyncio.Future[str] | None
    ) -> None:
        """Investigate or Mute through the core, with the clicker's own role. A refusal (ASKER) goes to
        `private` while an invoke still waits for it, else (Action.Submit: Teams has no message for one
        person) as one line in the thread; a result goes into the alert's thread."""
        inbound = self._click_inbound(activity, verb, "", key).model_copy(update={"text": ""})
        ref = thread_reference(activity, inbound.conversation_key)
        try:
            if verb == alert_cards.INVESTIGATE:
                result = await self.turns.investigate(inbound, thread_key=inbound.conversation_key)
            else:
                result = await self.turns.mute(inbound, thread_key=inbound.conversation_key)
            asker = result.visibility is Visibility.ASKER
            line = cards.message_of(result.reply) if asker else ALERT_ACKS[verb]
            if private is not None and not private.done():
                private.set_result(line)
                if asker:
                    return
            elif asker:
                await self.sender.reply(ref, self.one_line(f"{inbound.user.name or 'You'}: {line}"))
                return
            await self.sender.reply(ref, self.reply_activity(result))
        except Exception as exc:  # the connector refused for good, or the core failed
            log.error("teams alert %s for %s failed: %s", verb, inbound.conversation_key, type(exc).__name__)
            if private is not None and not private.done():
                private.set_result(CLICK_FAILED)

    @staticmethod
    def one_line(text: str) -> Activity:
        content = cards.card([cards.text_block(f"⚠ {cards.clip(text, 1000)}", color="Attention")])
        return Activity(
            type=ActivityTypes.message, summary=cards.clip(text, 300), attachments=[cards.attachment(content)]
        )

    async def _replace(self, tc: TurnContext, message_id: str, content: dict[str, Any]) -> None:
        ref = TurnContext.get_conversation_reference(tc.activity)
        update = Activity(
            id=message_id,
            type=ActivityTypes.message,
            attachments=[cards.attachment(content)],
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

    def __init__(self, channel: TeamsBridge) -> None:
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
