"""Reply parts -> HTML fragments for the chat page.

Everything a user, the model or the controller wrote is data: the templates autoescape, and Markdown is
parsed with raw HTML off and then sanitised to a short list of tags, so only tags allowed here can ever
reach the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, assert_never

import nh3
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

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
        auto_reload=False,  # the templates ship with the code: no stat() of the file on every render
    )
    env.filters["md"] = markdown
    env.filters["num"] = fmt_number
    env.filters["utc"] = fmt_time
    return env


# -- Markdown: a maintained parser, then a sanitiser ---------------------------------------------
#
# markdown-it-py parses (CommonMark, plus GFM tables and strikethrough) with raw HTML off, so whatever
# the model, a user or the controller wrote comes out as text; nh3 (ammonia) then keeps only the tags
# listed here, with no attributes but a column's alignment class. Links, images, autolinks and link
# reference definitions are switched off in the parser and show as the text that was written: an
# answer is built from controller data that anyone with write access may have named, and a clickable
# or auto-loaded address in it is a way to send a reader (or their data) elsewhere. Headings start at
# <h2> (the page has the one <h1>), tables scroll inside a focusable region, and text is escaped as
# the templates escape it (& < > " as entities).

_MD_TAGS = frozenset(
    {"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "hr", "ul", "ol", "li"}
    | {"h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
)
_ALIGN = frozenset({"align-left", "align-center", "align-right"})
_MD_CLASSES = {"th": _ALIGN, "td": _ALIGN}
_TABLE_WRAP = '<div class="table-wrap" tabindex="0" role="region" aria-label="Table">'
_TEXT_OR_TAG = re.compile(r"(<[^>]*>)")


def _md_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.disable(["link", "image", "autolink", "reference", "html_inline", "html_block"])

    def heading(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        level = min(int(tokens[idx].tag[1]) + 1, 6)
        return f"<h{level}>" if tokens[idx].nesting == 1 else f"</h{level}>"

    def cell(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        style = str(token.attrGet("style") or "")
        align = style.removeprefix("text-align:") if style.startswith("text-align:") else ""
        return f'<{token.tag} class="align-{align}">' if align else f"<{token.tag}>"

    def line_break(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return "<br>"

    for name in ("heading_open", "heading_close"):
        parser.add_render_rule(name, heading)
    for name in ("th_open", "td_open"):
        parser.add_render_rule(name, cell)
    for name in ("softbreak", "hardbreak"):
        parser.add_render_rule(name, line_break)
    return parser


_MD = _md_parser()


def markdown(source: str) -> Markup:
    """The assistant's Markdown as safe HTML: parsed (raw HTML as text), sanitised, tables scrollable."""
    html = _MD.render(source.replace("\r\n", "\n"))
    html = nh3.clean(html, tags=set(_MD_TAGS), attributes={}, allowed_classes=_MD_CLASSES, link_rel=None)
    parts = _TEXT_OR_TAG.split(html)
    for i in range(0, len(parts), 2):  # text between tags: quotes as the templates write them
        parts[i] = parts[i].replace('"', "&#34;")
    html = "".join(parts)
    html = html.replace("\n</code></pre>", "</code></pre>")
    html = re.sub(r">\n+(?=<)", ">", html).strip()  # the parser's layout newlines between tags
    html = html.replace("<table>", _TABLE_WRAP + "<table>").replace("</table>", "</table></div>")
    return Markup(html)


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
