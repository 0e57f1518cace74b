"""Reply parts -> terminal text for `avibot chat`.

On a TTY (`tty=True`): bold titles and table headers, aligned columns (numbers to the right), up/down
states in green/red/yellow, a coloured diff, and the assistant's Markdown shown as bold, italic and
highlighted code instead of raw `*`, `_` and backticks. Not on a TTY (a pipe, a file, `NO_COLOR`,
`TERM=dumb`): the same layout as plain text, with no escape sequence at all. Numbers come from the
shared formatter (bot/text.py), so a metric reads `49.5 Mbps` here as it does in Slack or on the page.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TextIO, assert_never

from bot.text import fmt_count, series_stats, sparkline
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    FactsPart,
    Part,
    Reply,
    SeriesPart,
    TablePart,
    TextPart,
)

SPARK_WIDTH = 48
BOLD, DIM, ITALIC = "1", "2", "3"
RED, GREEN, YELLOW, CYAN = "31", "32", "33", "36"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Whole cells that name a state: coloured on a TTY.
STATE_COLOURS: dict[str, str] = {
    **dict.fromkeys(("up", "ok", "healthy", "active", "done", "success", "running", "yes"), GREEN),
    **dict.fromkeys(("down", "failed", "error", "unhealthy", "critical", "refused"), RED),
    **dict.fromkeys(
        ("degraded", "disabled", "initializing", "unknown", "warning", "partial", "pending", "expired"),
        YELLOW,
    ),
}
_NUMERIC = re.compile(r"^[-+]?[\d,]*\.?\d+\s?(?:[kMGTPE]?(?:bps|B|/s)?|%|ms|s)?$")


def use_style(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to style `stream`: a TTY, and neither `NO_COLOR` nor `TERM=dumb` asks for plain text."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def paint(text: str, *codes: str, tty: bool) -> str:
    """`text` in the given SGR styles on a TTY; as it is otherwise."""
    if not tty or not codes or not text:
        return text
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def width(text: str) -> int:
    """Columns `text` takes on a terminal: escapes take none, wide (CJK) characters two."""
    total = 0
    for ch in strip_ansi(text):
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def pad(text: str, size: int, right: bool = False) -> str:
    room = " " * max(0, size - width(text))
    return room + text if right else text + room


# -- Markdown ------------------------------------------------------------------------------------

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")  # Slack-style *bold*
_ITALIC = re.compile(r"(?<!\w)_(?=\S)([^\n]+?)(?<=\S)_(?!\w)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BULLET = re.compile(r"^(\s*)[-*]\s+(.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


def inline(text: str, tty: bool) -> str:
    """`code`, **bold** / *bold*, _italic_ and [links](url), without their markup characters."""
    codes: list[str] = []

    def stash(m: re.Match[str]) -> str:
        codes.append(paint(m.group(1), CYAN, tty=tty))
        return f"\x00{len(codes) - 1}\x00"

    out = _CODE.sub(stash, text)
    out = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", out)
    out = _BOLD.sub(lambda m: paint(m.group(1), BOLD, tty=tty), out)
    out = _STAR.sub(lambda m: paint(m.group(1), BOLD, tty=tty), out)
    out = _ITALIC.sub(lambda m: paint(m.group(1), ITALIC, tty=tty), out)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], out)


class MarkdownLines:
    """Markdown rendered a line at a time, so streamed text is shown as it arrives (a code fence
    spans lines: its state is kept between them)."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.in_fence = False
        self.pending = ""

    def line(self, line: str) -> str | None:
        """One line for the terminal; None for a fence (markup with nothing to show)."""
        if line.lstrip().startswith("```"):
            self.in_fence = not self.in_fence
            return None
        if self.in_fence:
            return "    " + paint(line, CYAN, tty=self.tty)
        if heading := _HEADING.match(line):
            return paint(inline(heading.group(1), self.tty), BOLD, tty=self.tty)
        if bullet := _BULLET.match(line):
            return f"{bullet.group(1)}• {inline(bullet.group(2), self.tty)}"
        return inline(line, self.tty)

    def feed(self, text: str) -> str:
        """The complete lines of what has arrived so far, rendered (each ending in a newline)."""
        self.pending += text
        *done, self.pending = self.pending.split("\n")
        return "".join(f"{shown}\n" for line in done if (shown := self.line(line)) is not None)

    def finish(self) -> str:
        """The last, unfinished line (no newline added)."""
        rest, self.pending = self.pending, ""
        return (self.line(rest) or "") if rest else ""


def markdown(text: str, tty: bool) -> str:
    lines = MarkdownLines(tty)
    shown = (lines.line(line) for line in text.replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in shown if line is not None).strip("\n")


# -- parts ---------------------------------------------------------------------------------------


def state_cell(text: str, tty: bool) -> str:
    colour = STATE_COLOURS.get(text.strip().lower())
    return paint(text, colour, tty=tty) if colour else text


def _numeric_column(rows: Iterable[list[str]], index: int) -> bool:
    cells = [row[index].strip() for row in rows if index < len(row) and row[index].strip() not in ("", "-")]
    return bool(cells) and all(_NUMERIC.match(c) for c in cells)


def table(part: TablePart, tty: bool) -> str:
    """A title, a bold header and aligned columns; numbers to the right; "... and N more"."""
    rows = [[*row, *[""] * (len(part.columns) - len(row))][: len(part.columns)] for row in part.rows]
    sizes = [width(c) for c in part.columns]
    for row in rows:
        sizes = [max(s, width(cell)) for s, cell in zip(sizes, row, strict=True)]
    right = [_numeric_column(rows, i) for i in range(len(part.columns))]

    def line(cells: list[str]) -> str:
        return "  ".join(pad(c, s, r) for c, s, r in zip(cells, sizes, right, strict=True)).rstrip()

    out = [paint(part.title, BOLD, tty=tty)] if part.title else []
    header = line(part.columns)
    out.append(paint(header, BOLD, tty=tty) if tty else header)
    for row in rows:
        out.append(line([state_cell(c, tty) for c in row]))
    if part.hidden:
        out.append(paint(f"... and {fmt_count(part.hidden)} more", DIM, tty=tty))
    return "\n".join(out)


def facts(part: FactsPart, tty: bool) -> str:
    """`label  value` lines with the labels padded to one column."""
    out = [paint(part.title, BOLD, tty=tty)] if part.title else []
    size = max((width(f.label) for f in part.facts), default=0) + 1
    for f in part.facts:
        label = pad(f"{f.label}:", size)
        out.append(f"{paint(label, DIM, tty=tty)} {state_cell(f.value or '-', tty)}")
    return "\n".join(out)


def series(part: SeriesPart, tty: bool, spark_width: int = SPARK_WIDTH) -> str:
    """The metric's name (and unit), then its sparkline and `last · min · max · points`."""
    values = [p.value for p in part.points]
    known = [v for v in values if v is not None]
    title = paint(part.title, BOLD, tty=tty) + (f" ({part.unit})" if part.unit else "")
    if not known:
        return f"{title}\n  no data"
    line = paint(sparkline(values, spark_width), CYAN, tty=tty)
    return f"{title}\n  {line}  {series_stats(known, part.unit)}"


def error(part: ErrorPart, tty: bool) -> str:
    text = paint(f"Error: {inline(part.message, tty=False)}", RED, BOLD, tty=tty)
    return text + (f"\nHint: {inline(part.hint, tty)}" if part.hint else "")


def confirmation(part: ConfirmationPart, tty: bool) -> str:
    head = paint(f"Confirmation needed ({part.risk.value}): {part.summary}", YELLOW, BOLD, tty=tty)
    diff = [
        paint(d, RED, tty=tty) if d.startswith("-") else paint(d, GREEN, tty=tty) if d.startswith("+") else d
        for d in part.diff
    ]
    foot = f"Action id {part.action_id}, expires {part.expires_at:%H:%M:%S} UTC."
    return "\n".join([head, *diff, foot])


def render_part(part: Part, tty: bool) -> str:
    match part:
        case TextPart():
            return markdown(part.markdown, tty)
        case TablePart():
            return table(part, tty)
        case FactsPart():
            return facts(part, tty)
        case SeriesPart():
            return series(part, tty)
        case ErrorPart():
            return error(part, tty)
        case ConfirmationPart():
            return confirmation(part, tty)
        case _:
            assert_never(part)


def render_parts(parts: Iterable[Part], tty: bool) -> str:
    return "\n\n".join(filter(None, (render_part(p, tty) for p in parts)))


def confirm_hint(action_id: str, tty: bool) -> str:
    yes = paint(f"confirm {action_id}", BOLD, tty=tty)
    no = paint(f"cancel {action_id}", BOLD, tty=tty)
    return f"Type {yes} to make the change, or {no} to drop it."


def render_reply(reply: Reply, tty: bool, streamed: bool = False) -> str:
    """The whole reply; `streamed`: its first text part was already shown as it arrived."""
    parts: list[Part] = list(reply.parts)
    if streamed and parts and isinstance(parts[0], TextPart):
        parts = parts[1:]
    text = render_parts(parts, tty)
    if reply.pending_action is not None:
        text += ("\n\n" if text else "") + confirm_hint(reply.pending_action.id, tty)
    return text
