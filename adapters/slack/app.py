"""The Slack channel: Bolt's AsyncApp with thin listeners around `SlackChannel`, the part that talks
to the agent. Bolt does transport (signatures, acks, retries of its own client); everything Slack
does *not* do for us lives here: de-duplicating retried events, threading, one turn at a time per
thread, live updates, and confirmations bound to the thread that asked.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as bk
from adapters.slack import events as ev
from adapters.slack.live import LiveMessage
from adapters.slack.settings import SlackSettings
from bot.agent import Agent, Delta
from bot.commands import CommandError, CoreCommand, parse_command
from bot.dedup import EventDeduper, MemoryDeduper
from bot.serial import KeyedLock
from bot.types import ErrorPart, Inbound, Reply, User

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


class SlackChannel:
    """Everything between a Slack payload and the agent, independent of how Bolt calls it."""

    def __init__(
        self,
        agent: Agent,
        settings: SlackSettings,
        *,
        deduper: EventDeduper | None = None,
        locks: KeyedLock | None = None,
        controller: str = "",
    ) -> None:
        self.agent = agent
        self.settings = settings
        self.deduper = deduper or MemoryDeduper(ttl_seconds=settings.dedup_ttl_seconds)
        self.locks = locks or KeyedLock()
        self.controller = controller

    # -- events ------------------------------------------------------------------------------------

    async def first_delivery(self, body: dict[str, Any]) -> bool:
        """False for an event already seen (Slack's retry, or another replica got it first)."""
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not event_id:
            return True
        try:
            return await self.deduper.first_time(f"slack:evt:{event_id}")
        except Exception as exc:  # Redis down: answering twice beats never answering
            log.warning("slack de-dup unavailable: %s", type(exc).__name__)
            return True

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
        """DMs, and replies in threads that are already a conversation (mentions come as app_mention)."""
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
        if await self.agent.conversation(inbound.conversation_key):
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
    ) -> Reply:
        """One turn, in order with the thread's other turns, streamed into one threaded message."""
        async with self.locks.hold(inbound.conversation_key):
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
            reply: Reply | None = None
            async for item in self.agent.stream(inbound):
                if isinstance(item, Delta):
                    await live.delta(item.text)
                else:
                    reply = item
            assert reply is not None
            await live.finish(reply, controller=self.controller, preface=preface)
            return reply

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
        "thinking" status while the agent works (Slack clears it when the reply lands)."""
        msg = ev.message_from_event(event, body.get("team_id"))
        if msg is None or msg.user == bot_user:
            return
        inbound = ev.inbound(msg, ev.strip_mention(msg.text, bot_user))
        try:
            if not await self.agent.conversation(inbound.conversation_key):
                await set_title(bk.clip(inbound.text, 60))
            await set_status("is looking at the controller…")
        except SlackApiError as exc:  # not an assistant thread, or the workspace lacks the feature
            log.debug("slack assistant status not set: %s", exc.response.get("error"))
        await self.answer(client, inbound, msg.channel, msg.root_ts)

    # -- /avi --------------------------------------------------------------------------------------

    async def on_command(self, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """After the ack: help and errors go to the user only; answers go to the channel, as a new
        message whose thread continues the conversation."""
        text = (command.get("text") or "").strip()
        team, channel, user = (
            command.get("team_id", ""),
            command.get("channel_id", ""),
            command.get("user_id", ""),
        )
        person = User(id=user, name=command.get("user_name", ""))
        parsed = parse_command(text) if text else CoreCommand(name="help")
        asked = f"<@{user}> asked: `{bk.clip(bk.escape(f'{self.settings.command} {text}'), 200)}`"
        private = isinstance(parsed, CommandError) or (
            isinstance(parsed, CoreCommand) and parsed.name == "help"
        )
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
                await self.answer(client, inbound, channel, None, ts=root, preface=asked)
                return
        key = ev.conversation_key(team, channel, f"cmd-{user}")
        inbound = Inbound(
            platform=ev.PLATFORM,
            conversation_key=key,
            channel=channel,
            user=person,
            text=text or "help",
            command=True,
        )
        async with self.locks.hold(key):
            reply = await self.agent.handle(inbound)
        rendered = bk.render_reply(reply, controller=self.controller, preface="" if private else asked)
        only_errors = all(isinstance(p, ErrorPart) for p in reply.parts)
        await respond(
            text=rendered.text,
            blocks=rendered.blocks,
            response_type="ephemeral" if private or only_errors else "in_channel",
        )

    # -- buttons -----------------------------------------------------------------------------------

    async def on_button(
        self, verb: str, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Confirm or Cancel: the agent runs it at most once and checks the clicker; a refusal is shown
        only to the clicker, an outcome replaces the buttons for everyone."""
        action_id, key = bk.parse_confirmation_value(action.get("value", ""))
        user = body.get("user") or {}
        channel = (body.get("channel") or {}).get("id", "")
        message = body.get("message") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id", "")
        if not key:
            key = ev.conversation_key(team, channel, message.get("thread_ts") or message.get("ts", ""))
        person = User(id=user.get("id", ""), name=user.get("username") or user.get("name", ""))
        inbound = Inbound(
            platform=ev.PLATFORM,
            conversation_key=key,
            channel=channel,
            user=person,
            text=f"{verb} {action_id}",
        )
        reply = await (self.agent.confirm if verb == "confirm" else self.agent.cancel)(action_id, inbound)
        refused = not reply.tool_calls and any(isinstance(p, ErrorPart) for p in reply.parts)
        if refused:
            await self._ephemeral(client, respond, channel, person.id, message, reply)
            return
        who = f"<@{person.id}>"
        note = f":white_check_mark: Confirmed by {who}" if verb == "confirm" else f":x: Cancelled by {who}"
        if verb == "confirm" and any(isinstance(p, ErrorPart) for p in reply.parts):
            note = f":warning: Confirmed by {who}, but it failed"
        rendered = bk.outcome(message.get("blocks") or [], note, reply, self.controller)
        try:
            await client.chat_update(
                channel=channel, ts=message["ts"], text=rendered.text, blocks=rendered.blocks
            )
        except (SlackApiError, KeyError):  # an ephemeral or response_url message: only respond() can edit it
            await respond(text=rendered.text, blocks=rendered.blocks, replace_original=True)

    async def _ephemeral(
        self,
        client: AsyncWebClient,
        respond: Any,
        channel: str,
        user: str,
        message: dict[str, Any],
        reply: Reply,
    ) -> None:
        rendered = bk.render_reply(reply, footer=False)
        try:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                text=rendered.text,
                blocks=rendered.blocks,
                thread_ts=message.get("thread_ts"),
            )
        except SlackApiError:
            await respond(
                text=rendered.text, blocks=rendered.blocks, response_type="ephemeral", replace_original=False
            )

    # -- helpers -----------------------------------------------------------------------------------

    async def _with_thread_context(
        self, client: AsyncWebClient, msg: ev.SlackMessage, inbound: Inbound, bot_user: str | None
    ) -> Inbound:
        """First mention inside an existing thread: give the model what was said before."""
        if await self.agent.conversation(inbound.conversation_key):
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


def build_app(channel: SlackChannel, client: AsyncWebClient | None = None) -> AsyncApp:
    """Bolt's AsyncApp wired to the channel: one URL for events, `/avi` and the buttons."""
    settings = channel.settings
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    app = AsyncApp(
        client=client or make_client(settings),
        signing_secret=secret,
        request_verification_enabled=secret is not None,
        process_before_response=False,
    )

    @app.middleware
    async def drop_retries(body: dict[str, Any], next: Any) -> BoltResponse | None:
        if not await channel.first_delivery(body):
            log.info("slack: duplicate event %s dropped", body.get("event_id"))
            return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        return await next()

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

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("slack listener failed: %s", type(error).__name__, exc_info=error)

    return app
