"""How well the router and the plain-English fallback answer real questions, measured on a labelled set.

A small local model chooses well only among the few tools the router (`bot.routing.select_tools`)
offers, so the router decides most answers before the model sees the question; without Ollama the
plain-English fallback (`bot.commands.match_plain_english`) is all a user has. This module measures
both on a set of labelled questions (`load_questions`, bot/questions/format.py), with no model and no
controller:

- router recall: the expected tool is among the tools offered to an admin (every tool allowed, no
  previous turn, the agent's default `max_tools`);
- fallback accuracy on read questions: it chose the expected tool (and, apart, the key arguments too);
- fallback wrong-tool rate: it chose a tool and it was the wrong one (no match, so that the person is
  asked back or shown the commands, is not wrong);
- tool-schema characters per turn: the JSON of the offered tools' flat schemas, as the agent sends
  them, against every tool's.

Questions whose tool the catalogue does not have yet (`missing: true`) are counted apart. Pure
functions; the only I/O is reading a question file. `bench/answers.py` prints the figures and
`avibot eval` runs the same questions through a real model.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from bot.commands import CommandError, CoreCommand, ToolCommand, match_plain_english, parse_command
from bot.commands.learned import ToolClassifier
from bot.commands.reading import NameLookup
from bot.model_loop import AgentSettings
from bot.questions.format import Question
from bot.routing import select_tools
from bot.tools import ToolCatalogue, build_catalogue
from bot.tools.base import Tool
from llm.schema import flat_tool, schema_chars

Split = Literal["tune", "holdout"]
TUNE_SHARE = 0.6


def _rank(text: str) -> str:
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()


def assign_splits(questions: Iterable[Question]) -> dict[str, Split]:
    """Each question's split (by its text), decided mechanically, never by how it scores: within each
    topic the questions are ordered by the SHA-256 of their text and the first 60% (rounded) are
    `tune`, the rest `holdout`. So every topic is in both splits in the same proportion, and adding a
    question moves at most one other of its topic. Who tunes the router sees only `tune`."""
    topics: dict[str, list[str]] = {}
    for q in questions:
        topics.setdefault(q.topic, []).append(q.text)
    out: dict[str, Split] = {}
    for texts in topics.values():
        ranked = sorted(texts, key=_rank)
        cut = round(len(ranked) * TUNE_SHARE)
        out.update({text: "tune" if i < cut else "holdout" for i, text in enumerate(ranked)})
    return out


# -- arguments -------------------------------------------------------------------------------------


def _key(value: Any) -> Any:
    """A comparable form: names case- and space-insensitive, lists in any order."""
    if isinstance(value, str):
        return ("s", value.strip().casefold())
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, list | tuple):
        return ("l", tuple(sorted((_key(v) for v in value), key=repr)))
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _key(v)) for k, v in value.items())))
    return ("o", repr(value))


def _validated(tool: Tool | None, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
    if tool is None:
        return None
    try:
        return tool.args.model_validate(dict(arguments)).model_dump(exclude_none=True)
    except ValidationError:
        return None


def arguments_match(expected: Mapping[str, Any], actual: Mapping[str, Any], tool: Tool | None = None) -> bool:
    """Whether every expected key argument has the expected value in `actual`.

    With the tool at hand both sides go through its argument model first, so spellings it accepts
    compare equal (`24h` and `1d` are both the window `day`, `vs` is `virtualservice`). Strings
    compare case-insensitively, lists in any order; keys not in `expected` are not compared.
    """
    if not expected:
        return True
    got = _validated(tool, actual)
    if got is None:
        got = dict(actual)
    want = _validated(tool, {**got, **expected})
    if want is None:
        want = dict(expected)
    return all(key in got and _key(got[key]) == _key(want.get(key)) for key in expected)


# -- one question ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """What the router and the fallback did with one question."""

    question: Question
    missing: bool  # its tool is not in the catalogue (now)
    offered: tuple[str, ...]
    schema_chars: int
    fallback_tool: str | None
    fallback_arguments: Mapping[str, Any]
    fallback_arguments_ok: bool
    command: str | None  # what the command grammar makes of it: a tool name, "core", "error", None

    @property
    def router_hit(self) -> bool:
        return self.question.expected_tool in self.offered

    @property
    def fallback_right(self) -> bool:
        return self.fallback_tool == self.question.expected_tool

    @property
    def fallback_wrong(self) -> bool:
        """It answered, with another tool than the one asked for (no answer is not wrong)."""
        return self.fallback_tool is not None and not self.fallback_right


def _command(text: str) -> str | None:
    parsed = parse_command(text)
    if isinstance(parsed, ToolCommand):
        return parsed.tool
    if isinstance(parsed, CoreCommand):
        return "core"
    if isinstance(parsed, CommandError):
        return "error"
    return None


class Schemas:
    """Flat tool schemas, built once per tool as the agent's `ToolInvoker.schema` builds them."""

    def __init__(self) -> None:
        self._built: dict[str, dict[str, Any]] = {}

    def of(self, tool: Tool) -> dict[str, Any]:
        built = self._built.get(tool.name)
        if built is None:
            built = self._built[tool.name] = flat_tool(
                tool.name, tool.description, tool.args.model_json_schema()
            )
        return built

    def chars(self, tools: Iterable[Tool]) -> int:
        return schema_chars([self.of(t) for t in tools])


def measure_item(
    question: Question,
    catalogue: ToolCatalogue,
    *,
    limit: int,
    schemas: Schemas | None = None,
    names: NameLookup | None = None,
    model: ToolClassifier | None = None,
) -> ItemResult:
    schemas = schemas or Schemas()
    tools = catalogue.all()
    offered = select_tools(question.text, tools, limit=limit, previous=[])
    match = match_plain_english(question.text, names, model)
    expected_tool = catalogue.get(question.expected_tool)
    fallback_ok = (
        match is not None
        and match.tool == question.expected_tool
        and arguments_match(question.arguments, match.arguments, expected_tool)
    )
    return ItemResult(
        question=question,
        missing=expected_tool is None,
        offered=tuple(t.name for t in offered),
        schema_chars=schemas.chars(offered),
        fallback_tool=match.tool if match is not None else None,
        fallback_arguments=dict(match.arguments) if match is not None else {},
        fallback_arguments_ok=fallback_ok,
        command=_command(question.text),
    )


# -- a whole set -----------------------------------------------------------------------------------


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


@dataclass
class Report:
    """The figures for one set of questions; `as_dict` is the JSON form (counts and rates)."""

    items: list[ItemResult]
    all_tools_chars: int
    limit: int

    @property
    def present(self) -> list[ItemResult]:
        return [r for r in self.items if not r.missing]

    @property
    def missing(self) -> list[ItemResult]:
        return [r for r in self.items if r.missing]

    @staticmethod
    def _reads(items: Sequence[ItemResult]) -> list[ItemResult]:
        return [r for r in items if r.question.kind == "read"]

    @staticmethod
    def _mean_chars(items: Sequence[ItemResult]) -> float | None:
        return round(statistics.fmean(r.schema_chars for r in items), 1) if items else None

    def router(self) -> dict[str, Any]:
        present = self.present
        hits = sum(r.router_hit for r in present)
        reads = self._reads(present)
        writes = [r for r in present if r.question.kind == "write"]
        return {
            "questions": len(present),
            "hits": hits,
            "recall": _rate(hits, len(present)),
            "recall_reads": _rate(sum(r.router_hit for r in reads), len(reads)),
            "recall_writes": _rate(sum(r.router_hit for r in writes), len(writes)),
            "tools_offered_mean": round(statistics.fmean(len(r.offered) for r in present), 2)
            if present
            else None,
        }

    def fallback(self) -> dict[str, Any]:
        present = self.present
        reads = self._reads(present)
        right = sum(r.fallback_right for r in reads)
        right_args = sum(r.fallback_arguments_ok for r in reads)
        chose = sum(r.fallback_tool is not None for r in present)
        wrong = sum(r.fallback_wrong for r in present)
        wrong_reads = sum(r.fallback_wrong for r in reads)
        return {
            "reads": len(reads),
            "right_tool": right,
            "accuracy": _rate(right, len(reads)),
            "right_tool_and_arguments": right_args,
            "accuracy_with_arguments": _rate(right_args, len(reads)),
            "questions": len(present),
            "answered": chose,
            "wrong_tool": wrong,
            "wrong_tool_rate": _rate(wrong, len(present)),
            "wrong_tool_on_reads": wrong_reads,
            "wrong_tool_on_writes": wrong - wrong_reads,
            "no_match": len(present) - chose,
        }

    def schema(self, items: Sequence[ItemResult] | None = None) -> dict[str, Any]:
        items = self.present if items is None else items
        mean = self._mean_chars(items)
        return {
            "chars_per_turn": mean,
            "all_tools_chars": self.all_tools_chars,
            "share_of_all": round(mean / self.all_tools_chars, 4) if mean is not None else None,
        }

    def missing_counts(self) -> dict[str, Any]:
        missing = self.missing
        chose = sum(r.fallback_tool is not None for r in missing)
        return {
            "questions": len(missing),
            "reads": len(self._reads(missing)),
            "tools": sorted({r.question.expected_tool for r in missing}),
            "fallback_answered": chose,
            "fallback_wrong_tool_rate": _rate(chose, len(missing)),  # whatever it chose is not the tool
            "fallback_no_match": len(missing) - chose,
            "schema": self.schema(missing),
        }

    def commands(self) -> dict[str, Any]:
        """What the command grammar takes before the router or the fallback ever sees the text."""
        taken = [r for r in self.items if r.command is not None]
        return {
            "parsed": len(taken),
            "right_tool": sum(r.command == r.question.expected_tool for r in taken),
            "errors": sum(r.command == "error" for r in taken),
        }

    def by_topic(self) -> dict[str, dict[str, Any]]:
        topics: dict[str, list[ItemResult]] = {}
        for r in self.items:
            topics.setdefault(r.question.topic or "-", []).append(r)
        out: dict[str, dict[str, Any]] = {}
        for topic, items in sorted(topics.items()):
            present = [r for r in items if not r.missing]
            reads = self._reads(present)
            out[topic] = {
                "questions": len(items),
                "missing": len(items) - len(present),
                "router_recall": _rate(sum(r.router_hit for r in present), len(present)),
                "fallback_accuracy": _rate(sum(r.fallback_right for r in reads), len(reads)),
                "fallback_wrong_tool": sum(r.fallback_wrong for r in items),
            }
        return out

    def failures(self) -> dict[str, list[dict[str, Any]]]:
        """The questions to look at: the router missed the tool, or the fallback chose a wrong one."""
        return {
            "router_missed": [
                {"text": r.question.text, "expected": r.question.expected_tool, "offered": list(r.offered)}
                for r in self.present
                if not r.router_hit
            ],
            "fallback_wrong": [
                {
                    "text": r.question.text,
                    "expected": r.question.expected_tool,
                    "chose": r.fallback_tool,
                    "arguments": dict(r.fallback_arguments),
                }
                for r in self.items
                if r.fallback_wrong
            ],
            "fallback_wrong_arguments": [
                {
                    "text": r.question.text,
                    "expected": dict(r.question.arguments),
                    "got": dict(r.fallback_arguments),
                }
                for r in self._reads(self.present)
                if r.fallback_right and not r.fallback_arguments_ok
            ],
            "command_not_expected": [  # the grammar answers these itself, before any routing or model
                {"text": r.question.text, "expected": r.question.expected_tool, "command": r.command}
                for r in self.items
                if r.command is not None and r.command != r.question.expected_tool
            ],
        }

    def as_dict(self, *, failures: bool = True) -> dict[str, Any]:
        reads = sum(r.question.kind == "read" for r in self.items)
        out: dict[str, Any] = {
            "questions": len(self.items),
            "reads": reads,
            "writes": len(self.items) - reads,
            "missing": len(self.missing),
            "max_tools": self.limit,
            "router": self.router(),
            "fallback": self.fallback(),
            "schema": self.schema(),
            "missing_tools": self.missing_counts(),
            "commands": self.commands(),
            "by_topic": self.by_topic(),
        }
        if failures:
            out["failures"] = self.failures()
        return out


def measure(
    questions: Iterable[Question],
    catalogue: ToolCatalogue | None = None,
    *,
    limit: int | None = None,
    names: NameLookup | None = None,
    model: ToolClassifier | None = None,
) -> Report:
    """Router and fallback figures for `questions` (catalogue: every tool; limit: the agent's default;
    names: the controller's name index the fallback links names with, as the agent does; model: the
    fallback's tool classifier, default the shipped one)."""
    catalogue = catalogue or build_catalogue()
    limit = AgentSettings().max_tools if limit is None else limit
    schemas = Schemas()
    items = [
        measure_item(q, catalogue, limit=limit, schemas=schemas, names=names, model=model) for q in questions
    ]
    return Report(items=items, all_tools_chars=schemas.chars(catalogue.all()), limit=limit)
