"""`TurnState`: what one turn collects on its way to a result, and how it becomes one.

The agent's parts (tool invocation, the model loop, the built-in commands) all add to the same
state; `finish` turns it into the `TurnResult` every channel receives: the Reply, how the turn ended
and who should see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from avi.redact import redact_all
from bot.controllers import Controller, Controllers
from bot.pending import PendingAction
from bot.permissions import Access
from bot.tools.base import ToolContext
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    Inbound,
    Outcome,
    Part,
    PendingActionView,
    Reply,
    TextPart,
    ToolCallRecord,
    TurnResult,
    Visibility,
)


@dataclass
class TurnState:
    inbound: Inbound
    access: Access
    ctx: ToolContext
    records: list[ToolCallRecord] = field(default_factory=list)
    pending: PendingAction | None = None
    controller: str = ""  # what the footer and the audit name: the address, or the name among several
    notes: list[str] = field(default_factory=list)  # said after the answer (e.g. "history is unavailable")
    where: Controller | None = None  # the controller the turn's tools run on
    controllers: Controllers | None = None  # all of them, when the bot has several
    everywhere: bool = False  # reads run on every controller ("which vs are down everywhere?")

    @property
    def several(self) -> bool:
        return self.controllers is not None and self.controllers.several

    @property
    def controller_name(self) -> str:
        return self.where.name if self.where is not None else ""

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def finish(
        self,
        mode: str,
        parts: list[Part],
        outcome: Outcome | None = None,
        visibility: Visibility | None = None,
        action: PendingActionView | None = None,
    ) -> TurnResult:
        """The Answer: a proposed write adds its confirmation part and makes the outcome `pending`.

        Unless told otherwise a reply is for everyone, except one made only of errors to a slash
        command (the asker's typo is nobody else's business).
        """
        all_parts = list(parts) + [TextPart(markdown=f"_{note}_") for note in self.notes]
        view = None
        if self.pending is not None:
            view = self.pending.view()
            all_parts.append(
                ConfirmationPart(
                    action_id=view.id,
                    summary=view.summary,
                    diff=view.diff,
                    risk=view.risk,
                    expires_at=view.expires_at,
                )
            )
        reply = Reply(
            parts=all_parts,
            # What a chat or a script is shown of the calls: redacted like the audit (a proxied
            # write's body may carry a password); the pending action keeps the real arguments.
            tool_calls=[r.model_copy(update={"arguments": redact_all(r.arguments)}) for r in self.records],
            mode="llm" if mode == "llm" else "command",
            conversation_key=self.inbound.conversation_key,
            pending_action=view,
        )
        if outcome is None:
            outcome = Outcome.PENDING if view is not None else Outcome.ANSWERED
        if visibility is None:
            only_errors = bool(all_parts) and all(isinstance(p, ErrorPart) for p in all_parts)
            private = outcome is Outcome.REFUSED or (self.inbound.command and only_errors)
            visibility = Visibility.ASKER if private else Visibility.EVERYONE
        return TurnResult(
            reply=reply,
            outcome=outcome,
            visibility=visibility,
            action=action or view,
            controller=self.controller,
        )
