"""The words of a command: addressing stripped, shell-like splitting, and kind / object-type lookups."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection

from avi.object_types import OBJECT_TYPES
from bot import lexicon

_ADDRESS = re.compile(
    r"^\s*(?:<@[\w.-]+(?:\|[^>]*)?>|<at>[^<]*</at>|@[\w.-]+|/?avi(?=[\s:,]|$))[\s:,]*",
    re.IGNORECASE,
)


def token_key(word: str) -> str:
    """Spelling-insensitive key of one command word: `Virtual-Services`, `virtual_services` give one key.

    A quoted word keeps its spaces (`"my vs"` names something, it is no keyword).
    """
    return re.sub(r"[-_]", "", word.lower())


def strip_address(text: str) -> tuple[str, bool]:
    """The text without a leading `/avi`, `avi`, `<@U123>`, `<at>..</at>`, `@avibot`; and if one was there."""
    addressed = False
    while match := _ADDRESS.match(text):
        text, addressed = text[match.end() :], True
    return text.strip(), addressed


def split_words(text: str) -> list[str]:
    """Shell-like words, so `vs show "my vs"` works; an apostrophe in prose falls back to spaces."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def kind_at(words: list[str], i: int, kinds: Collection[str] | None = None) -> tuple[str | None, int]:
    """The lexicon kind named at words[i] (one of `kinds`, if given) and how many words name it.

    Up to three words are joined, so "virtual service" and "health monitors" are one name.
    """
    names = lexicon.LEXICON.kind_names
    for n in (3, 2, 1):
        if i + n <= len(words):
            kind = names.get("".join(token_key(w) for w in words[i : i + n]))
            if kind is not None and (kinds is None or kind in kinds):
                return kind, n
    return None, 0


def object_type_at(words: list[str], i: int) -> tuple[str | None, int]:
    """A controller object type at words[i] (`tenant`, `tenants`, `sslkeyandcertificate`, `vs vip`),
    or a lexicon name of one (`se group` is a `serviceenginegroup`)."""
    aliases = lexicon.LEXICON.type_aliases
    for n in (3, 2, 1):
        if i + n <= len(words):
            joined = "".join(token_key(w) for w in words[i : i + n])
            for candidate in (joined, joined.removesuffix("s")):
                if candidate in OBJECT_TYPES:
                    return candidate, n
            if n > 1 and joined in aliases:
                return aliases[joined], n
    return None, 0
