"""Choose the few tools a question needs, without an LLM call.

A small local model given 30 tool schemas picks worse and slower than one given 8, and every schema
costs prompt tokens. So the router ranks by intent first, then by words:

1. The question is read and its intents ranked (`bot.commands.intents`: metrics, health, status,
   listing, events, certificates, other object types, a raw call, a change). The best tool of each of
   the top intents comes first: a question about metrics, errors, latency or a time window offers
   `get_analytics` first even when it names a virtual service; a write offers its verb's tool
   (`<verb action>_<kind noun>`, so a new write tool is routed as soon as the catalogue has it).
2. The rest is filled by BM25 over each tool's name, topics, description and example phrasings
   (bot/routing_examples.py), the lexicon's synonyms folded into both sides, down to a fraction of the
   best score: few tools when the question is clear, more when it is not.
3. The tools the previous turn used (so "and its pool?" or "disable the second one" keep their
   context) and the always-on tool; the generic object tools only when the question is about another
   object type or the router is unsure.

The words people use come from the lexicon (`bot.lexicon`): every name of a kind, every verb, state and
subject word folds into the tool topic words the lexicon gives for it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot import lexicon
from bot.commands.intents import Intent, rank_intents
from bot.commands.reading import NameLookup, read_sentence
from bot.commands.terms import terms
from bot.routing_examples import EXAMPLES
from bot.tools.base import Tool

ALWAYS_ON: tuple[str, ...] = ("get_virtual_service",)
GENERIC: tuple[str, ...] = ("list_objects", "get_object")  # offered when unsure, or for other object types
SURE = 0.8  # a top intent this sure: offer few tools
_FILL_SURE, _FILL_UNSURE = 5, 7  # how many tools in all, before previous and always-on ones
_CUTOFF = 0.35  # fill only with tools scoring at least this share of the best BM25 score
_K1, _B = 1.2, 0.75


def question_words(text: str) -> set[str]:
    """Lower-case words of `text`, with their synonyms folded in."""
    return set(terms(text))


# -- BM25 over the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    docs: tuple[Counter[str], ...]
    lengths: tuple[int, ...]
    idf: dict[str, float]
    mean_length: float


def _document(tool: Tool) -> list[str]:
    text = " ".join([tool.name.replace("_", " "), *sorted(tool.topics), tool.description,
                     *EXAMPLES.get(tool.name, ())])  # fmt: skip
    return terms(text)


@lru_cache(maxsize=16)
def _index(lex: lexicon.Lexicon, tools: tuple[Tool, ...]) -> _Index:
    docs = tuple(Counter(_document(t)) for t in tools)
    n = len(docs)
    df: Counter[str] = Counter(term for doc in docs for term in doc)
    idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in df.items()}
    lengths = tuple(sum(doc.values()) for doc in docs)
    return _Index(docs, lengths, idf, sum(lengths) / n if n else 1.0)


def bm25(text: str, tools: Sequence[Tool]) -> list[float]:
    """Each tool's BM25 score for `text` (the query's words counted once each)."""
    index = _index(lexicon.LEXICON, tuple(tools))
    query = set(terms(text))
    scores = []
    for doc, length in zip(index.docs, index.lengths, strict=True):
        score = 0.0
        for term in query:
            tf = doc.get(term, 0)
            if tf:
                norm = _K1 * (1 - _B + _B * length / index.mean_length)
                score += index.idf[term] * tf * (_K1 + 1) / (tf + norm)
        scores.append(score)
    return scores


# -- intents to tools ----------------------------------------------------------------------------------


def intent_tools(intent: Intent, by_name: dict[str, Tool]) -> list[str]:
    """The catalogue tools that do what the intent asks, best first."""
    if intent.tool is not None:
        return [intent.tool] if intent.tool in by_name else []
    lex = lexicon.LEXICON
    verb = lex.verb(intent.verb) if intent.verb in {v.key for v in lex.verbs} else None
    if verb is None or verb.action is None:
        return []
    out = []
    for key in intent.kinds:
        noun = lex.kind(key).noun
        if noun and (name := f"{verb.action}_{noun}") in by_name and name not in out:
            out.append(name)
    return out


def select_tools(
    text: str,
    tools: Sequence[Tool],
    *,
    limit: int = 8,
    previous: Iterable[str] = (),
    names: NameLookup | None = None,
) -> list[Tool]:
    """At most `limit` tools for `text` (intents first, then words), then the previous-turn and
    always-on tools; `names`: the controller's names, when known (they tell what a name is)."""
    by_name = {t.name: t for t in tools}
    intents = rank_intents(read_sentence(text, names))
    chosen: list[str] = []
    for intent in [i for i in intents if i.score >= 0.4][:3]:
        for name in intent_tools(intent, by_name)[: 2 if intent.writes else 1]:
            if name not in chosen:
                chosen.append(name)
    top = intents[0].score if intents else 0.0
    size = min(limit, max(len(chosen), _FILL_SURE if top >= SURE else _FILL_UNSURE))
    scores = bm25(text, tools)
    best = max(scores, default=0.0)
    ranked = sorted(range(len(tools)), key=lambda i: (-scores[i], i))
    for i in ranked:
        if len(chosen) >= size or scores[i] <= 0 or scores[i] < _CUTOFF * best:
            break
        if tools[i].name not in chosen:
            chosen.append(tools[i].name)
    chosen = chosen[:limit]
    extra = [*previous, *ALWAYS_ON]
    if top < 0.6 or any(i.key == "objects" for i in intents[:2]):
        extra += GENERIC
    for name in extra:
        if name in by_name and name not in chosen:
            chosen.append(name)
    return [by_name[name] for name in chosen]
