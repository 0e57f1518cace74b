"""Spelling: a misspelt word ("virtaul", "latncy", "enbale") is taken for the one vocabulary word an
edit away (two, for long words), never for a shorter word it merely extends ("deleted" is no "delete")."""

from __future__ import annotations

from collections.abc import Collection


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), stopping past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def correct(
    word: str, vocabulary: Collection[str], stopwords: Collection[str] = (), short: Collection[str] = ()
) -> str:
    """The one vocabulary word a misspelt `word` is one edit from (two, for long words), else `word`;
    a short word only when one of its doubled letters is a key held too long ("poool", "pooll"), to a
    word of `short` (every one-word phrase) or of `vocabulary`."""
    if not word.isalpha() or word in stopwords or word in vocabulary:
        return word
    if len(word) < 6:
        held = {word[:i] + word[i + 1 :] for i in range(1, len(word)) if word[i] == word[i - 1]}
        fixed = sorted(h for h in held if h in short or h in vocabulary) if len(word) >= 4 else []
        return fixed[0] if len(fixed) == 1 else word
    limit = 2 if len(word) >= 9 else 1
    best = [(d, v) for v in vocabulary if (d := distance(word, v, limit)) <= limit]
    if not best:
        return word
    low = min(d for d, _ in best)
    found = {v for d, v in best if d == low and not word.startswith(v)}  # "deleted" is no "delete"
    return found.pop() if len(found) == 1 else word
