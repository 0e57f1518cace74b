"""Plain-English fallback for when the LLM is unreachable: a few unambiguous questions, one read each.

Deliberately narrow. It answers only questions that clearly map to ONE read tool ("show me all pools",
"is web-vs up?", "which pools have unhealthy servers?"), never a write (changes only through explicit
commands, which show their exact effect and ask for confirmation), and returns None whenever unsure,
so the agent answers with command-mode help instead of guessing. Its words (object names, states,
metric words, windows, change verbs) are the lexicon's; only the sentence shapes are here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot import lexicon
from bot.commands.models import ToolCommand
from bot.commands.words import strip_address


def _spelled(name: str) -> str:
    """A pattern for a lexicon name, where a space may also be a hyphen, an underscore or nothing."""
    return r"[\s_-]?".join(re.escape(part) for part in name.split())


def _phrase(text: str) -> str:
    """A pattern for a phrase of prose (`7 days`): its words, any spaces between them."""
    return r"\s+".join(re.escape(part) for part in text.split())


def _word(names: Iterable[str]) -> str:
    """Any of `names` as a whole word: `vs` matches in "vs web" but not in "web-vs"."""
    return rf"(?<![\w.:/-])(?:{'|'.join(_spelled(name) for name in names)})(?![\w.:/-])"


def _one_of(words: Iterable[str]) -> str:
    return "|".join(_phrase(word) for word in words)


@dataclass(frozen=True)
class _Patterns:
    """The fallback's patterns, derived from one lexicon."""

    categories: dict[str, str]  # kind -> its names; the kinds a question can be about (they have a get)
    aliases: dict[str, str]  # kind -> its aliases only: what a listing must name ("vips" lists nothing)
    any_category: str
    object_types: str  # the types catalogue, asked for as a whole ("what object types are there")
    servers: str
    bad: str
    state: str
    write: re.Pattern[str]
    measures: str  # "metrics for web-vs", "traffic of pool p"
    capacity: str  # "cpu of se-1"
    windows: tuple[tuple[str, str], ...]  # (pattern, window), the longest window first


@lru_cache(maxsize=8)
def _patterns(lex: lexicon.Lexicon) -> _Patterns:
    kinds = [kind for kind in lex.kinds if kind.get_tool]
    categories = {kind.key: _word(kind.names) for kind in kinds}
    states = lex.states
    return _Patterns(
        categories=categories,
        aliases={kind.key: _word(kind.aliases) for kind in kinds},
        any_category="|".join(f"(?:{pattern})" for pattern in categories.values()),
        object_types=_word(lex.kind("types").names),
        servers=_word(lex.kind("server").names),
        bad=rf"\b({_one_of(name for s in states if s.trouble for name in s.names)})\b",
        state=f"(?:{_one_of(name for s in states for name in s.names)})",
        write=re.compile(rf"\b({'|'.join(map(re.escape, lex.write_words))})\b"),
        measures=_one_of((*lex.verb("metrics").words, *lex.subject("traffic").words)),
        capacity=_one_of(lex.subject("capacity").words),
        windows=tuple((_window(w), w.key) for w in reversed(lex.windows)),  # two named: the longer wins
    )


def _window(window: lexicon.Window) -> str:
    """ "last 24 hours", "past day", "today", "24h"."""
    alone = [rf"\b{_phrase(p)}\b" for p in (*window.phrases, *window.short)]
    if spoken := (*window.units, *window.spans):
        alone.append(rf"\b(?:last|past)\s+(?:{_one_of(spoken)})\b")
    return "|".join(alone)


_NAME = r"(?P<name>[\w][\w.:/-]*)"

_NOT_NAMES = {
    "it", "this", "that", "these", "those", "everything", "anything", "something", "all", "the", "my", "our",
    "there", "they", "them", "we", "you", "i", "any", "each", "every", "some", "up", "down", "things",
    "stuff", "everyone", "status", "health", "state",
}  # fmt: skip

# Words that carry no meaning in "show me all the pools"; what remains must be one object word.
_FILLER = {
    "show", "list", "get", "display", "give", "me", "all", "the", "of", "my", "our", "please", "what", "are",
    "which", "there", "how", "many", "do", "we", "have", "i", "can", "see", "view", "every", "current",
    "configured", "existing", "a", "an", "us", "you", "could", "would", "your", "is", "tell", "about", "know",
    "lookup", "look", "up", "at", "find", "count", "any", "available", "defined", "here", "now", "currently",
}  # fmt: skip


def _normalize(text: str) -> str:
    body, _ = strip_address(text)
    body = body.lower().replace("\u2019", "'")
    for short, full in (
        ("what's", "what is"),
        ("how's", "how is"),
        ("isn't", "is not"),
        ("aren't", "are not"),
    ):
        body = body.replace(short, full)
    body = re.sub(r"[?!,;]+", " ", body)
    return re.sub(r"\s+", " ", body).strip().rstrip(".")


def _categories(p: _Patterns, text: str) -> set[str]:
    return {cat for cat, pattern in p.categories.items() if re.search(pattern, text)}


def _cat_of(p: _Patterns, word: str | None) -> str | None:
    if not word:
        return None
    return next(cat for cat, pattern in p.categories.items() if re.fullmatch(pattern, word))


def _is_name(p: _Patterns, word: str) -> bool:
    return word not in _NOT_NAMES and not re.fullmatch(p.any_category, word)


def _cat(p: _Patterns) -> str:
    """An optional kind word before a name: "pool web-pool", "web-pool"."""
    return rf"(?:(?P<cat>{p.any_category})\s+)?"


def _call(tool: str | None, **arguments: object) -> ToolCommand | None:
    """A call of the lexicon's `tool` for a kind, or None when the kind has no such read."""
    return ToolCommand(tool=tool, arguments=arguments) if tool else None


# -- rules: each returns a ToolCommand, or None to let the next rule try -------------------------

Rule = Callable[[lexicon.Lexicon, _Patterns, str, set[str]], ToolCommand | None]


def _metrics(lex: lexicon.Lexicon, p: _Patterns, text: str, cats: set[str]) -> ToolCommand | None:
    """ "metrics for web-vs", "traffic of pool web-pool over the last day"."""
    m = re.search(rf"\b(?:{p.measures})\s+(?:for|of|on)\s+(?:the\s+)?{_cat(p)}{_NAME}", text)
    measured = {kind.key for kind in lex.kinds if kind.metrics}
    if not m or not _is_name(p, m["name"]) or cats - measured:
        return None
    kind = lex.kind(_cat_of(p, m["cat"]) or "vs")
    args: dict[str, object] = {"entity_type": kind.object_type, "name": m["name"]}
    window = next((w for pattern, w in p.windows if re.search(pattern, text)), None)
    if window:
        args["window"] = window
    return ToolCommand(tool="get_analytics", arguments=args)


def _capacity(lex: lexicon.Lexicon, p: _Patterns, text: str, cats: set[str]) -> ToolCommand | None:
    """ "cpu of service engines", "memory of se-1"."""
    if not re.search(rf"\b(?:{p.capacity})\b", text) or cats - {"se"}:
        return None
    se = lex.kind("se")
    m = re.search(rf"\b(?:of|on|for)\s+(?:the\s+)?(?:{p.categories['se']}\s+)?{_NAME}$", text)
    if m and _is_name(p, m["name"]):
        return _call(se.get_tool, name=m["name"])
    return _call(se.list_tool) if "se" in cats else None


def _status(lex: lexicon.Lexicon, p: _Patterns, text: str, cats: set[str]) -> ToolCommand | None:
    """One named object: "is web-vs up", "status of vs web-vs", "show pool web-pool", "how is web-vs"."""
    cat = _cat(p)
    patterns = (
        rf"^(?:is|are)\s+(?:the\s+)?{cat}{_NAME}\s+{p.state}$",
        rf"^(?:what is\s+)?(?:the\s+)?(?:status|state|health|details?|info|config(?:uration)?)"
        rf"\s+(?:of|for|on)\s+(?:the\s+)?{cat}{_NAME}$",
        rf"^how is\s+(?:the\s+)?{cat}{_NAME}(?:\s+doing)?$",
        rf"^(?:show|get|describe|display)(?:\s+me)?\s+(?:the\s+)?(?P<cat>{p.any_category})\s+{_NAME}$",
        rf"^(?:tell me about|what about)\s+(?:the\s+)?{cat}{_NAME}$",
    )
    for pattern in patterns:
        m = re.search(pattern, text)
        if m and _is_name(p, m["name"]):
            return _call(lex.kind(_cat_of(p, m["cat"]) or "vs").get_tool, name=m["name"])
    return None


def _unhealthy(lex: lexicon.Lexicon, p: _Patterns, text: str, cats: set[str]) -> ToolCommand | None:
    """ "which pools have unhealthy servers", "what's down", "list service engines that are down"."""
    if not re.search(p.bad, text):
        return None
    if re.search(p.servers, text) and cats <= {"pool"}:
        return _call(lex.kind("server").unhealthy_tool)
    if cats == {"se"}:  # engines have no unhealthy read of their own: the list, filtered
        return _call(lex.kind("se").list_tool, oper_state="down")
    if len(cats) == 1:
        return _call(lex.kind(next(iter(cats))).unhealthy_tool)
    generic = r"^(?:what|which|anything|is anything|is there anything|are there any|any|show me|list)\b"
    if not cats and re.search(generic, text) and len(text.split()) <= 6:
        return _call(lex.kind("vs").unhealthy_tool)
    return None


def _listing(lex: lexicon.Lexicon, p: _Patterns, text: str, cats: set[str]) -> ToolCommand | None:
    """ "show me all pools", "list virtual services", "how many service engines do we have"."""
    rest = " ".join(w for w in text.split() if w not in _FILLER)
    if re.fullmatch(p.object_types, rest):
        return _call(lex.kind("types").list_tool)
    if len(cats) == 1 and re.fullmatch(p.aliases[cat := next(iter(cats))], rest):
        return _call(lex.kind(cat).list_tool)
    return None


RULES: tuple[Rule, ...] = (_metrics, _capacity, _status, _unhealthy, _listing)


def match_plain_english(text: str) -> ToolCommand | None:
    """The one read a plain-English question clearly asks for, or None (never a write)."""
    lex = lexicon.LEXICON
    p = _patterns(lex)
    body = _normalize(text)
    if not body or p.write.search(body):
        return None
    cats = _categories(p, body)
    if len(cats) > 1:
        return None
    for rule in RULES:
        if (found := rule(lex, p, body, set(cats))) is not None:
            return found
    return None
