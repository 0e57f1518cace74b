"""The Slack channel: Bolt's AsyncApp with thin listeners around `SlackBridge`, which turns Slack
payloads into `Inbound`s for `bot.turns.Turns` and renders its results as Block Kit. Bolt does
transport (signatures, acks, retries of its own client); the core does de-dup, ordering and every
decision (outcome, who sees it); this file does threading, live updates and where things are posted.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import alerts, buttons
from adapters.slack import blocks as bk
from adapters.slack import events as ev
from adapters.slack.live import LiveMessage
from adapters.slack.settings import SlackSettings
from bot.turns import Turns
from bot.types import Delta, Inbound, TurnResult, User, Visibility

log = logging.getLogger("avibot.slack")

SUGGESTED_PROMPTS = [
    {"title": "Unhealthy pools", "message": "Which pools have servers down?"},
    {"title": "Virtual services that are down", "message": "vs list --down"},
    {"title": "Commands", "message": "help"},
]
WORKING = ":hourglass_flowing_sand: Working on it…"


def make_client(settings: SlackSettings) -> AsyncWebClient:
    """The Web API client: Slack's URL or a fake one; retries 429 after Slack's Retry-After."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


class SlackBridge:
    """Everything between a Slack payload and the core, independent of how Bolt calls it."""

    def __init__(self, turns: Turns, settings: SlackSettings) -> None:
        self.turns = turns
        self.settings = settings

    # -- events ------------------------------------------------------------------------------------

    async def first_delivery(self, body: dict[str, Any]) -> bool:
        """False for an event already seen (Slack's retry, or another replica got it first)."""
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not event_id:
            return True
        return await self.turns.first_delivery(f"slack:evt:{event_id}", self.settings.dedup_ttl_seconds)

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, bot_user: str | None
    ) -> None:
        msg = ev.message_from_event(event, body.get("team_id"))
        if msg is None:
            return
        text = ev.strip_mention(msg.text, bot_user)
        inbound = ev.inbound(msg, text or "help")
        if msg.in_thread and self.settings.read_thread_context:
            inbound = await self._with_thread_context(client, msg, inbound, bot_user)
        await self.answer(client, inbound, msg.channel, msg.root_ts)

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, bot_user: str | None
    ) -> None:
        """DMs, and replies in threads that are already a conversation or an alert's (mentions come as
        app_mention)."""
        msg = ev.message_from_event(event, body.get("team_id"))
        if msg is None or msg.user == bot_user:
            return
        if msg.is_dm:
            await self.answer(
                client, ev.inbound(msg, ev.strip_mention(msg.text, bot_user)), msg.channel, msg.root_ts
            )
            return
        if not msg.in_thread or not self.settings.follow_thread_replies or ev.mentions(msg.text, bot_user):
            return
        inbound = ev.inbound(msg, ev.strip_mention(msg.text, bot_user))
        key = inbound.conversation_key
        if await self.turns.has_history(key) or await self.turns.alert_context(ev.PLATFORM, key) is not None:
            await self.answer(client, inbound, msg.channel, msg.root_ts)

    async def answer(
        self,
        client: AsyncWebClient,
        inbound: Inbound,
        channel: str,
        thread_ts: str | None,
        *,
        ts: str | None = None,
        preface: str = "",
        respond: Any = None,
    ) -> TurnResult:
        """One turn (in order with the thread's others: `Turns` holds the thread while it runs, so the
        answer is posted before the next turn starts), streamed into one threaded message.

        With `respond` (a slash command), an answer meant for the asker only is taken back from the
        channel and sent to them alone; a message turn's asker is in the thread, so it stays there.
        """
        live = LiveMessage(
            client,
            channel,
            thread_ts,
            interval=self.settings.update_interval,
            mode=self.settings.stream,
            ts=ts,
            team=inbound.conversation_key.split(":")[1],
            user=inbound.user.id,
        )
        result: TurnResult | None = None
        async with contextlib.aclosing(self.turns.stream(inbound)) as events:
            async for item in events:
                if isinstance(item, Delta):
                    await live.delta(item.text)
                    continue
                result = item
                mode = await self.live_mode(inbound.conversation_key)
                if respond is not None and item.visibility is Visibility.ASKER:
                    await live.withdraw()
                    rendered = bk.render_reply(
                        item.reply, controller=item.controller, mode=mode, native_tables=False
                    )
                    await respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
                else:
                    await live.finish(item.reply, controller=item.controller, preface=preface, mode=mode)
        assert result is not None
        await buttons.settle_typed(client, channel, inbound, result)  # a typed confirm or cancel
        return result

    async def on_assistant_message(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        bot_user: str | None,
        set_status: Any,
        set_title: Any,
    ) -> None:
        """A message in an assistant thread (or any threaded DM): a title on the first turn, a
        "thinking" status while the core works (Slack clears it when the reply lands)."""
        msg = ev.message_from_event(event, body.get("team_id"))
        if msg is None or msg.user == bot_user:
            return
        inbound = ev.inbound(msg, ev.strip_mention(msg.text, bot_user))
        try:
            if not await self.turns.has_history(inbound.conversation_key):
                await set_title(bk.plain(inbound.text, 60))
            await set_status("is looking at the controller…")
        except SlackApiError as exc:  # not an assistant thread, or the workspace lacks the feature
            log.debug("slack assistant status not set: %s", exc.response.get("error"))
        await self.answer(client, inbound, msg.channel, msg.root_ts)

    # -- /avi --------------------------------------------------------------------------------------

    async def on_command(self, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """After the ack: what only the asker should see (help, usage errors, refusals) goes to them
        alone; answers go to the channel, as a new message whose thread continues the conversation."""
        text = (command.get("text") or "").strip()
        team, channel, user = (
            command.get("team_id", ""),
            command.get("channel_id", ""),
            command.get("user_id", ""),
        )
        person = User(id=user, name=command.get("user_name", ""))
        asked = f"<@{user}> asked: `{bk.plain(f'{self.settings.command} {text}', 200)}`"
        private = self.turns.visibility_of(text) is Visibility.ASKER
        if not private:
            try:
                resp = await client.chat_postMessage(channel=channel, text=f"{asked}\n{WORKING}")
                root = resp["ts"]
            except SlackApiError as exc:  # not in the channel, or a DM with someone else: use response_url
                log.info(
                    "slack /avi: cannot post in %s (%s); using response_url",
                    channel,
                    exc.response.get("error"),
                )
            else:
                inbound = Inbound(
                    platform=ev.PLATFORM,
                    conversation_key=ev.conversation_key(team, channel, root),
                    channel=channel,
                    user=person,
                    text=text or "help",
                    command=True,
                )
                await self.answer(client, inbound, channel, None, ts=root, preface=asked, respond=respond)
                return
        inbound = Inbound(
            platform=ev.PLATFORM,
            conversation_key=ev.conversation_key(team, channel, ev.command_thread(user)),
            channel=channel,
            user=person,
            text=text or "help",
            command=True,
        )
        result = await self.turns.run(inbound)
        mine = private or result.visibility is Visibility.ASKER
        rendered = bk.render_reply(
            result.reply,
            controller=result.controller,
            preface="" if mine else asked,
            mode=await self.live_mode(inbound.conversation_key),
            native_tables=False,  # through response_url: the table block is not known to work there
        )
        await respond(
            text=rendered.text,
            blocks=rendered.blocks,
            response_type="ephemeral" if mine else "in_channel",
        )

    # -- buttons -----------------------------------------------------------------------------------

    async def on_button(
        self, verb: str, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Confirm or Cancel (adapters/slack/buttons.py)."""
        await buttons.on_settle_click(self.turns, verb, body, action, client, respond)

    async def on_more(
        self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """ "Show more": the next page, read as the clicker, posted in the clicked message's thread
        (through response_url for a message that was itself posted that way)."""
        message = body.get("message") or {}
        person = buttons.clicker(body)
        origin = ev.click_origin(body)
        value = bk.parse_more_value(action.get("value", ""))
        channel = origin.channel if origin else ""
        if origin is None or value is None or not ev.key_is_of(value.k, origin):
            why = buttons.BROKEN_MORE if value is None else buttons.MISPLACED
            log.warning("slack: show-more click refused: %s", "bad value" if value is None else "misplaced")
            await buttons.ephemeral(client, respond, channel, person.id, message, bk.one_line(why))
            return
        inbound = Inbound(
            platform=ev.PLATFORM,
            conversation_key=value.k,
            channel=channel,
            user=person,
            text="",  # the core remembers `more.command` for it
        )
        result = await self.turns.more(inbound, value.m)
        if result.visibility is Visibility.ASKER:
            rendered = bk.render_reply(result.reply, footer=False, native_tables=False)
            await buttons.ephemeral(client, respond, channel, person.id, message, rendered)
            return
        mode = await self.live_mode(value.k)
        if value.k.split(":", 3)[-1].startswith(ev.COMMAND_THREAD):
            rendered = bk.render_reply(
                result.reply, controller=result.controller, mode=mode, native_tables=False
            )
            await respond(text=rendered.text, blocks=rendered.blocks, response_type="in_channel")
            return
        live = LiveMessage(client, channel, origin.thread_ts, interval=self.settings.update_interval)
        await live.finish(result.reply, controller=result.controller, mode=mode)

    async def on_alert_button(
        self, verb: str, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Investigate or Mute on an alert's root (adapters/slack/alerts.py), about the thread of the
        message clicked, as the clicker: a refusal to them alone, an answer in the thread."""
        message = body.get("message") or {}
        person = buttons.clicker(body)
        origin = ev.click_origin(body)
        if origin is None:
            log.warning("slack: alert %s click refused: no message to place it in", verb)
            await buttons.ephemeral(client, respond, "", person.id, message, bk.one_line(alerts.UNPLACED))
            return
        inbound = alerts.click_inbound(body, origin, person, verb)
        key = inbound.conversation_key
        if verb == "investigate":
            result = await self.turns.investigate(inbound, thread_key=key)
        else:
            result = await self.turns.mute(inbound, thread_key=key)
        if result.visibility is Visibility.ASKER:
            rendered = bk.render_reply(result.reply, footer=False, native_tables=False)
            await buttons.ephemeral(client, respond, origin.channel, person.id, message, rendered)
            return
        live = LiveMessage(client, origin.channel, origin.thread_ts, interval=self.settings.update_interval)
        await live.finish(result.reply, controller=result.controller, mode=await self.live_mode(key))

    # -- helpers -----------------------------------------------------------------------------------

    async def live_mode(self, conversation_key: str) -> str:
        """The bot's mode as it is now, for a footer: the conversation's model, or command mode and why
        (the model's status changes at runtime; a reply says what holds when it is posted)."""
        if self.turns.mode != "llm":
            return bk.mode_line("command", reason=self.turns.offline_reason)
        try:
            model = await self.turns.model_for(conversation_key)
        except Exception as exc:  # the store is down: the mode, without the model's name
            log.warning("slack footer: model choice unavailable: %s", type(exc).__name__)
            model = None
        return bk.mode_line("llm", model=model or "")

    async def _with_thread_context(
        self, client: AsyncWebClient, msg: ev.SlackMessage, inbound: Inbound, bot_user: str | None
    ) -> Inbound:
        """First mention inside an existing thread: give the model what was said before."""
        if await self.turns.has_history(inbound.conversation_key):
            return inbound
        try:
            resp = await client.conversations_replies(
                channel=msg.channel, ts=msg.root_ts, limit=self.settings.read_thread_context + 1
            )
        except SlackApiError as exc:  # no history scope: answer without the context
            log.info("slack thread context unavailable: %s", exc.response.get("error"))
            return inbound
        earlier = ev.thread_context(
            resp.get("messages") or [],
            upto_ts=msg.ts,
            bot_user_id=bot_user,
            limit=self.settings.read_thread_context,
        )
        return inbound.model_copy(update={"text": ev.with_context(inbound.text, earlier)})


def signing_secret(settings: SlackSettings) -> str:
    """The secret Bolt checks every HTTP request with; HTTP mode without one is refused, never unchecked."""
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    if not secret.strip() and not settings.socket_mode:
        raise ValueError("Slack over HTTP needs SLACK_SIGNING_SECRET: unsigned requests would be accepted")
    return secret  # Socket Mode: no HTTP requests, nothing to sign


def build_app(channel: SlackBridge, client: AsyncWebClient | None = None) -> AsyncApp:
    """Bolt's AsyncApp wired to the channel: one URL for events, `/avi` and the buttons."""
    settings = channel.settings
    app = AsyncApp(
        client=client or make_client(settings),
        signing_secret=signing_secret(settings),
        request_verification_enabled=True,  # Bolt skips it for Socket Mode envelopes, never for HTTP
        process_before_response=False,
    )

    @app.middleware
    async def drop_retries(body: dict[str, Any], next: Any) -> BoltResponse | None:
        if not await channel.first_delivery(body):
            log.info("slack: duplicate event %s dropped", body.get("event_id"))
            return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        response: BoltResponse | None = await next()
        return response

    assistant = AsyncAssistant()

    @assistant.thread_started
    async def thread_started(say: Any, set_suggested_prompts: Any) -> None:
        await say("Hi! Ask me about virtual services, pools, service engines or their health.")
        try:
            await set_suggested_prompts(prompts=SUGGESTED_PROMPTS)
        except SlackApiError as exc:
            log.debug("slack suggested prompts not set: %s", exc.response.get("error"))

    @assistant.user_message
    async def assistant_message(
        event: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        context: Any,
        set_status: Any,
        set_title: Any,
    ) -> None:
        await channel.on_assistant_message(event, body, client, context.bot_user_id, set_status, set_title)

    app.use(assistant)

    @app.event("app_mention")
    async def mention(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        await channel.on_mention(event, body, client, context.bot_user_id)

    @app.event("message")
    async def message(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        await channel.on_message(event, body, client, context.bot_user_id)

    @app.command(settings.command)
    async def avi(ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()  # within 3 s, always; the answer follows
        await channel.on_command(command, client, respond)

    @app.action(bk.CONFIRM_ACTION)
    async def confirm(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        await channel.on_button("confirm", body, action, client, respond)

    @app.action(bk.CANCEL_ACTION)
    async def cancel(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        await channel.on_button("cancel", body, action, client, respond)

    @app.action(bk.MORE_ACTION)
    async def more(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        await channel.on_more(body, action, client, respond)

    @app.action(alerts.INVESTIGATE_ACTION)
    async def investigate(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await channel.on_alert_button("investigate", body, client, respond)

    @app.action(alerts.MUTE_ACTION)
    async def mute(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await channel.on_alert_button("mute", body, client, respond)

    @app.action(alerts.OPEN_ACTION)
    async def open_in_controller(ack: Any) -> None:
        await ack()  # a link: Slack opens it; an unanswered click would show an error

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("slack listener failed: %s", type(error).__name__, exc_info=error)

    return app
