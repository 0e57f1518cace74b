"""The one entry every channel calls: `Turns`, channel-neutral, framework-free.

A channel normalises its platform's event into an `Inbound`, hands it here and renders the
`TurnResult` it gets back (like slack-bolt's core around which `slack_bolt/adapter/<framework>`
is a thin shell). Here, for every channel alike:

- de-duplication of re-delivered events (Slack retries, Teams re-deliveries, another replica that
  got it first), failing open with a log line when the store is down: answering twice beats never;
- one turn at a time per conversation, across replicas when the store is Redis;
- the agent's explicit result: outcome, visibility, the action concerned and the controller;
- observers told when a turn starts and ends;
- a bounded shutdown (`drain`): no new turn starts, confirmed writes in progress finish, and a
  question still waiting on the model after the grace period is ended with a message to its asker.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncGenerator
from typing import Any

from bot.agent import Agent
from bot.alerts.feed import FeedItem as FeedItem  # for the web platform's feed
from bot.alerts.followup import diagnosis_calls, diagnosis_title, with_alert
from bot.alerts.models import AlertContext, duration_text
from bot.alerts.poster import AlertPoster
from bot.alerts.service import AlertService, PollerHealth
from bot.commands import CommandError, CoreCommand, parse_command
from bot.dedup import EventDeduper, MemoryDeduper
from bot.events import Observers, TurnEnded, TurnStarted
from bot.parked import MemoryParkedQuestions, ParkedQuestions
from bot.permissions import resolve_access
from bot.serial import KeyedLock
from bot.transcript import MemoryTranscriptStore, TranscriptStore
from bot.transcript import TranscriptEntry as TranscriptEntry  # for channels (they import bot.turns only)
from bot.types import (
    ControllerView,
    Delta,
    ErrorPart,
    Inbound,
    MoreRows,
    Outcome,
    PendingActionView,
    Reply,
    Risk,
    TextPart,
    TurnResult,
    Visibility,
    utcnow,
)

log = logging.getLogger("avibot.turns")

RESTARTING = "avibot is restarting; ask again in a minute. Nothing was changed."
GONE_ALERT = "This alert is no longer known here (alert threads are kept for 8 days)."
CUT_SHORT = "avibot is restarting, so this answer was cut short; ask again in a minute. Nothing was changed."


class Turns:
    """What channels may do with the core; nothing else of it is theirs to touch."""

    def __init__(
        self,
        agent: Agent,
        *,
        deduper: EventDeduper | None = None,
        locks: KeyedLock | None = None,
        observers: Observers | None = None,
        transcript: TranscriptStore | None = None,
        parked: ParkedQuestions | None = None,
        alerts: AlertService | None = None,
    ) -> None:
        self._agent = agent
        self._alerts = alerts  # controller alerts posted to threads (bot/alerts/), when routes are set
        self._transcript = transcript or MemoryTranscriptStore()  # what each turn showed (bot/transcript.py)
        self._deduper = deduper or MemoryDeduper()
        self.parked = parked or MemoryParkedQuestions()  # a web question until its stream (bot/parked.py)
        self._locks = locks or KeyedLock()
        self._observers = observers or agent.observers
        self._closing = False
        self._questions: set[asyncio.Task[object]] = set()  # turns that may be cut short at shutdown
        self._writes: set[asyncio.Task[object]] = set()  # confirmations: never cut short
        self._cut: set[asyncio.Task[object]] = set()

    # -- turns -------------------------------------------------------------------------------------

    async def first_delivery(self, event_key: str, ttl_seconds: int | None = None) -> bool:
        """False for a platform event seen before (within `ttl_seconds`, or the store's default),
        on any replica."""
        try:
            return await self._deduper.first_time(event_key, ttl_seconds)
        except Exception as exc:  # the store is down: answering twice beats never answering
            log.warning("de-dup unavailable, answering %s anyway: %s", event_key, type(exc).__name__)
            return True

    async def park(self, session_id: str, text: str) -> str:
        """Keep a question for the stream that will answer it, on whichever replica that lands."""
        return await self.parked.park(session_id, text)

    async def take(self, turn_id: str, session_id: str) -> str | None:
        """The parked question, once, for its session; None when unknown, expired or unreachable."""
        try:
            return await self.parked.take(turn_id, session_id)
        except Exception as exc:  # the store is down: the page says the question is gone
            log.warning("parked question unavailable: %s", type(exc).__name__)
            return None

    async def stream(self, inbound: Inbound) -> AsyncGenerator[Delta | TurnResult, None]:
        """Text deltas while the model writes, then the TurnResult; in order per conversation."""
        if self._closing:
            yield self._refusal(inbound, RESTARTING)
            return
        task = asyncio.current_task()
        assert task is not None
        self._questions.add(task)
        try:
            async with self._locks.hold(inbound.conversation_key):
                started = self._started(inbound)
                result: TurnResult | None = None
                try:
                    async for event in self._agent.stream(await self._in_context(inbound)):
                        if isinstance(event, TurnResult):
                            result = event
                        yield event
                except asyncio.CancelledError:
                    if task not in self._cut:
                        raise
                    task.uncancel()  # cut short by `drain`: the asker is told, the turn ends normally
                    result = self._refusal(inbound, CUT_SHORT)
                    yield result
                await self._keep(inbound, result)
                self._ended(inbound, result, started)
        finally:
            self._questions.discard(task)
            self._cut.discard(task)

    async def run(self, inbound: Inbound) -> TurnResult:
        """The whole TurnResult at once."""
        result: TurnResult | None = None
        async for event in self.stream(inbound):
            if isinstance(event, TurnResult):
                result = event
        assert result is not None
        return result

    async def settle(self, verb: str, action_id: str, inbound: Inbound) -> TurnResult:
        """A Confirm or Cancel click (or call): runs at most once, by someone allowed, here.

        Not queued behind the conversation's turn in progress: the pending store already makes it
        exactly-once, and a click must be answered at once (Teams waits for its invoke response).
        """
        if self._closing:  # the clicker's alone: the action is still pending, its buttons stay
            return self._refusal(inbound, RESTARTING, Visibility.ASKER)
        task = asyncio.current_task()
        assert task is not None
        self._writes.add(task)
        try:
            started = self._started(inbound)
            if verb == "confirm":
                result = await self._agent.confirm(action_id, inbound)
            else:
                result = await self._agent.cancel(action_id, inbound)
            await self._keep(inbound, result, settles=True)
            self._ended(inbound, result, started)
            return result
        finally:
            self._writes.discard(task)

    async def propose(self, inbound: Inbound, tool: str, arguments: dict[str, Any]) -> TurnResult:
        """One tool by name, no model: a read answers, a write becomes a pending action."""
        started = self._started(inbound)
        result = await self._agent.propose(inbound, tool, arguments)
        await self._keep(inbound, result)
        self._ended(inbound, result, started)
        return result

    async def more(self, inbound: Inbound, more: MoreRows) -> TurnResult:
        """A "Show more" click (or call): the next page of a table, run as a read with the asker's own
        access and remembered in the conversation like a command.

        `more` comes back from a button, so it is only a request: a tool that is not a read of the
        catalogue, or arguments that are not valid, are refused (Outcome.REFUSED, to the asker).
        `inbound.text` may be empty; the history then keeps `more.command` (or "more").
        """
        if self._closing:
            return self._refusal(inbound, RESTARTING, Visibility.ASKER)
        started = self._started(inbound)
        result = await self._agent.more(inbound, more)
        await self._keep(inbound, result)
        self._ended(inbound, result, started)
        return result

    # -- alerts ------------------------------------------------------------------------------------

    @property
    def alerts_on(self) -> bool:
        """True when alerts are routed to chat (a platform then registers its poster)."""
        return self._alerts is not None

    @property
    def alert_mute_label(self) -> str:
        """The Mute button's words, with how long it silences ("Mute 1 h")."""
        minutes = self._alerts.settings.mute_minutes if self._alerts is not None else 60.0
        return f"Mute {duration_text(minutes * 60)}"

    @property
    def alert_feed_on(self) -> bool:
        """True when some alerts go to the web page's feed (a `web:` route)."""
        return self._alerts is not None and "web" in self._alerts.settings.platforms

    def add_alert_poster(self, platform: str, poster: AlertPoster) -> None:
        if self._alerts is not None:
            self._alerts.add_poster(platform, poster)

    @property
    def alert_links(self) -> str | None:
        """The controller's public address for "Open in controller" links, when configured."""
        return self._alerts.settings.controller_url if self._alerts is not None else None

    async def alert_context(self, platform: str, thread_key: str) -> AlertContext | None:
        """The alert a thread was opened for; None when it is not an alert's thread (or the store
        cannot say: the question is then answered without it)."""
        if self._alerts is None:
            return None
        try:
            return await self._alerts.context_for(platform, thread_key)
        except Exception as exc:
            log.warning("alert context unavailable for %s: %s", thread_key, type(exc).__name__)
            return None

    async def _in_context(self, inbound: Inbound) -> Inbound:
        ctx = await self.alert_context(inbound.platform, inbound.conversation_key)
        return inbound if ctx is None else self._on_alerts_controller(with_alert(inbound, ctx), ctx)

    def _on_alerts_controller(self, inbound: Inbound, ctx: AlertContext) -> Inbound:
        """With several controllers, a turn about an alert asks for the alert's controller (a message
        naming another one still goes there: its mention comes first)."""
        if not ctx.controller or not self._agent.controllers.several or inbound.controller:
            return inbound
        return inbound.model_copy(update={"controller": ctx.controller})

    async def investigate(self, inbound: Inbound, thread_key: str | None = None) -> TurnResult:
        """An alert's Investigate button: fixed reads about its object (state, members and monitors,
        the last hour's events and metrics), with the clicker's own role, no model. `thread_key` is
        the alert's thread (default: the conversation's own key)."""
        if self._closing:
            return self._refusal(inbound, RESTARTING, Visibility.ASKER)
        ctx = await self.alert_context(inbound.platform, thread_key or inbound.conversation_key)
        if ctx is None:
            return self._refusal(inbound, GONE_ALERT, Visibility.ASKER)
        if not inbound.text.strip():
            inbound = inbound.model_copy(update={"text": f"investigate {ctx.object_name or 'the alerts'}"})
        inbound = self._on_alerts_controller(inbound, ctx)
        started = self._started(inbound)
        calls, title = diagnosis_calls(ctx), diagnosis_title(ctx)
        result = await self._agent.reads(inbound, calls, title, controller=inbound.controller or None)
        await self._keep(inbound, result)
        self._ended(inbound, result, started)
        return result

    async def mute(self, inbound: Inbound, thread_key: str | None = None) -> TurnResult:
        """An alert's Mute button: operators (and admins) silence the object on that route for
        `alerts.mute_minutes`; the thread still gets its resolution."""
        ctx = await self.alert_context(inbound.platform, thread_key or inbound.conversation_key)
        if ctx is None or self._alerts is None:
            return self._refusal(inbound, GONE_ALERT, Visibility.ASKER)
        access = resolve_access(self._agent.access_settings, inbound)
        if not access.allows(Risk.WRITE):
            return self._refusal(
                inbound,
                f"Your role is {access.role.value}; muting alerts needs the operator role or higher.",
                Visibility.ASKER,
            )
        who = inbound.user.name or inbound.user.id
        try:
            text = await self._alerts.mute(ctx, who)
        except Exception as exc:
            log.warning("mute failed: %s", type(exc).__name__)
            return self._refusal(
                inbound, "The alert store is unavailable; nothing was muted.", Visibility.ASKER
            )
        several = self._agent.controllers.several
        return TurnResult(
            reply=Reply(parts=[TextPart(markdown=text)], conversation_key=inbound.conversation_key),
            outcome=Outcome.ANSWERED,
            controller=ctx.controller if several and ctx.controller else self.controller,
        )

    async def alert_feed(self, feed: str | None = None, limit: int = 50) -> list[FeedItem]:
        """The web page's alert feed, newest first; raises when the store cannot say."""
        return [] if self._alerts is None else await self._alerts.feed_items(feed, limit)

    async def push_alerts(self, body: Any, controller: str | None = None) -> int:
        """Alerts pushed to the webhook, into the same pipeline, as the controller named's (the
        default's when None); how many were new to it. Raises ValueError for a body that holds no
        alert, or a controller no route takes alerts from."""
        if self._alerts is None:
            raise ValueError("alerts are not routed anywhere (no alerts.routes)")
        report = await self._alerts.push(body, controller)
        return report.posted + report.digested

    def webhook_accepts(self, secret: str) -> bool:
        """Whether `secret` is the configured alert webhook secret (constant time); False when none is
        set or alerts are not routed."""
        configured = self._alerts.settings.webhook_secret if self._alerts is not None else None
        if configured is None:
            return False
        try:
            given = secret.encode()
        except UnicodeEncodeError:  # a header that was not UTF-8 is not the secret
            return False
        return hmac.compare_digest(given, configured.get_secret_value().encode())

    @property
    def webhook_on(self) -> bool:
        return self._alerts is not None and self._alerts.settings.webhook_secret is not None

    def alert_health(self) -> PollerHealth | None:
        return None if self._alerts is None else self._alerts.health()

    # -- shutdown ------------------------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        return self._closing

    async def drain(self, grace_seconds: float) -> None:
        """Stop taking turns; let confirmed writes finish (they are never cut); give questions
        `grace_seconds`, then end those still running with a message to their askers."""
        self._closing = True
        if self._questions or self._writes:
            log.info("draining %d question(s), %d write(s)", len(self._questions), len(self._writes))
        running = {*self._questions, *self._writes}
        if running:
            await asyncio.wait(running, timeout=grace_seconds)
        for task in list(self._questions):
            self._cut.add(task)
            task.cancel()
        pending = {*self._questions, *self._writes}
        if pending:  # writes: as long as they take (bounded by the controller client's timeouts)
            await asyncio.wait(pending)

    def _refusal(
        self, inbound: Inbound, text: str, visibility: Visibility = Visibility.EVERYONE
    ) -> TurnResult:
        return TurnResult(
            reply=Reply(parts=[ErrorPart(message=text)], conversation_key=inbound.conversation_key),
            outcome=Outcome.FAILED,
            visibility=visibility,
            controller=self.controller,
        )

    @staticmethod
    def visibility_of(text: str) -> Visibility:
        """Who will see the answer to `text`, known before it runs (help and usage errors are private),
        so a channel can decide where to post before the turn starts."""
        parsed = parse_command(text) if text.strip() else CoreCommand(name="help")
        if isinstance(parsed, CommandError) or (isinstance(parsed, CoreCommand) and parsed.name == "help"):
            return Visibility.ASKER
        return Visibility.EVERYONE

    # -- conversations and models ------------------------------------------------------------------

    async def has_history(self, conversation_key: str) -> bool:
        """True when the conversation has been talked to (a thread reply then continues it)."""
        return bool(await self._agent.conversation(conversation_key))

    async def history(self, conversation_key: str) -> list[dict[str, Any]]:
        return await self._agent.conversation(conversation_key)

    async def forget(self, conversation_key: str) -> None:
        await self._transcript.clear(conversation_key)
        await self._agent.clear_conversation(conversation_key)

    async def transcript(self, conversation_key: str) -> list[TranscriptEntry]:
        """What the conversation's last turns showed (their Reply parts), oldest first; raises when
        the store cannot say. The model's history (`history`) is the compact text instead."""
        return await self._transcript.load(conversation_key)

    async def pending_view(self, conversation_key: str, action_id: str) -> PendingActionView | None:
        """The action if it still awaits Confirm / Cancel in this conversation, else None (settled,
        expired, unknown or another conversation's); raises when the pending store cannot say."""
        action = await self._agent.pending.get(action_id)
        if action is None or action.conversation_key != conversation_key or action.expires_at <= utcnow():
            return None
        return action.view()

    async def _keep(self, inbound: Inbound, result: TurnResult | None, *, settles: bool = False) -> None:
        """Add the finished turn to the conversation's transcript (`reset` empties it instead). Best
        effort: the answer is already given, and a store failure must not turn it into an error."""
        if result is None:
            return
        key = inbound.conversation_key
        try:
            if not settles and _resets(inbound.text):
                await self._transcript.clear(key)
            else:
                await self._transcript.append(key, TranscriptEntry.of(inbound, result, settles=settles))
        except Exception as exc:
            log.warning("transcript not kept for %s: %s", key, type(exc).__name__)

    @property
    def mode(self) -> str:
        """`llm` or `command`."""
        return self._agent.mode

    @property
    def offline_reason(self) -> str:
        """Why there is no model, in words for the person (command mode)."""
        return self._agent.offline_reason

    @property
    def controller(self) -> str:
        return self._agent.controller

    def controllers(self) -> list[ControllerView]:
        """The controllers this bot speaks to, the default first (one, unnamed in replies, or several)."""
        return [
            ControllerView(name=c.name, label=c.label, address=c.address, public_url=c.public_url)
            for c in self._agent.controllers
        ]

    async def current_controller(self, conversation_key: str) -> str:
        """The controller a conversation's next question goes to unless it names one."""
        cs = self._agent.controllers
        if not cs.several:
            return cs.default.name
        return await self._agent.scope.current(conversation_key) or cs.default.name

    async def list_models(self) -> list[Any]:
        """Ollama's models; raises an LLM error (with `.message` and `.hint`) when it cannot say."""
        return await self._agent.list_models()

    async def validate_model(self, name: str | None) -> Any:
        return await self._agent.validate_model(name)

    async def model_for(self, conversation_key: str) -> str | None:
        return await self._agent.model_for(conversation_key)

    async def use_model(self, conversation_key: str, name: str) -> None:
        await self._agent.use_model(conversation_key, name)

    # -- observers ---------------------------------------------------------------------------------

    def _started(self, inbound: Inbound) -> float:
        self._observers.emit(
            TurnStarted(
                platform=inbound.platform,
                conversation_key=inbound.conversation_key,
                user_id=inbound.user.id,
            )
        )
        return time.perf_counter()

    def _ended(self, inbound: Inbound, result: TurnResult | None, started: float) -> None:
        self._observers.emit(
            TurnEnded(
                platform=inbound.platform,
                mode=result.reply.mode if result is not None else "command",
                outcome=result.outcome if result is not None else Outcome.FAILED,
                seconds=time.perf_counter() - started,
            )
        )


def _resets(text: str) -> bool:
    """True for the `reset` command, which forgets the conversation (its transcript too)."""
    parsed = parse_command(text) if text.strip() else None
    return isinstance(parsed, CoreCommand) and parsed.name == "reset"
