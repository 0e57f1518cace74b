"""Reply parts -> HTML fragments for the chat page.

Everything a user, the model or the controller wrote is data: the templates autoescape, and the small
Markdown subset is applied *after* escaping, so only tags added here can ever reach the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, assert_never

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from bot.text import fmt_number
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

TEMPLATES = Path(__file__).resolve().parent / "templates"


def make_env() -> Environment:
    """The page's Jinja2 environment: autoescape on for every template, whatever its name."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = markdown
    env.filters["num"] = fmt_number
    env.filters["utc"] = fmt_time
    return env


# -- a small, safe Markdown ----------------------------------------------------------------------

_FENCE = re.compile(r"^```[\w+-]*\n(.*?)^```[ \t]*$", re.S | re.M)
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


def _inline(text: str) -> str:
    """Escape, then allow `code`, **bold** and _italic_ (never inside code)."""
    codes: list[str] = []

    def stash(m: re.Match[str]) -> str:
        codes.append(f"<code>{m.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    html = _CODE.sub(stash, str(escape(text)))
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\2</em>", html)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], html)


def _block(lines: list[str]) -> str:
    """Lines of one paragraph: runs of list items become lists, other lines join with <br>."""
    out: list[str] = []
    text: list[str] = []
    items: list[str] = []
    kind = ""

    def flush_text() -> None:
        if text:
            out.append("<p>" + "<br>".join(text) + "</p>")
            text.clear()

    def flush_list() -> None:
        nonlocal kind
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
            items.clear()
        kind = ""

    for line in lines:
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        match = bullet or numbered
        if match:
            flush_text()
            this = "ul" if bullet else "ol"
            if kind and kind != this:
                flush_list()
            kind = this
            items.append(_inline(match.group(1)))
            continue
        flush_list()
        heading = _HEADING.match(line)
        text.append(f"<strong>{_inline(heading.group(1))}</strong>" if heading else _inline(line))
    flush_text()
    flush_list()
    return "".join(out)


def markdown(source: str) -> Markup:
    """The Markdown subset the assistant writes, as safe HTML (escape first, then format)."""
    source = source.replace("\r\n", "\n").strip("\n")
    html: list[str] = []
    pos = 0
    for fence in _FENCE.finditer(source):
        html.append(_paragraphs(source[pos : fence.start()]))
        html.append(f"<pre><code>{escape(fence.group(1).rstrip())}</code></pre>")
        pos = fence.end()
    html.append(_paragraphs(source[pos:]))
    return Markup("".join(html))


def _paragraphs(text: str) -> str:
    blocks = re.split(r"\n\s*\n", text.strip("\n"))
    return "".join(_block(b.split("\n")) for b in blocks if b.strip())


# -- numbers and times ---------------------------------------------------------------------------


# `fmt_number` (the `num` filter) is every channel's formatter, from bot/text.py: 98.6M / 12.3k / 98.5.


def fmt_time(value: datetime) -> str:
    """A time in UTC, as the controller's operators read it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%H:%M:%S UTC")


def _hhmm(value: datetime) -> str:
    return fmt_time(value)[:5]


# -- the SVG chart -------------------------------------------------------------------------------


CHART_LEFT = 40


@dataclass
class Chart:
    """The geometry of one small line chart, computed here so the template only draws."""

    width: int
    height: int
    left: int  # the plot's left edge; the value labels sit to its left
    segments: list[str]  # polyline `points` attributes; a gap (None) starts a new segment
    dots: list[tuple[float, float]]  # isolated points (no neighbour to draw a line to)
    last: tuple[float, float] | None
    low: float | None
    high: float | None
    last_value: float | None
    start: str
    end: str
    count: int


def chart(part: SeriesPart, width: int = 300, height: int = 90) -> Chart:
    """Scale the points into a `width` x `height` box with room for the labels."""
    left, right, top, bottom = CHART_LEFT, 8, 8, 18
    points = sorted(part.points, key=lambda p: p.timestamp)
    values = [p.value for p in points if p.value is not None]
    low, high = (min(values), max(values)) if values else (None, None)
    span_t = (points[-1].timestamp - points[0].timestamp).total_seconds() if len(points) > 1 else 0.0
    inner_w, inner_h = width - left - right, height - top - bottom

    def xy(index: int, value: float) -> tuple[float, float]:
        if span_t > 0:
            frac = (points[index].timestamp - points[0].timestamp).total_seconds() / span_t
        else:
            frac = index / (len(points) - 1) if len(points) > 1 else 0.5
        assert low is not None
        assert high is not None
        vfrac = (value - low) / (high - low) if high > low else 0.5
        return round(left + frac * inner_w, 1), round(top + (1 - vfrac) * inner_h, 1)

    runs: list[list[tuple[float, float]]] = [[]]
    for i, p in enumerate(points):
        if p.value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(xy(i, p.value))
    runs = [r for r in runs if r]
    segments = [" ".join(f"{x},{y}" for x, y in r) for r in runs if len(r) > 1]
    dots = [r[0] for r in runs if len(r) == 1]
    return Chart(
        width=width,
        height=height,
        left=left,
        segments=segments,
        dots=dots,
        last=runs[-1][-1] if runs else None,
        low=low,
        high=high,
        last_value=values[-1] if values else None,
        start=_hhmm(points[0].timestamp) if points else "",
        end=_hhmm(points[-1].timestamp) + " UTC" if points else "",
        count=len(values),
    )


# -- parts and turns -----------------------------------------------------------------------------

ENV = make_env()


def render(template: str, **context: Any) -> Markup:
    """A template rendered with autoescape on."""
    return Markup(ENV.get_template(template).render(**context))


def render_part(part: Part) -> Markup:
    match part:
        case TextPart():
            return render("parts/text.html", part=part)
        case TablePart():
            return render("parts/table.html", part=part)
        case FactsPart():
            return render("parts/facts.html", part=part)
        case SeriesPart():
            return render("parts/series.html", part=part, chart=chart(part))
        case ErrorPart():
            return render("parts/error.html", part=part)
        case ConfirmationPart():
            return render("parts/confirmation.html", part=part)
        case _:
            assert_never(part)


def render_parts(parts: list[Part]) -> Markup:
    return Markup("").join(render_part(p) for p in parts)


def render_reply(reply: Reply) -> Markup:
    """The assistant's finished turn, replacing its streaming placeholder."""
    return render("turn_assistant.html", body=render_parts(list(reply.parts)), mode=reply.mode)


def render_error(message: str, hint: str = "") -> Markup:
    """A failure shown as an assistant turn (never a traceback)."""
    return render("turn_assistant.html", body=render_part(ErrorPart(message=message, hint=hint)), mode="")


def render_history(messages: list[dict[str, Any]]) -> Markup:
    """Stored messages as turns: the user's words and the assistant's text (tool traffic is skipped)."""
    turns = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ("user", "assistant") or not isinstance(content, str) or not content.strip():
            continue
        turns.append({"role": role, "content": content})
    return render("history.html", turns=turns)
