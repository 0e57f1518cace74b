"""Which controller a message is about, read from its words: `on prod-east, list pools`, `vs list
@prod-east`, `which vs are down everywhere?`, and the few commands about controllers themselves.

Only the names of configured controllers are recognised (a word is never taken for a controller the
bot does not have), and only when there are several: with one controller a message is read as it
always was. The mention is taken out of the text, so the command parser and the fallback see the
question alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.commands import strip_address
from bot.controllers import DEFAULT

EDGE_BEFORE = r"(?<![\w@-])"
EDGE_AFTER = r"(?![\w-])"
_EVERYWHERE = re.compile(
    EDGE_BEFORE
    + r"(?:everywhere|@all|(?:on|in|across|for|from)\s+(?:all|every|each)\s+(?:of\s+)?(?:the\s+|our\s+)?"
    r"controllers?|across\s+(?:the\s+|our\s+)?controllers|on\s+all\s+of\s+them)" + EDGE_AFTER,
    re.IGNORECASE,
)
_LIST = re.compile(
    r"^(?:controllers|list\s+controllers|controller\s+list|(?:which|what)\s+controllers(?:\s+(?:are\s+there|"
    r"do\s+(?:we|you)\s+have|exist))?|controller|which\s+controller(?:\s+is\s+this)?)\s*\??$",
    re.IGNORECASE,
)
Command = Literal["list", "switch"]


@dataclass(frozen=True)
class Mention:
    """What a message says about controllers: `name` or `everywhere`, and the text without it."""

    text: str
    name: str | None = None
    everywhere: bool = False
    command: Command | None = None


def _patterns(names: list[str]) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    name = f"(?P<name>{alternatives})"
    mention = re.compile(
        rf"{EDGE_BEFORE}(?P<pre>@|controller\s+|(?:on|in|from)\s+(?:the\s+)?)?{name}"
        rf"(?P<post>\s+controller)?{EDGE_AFTER}\s*[,:]?",
        re.IGNORECASE,
    )
    switch = re.compile(
        rf"^(?:controller\s+use|use\s+controller|use|switch\s+to(?:\s+controller)?|switch\s+controller\s+to)"
        rf"\s+(?:the\s+)?{name}(?:\s+controller)?\s*[.!]?$",
        re.IGNORECASE,
    )
    whole = re.compile(rf"^{name}$", re.IGNORECASE)
    return mention, switch, whole


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,?.!])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    return text.strip(" ,:")


def read_mention(text: str, names: list[str]) -> Mention:
    """The controller (or every controller) `text` names, among `names`; with fewer than two names,
    nothing is read and the text is kept as it is."""
    if len(names) < 2:
        return Mention(text=text)
    body, addressed = strip_address(text)
    prefix = text[: text.rfind(body)] if addressed and body else ""
    mention_re, switch_re, whole_re = _patterns(names)
    if _LIST.match(body.strip()):
        return Mention(text=text, command="list")
    switched = switch_re.match(body.strip()) or whole_re.match(body.strip())
    if switched:
        return Mention(text=text, name=_canonical(switched.group("name"), names), command="switch")
    everywhere = _EVERYWHERE.search(body)
    if everywhere:
        rest = _tidy(body[: everywhere.start()] + " " + body[everywhere.end() :])
        return Mention(text=prefix + rest, everywhere=True)
    found = next((m for m in mention_re.finditer(body) if _is_mention(m)), None)
    if found:
        rest = _tidy(body[: found.start()] + " " + body[found.end() :])
        return Mention(text=prefix + rest, name=_canonical(found.group("name"), names))
    return Mention(text=text)


def _is_mention(match: re.Match[str]) -> bool:
    """`@x`, `controller x` and `x controller` always; `on/in/from x` unless x is `default` ("in the
    default tenant" is English, not a controller); a bare name never (it may be part of a sentence)."""
    pre = (match.group("pre") or "").strip().lower()
    if pre in ("@", "controller") or match.group("post"):
        return True
    return bool(pre) and match.group("name").lower() != DEFAULT


def _canonical(said: str, names: list[str]) -> str:
    return next(n for n in names if n.lower() == said.lower())
