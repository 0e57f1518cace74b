"""Choose the few tools a question needs, without an LLM call.

A small local model given 30 tool schemas picks worse and slower than one given 8, and every schema
costs prompt tokens. So each question is matched against each tool's `topics` (object words, verbs)
after synonyms are folded in; the best few are sent, plus a small always-on set, plus the tools the
previous turn used (so "and its pool?" or "disable the second one" keep their context).

The words people use come from the lexicon (`bot.lexicon`): every name of a kind, every verb, state and
subject word folds into the tool topic words the lexicon gives for it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from bot import lexicon
from bot.lexicon import spelling_key
from bot.tools.base import Tool

ALWAYS_ON: tuple[str, ...] = ("get_virtual_service", "list_objects", "get_object")

_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*")


@lru_cache(maxsize=8)
def synonyms(lex: lexicon.Lexicon) -> dict[str, frozenset[str]]:
    """The spelling key of every word the lexicon knows -> the tool topic words it folds into."""
    folded: dict[str, set[str]] = defaultdict(set)
    groups: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        *(((*k.aliases, *k.mentions, *k.hints), k.topics) for k in lex.kinds),
        *(((*v.words, *v.prose), v.topics) for v in lex.verbs),
        *((s.words, s.topics) for s in lex.states),
        *((s.words, s.topics) for s in lex.subjects),
    ]
    for words, topics in groups:
        for word in words if topics else ():
            folded[spelling_key(word)].update(topics)
    return {word: frozenset(topics) for word, topics in folded.items()}


def question_words(text: str) -> set[str]:
    """Lower-case words of `text`, with their synonyms folded in.

    A name of two or three words ("virtual service", "back end", "not working") folds as one.
    """
    table = synonyms(lexicon.LEXICON)
    found = _WORD.findall(text.lower())
    words: set[str] = set()
    for i, word in enumerate(found):
        words.add(word)
        for part in re.split(r"[-_.]", word):
            if part:
                words.add(part)
                words.update(table.get(part, ()))
        words.update(table.get(spelling_key(word), ()))
        for n in (2, 3):
            if i + n <= len(found) and (joined := "".join(map(spelling_key, found[i : i + n]))) in table:
                words.add(joined)
                words.update(table[joined])
    return words


def select_tools(
    text: str,
    tools: Sequence[Tool],
    *,
    limit: int = 8,
    previous: Iterable[str] = (),
) -> list[Tool]:
    """The `limit` best-matching tools for `text`, then the always-on and previous-turn tools."""
    words = question_words(text)
    by_name = {t.name: t for t in tools}
    scored: list[tuple[int, int, Tool]] = []
    for order, tool in enumerate(tools):
        score = len(tool.topics & words)
        name_words = set(tool.name.split("_"))
        score += 2 * len(name_words & words)
        if score:
            scored.append((-score, order, tool))
    scored.sort(key=lambda item: (item[0], item[1]))
    chosen = [tool for _, _, tool in scored[:limit]]
    for name in (*previous, *ALWAYS_ON):
        extra = by_name.get(name)
        if extra is not None and extra not in chosen:
            chosen.append(extra)
    return chosen
