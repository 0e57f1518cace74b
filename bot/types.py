"""The core's platform-neutral types: what an adapter hands in (`Inbound`) and gets back (`Reply`).

Every adapter renders the same `Reply` parts in its own form (Block Kit, Adaptive Card, HTML, terminal
text), so a part carries data, never markup for one platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, assert_never

from pydantic import BaseModel, Field

from common.numbers import fmt_number


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    """What a person may do: viewers read, operators also change, admins also delete."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Risk(StrEnum):
    """What a tool call does to the controller; anything above `read` needs a confirmation."""

    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"


class Outcome(StrEnum):
    """How a turn ended, said by the core so that no channel has to guess it from a Reply's shape."""

    ANSWERED = "answered"  # a question answered (its parts may still carry errors, e.g. an unknown name)
    PENDING = "pending"  # a write is awaiting Confirm / Cancel
    DONE = "done"  # a confirmed write ran, and the controller shows it
    FAILED = "failed"  # a confirmed write did not happen
    UNKNOWN = "unknown"  # a confirmed write was sent but its result cannot be told
    CANCELLED = "cancelled"
    REFUSED = "refused"  # not allowed: role, read-only mode, or another conversation's action
    EXPIRED = "expired"  # the action id is unknown or has expired
    ALREADY_SETTLED = "already_settled"  # someone confirmed or cancelled it first


class Visibility(StrEnum):
    """Who should see a result: everyone where it was asked, or only the person who asked."""

    EVERYONE = "everyone"
    ASKER = "asker"


class User(BaseModel):
    """A person on a platform; `groups` are the platform's groups or roles when known."""

    id: str
    name: str = ""
    groups: list[str] = Field(default_factory=list)


class Inbound(BaseModel):
    """One message to the assistant, from any platform.

    `conversation_key` is stable and namespaced (`slack:<team>:<channel>:<thread_ts>`,
    `teams:<conversation id>`, `web:<session id>`, `cli:<id>`): a threaded follow-up lands in the
    same key, and so in the same history.
    """

    platform: str
    conversation_key: str
    user: User
    text: str = Field(max_length=8000)
    channel: str = ""
    command: bool = False
    received_at: datetime = Field(default_factory=utcnow)
    about: str = Field("", description="what the conversation is about (an alert's thread), for the model")
    controller: str = Field(
        "", max_length=64, description="the controller asked for by name (`chat --controller`, the page)"
    )


class ControllerView(BaseModel):
    """A controller as a channel may show it (never its credentials)."""

    name: str
    label: str = ""
    address: str = ""
    public_url: str = ""


# -- reply parts ---------------------------------------------------------------------------------


class TextPart(BaseModel):
    kind: Literal["text"] = "text"
    markdown: str


class MoreRows(BaseModel):
    """The next page of a table: the same read with the next `page`, run when the person asks
    (a "Show more" button, or typing `command`). Run through `Turns.more`, as a read with the
    asker's own role: a value edited in a button can only ask for a read that person may do."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    label: str = "Show more"
    command: str | None = None  # what to type for the same page, e.g. "vs list page 2"


class TablePart(BaseModel):
    """Rows of cells; `total` > len(rows) means the rows were cut (say "and N more"); `more`, when
    set, fetches the next page."""

    kind: Literal["table"] = "table"
    title: str = ""
    columns: list[str]
    rows: list[list[str]]
    total: int | None = None
    more: MoreRows | None = None

    @property
    def hidden(self) -> int:
        return max(0, (self.total or len(self.rows)) - len(self.rows))


class Fact(BaseModel):
    label: str
    value: str


class FactsPart(BaseModel):
    kind: Literal["facts"] = "facts"
    title: str = ""
    facts: list[Fact]


class SeriesPoint(BaseModel):
    timestamp: datetime
    value: float | None


class SeriesPart(BaseModel):
    """A metric over time, drawn as a sparkline or a small chart."""

    kind: Literal["series"] = "series"
    title: str
    unit: str = ""
    points: list[SeriesPoint]


class ErrorPart(BaseModel):
    kind: Literal["error"] = "error"
    message: str
    hint: str = ""


class ConfirmationPart(BaseModel):
    """A pending write awaiting Confirm / Cancel; `diff` lines read `- before` / `+ after`."""

    kind: Literal["confirmation"] = "confirmation"
    action_id: str
    summary: str
    diff: list[str]
    risk: Risk
    expires_at: datetime


Part = Annotated[
    TextPart | TablePart | FactsPart | SeriesPart | ErrorPart | ConfirmationPart,
    Field(discriminator="kind"),
]


class ToolCallRecord(BaseModel):
    """One tool call made while answering: what was asked and whether it worked."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    error: str | None = None


class PendingActionView(BaseModel):
    """What a user is shown of a pending write."""

    id: str
    summary: str
    diff: list[str]
    risk: Risk
    expires_at: datetime


@dataclass(frozen=True)
class Delta:
    """A piece of the answer's text, streamed before the final result."""

    text: str


class Reply(BaseModel):
    """The core's answer to one Inbound, rendered by each adapter in its own way."""

    parts: list[Part] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    mode: Literal["llm", "command"] = "command"
    conversation_key: str = ""
    pending_action: PendingActionView | None = None

    @property
    def text(self) -> str:
        """The whole reply as plain text (terminal, notifications, the JSON API's `text`)."""
        return "\n\n".join(filter(None, (render_plain(p) for p in self.parts)))


@dataclass
class TurnResult:
    """What a channel gets back for one message, confirm or cancel: the Reply, how the turn ended,
    who should see it, the action it proposed or settled (when known) and the controller it spoke to.

    Channels render this; they never infer the outcome from the Reply's parts.
    """

    reply: Reply
    outcome: Outcome
    visibility: Visibility = Visibility.EVERYONE
    action: PendingActionView | None = None
    controller: str = ""


def render_plain(part: Part) -> str:
    """A part as plain text, for channels without rich formatting."""
    match part:
        case TextPart():
            return part.markdown
        case TablePart():
            return _plain_table(part)
        case FactsPart():
            lines = [part.title] if part.title else []
            lines += [f"{f.label}: {f.value}" for f in part.facts]
            return "\n".join(lines)
        case SeriesPart():
            values = [p.value for p in part.points if p.value is not None]
            if not values:
                return f"{part.title}: no data"
            unit = part.unit
            return (
                f"{part.title}: last {fmt_number(values[-1], unit)}, min {fmt_number(min(values), unit)}, "
                f"max {fmt_number(max(values), unit)}, {len(values)} points"
            )
        case ErrorPart():
            return f"Error: {part.message}" + (f"\nHint: {part.hint}" if part.hint else "")
        case ConfirmationPart():
            lines = [f"Confirmation needed ({part.risk.value}): {part.summary}", *part.diff]
            lines.append(f"Action id {part.action_id}, expires {part.expires_at:%H:%M:%S} UTC.")
            return "\n".join(lines)
        case _:
            assert_never(part)


def _plain_table(part: TablePart) -> str:
    widths = [len(c) for c in part.columns]
    for row in part.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
    lines = [part.title] if part.title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(part.columns, widths, strict=False)).rstrip())
    for row in part.rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    if part.hidden:
        lines.append(f"... and {part.hidden} more")
    return "\n".join(lines)
