"""The words of a question with the lexicon's synonyms folded in: what the router's BM25
(bot/routing.py) and the fallback's tool classifier (bot/commands/learned.py) both count, so a word
the lexicon knows ("vip", "backend", "sluggish") means the same to each."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from bot import lexicon
from bot.lexicon import spelling_key

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


def terms(text: str) -> list[str]:
    """Lower-case words of `text` and their parts, with their synonyms folded in (repeats kept).

    A name of two or three words ("virtual service", "back end", "not working") folds as one.
    """
    table = synonyms(lexicon.LEXICON)
    found = _WORD.findall(text.lower())
    words: list[str] = []
    for i, word in enumerate(found):
        words.append(word)
        for part in re.split(r"[-_.]", word):
            if part and part != word:
                words.append(part)
            words.extend(table.get(part, ()))
        if (key := spelling_key(word)) != word:
            words.extend(table.get(key, ()))
        for n in (2, 3):
            if i + n <= len(found) and (joined := "".join(map(spelling_key, found[i : i + n]))) in table:
                words.append(joined)
                words.extend(table[joined])
    return words
