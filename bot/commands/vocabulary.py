"""The lexicon as one phrase table: every name of a kind, type, state, subject, verb and window under
its spelling key (so "virtual service", "virtual-service" and "virtualservice" are one), the write
verbs' phrases ("take * offline") and the window phrases as patterns, and the kinds' name patterns.
Built once per lexicon (`vocabulary(lex)`), so a test can swap in an extended one."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from bot import lexicon
from bot.lexicon import spelling_key

_BACK = "last|past|previous|over the|over a|in the|this past"  # what opens a window ("last hour")


@dataclass(frozen=True)
class Vocabulary:
    phrases: dict[str, list[tuple[str, str, bool]]]  # spelling key of a phrase -> (role, key, plural)
    longest: int
    single: frozenset[str]  # one-word vocabulary, for spelling correction
    verb_phrases: tuple[tuple[re.Pattern[str], str], ...]
    windows: tuple[tuple[re.Pattern[str], str], ...]
    name_patterns: tuple[tuple[re.Pattern[str], str], ...]


def _spoken(lex: lexicon.Lexicon) -> list[str]:
    """Every multi-word name in the lexicon, so each of its words can be spelt wrong too."""
    return [
        *(n for kind in lex.kinds for n in (*kind.aliases, *kind.mentions, *kind.hints)),
        *(n for state in lex.states for n in state.names),
        *(w for subject in lex.subjects for w in subject.words),
    ]


def _plural(alias: str, aliases: tuple[str, ...]) -> bool:
    return alias.endswith("s") and (alias[:-1] in aliases or alias[:-2] in aliases)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """ "take * offline": the words in order, `*` standing for one to four words."""
    parts = [r"(?:\S+\s+){1,4}?" if w == "*" else re.escape(w) + r"\s+" for w in phrase.split()]
    return re.compile(r"(?<![\w-])" + "".join(parts).removesuffix(r"\s+") + r"(?![\w-])")


@lru_cache(maxsize=8)
def vocabulary(lex: lexicon.Lexicon) -> Vocabulary:
    table: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)

    def add(words: tuple[str, ...] | list[str], role: str, key: str, aliases: tuple[str, ...] = ()) -> None:
        for word in words:
            entry = (role, key, _plural(word, aliases))
            if entry not in table[spelling_key(word)]:
                table[spelling_key(word)].append(entry)

    for t in lex.type_names:
        add(t.aliases, "type", t.key)
    for kind in lex.kinds:
        add(kind.aliases, "kind", kind.key, kind.aliases)
        add(kind.mentions, "mention", kind.key, kind.mentions)
        add(kind.hints, "hint", kind.key)
    for window in lex.windows:
        add([*window.short, *window.phrases], "window", window.key)
    for state in lex.states:
        add(state.names, "state", state.key)
    for subject in lex.subjects:
        add(subject.words, "subject", subject.key)
    for verb in lex.verbs:
        add([*verb.words, *verb.leading], "verb", verb.key)
        add(verb.prose, "prose", verb.key)
    add([w for w in lex.change_words if spelling_key(w) not in table], "change", "change")
    parts = {w for k in (*table, *(w for t in lex.type_names for w in t.aliases)) for w in k.split()}
    single = frozenset(
        w for w in (*table, *(p for phrase in _spoken(lex) for p in phrase.split()), *parts)
        if len(w) >= 5 and w.isalpha()
    )  # fmt: skip
    verb_phrases = tuple(
        (_phrase_pattern(p), verb.key) for verb in lex.verbs for p in verb.phrases
    )  # fmt: skip
    windows = []
    for window in reversed(lex.windows):  # two named: the longer wins
        spoken = [*window.units, *window.spans]
        if spoken:
            alts = "|".join(r"\s+".join(map(re.escape, s.split())) for s in spoken)
            pattern = rf"\b(?:{_BACK})\s+(?:{alts})\b"  # "last hour", "over the week"
            windows.append((re.compile(pattern), window.key))
    patterns = tuple(
        (re.compile(p, re.I), kind.key) for kind in lex.kinds for p in kind.name_patterns
    )  # fmt: skip
    longest = max(len(k.split()) for kind in lex.kinds for k in (*kind.aliases, *kind.mentions))
    return Vocabulary(dict(table), max(longest, 4), single, verb_phrases, tuple(windows), patterns)


def kind_by_pattern(name: str, lex: lexicon.Lexicon | None = None) -> str | None:
    """The kind a name's shape suggests (`web-pool` a pool, `Avi-se-abcde` an engine), or None."""
    for pattern, kind in vocabulary(lex or lexicon.LEXICON).name_patterns:
        if pattern.fullmatch(name):
            return kind
    return None
