"""Which controller a turn runs on, and with what access there.

In this order: named in the message (`on prod-east, ...`, `@prod-east`, `everywhere`) or asked for
by the channel (`chat --controller`, the page's switch), then the conversation's current one (it
sticks in a thread: naming one makes it current), then the channel's `access.channel_controllers`
mapping, then the default. The current controller is kept in the conversation store beside the
model choice (key `<conversation>#controller`), so every replica and every store agrees, for as long
as the history lives. With one controller every turn runs on it and nothing is read from the text.
"""

from __future__ import annotations

import logging

from bot.controller_choice import Mention, read_mention
from bot.controller_tool import ALL
from bot.controllers import Controller, Controllers
from bot.history import ConversationStore
from bot.pending import PendingAction
from bot.permissions import AccessSettings, channel_controller, on_controller, resolve_access
from bot.tools.base import ToolContext
from bot.turn_state import TurnState
from bot.types import Inbound, Part, TablePart, TextPart

log = logging.getLogger("avibot.agent")
CURRENT_SUFFIX = "#controller"


class ControllerScope:
    """Builds each turn's state on its controller; remembers a conversation's current one."""

    def __init__(self, controllers: Controllers, access: AccessSettings, history: ConversationStore) -> None:
        self.controllers = controllers
        self.access = access
        self.history = history

    def turn(self, inbound: Inbound, where: Controller | None = None, everywhere: bool = False) -> TurnState:
        """The turn on `where` (the default when None): its operations, tenant and the person's access
        there (limited by `access.controller_roles`)."""
        where = where or self.controllers.default
        several = self.controllers.several
        access = resolve_access(self.access, inbound)
        if several:
            access = on_controller(self.access, access, where.name)
        ctx = ToolContext(
            ops=where.ops,
            tenant=access.tenant or where.tenant,
            user=inbound.user,
            platform=inbound.platform,
            channel=inbound.channel,
        )
        return TurnState(
            inbound=inbound,
            access=access,
            ctx=ctx,
            controller=self.controllers.shown(where),
            where=where,
            controllers=self.controllers if several else None,
            everywhere=everywhere and several,
        )

    async def choose(self, inbound: Inbound) -> tuple[TurnState, Mention | None] | str:
        """The turn on the controller this message goes to, and what the message said about
        controllers (its text without the mention); a sentence when it names one there is not."""
        if not self.controllers.several:
            if inbound.controller and self.controllers.get(inbound.controller) is None:
                return self.unknown(inbound.controller)
            return self.turn(inbound), None
        mention = read_mention(inbound.text, self.controllers.names)
        if mention.text != inbound.text:
            inbound = inbound.model_copy(update={"text": mention.text})
        named = mention.name or inbound.controller
        everywhere = mention.everywhere or named.lower() == ALL
        key = inbound.conversation_key
        if named and not everywhere:
            where = self.controllers.get(named)
            if where is None:
                return self.unknown(named)
            await self.keep(key, where.name)
        else:
            where = (
                self.controllers.get(await self.current(key))
                or self.controllers.get(channel_controller(self.access, inbound.platform, inbound.channel))
                or self.controllers.default
            )
        return self.turn(inbound, where, everywhere), mention

    async def switch(self, turn: TurnState, name: str) -> str | None:
        """Move the rest of `turn` to the controller named (kept as the conversation's current one),
        or to every controller for `all`; a sentence when there is no such controller."""
        if name.strip().lower() == ALL:
            turn.everywhere = True
            return None
        where = self.controllers.get(name.strip())
        if where is None:
            return self.unknown(name)
        moved = self.turn(turn.inbound, where)
        turn.where, turn.ctx, turn.access = moved.where, moved.ctx, moved.access
        turn.controller = moved.controller
        turn.everywhere = False
        await self.keep(turn.inbound.conversation_key, where.name)
        return None

    def bound(self, turn: TurnState, action: PendingAction | None) -> TurnState | None:
        """The turn moved to the controller `action` was planned on, whatever the conversation's
        current one is now; None when that controller is gone (the turn as it is without an action)."""
        if action is None:
            return turn
        where = self.controllers.named(action.controller)
        return None if where is None else self.turn(turn.inbound, where)

    def unknown(self, name: str) -> str:
        """The sentence for a name this bot has no controller by."""
        return f"There is no controller named {name!r}; this bot has {', '.join(self.controllers.names)}."

    async def current(self, key: str) -> str | None:
        """The conversation's current controller, if one was chosen (None when the store is down)."""
        try:
            return await self.history.get_model(key + CURRENT_SUFFIX)
        except Exception as exc:
            log.warning("current controller unavailable for %s: %s", key, type(exc).__name__)
            return None

    async def keep(self, key: str, name: str) -> None:
        """Make `name` the conversation's current controller (best effort: this turn runs there anyway)."""
        try:
            if await self.history.get_model(key + CURRENT_SUFFIX) != name:
                await self.history.set_model(key + CURRENT_SUFFIX, name)
        except Exception as exc:
            log.warning("current controller not kept for %s: %s", key, type(exc).__name__)

    async def forget(self, key: str) -> None:
        """A cleared conversation starts again from the channel's controller."""
        await self.history.clear(key + CURRENT_SUFFIX)

    def answer(self, turn: TurnState, mention: Mention) -> list[Part]:
        """The reply to `controllers` (the list, the current one marked) or to a switch (only read
        from a message when the bot has several controllers)."""
        if mention.command == "switch" and turn.where is not None:
            where = turn.where
            address = f" ({where.address})" if where.address else ""
            return [
                TextPart(
                    markdown=f"Now on controller **{where.name}**{address}. Questions here go to it until "
                    "you name another (`on <name>, ...`, or `@all` for every controller)."
                )
            ]
        rows = [[c.name, c.label, c.address, "current" if c is turn.where else ""] for c in self.controllers]
        return [TablePart(title="Controllers", columns=["Name", "Label", "Address", ""], rows=rows)]
