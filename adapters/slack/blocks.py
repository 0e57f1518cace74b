"""Reply -> Block Kit, within Slack's limits, as plain dicts (no Bolt, no I/O).

Slack rejects a whole message (`invalid_blocks`, `msg_too_long`) when one limit is crossed, so every
piece here is cut to size *before* sending, and a cut says so ("and N more") instead of failing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, assert_never

from pydantic import BaseModel, ValidationError

from adapters.slack.diff import diff_sections
from bot.text import footer_text, series_stats, sparkline
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    FactsPart,
    MoreRows,
    Part,
    PendingActionView,
    Reply,
    Risk,
    SeriesPart,
    TablePart,
    TextPart,
)

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_TEXT = 3000
FALLBACK_TEXT = 3000  # the notification text; Slack allows 40k but nobody reads that in a toast
CELL_WIDTH = 40
SPARK_POINTS = 60

# Slack's `table` block (docs.slack.dev table-block; /work/shared/facts.md): rows and cells per row,
# and (reported, unverified) one table per message and 10,000 characters across its cells.
TABLE_ROWS = 100
TABLE_COLUMNS = 20
TABLE_CHARS = 10_000
TABLE_CELL = 200
BUTTON_VALUE = 2000
BUTTON_TEXT = 75

CONFIRM_ACTION = "avi_confirm"
CANCEL_ACTION = "avi_cancel"
MORE_ACTION = "avi_more"
CONFIRM_BLOCK = "avi_op:"
DIFF_BLOCK = "avi_diff:"  # a confirmation's diff, when it takes more than its own section
Block = dict[str, Any]


@dataclass
class Rendered:
    """What `chat.postMessage`/`chat.update` takes: fallback text and blocks."""

    text: str
    blocks: list[Block]


# -- text ------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_FENCE = re.compile(r"^```[\w+-]*$", re.MULTILINE)


def to_mrkdwn(markdown: str) -> str:
    """The model's Markdown as Slack mrkdwn: bold, links, headings, bullets, fences; escaped."""
    text = escape(markdown)
    text = _FENCE.sub("```", text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _HEADING.sub(lambda m: f"*{m.group(1).strip('*')}*", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    return _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)


def clip(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


_PARTIAL_ENTITY = re.compile(r"&[a-z]*$")


def plain(text: str, limit: int) -> str:
    """Text that Slack shows as written (escaped), cut to `limit` without breaking an `&...;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    return _PARTIAL_ENTITY.sub("", escaped[: max(0, limit - 1)]) + "…"


def split_text(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line ends where possible; code fences re-opened."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit - 4)
        if cut <= 0:
            cut = limit - 4
        head, rest = rest[:cut], rest[cut:].lstrip("\n")
        if head.count("```") % 2:  # an open code block: close it here, open it again in the next chunk
            head, rest = head + "\n```", "```\n" + rest
        chunks.append(head)
    if rest.strip():
        chunks.append(rest)
    return chunks


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT) or " "}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_TEXT) or " "}]}


def one_line(text: str) -> Rendered:
    """A one-line message (a refusal), escaped."""
    return Rendered(text=plain(text, FALLBACK_TEXT), blocks=[section(f":warning: {escape(text)}")])


def more_line(hidden: int, noun: str = "more") -> Block:
    return context(f"_… and {hidden} {noun}_")


# -- parts -----------------------------------------------------------------------------------------


def text_blocks(part: TextPart) -> list[Block]:
    return [section(chunk) for chunk in split_text(to_mrkdwn(part.markdown))]


def table_blocks(
    part: TablePart, limit: int = SECTION_TEXT, *, native: bool = False, conversation_key: str = ""
) -> list[Block]:
    """The table: Slack's `table` block when `native` and it fits the block's limits, else monospaced
    in one section; then "and N more", and a "Show more" button when the part has a next page."""
    native_block = native_table(part) if native else None
    if native_block is None:
        blocks = mono_table_blocks(part, limit)
    else:
        blocks = [section(f"*{escape(part.title)}*")] if part.title else []
        blocks.append(native_block)
        if part.hidden:
            blocks.append(more_line(part.hidden, "more rows" if part.hidden != 1 else "more row"))
    if part.more is not None:
        blocks.extend(more_blocks(part.more, conversation_key))
    return blocks


_NUMBER = re.compile(r"^[-+]?\d[\d,.]*\s*(%|[kKMGT]?(bps|B|/s)?|ms|s)?$")


def native_table(part: TablePart) -> Block | None:
    """Slack's `table` block for the part; None when it would cross one of the block's limits (then
    the monospaced table is used). Cells are never empty (Slack rejects them); numbers align right."""
    if not part.columns or len(part.columns) > TABLE_COLUMNS or len(part.rows) + 1 > TABLE_ROWS:
        return None
    width = len(part.columns)
    grid = [part.columns, *((row + [""] * width)[:width] for row in part.rows)]
    cells = [[plain(c.strip(), TABLE_CELL) or "-" for c in row] for row in grid]  # data, never markup
    if sum(len(c) for row in cells for c in row) > TABLE_CHARS:
        return None
    numeric = [
        any(_NUMBER.match(row[i]) for row in cells[1:])
        and all(_NUMBER.match(row[i]) or row[i] == "-" for row in cells[1:])
        for i in range(width)
    ]
    return {
        "type": "table",
        "column_settings": [{"align": "right"} if n else None for n in numeric],
        "rows": [[{"type": "raw_text", "text": c} for c in row] for row in cells],
    }


def mono_table_blocks(part: TablePart, limit: int = SECTION_TEXT) -> list[Block]:
    """A monospaced table in one section: as many rows as fit, then "and N more"."""
    columns = [clip(c, CELL_WIDTH) for c in part.columns]
    rows = [[clip(cell, CELL_WIDTH) for cell in row] for row in part.rows]
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]

    def line(cells: list[str]) -> str:
        return escape("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip())

    title = f"*{escape(part.title)}*\n" if part.title else ""
    head = title + "```" + line(columns) + "\n"
    budget = limit - len(head) - len("```")
    body: list[str] = []
    for row in rows:
        text = line(row) + "\n"
        if len(text) > budget:
            break
        body.append(text)
        budget -= len(text)
    blocks = [section(head + "".join(body).rstrip("\n") + "```")]
    hidden = part.hidden + (len(rows) - len(body))
    if hidden:
        blocks.append(more_line(hidden, "more rows" if hidden != 1 else "more row"))
    return blocks


class MoreValue(BaseModel):
    """A "Show more" button's value: the next page and the conversation it belongs to (Slack signs
    the payload; the key is checked against the clicked message's place like a Confirm button's)."""

    k: str
    m: MoreRows


def more_value(more: MoreRows, conversation_key: str) -> str:
    return MoreValue(k=conversation_key, m=more).model_dump_json(exclude_defaults=False)


def parse_more_value(value: str) -> MoreValue | None:
    """The button's value, validated; None when it is not one (edited, cut, or from elsewhere)."""
    try:
        return MoreValue.model_validate_json(value)
    except ValidationError:
        return None


def more_blocks(more: MoreRows, conversation_key: str) -> list[Block]:
    """The "Show more" button; when its value would be too long for Slack, what to type instead."""
    value = more_value(more, conversation_key)
    if len(value) > BUTTON_VALUE:
        return [context(f"_For more, type `{escape(more.command)}`_")] if more.command else []
    button: Block = {
        "type": "button",
        "action_id": MORE_ACTION,
        "text": {"type": "plain_text", "text": clip(more.label, BUTTON_TEXT) or "Show more"},
        "value": value,
    }
    return [{"type": "actions", "elements": [button]}]


def facts_blocks(part: FactsPart) -> list[Block]:
    fields = [
        {"type": "mrkdwn", "text": clip(f"*{escape(f.label)}*\n{escape(f.value) or '-'}", FIELD_TEXT)}
        for f in part.facts
    ]
    blocks: list[Block] = [section(f"*{escape(part.title)}*")] if part.title else []
    for i in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]})
    return blocks or [section("_no facts_")]


def series_blocks(part: SeriesPart) -> list[Block]:
    values = [p.value for p in part.points]
    known = [v for v in values if v is not None]
    unit = f" ({escape(part.unit)})" if part.unit else ""
    if not known:
        return [section(f"*{escape(part.title)}*{unit}\n_no data_")]
    stats = series_stats(known)
    return [section(f"*{escape(part.title)}*{unit}\n`{sparkline(values, SPARK_POINTS)}`\n{stats}")]


def error_blocks(part: ErrorPart) -> list[Block]:
    hint = f"\n{escape(part.hint)}" if part.hint else ""
    return [section(f":warning: *{escape(part.message)}*{hint}")]


def confirmation_value(action_id: str, conversation_key: str) -> str:
    """The button's value: the action and the conversation it belongs to (Slack signs the payload)."""
    return clip(json.dumps({"a": action_id, "k": conversation_key}, separators=(",", ":")), 2000, "")


def parse_confirmation_value(value: str) -> tuple[str, str]:
    """(action id, conversation key); a bare id (older messages) gives an empty key."""
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        return value.strip(), ""
    if not isinstance(data, dict):
        return str(data), ""
    return str(data.get("a", "")), str(data.get("k", ""))


def confirmation_blocks(part: ConfirmationPart, conversation_key: str) -> list[Block]:
    risk = ":rotating_light: destructive" if part.risk is Risk.DESTRUCTIVE else ":pencil2: write"
    head = f"*Confirm this change* ({risk})\n{escape(part.summary)}\n"
    chunks = diff_sections([escape(line) for line in part.diff], SECTION_TEXT)
    if len(chunks) == 1 and len(head) + len(chunks[0]) <= SECTION_TEXT:
        head, chunks = head + chunks[0], []
    confirm: Block = {
        "type": "button",
        "action_id": CONFIRM_ACTION,
        "text": {"type": "plain_text", "text": "Confirm"},
        "style": "danger" if part.risk is Risk.DESTRUCTIVE else "primary",
        "value": confirmation_value(part.action_id, conversation_key),
    }
    cancel: Block = {
        "type": "button",
        "action_id": CANCEL_ACTION,
        "text": {"type": "plain_text", "text": "Cancel"},
        "value": confirmation_value(part.action_id, conversation_key),
    }
    return [
        section(head),
        *(
            {**section(c), "block_id": clip(f"{DIFF_BLOCK}{part.action_id}:{n}", 255, "")}
            for n, c in enumerate(chunks)
        ),
        {
            "type": "actions",
            "block_id": clip(f"{CONFIRM_BLOCK}{part.action_id}", 255, ""),
            "elements": [confirm, cancel],
        },
        context(f"Expires {part.expires_at:%H:%M} UTC · or type `/avi confirm {escape(part.action_id)}`"),
    ]


def part_blocks(part: Part, conversation_key: str = "", *, native_table: bool = False) -> list[Block]:
    match part:
        case TextPart():
            return text_blocks(part)
        case TablePart():
            return table_blocks(part, native=native_table, conversation_key=conversation_key)
        case FactsPart():
            return facts_blocks(part)
        case SeriesPart():
            return series_blocks(part)
        case ErrorPart():
            return error_blocks(part)
        case ConfirmationPart():
            return confirmation_blocks(part, conversation_key)
        case _:
            assert_never(part)


# -- whole messages --------------------------------------------------------------------------------


def mode_line(mode: str, model: str = "", reason: str = "") -> str:
    """The bot's live mode in words: `assistant (LLM: <model>)`, or `command mode (<why>)`."""
    if mode == "llm":
        return f"assistant (LLM: {model})" if model else "assistant (LLM)"
    return f"command mode ({reason})" if reason else "command mode"


def footer_line(reply: Reply, controller: str = "", mode: str = "") -> str:
    """The line under an answer, escaped: the bot's mode (`mode`, read when the answer is posted;
    the reply's own without it), the tool calls that answered, and the controller."""
    if not mode:
        return escape(footer_text(reply, controller))
    n = len(reply.tool_calls)
    tools = f" · {n} tool call{'s' if n != 1 else ''}" if n else ""
    where = f" · controller {controller}" if controller else ""
    return escape(f"{mode}{tools}{where}")


def render_reply(
    reply: Reply,
    *,
    controller: str = "",
    footer: bool = True,
    preface: str = "",
    mode: str = "",
    native_tables: bool = True,
) -> Rendered:
    """The whole reply: parts in order, a confirmation always kept, never more than 50 blocks; with
    a footer saying `mode` (the bot's live mode, see `mode_line`). The first table that fits is
    Slack's `table` block when `native_tables` (one per message); the others are monospaced.
    Ephemeral messages and response_url posts should pass `native_tables=False` (not known to take it)."""
    key = reply.conversation_key
    must_keep = [b for p in reply.parts if isinstance(p, ConfirmationPart) for b in part_blocks(p, key)]
    tail = [context(footer_line(reply, controller, mode))] if footer else []
    head = [context(preface)] if preface else []
    budget = MAX_BLOCKS - len(must_keep) - len(tail) - len(head)
    blocks: list[Block] = []
    dropped = 0
    native = native_tables
    for part in reply.parts:
        if isinstance(part, ConfirmationPart):
            continue
        pieces = part_blocks(part, key, native_table=native)
        if dropped or len(blocks) + len(pieces) > budget - 1:  # keep one slot for the "and N more" line
            dropped += 1
            continue
        blocks.extend(pieces)
        native = native and not any(b["type"] == "table" for b in pieces)
    if dropped:
        blocks.append(more_line(dropped, "more parts not shown (too long for one Slack message)"))
    blocks = head + blocks[: max(0, budget)] + must_keep + tail
    return Rendered(text=plain(reply.text, FALLBACK_TEXT) or "(no answer)", blocks=blocks[:MAX_BLOCKS])


def progress(text: str) -> Rendered:
    """A partial answer while the model writes (plain mrkdwn, the tail kept when it is long)."""
    body = to_mrkdwn(text)
    if len(body) > SECTION_TEXT - 2:
        body = "…" + body[-(SECTION_TEXT - 3) :]
    return Rendered(text=plain(text, FALLBACK_TEXT) or "…", blocks=[section(body + " ▍")])


def first_line(reply: Reply | None) -> str:
    """The result's first part as one mrkdwn line (the core puts what happened first)."""
    first = reply.parts[0] if reply is not None and reply.parts else None
    match first:
        case None:
            return ""
        case TextPart():
            return " ".join(to_mrkdwn(first.markdown).split())
        case ErrorPart():
            return escape(" ".join(filter(None, (first.message, first.hint))))
        case _:
            return plain(reply.text if reply is not None else "", SECTION_TEXT)


def has_confirmation(blocks: list[Block]) -> bool:
    """Whether a message still has Confirm / Cancel buttons."""
    return any(_is_confirm_actions(b) for b in blocks)


def holds_action(blocks: list[Block], view: PendingActionView) -> bool:
    """Whether a message has the Confirm / Cancel buttons of this action."""
    for block in blocks:
        if not _is_confirm_actions(block):
            continue
        if block.get("block_id") == clip(f"{CONFIRM_BLOCK}{view.id}", 255, ""):
            return True
        if any(parse_confirmation_value(str(e.get("value", "")))[0] == view.id for e in block["elements"]):
            return True
    return False


def _is_confirm_actions(block: Block) -> bool:
    if block.get("type") != "actions":
        return False
    ids = {e.get("action_id") for e in block.get("elements") or []}
    return str(block.get("block_id", "")).startswith(CONFIRM_BLOCK) or bool(
        ids & {CONFIRM_ACTION, CANCEL_ACTION}
    )


def _without_header(block: Block) -> Block | None:
    """The confirmation's section without its "Confirm this change" line (the summary and diff stay)."""
    text = str((block.get("text") or {}).get("text", ""))
    head, _, rest = text.partition("\n")
    if not head.startswith("*Confirm this change*"):
        return block
    return section(rest) if rest.strip() else None


def outcome(
    original: list[Block],
    icon: str,
    by: str,
    result: Reply | None,
    *,
    view: PendingActionView | None = None,
    controller: str = "",
) -> Rendered:
    """The confirmation message once settled, for everyone: its buttons and "Expires … or type" line
    replaced by one outcome line (`icon`, what happened, `by`: who, in the bot's own mrkdwn). With the
    action (`view`) the line says what was done, so the planned summary is not repeated: only its
    diff stays; without it (expired, settled elsewhere) the summary and diff stay, their "Confirm
    this change" heading gone. The rest of the result (say, the object read back) follows."""
    said = first_line(result)
    line = " · ".join(filter(None, (f"{icon} {said}".strip(), by)))
    rest: list[Block] = []
    if result is not None and len(result.parts) > 1:
        tail = result.model_copy(update={"parts": result.parts[1:]})
        rest = render_reply(tail, controller=controller, footer=False, native_tables=False).blocks
    at = next((i for i, b in enumerate(original) if _is_confirm_actions(b)), None)
    if at is None:  # not a confirmation message we know: keep it, without any buttons, and add the line
        before = [b for b in original if b.get("type") != "actions"]
        after: list[Block] = []
        change: list[Block] = []
    else:
        start = at
        while start > 0 and str(original[start - 1].get("block_id", "")).startswith(DIFF_BLOCK):
            start -= 1
        start = start - 1 if start > 0 and original[start - 1].get("type") == "section" else start
        end = at + 2 if at + 1 < len(original) and original[at + 1].get("type") == "context" else at + 1
        before, after = original[:start], [b for b in original[end:] if b.get("type") != "actions"]
        if view is not None:
            change = [section(c) for c in diff_sections([escape(d) for d in view.diff], SECTION_TEXT)]
        else:
            kept = _without_header(original[start]) if start < at else None
            change = [*([kept] if kept is not None else []), *original[start + 1 : at]]
    blocks = [*before, section(line), *change, *rest][: MAX_BLOCKS - len(after)] + after
    return Rendered(text=clip(line, FALLBACK_TEXT) or "(no answer)", blocks=blocks[:MAX_BLOCKS])
