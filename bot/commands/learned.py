"""Which tool a question is for, learned from labelled questions: a multinomial naive Bayes model.

The rule reader (`bot.commands.intents`) is exact on wording it knows and unsure on wording it has
not seen: on each blind split it answered 56-83% of the reads. Counted over the words of many real
questions, the words of a new one say more: trained without a split and measured on it, this model
alone names the expected tool of 87-94% of its reads (2026-12-03). The fallback (`bot.commands.plain`)
answers its read when it is sure, and asks back when the two readers split in a way measurement
showed to go wrong (`python -m bench.answers` prints what the two together do); the arguments still
come from the reading.

What it counts in a question: its words and their parts with the lexicon's synonyms folded in
(`bot.commands.terms`), neighbouring word pairs, and what the reading found (the kinds, which of
them plural, verbs, states, subjects, an object type, a window, an address, a path, the kind of
the first name, a question mark). Numbers are left out: they are names and values, not what is
asked. It learns from the seen question sets (`bot.questions.TRAINING`, writes included, so a change
is recognised as one) and from the router's example phrasings (bot/routing_examples.py); never
from the blind split.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.commands.reading import Reading, object_type_in, read_sentence
from bot.commands.terms import terms
from bot.questions import TRAINING, question_file
from bot.questions.format import load_questions
from bot.routing_examples import EXAMPLES

SMOOTHING = 0.1  # additive smoothing of the word counts (chosen by leave-one-split-out measurement)


@dataclass(frozen=True)
class Guess:
    """A tool and how likely the model finds it (the posterior; they sum to 1 over all tools)."""

    tool: str
    p: float


def _plain(word: str) -> bool:
    return not any(c.isdigit() for c in word)


def features(text: str, reading: Reading | None = None) -> set[str]:
    """What the model counts in a question (see the module docstring); `reading`: the sentence read
    without the controller's names, when the caller has it (it is what the model was trained on)."""
    r = reading or read_sentence(text)
    out = {w for w in terms(text) if _plain(w)}
    out.update(f"pair:{a}_{b}" for a, b in zip(r.low, r.low[1:], strict=False) if _plain(a + b))
    out.update(f"kind:{k}" for k in r.kinds)
    out.update(f"verb:{v}" for v in r.verbs)
    found = {
        "window": r.window, "days": r.days, "ip": r.ips, "path": r.path, "why": r.why, "past": r.past,
        "list": r.list_cue, "status": r.status_cue, "contains": r.name_contains,
        "question": text.rstrip().endswith("?"),
    }  # fmt: skip
    out.update(f"has:{key}" for key, value in found.items() if value)
    out.update(f"state:{k}" for k in r.keys("state"))
    out.update(f"subject:{k}" for k in r.keys("subject"))
    if found_type := object_type_in(r):  # "application profiles": a type, not virtual services
        out.add(f"type:{found_type}")
    out.update(f"plural:{m.key}" for m in r.mentions if m.plural)  # "pools": a listing, "pool": one
    if r.names:
        out.add(f"name:{r.names[0].kind}")
    return out


class ToolClassifier:
    """Naive Bayes over `features`, trained on (question, tool) pairs."""

    def __init__(self, examples: Iterable[tuple[str, str]], smoothing: float = SMOOTHING) -> None:
        self._questions: Counter[str] = Counter()
        self._counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text, tool in examples:
            self._questions[tool] += 1
            self._counts[tool].update(features(text))
        self._vocabulary = {f for counts in self._counts.values() for f in counts}
        total = sum(self._questions.values())
        size = len(self._vocabulary)
        # Per tool: the log prior, and the log of the share every feature count is divided by.
        self._prior = {t: math.log(n / total) for t, n in self._questions.items()}
        self._norm = {t: math.log(sum(c.values()) + smoothing * size) for t, c in self._counts.items()}
        self._smoothing = smoothing

    @property
    def tools(self) -> set[str]:
        return set(self._questions)

    def guesses(self, text: str, top: int = 3, reading: Reading | None = None) -> list[Guess]:
        """The likeliest tools for `text`, likeliest first (`reading`: see `features`)."""
        seen = features(text, reading) & self._vocabulary
        scores = {}
        for tool, prior in self._prior.items():
            counts, norm = self._counts[tool], self._norm[tool]
            scores[tool] = prior + sum(math.log(counts[f] + self._smoothing) - norm for f in seen)
        best = max(scores.values(), default=0.0)
        weights = {tool: math.exp(s - best) for tool, s in scores.items()}
        total = sum(weights.values()) or 1.0
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])[:top]
        return [Guess(tool, w / total) for tool, w in ranked]

    def knows(self, word: str) -> bool:
        """Whether `word` (or a synonym the lexicon folds it into) was in any question learned from."""
        return any(t in self._vocabulary for t in terms(word))

    def best(self, text: str, reading: Reading | None = None) -> Guess | None:
        found = self.guesses(text, top=1, reading=reading)
        return found[0] if found else None


def training_examples(splits: Iterable[str] = TRAINING) -> list[tuple[str, str]]:
    """The router's phrasings and the questions of the seen splits."""
    phrased = [(text, tool) for tool, texts in EXAMPLES.items() for text in texts]
    asked = [(q.text, q.expected_tool) for split in splits for q in load_questions(question_file(split))]
    return phrased + asked


@lru_cache(maxsize=1)
def default_classifier() -> ToolClassifier:
    """The shipped model, trained once per process on first use (about a second)."""
    return ToolClassifier(training_examples())
