"""Plain-English fallback for when the LLM is unreachable: a few unambiguous questions, one read each.

Deliberately narrow. It answers only questions that clearly map to ONE read tool ("show me all pools",
"is web-vs up?", "which pools have unhealthy servers?"), never a write (changes only through explicit
commands, which show their exact effect and ask for confirmation), and returns None whenever unsure,
so the agent answers with command-mode help instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.commands import ToolCommand, strip_address

# Anything that sounds like a change is refused outright, whatever else the sentence says.
_WRITE = re.compile(
    r"\b(enable|disable|delete|remove|add|create|scale|scaleout|scalein|migrate|move|switch|switchover|failover"
    r"|restart|reboot|drain|change|update|set|modify|turn|put|make|fix|stop|start|shut|shutdown|kill|deploy"
    r"|rollback|roll|apply|edit|rename|attach|detach|configure|clear|reset|bounce|upgrade|increase|decrease"
    r"|take|bring|replace|renew|rotate|block|allow|purge|flush)\b"
)


def _word(pattern: str) -> str:
    """`pattern` as a whole word: `vs` matches in "vs web" but not in "web-vs"."""
    return rf"(?<![\w.:/-])(?:{pattern})(?![\w.:/-])"


CATEGORIES: dict[str, str] = {
    "vs": _word(r"virtual[\s_-]?services?|virtualservices?|vs|vss|vips?"),
    "pool": _word(r"pools?"),
    "se": _word(r"service[\s_-]?engines?|serviceengines?|ses?|engines?"),
    "hm": _word(r"health[\s_-]?monitors?|healthmonitors?|monitors?|hms?"),
}
_ANY_CATEGORY = "|".join(f"(?:{p})" for p in CATEGORIES.values())
_SERVERS = _word(r"servers?|backends?|back[\s-]?ends?|members?|nodes?")
_BAD = (
    r"\b(down|unhealthy|failing|failed|degraded|broken|dead|offline|red|bad|not healthy|not up|not working)\b"
)
_NAME = r"(?P<name>[\w][\w.:/-]*)"
_CAT = rf"(?:(?P<cat>{_ANY_CATEGORY})\s+)?"
_STATE = (
    r"(?:up|down|healthy|unhealthy|ok|okay|fine|running|working|alive|available|degraded|enabled|disabled)"
)

_NOT_NAMES = {
    "it", "this", "that", "these", "those", "everything", "anything", "something", "all", "the", "my", "our",
    "there", "they", "them", "we", "you", "i", "any", "each", "every", "some", "up", "down", "things",
    "stuff", "everyone", "status", "health", "state",
}  # fmt: skip

GET_TOOL = {
    "vs": "get_virtual_service",
    "pool": "get_pool",
    "se": "get_service_engine",
    "hm": "get_health_monitor",
}
LIST_TOOL = {
    "vs": "list_virtual_services",
    "pool": "list_pools",
    "se": "list_service_engines",
    "hm": "list_health_monitors",
}
ENTITY = {"vs": "virtualservice", "pool": "pool", "se": "serviceengine"}

# Words that carry no meaning in "show me all the pools"; what remains must be one object word.
_FILLER = {
    "show", "list", "get", "display", "give", "me", "all", "the", "of", "my", "our", "please", "what", "are",
    "which", "there", "how", "many", "do", "we", "have", "i", "can", "see", "view", "every", "current",
    "configured", "existing", "a", "an", "us", "you", "could", "would", "your", "is", "tell", "about", "know",
    "lookup", "look", "up", "at", "find", "count", "any", "available", "defined", "here", "now", "currently",
}  # fmt: skip

_WINDOWS = [
    (r"\b(?:last|past)\s+(?:7\s+days|week)\b|\bthis week\b|\b7d\b", "7d"),
    (r"\b(?:last|past)\s+(?:24\s+hours|day)\b|\btoday\b|\b24h\b|\b1d\b", "24h"),
    (r"\b(?:last|past)\s+6\s+hours\b|\b6h\b", "6h"),
    (r"\b(?:last|past)\s+(?:hour|60 minutes)\b|\b1h\b", "1h"),
]


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


def _categories(text: str) -> set[str]:
    return {cat for cat, pattern in CATEGORIES.items() if re.search(pattern, text)}


def _cat_of(word: str | None) -> str | None:
    if not word:
        return None
    return next(cat for cat, pattern in CATEGORIES.items() if re.fullmatch(pattern, word))


def _is_name(word: str) -> bool:
    return word not in _NOT_NAMES and not re.fullmatch(_ANY_CATEGORY, word)


# -- rules: each returns a ToolCommand, or None to let the next rule try -------------------------

Rule = Callable[[str, set[str]], ToolCommand | None]


def _metrics(text: str, cats: set[str]) -> ToolCommand | None:
    """ "metrics for web-vs", "traffic of pool web-pool over the last day"."""
    m = re.search(
        rf"\b(?:metrics|analytics|stats|statistics|throughput|latency|traffic|bandwidth|performance|requests)"
        rf"\s+(?:for|of|on)\s+(?:the\s+)?{_CAT}{_NAME}",
        text,
    )
    if not m or not _is_name(m["name"]) or cats - set(ENTITY):
        return None
    cat = _cat_of(m["cat"]) or "vs"
    args: dict[str, object] = {"entity_type": ENTITY[cat], "name": m["name"]}
    window = next((w for pattern, w in _WINDOWS if re.search(pattern, text)), None)
    if window:
        args["window"] = window
    return ToolCommand(tool="get_analytics", arguments=args)


def _capacity(text: str, cats: set[str]) -> ToolCommand | None:
    """ "cpu of service engines", "memory of se-1"."""
    if not re.search(r"\b(cpu|memory|load|utili[sz]ation|capacity)\b", text) or cats - {"se"}:
        return None
    m = re.search(rf"\b(?:of|on|for)\s+(?:the\s+)?(?:{CATEGORIES['se']}\s+)?{_NAME}$", text)
    if m and _is_name(m["name"]):
        return ToolCommand(tool="get_service_engine", arguments={"name": m["name"]})
    return ToolCommand(tool="list_service_engines") if "se" in cats else None


def _status(text: str, cats: set[str]) -> ToolCommand | None:
    """One named object: "is web-vs up", "status of vs web-vs", "show pool web-pool", "how is web-vs"."""
    patterns = (
        rf"^(?:is|are)\s+(?:the\s+)?{_CAT}{_NAME}\s+{_STATE}$",
        rf"^(?:what is\s+)?(?:the\s+)?(?:status|state|health|details?|info|config(?:uration)?)"
        rf"\s+(?:of|for|on)\s+(?:the\s+)?{_CAT}{_NAME}$",
        rf"^how is\s+(?:the\s+)?{_CAT}{_NAME}(?:\s+doing)?$",
        rf"^(?:show|get|describe|display)(?:\s+me)?\s+(?:the\s+)?(?P<cat>{_ANY_CATEGORY})\s+{_NAME}$",
        rf"^(?:tell me about|what about)\s+(?:the\s+)?{_CAT}{_NAME}$",
    )
    for pattern in patterns:
        m = re.search(pattern, text)
        if m and _is_name(m["name"]):
            cat = _cat_of(m["cat"]) or "vs"
            return ToolCommand(tool=GET_TOOL[cat], arguments={"name": m["name"]})
    return None


def _unhealthy(text: str, cats: set[str]) -> ToolCommand | None:
    """ "which pools have unhealthy servers", "what's down", "list service engines that are down"."""
    if not re.search(_BAD, text):
        return None
    if re.search(_SERVERS, text) and cats <= {"pool"}:
        return ToolCommand(tool="list_unhealthy_servers")
    if cats == {"se"}:
        return ToolCommand(tool="list_service_engines", arguments={"oper_state": "down"})
    if cats == {"pool"}:
        return ToolCommand(tool="list_unhealthy_pools")
    if cats == {"vs"}:
        return ToolCommand(tool="list_unhealthy_virtual_services")
    generic = r"^(?:what|which|anything|is anything|is there anything|are there any|any|show me|list)\b"
    if not cats and re.search(generic, text) and len(text.split()) <= 6:
        return ToolCommand(tool="list_unhealthy_virtual_services")
    return None


def _listing(text: str, cats: set[str]) -> ToolCommand | None:
    """ "show me all pools", "list virtual services", "how many service engines do we have"."""
    rest = " ".join(w for w in text.split() if w not in _FILLER)
    if re.fullmatch(r"(?:object\s+)?types|object\s+types|(?:kinds|types) of objects", rest):
        return ToolCommand(tool="list_object_types")
    if len(cats) == 1 and re.fullmatch(_ANY_CATEGORY, rest) and not re.fullmatch(r"vips?", rest):
        return ToolCommand(tool=LIST_TOOL[cats.pop()])
    return None


RULES: tuple[Rule, ...] = (_metrics, _capacity, _status, _unhealthy, _listing)


def match_plain_english(text: str) -> ToolCommand | None:
    """The one read a plain-English question clearly asks for, or None (never a write)."""
    body = _normalize(text)
    if not body or _WRITE.search(body):
        return None
    cats = _categories(body)
    if len(cats) > 1:
        return None
    for rule in RULES:
        if (found := rule(body, set(cats))) is not None:
            return found
    return None
