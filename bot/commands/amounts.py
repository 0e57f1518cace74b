"""How much of a listing a sentence asks for: a page ("page 2", "the 3rd page") or a number of rows
("the first 10", "top 5", "up to 200 pools", "last 50 events"), as the list tools' `page` and `limit`.

A number followed by a time unit is a window ("last 24 hours"), not a count.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from bot.tools import build_catalogue

# The words that open a page or a count ("page 2 of ...", "top 5 pools"): no verb of an order.
WORDS = frozenset(
    ("page", "first", "top", "up", "limit", "only", "last", "latest", "newest", "recent", "max")
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_PAGE = re.compile(r"\bpage\s+(?:no\.?\s*|number\s+|#)?(\d+)\b|\b(\d+)(?:st|nd|rd|th)\s+page\b")
_PAGE_WORD = re.compile(rf"\b({'|'.join(_ORDINALS)})\s+page\b")
_UNIT = r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|months?)\b"
_LIMIT = re.compile(
    rf"\b(?:first|top|up to|limit(?:ed)? to|limit|at most|max(?:imum)?|only|last|latest|newest|recent)"
    rf"\s+(\d+)\b(?!\s*{_UNIT})"
)


def amounts(text: str) -> dict[str, int]:
    """The `page` and `limit` a sentence asks for, when it asks for any."""
    low = text.lower()
    out: dict[str, int] = {}
    if m := _PAGE.search(low):
        out["page"] = int(m.group(1) or m.group(2))
    elif m := _PAGE_WORD.search(low):
        out["page"] = _ORDINALS[m.group(1)]
    if (m := _LIMIT.search(low)) and int(m.group(1)) > 0:
        out["limit"] = int(m.group(1))
    return {k: v for k, v in out.items() if v > 0}


@lru_cache(maxsize=1)
def _fields() -> dict[str, frozenset[str]]:
    """Each tool's argument names, from one catalogue built on first use."""
    return {t.name: frozenset(t.args.model_fields) for t in build_catalogue().all()}


def with_amounts(tool: str, arguments: dict[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with the page and limit the sentence asks for, where the tool takes them."""
    asked = {k: v for k, v in amounts(text).items() if k in _fields().get(tool, ()) and k not in arguments}
    return {**arguments, **asked} if asked else arguments
