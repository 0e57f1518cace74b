"""Reply -> Block Kit, within Slack's limits, as plain dicts (no Bolt, no I/O).

Slack rejects a whole message (`invalid_blocks`, `msg_too_long`) when one limit is crossed, so every
piece here is cut to size *before* sending, and a cut says so ("and N more") instead of failing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, assert_never

from bot.text import footer_text, series_stats, sparkline
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    FactsPart,
    Part,
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

CONFIRM_ACTION = "avi_confirm"
CANCEL_ACTION = "avi_cancel"
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


def more_line(hidden: int, noun: str = "more") -> Block:
    return context(f"_… and {hidden} {noun}_")


# -- parts -----------------------------------------------------------------------------------------


def text_blocks(part: TextPart) -> list[Block]:
    return [section(chunk) for chunk in split_text(to_mrkdwn(part.markdown))]


def table_blocks(part: TablePart, limit: int = SECTION_TEXT) -> list[Block]:
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
    diff = "\n".join(escape(line) for line in part.diff)
    if diff:
        diff = clip(diff, SECTION_TEXT - len(head) - 8, "\n…")
        head += f"```{diff}```"
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
        {
            "type": "actions",
            "block_id": clip(f"avi_op:{part.action_id}", 255, ""),
            "elements": [confirm, cancel],
        },
        context(f"Expires {part.expires_at:%H:%M} UTC · or type `/avi confirm {escape(part.action_id)}`"),
    ]


def part_blocks(part: Part, conversation_key: str = "") -> list[Block]:
    match part:
        case TextPart():
            return text_blocks(part)
        case TablePart():
            return table_blocks(part)
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
    reply: Reply, *, controller: str = "", footer: bool = True, preface: str = "", mode: str = ""
) -> Rendered:
    """The whole reply: parts in order, a confirmation always kept, never more than 50 blocks; with
    a footer saying `mode` (the bot's live mode, see `mode_line`)."""
    key = reply.conversation_key
    must_keep = [b for p in reply.parts if isinstance(p, ConfirmationPart) for b in part_blocks(p, key)]
    tail = [context(footer_line(reply, controller, mode))] if footer else []
    head = [context(preface)] if preface else []
    budget = MAX_BLOCKS - len(must_keep) - len(tail) - len(head)
    blocks: list[Block] = []
    dropped = 0
    for part in reply.parts:
        if isinstance(part, ConfirmationPart):
            continue
        pieces = part_blocks(part, key)
        if dropped or len(blocks) + len(pieces) > budget - 1:  # keep one slot for the "and N more" line
            dropped += 1
            continue
        blocks.extend(pieces)
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


def outcome(original: list[Block], note: str, result: Reply | None, controller: str = "") -> Rendered:
    """The confirmation message after a click: buttons replaced by who did what (when `note` says it),
    then the result."""
    kept = [b for b in original if b.get("type") != "actions"]
    if note:
        kept.append(context(note))
    if result is not None:
        extra = render_reply(result, controller=controller, footer=False).blocks
        kept.extend(extra[: max(0, MAX_BLOCKS - len(kept))])
    # `note` is the bot's own mrkdwn (a <@user> mention); the result is text to escape.
    said = result.text if result is not None else ""
    text = clip(note, FALLBACK_TEXT) if note else plain(said, FALLBACK_TEXT)
    return Rendered(text=text or "(no answer)", blocks=kept[:MAX_BLOCKS])
