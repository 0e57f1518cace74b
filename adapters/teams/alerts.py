"""`TeamsAlertPoster`: the Teams side of "alerts come to the channel" (bot/alerts/poster.py).

- A team channel (`19:…@thread.tacv2`, or `@thread.skype` for older teams) gets a NEW thread per alert:
  `create_conversation` posts the card as the root of a new conversation in the channel (the connector's
  POST /v3/conversations answers `{"id": "<channel>;messageid=<root>", "activityId": "<root>"}`).
  The thread key is `teams:<channel>;messageid=<root>`, the conversation key a reply in that thread
  arrives with (adapters/teams/bot.py `conversation_key`), so `Turns` finds the alert behind it. In a
  channel only @mentions reach the bot: a follow-up question in the thread must mention it.
- Any other target (a 1:1 or group chat id) has no threads: the card is posted into the chat and the
  chat itself is the "thread" (`teams:<chat id>`), so every later question there is read as being about
  the chat's latest alert; route alerts to a channel to keep them apart.
- Replies and root updates go through `Sender` (adapters/teams/proactive.py) with the thread's
  ConversationReference, kept as JSON in `ThreadRef.data`; an update re-renders the whole root card.

Every call raises when the connector refuses (after `Sender`'s 429/5xx retries): the engine retries on
its next poll. The SDK needs the connector's address (`TEAMS_ALERT_SERVICE_URL`), since a poller has
no inbound activity to take it from, and the app installed in the team (else 403).
"""

from __future__ import annotations

import json
import logging

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams import alert_cards
from adapters.teams.bot import PLATFORM, conversation_key
from adapters.teams.cards import Card, attachment, clip
from adapters.teams.proactive import Sender, with_retries
from adapters.teams.settings import TeamsSettings
from bot.alerts.models import AlertView, ThreadRef
from bot.alerts.settings import AlertRoute

log = logging.getLogger("avibot.teams")
CHANNEL_SUFFIXES = ("@thread.tacv2", "@thread.skype")
THREAD_MARK = ";messageid="
CHANNEL_HINT = "Ask about it: reply in this thread and @mention avibot."
CHAT_HINT = "Ask about it here."


def is_channel(target: str) -> bool:
    """A team channel's id (new threads possible), not a chat's (`19:…@thread.v2`, `a:…`, `8:…`)."""
    return target.startswith("19:") and target.endswith(CHANNEL_SUFFIXES)


def card_activity(content: Card, summary: str, activity_id: str | None = None) -> Activity:
    return Activity(
        id=activity_id,
        type=ActivityTypes.message,
        summary=clip(summary.replace("\n", " "), 300),
        attachments=[attachment(content)],
    )


class TeamsAlertPoster:
    """Renders and sends alert threads; decides nothing (bot/alerts/ does)."""

    def __init__(
        self,
        adapter: CloudAdapterBase,
        sender: Sender,
        settings: TeamsSettings,
        *,
        links: str | None,
        mute: str = "Mute",
    ) -> None:
        self.adapter = adapter
        self.sender = sender
        self.settings = settings
        self.links = links
        self.mute = mute

    # -- AlertPoster ---------------------------------------------------------------------------------

    async def post_root(self, route: AlertRoute, view: AlertView) -> ThreadRef:
        target = route.target
        if is_channel(target):
            return await self._new_thread(target, view)
        ref = self._reference(target, None)
        key = conversation_key(target)
        root = await self.sender.reply(ref, self._root(view, key, CHAT_HINT))
        if not root:  # posted, but it cannot be updated later: not worth a second post
            log.warning("teams: the connector gave no id for the alert posted to %s", target)
        return self._thread_ref(key, ref, root or "", "chat")

    async def reply_in_thread(self, ref: ThreadRef, text: str) -> None:
        activity = card_activity(alert_cards.reply_card(text), text)
        await self.sender.reply(self._restore(ref), activity)

    async def update_root(self, ref: ThreadRef, view: AlertView) -> None:
        root = ref.data.get("root", "")
        if not root:
            log.warning("teams: the root of %s has no id; not updated", ref.thread_key)
            return
        hint = CHANNEL_HINT if ref.data.get("kind") == "channel" else CHAT_HINT
        await self.sender.update(self._restore(ref), self._root(view, ref.thread_key, hint, root))

    # -- helpers -------------------------------------------------------------------------------------

    def _root(self, view: AlertView, key: str, hint: str, activity_id: str | None = None) -> Activity:
        content = alert_cards.alert_card(view, key, links=self.links, hint=hint, mute=self.mute)
        return card_activity(content, view.headline(), activity_id)

    def _bot(self) -> ChannelAccount | None:
        return ChannelAccount(id=f"28:{self.settings.app_id}") if self.settings.app_id else None

    def _reference(self, conversation: str, root: str | None) -> ConversationReference:
        tenant = self.settings.alert_tenant or None
        return ConversationReference(
            activity_id=root,  # set: a send is a reply to the root, i.e. in the thread
            bot=self._bot(),
            conversation=ConversationAccount(id=conversation, tenant_id=tenant),
            channel_id="msteams",
            service_url=self.settings.alert_service_url,
        )

    @staticmethod
    def _thread_ref(key: str, ref: ConversationReference, root: str, kind: str) -> ThreadRef:
        data = {"ref": json.dumps(ref.serialize()), "root": root, "kind": kind}
        return ThreadRef(platform=PLATFORM, thread_key=key, data=data)

    @staticmethod
    def _restore(ref: ThreadRef) -> ConversationReference:
        reference: ConversationReference = ConversationReference().deserialize(json.loads(ref.data["ref"]))
        return reference

    async def _new_thread(self, channel: str, view: AlertView) -> ThreadRef:
        """Create the thread with the card (its buttons without the key, unknown until Teams answers),
        then put the key in: the click of a card not updated still stands for its own thread."""
        tenant = self.settings.alert_tenant or None
        data: dict[str, object] = {"channel": {"id": channel}}
        if tenant:
            data["tenant"] = {"id": tenant}
        params = ConversationParameters(
            is_group=True,
            bot=self._bot(),
            activity=self._root(view, "", CHANNEL_HINT),
            channel_data=data,
            tenant_id=tenant,
        )
        created: list[Activity] = []

        async def capture(tc: TurnContext) -> None:  # must not raise: the SDK would swallow it
            created.append(tc.activity)

        await with_retries(
            lambda: self.adapter.create_conversation(
                self.settings.app_id,
                capture,
                params,
                "msteams",
                self.settings.alert_service_url,
                None,
            ),
            retries=self.sender.retries,
            max_wait=self.sender.max_wait,
        )
        if not created:
            raise RuntimeError("teams: create_conversation returned no conversation")
        made = created[0]
        conversation = made.conversation.id if made.conversation else ""
        root = conversation.partition(THREAD_MARK)[2] or (made.id or "")
        if not root:
            raise RuntimeError("teams: the connector gave no id for the new thread")
        thread = f"{channel}{THREAD_MARK}{root}"
        key = conversation_key(thread)
        ref = self._reference(thread, root)
        thread_ref = self._thread_ref(key, ref, root, "channel")
        try:
            await self.sender.update(ref, self._root(view, key, CHANNEL_HINT, root))
        except Exception as exc:  # the thread exists; raising would post it a second time
            log.warning("teams: alert card %s keeps key-less buttons: %s", root, type(exc).__name__)
        return thread_ref
