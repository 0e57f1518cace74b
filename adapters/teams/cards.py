"""Reply -> Adaptive Card 1.5 (what Teams renders), as plain dicts: no SDK, no I/O.

Teams rejects a message over about 28 KB, so the card is measured after rendering and tables are cut
(then long text clipped) until it fits, always saying "and N more" rather than failing. A pending
write becomes Confirm/Cancel buttons: `Action.Execute` (Universal Actions, answered in place by an
invoke) with an `Action.Submit` fallback for clients without it; both carry the action id and the
conversation key, which the core checks.
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
    MoreRows,
    Part,
    PendingActionView,
    Reply,
    Risk,
    SeriesPart,
    TablePart,
    TextPart,
)

CARD_VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 24_000  # Teams' limit is ~28 KB for the whole activity; keep room for the envelope
TABLE_ROW_STEPS = (40, 20, 10, 5, 2)
TEXT_CHARS = 6000
CELL_CHARS = 60
DIFF_CHARS = 16_000  # every changed line up to here (a card is at most ~28 KB), then a count
MAX_TABLE_COLUMNS = 8
# Column weights from content: a column's longest cell (header included), within these bounds, so a
# name is not wrapped onto three lines while "Enabled" takes as much room.
MIN_WEIGHT, MAX_WEIGHT = 4, 30
SPARK_POINTS = 48

CONFIRM_VERB = "avi_confirm"
CANCEL_VERB = "avi_cancel"
MORE = "more"
Element = dict[str, Any]
Card = dict[str, Any]


def clip(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


def text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text or " ", "wrap": True, **style}


def subtle(text: str) -> Element:
    return text_block(text, size="Small", isSubtle=True, spacing="Small")


def more_line(hidden: int, noun: str) -> Element:
    return subtle(f"… and {hidden} {noun}")


# -- text ------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```[\w+-]*\s*$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)


def text_elements(markdown: str, limit: int = TEXT_CHARS) -> list[Element]:
    """TextBlock Markdown covers bold, italic, lists and links; headings become bold lines and code
    fences monospace blocks (Teams shows neither)."""
    pieces = _FENCE.split(clip(markdown, limit))
    out: list[Element] = []
    for i, piece in enumerate(pieces):
        if not piece.strip("\n"):
            continue
        if i % 2:  # inside a fence
            out.append(text_block(piece.strip("\n"), fontType="Monospace"))
        else:
            out.append(text_block(_HEADING.sub(lambda m: f"**{m.group(1).strip('*')}**", piece.strip("\n"))))
    return out or [text_block(" ")]


# -- parts -----------------------------------------------------------------------------------------


def table_elements(part: TablePart, max_rows: int, conversation_key: str = "") -> list[Element]:
    """A 1.5 `Table` with a header row; rows beyond `max_rows` are counted, not sent."""
    columns = part.columns[:MAX_TABLE_COLUMNS]
    shown = part.rows[:max_rows]

    def row(cells: list[str], header: bool = False) -> Element:
        items = [
            {
                "type": "TableCell",
                "items": [text_block(clip(c, CELL_CHARS), weight="Bolder" if header else "Default")],
            }
            for c in (cells + [""] * len(columns))[: len(columns)]
        ]
        return {"type": "TableRow", "cells": items}

    out: list[Element] = [text_block(part.title, weight="Bolder")] if part.title else []
    out.append(
        {
            "type": "Table",
            "columns": [{"width": w} for w in column_weights(columns, shown)],
            "firstRowAsHeader": True,
            "showGridLines": True,
            "rows": [row(columns, header=True), *(row(r) for r in shown)],
        }
    )
    hidden = part.hidden + len(part.rows) - len(shown)
    if hidden:
        out.append(more_line(hidden, "more row" if hidden == 1 else "more rows"))
    if len(part.columns) > MAX_TABLE_COLUMNS:
        out.append(subtle(f"{len(part.columns) - MAX_TABLE_COLUMNS} more columns not shown"))
    if part.more is not None:
        out.append({"type": "ActionSet", "actions": [more_button(part.more, conversation_key)]})
    return out


def column_weights(columns: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's relative width: its longest cell as shown (clipped), bounded."""
    weights = []
    for i, name in enumerate(columns):
        longest = max(
            [len(clip(name, CELL_CHARS)), *(len(clip(r[i], CELL_CHARS)) for r in rows if i < len(r))]
        )
        weights.append(min(MAX_WEIGHT, max(MIN_WEIGHT, longest)))
    return weights


def more_data(more: MoreRows, conversation_key: str) -> dict[str, Any]:
    """What a "Show more" click sends back: the next page and the conversation it belongs to."""
    return {"avibot": MORE, "k": conversation_key, "m": more.model_dump(mode="json")}


def more_button(more: MoreRows, conversation_key: str) -> Element:
    return {"type": "Action.Submit", "title": clip(more.label, 60), "data": more_data(more, conversation_key)}


def facts_elements(part: FactsPart) -> list[Element]:
    out: list[Element] = [text_block(part.title, weight="Bolder")] if part.title else []
    facts = [{"title": clip(f.label, 80), "value": clip(f.value, 500) or "-"} for f in part.facts[:60]]
    out.append({"type": "FactSet", "facts": facts} if facts else text_block("_no facts_"))
    if len(part.facts) > 60:
        out.append(more_line(len(part.facts) - 60, "more facts"))
    return out


def series_elements(part: SeriesPart) -> list[Element]:
    values = [p.value for p in part.points]
    known = [v for v in values if v is not None]
    unit = f" ({part.unit})" if part.unit else ""
    head = text_block(f"{part.title}{unit}", weight="Bolder")
    if not known:
        return [head, subtle("no data")]
    stats = series_stats(known, part.unit)
    line = sparkline(values, SPARK_POINTS)
    return [head, text_block(line, fontType="Monospace", spacing="None"), subtle(stats)]


def error_elements(part: ErrorPart) -> list[Element]:
    out = [text_block(f"⚠ {clip(part.message, 1000)}", color="Attention", weight="Bolder")]
    if part.hint:
        out.append(text_block(clip(part.hint, 1000), isSubtle=True, spacing="None"))
    return out


def action_data(verb: str, action_id: str, conversation_key: str) -> dict[str, str]:
    """What a click sends back: `avibot` names the verb (for Action.Submit, which has no verb)."""
    return {"avibot": verb, "a": action_id, "k": conversation_key}


def _button(verb: str, title: str, action_id: str, key: str, style: str) -> Element:
    data = action_data(verb, action_id, key)
    return {
        "type": "Action.Execute",
        "verb": CONFIRM_VERB if verb == "confirm" else CANCEL_VERB,
        "title": title,
        "style": style,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": title, "style": style, "data": data},
    }


def change_elements(view: ConfirmationPart | PendingActionView) -> list[Element]:
    """What will change: the summary and the diff (the part a person must read before clicking)."""
    risk = "🚨 destructive" if view.risk is Risk.DESTRUCTIVE else "✏ write"
    out = [
        text_block(f"**Confirm this change** ({risk})"),
        text_block(clip(view.summary, 1000), spacing="Small"),
    ]
    if view.diff:
        out.append(text_block(diff_text(view.diff), fontType="Monospace", spacing="Small"))
    return out


def diff_text(diff: list[str]) -> str:
    """Every changed line (a confirmation that hides a field hides the change), each clipped to 200
    characters; only past DIFF_CHARS, far beyond any real change, the rest becomes a count."""
    shown: list[str] = []
    size = 0
    for n, line in enumerate(diff):
        line = clip(line, 200)
        if size + len(line) > DIFF_CHARS:
            shown.append(f"… and {len(diff) - n} more changed lines: the web page shows them all")
            break
        shown.append(line)
        size += len(line) + 1
    return "\n".join(shown)


def confirmation_elements(part: ConfirmationPart, conversation_key: str) -> list[Element]:
    destructive = part.risk is Risk.DESTRUCTIVE
    buttons = [
        _button(
            "confirm",
            "Confirm",
            part.action_id,
            conversation_key,
            "destructive" if destructive else "positive",
        ),
        _button("cancel", "Cancel", part.action_id, conversation_key, "default"),
    ]
    return [
        {
            "type": "Container",
            "style": "warning" if destructive else "emphasis",
            "items": [
                *change_elements(part),
                {"type": "ActionSet", "actions": buttons},
                subtle(f"Expires {part.expires_at:%H:%M} UTC · or type `confirm {part.action_id}`"),
            ],
        }
    ]


def part_elements(part: Part, conversation_key: str, max_rows: int) -> list[Element]:
    match part:
        case TextPart():
            return text_elements(part.markdown)
        case TablePart():
            return table_elements(part, max_rows, conversation_key)
        case FactsPart():
            return facts_elements(part)
        case SeriesPart():
            return series_elements(part)
        case ErrorPart():
            return error_elements(part)
        case ConfirmationPart():
            return confirmation_elements(part, conversation_key)
        case _:
            assert_never(part)


# -- whole cards -----------------------------------------------------------------------------------


def card(body: list[Element]) -> Card:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body or [text_block(" ")],
    }


def size(content: Card) -> int:
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def _fit(build: Any) -> Card:
    """Render with fewer table rows until the card fits; as a last resort keep only what must stay."""
    content: Card = {}
    for rows in TABLE_ROW_STEPS:
        content = build(rows)
        if size(content) <= MAX_CARD_BYTES:
            return content
    body = content["body"]
    kept = [e for e in body if e.get("type") == "Container"][:1]  # the confirmation, if any
    return card([text_block("The answer was too long for a Teams card; ask for less."), *kept])


@dataclass(frozen=True)
class Mode:
    """The service's mode when the card is rendered (`Turns.mode`, `Turns.offline_reason`)."""

    name: str
    reason: str = ""


def footer_line(reply: Reply, controller: str, mode: Mode | None) -> str:
    """The footer: the live `mode` (and why there is no model) when given, else the reply's own."""
    if mode is None:
        return footer_text(reply, controller)
    live = "llm" if mode.name == "llm" else "command"
    line = footer_text(reply.model_copy(update={"mode": live}), controller)
    if live == "command" and mode.reason:
        head, sep, tail = line.partition(" · ")
        line = f"{head} ({clip(mode.reason, 120)}){sep}{tail}"
    return line


def render_reply(
    reply: Reply, *, controller: str = "", footer: bool = True, preface: str = "", mode: Mode | None = None
) -> Card:
    """The whole reply as one card: parts in order, the confirmation kept, a footer with the mode
    (`mode`: the live one) and controller."""

    def build(max_rows: int) -> Card:
        body: list[Element] = [subtle(preface)] if preface else []
        for part in reply.parts:
            body.extend(part_elements(part, reply.conversation_key, max_rows))
        if footer:
            body.append(subtle(footer_line(reply, controller, mode)))
        return card(body)

    return _fit(build)


def first_line(reply: Reply | None) -> str:
    """What happened, in one line: the result's first part (the core puts it first)."""
    first = reply.parts[0] if reply is not None and reply.parts else None
    if isinstance(first, TextPart):
        return " ".join(first.markdown.split())
    if isinstance(first, ErrorPart):
        return " ".join(filter(None, (first.message, first.hint)))
    return " ".join((reply.text if reply is not None else "").split())


def outcome(
    view: PendingActionView | None,
    icon: str,
    by: str,
    result: Reply | None,
    *,
    controller: str = "",
    mode: Mode | None = None,
) -> Card:
    """The card that replaces a confirmation once settled: one outcome line (`icon`, what happened,
    `by`: who), the diff of the change (its planned summary is not repeated beside the result), the
    rest of the result (say, the object read back) and the footer. No buttons, no "Expires" line."""
    line = " · ".join(filter(None, (f"{icon} {clip(first_line(result), 1000)}".strip(), by)))

    def build(max_rows: int) -> Card:
        body: list[Element] = [text_block(line, weight="Bolder")]
        if view is not None and view.diff:
            body.append(text_block(diff_text(view.diff), fontType="Monospace"))
        if result is not None:
            for part in result.parts[1:]:
                body.extend(part_elements(part, result.conversation_key, max_rows))
            body.append(subtle(footer_line(result, controller, mode)))
        return card(body)

    return _fit(build)


def refusal(view: PendingActionView | None, message: str, key: str) -> Card:
    """Shown to someone whose click was refused: the change, its buttons still there, and why not."""
    body: list[Element] = [text_block(f"⚠ {message}", color="Attention", weight="Bolder")]
    if view is not None:
        part = ConfirmationPart(
            action_id=view.id,
            summary=view.summary,
            diff=view.diff,
            risk=view.risk,
            expires_at=view.expires_at,
        )
        body = [*confirmation_elements(part, key), *body]
    return card(body)


def message_of(reply: Reply) -> str:
    """The sentence a one-line card says about a reply: its first error's message, else its text."""
    return next((p.message for p in reply.parts if isinstance(p, ErrorPart)), "") or reply.text


def attachment(content: Card) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": content}


def plain_summary(reply: Reply, limit: int = 300) -> str:
    """The activity's `summary`: what a notification shows."""
    return clip(reply.text.replace("\n", " "), limit) or "avibot"
