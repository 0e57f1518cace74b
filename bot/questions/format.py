"""The format of a labelled question file: what a user typed, the tool that answers it, the key
arguments; read by the measurement (`bot.quality`) and by the fallback's classifier, which learns from
the seen files (`bot.commands.learned`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Kind = Literal["read", "write"]
_FIELDS = {"text", "expected_tool", "arguments", "kind", "topic", "missing"}


class QuestionError(ValueError):
    """A question file that is not a list of well-formed questions."""


@dataclass(frozen=True)
class Question:
    """One labelled question: what a user typed, the tool that answers it and the arguments that must
    be right (only those; others may be anything). `missing`: the catalogue has no such tool yet."""

    text: str
    expected_tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    kind: Kind = "read"
    topic: str = ""
    missing: bool = False


def parse_questions(data: Any, source: str = "questions") -> list[Question]:
    """Questions from the loaded YAML: a list of items, or a mapping with a `questions` list."""
    items = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise QuestionError(f"{source}: expected a list of questions")
    out: list[Question] = []
    for i, item in enumerate(items, 1):
        where = f"{source}: question {i}"
        if not isinstance(item, dict):
            raise QuestionError(f"{where}: expected a mapping")
        unknown = set(item) - _FIELDS
        if unknown:
            raise QuestionError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        text, tool = item.get("text"), item.get("expected_tool")
        arguments = item.get("arguments") or {}
        kind, topic, missing = item.get("kind", "read"), item.get("topic", ""), item.get("missing", False)
        if not isinstance(text, str) or not text.strip():
            raise QuestionError(f"{where}: `text` must be a non-empty string")
        if not isinstance(tool, str) or not tool:
            raise QuestionError(f"{where}: `expected_tool` must be a tool name")
        if not isinstance(arguments, dict):
            raise QuestionError(f"{where}: `arguments` must be a mapping")
        if kind not in ("read", "write"):
            raise QuestionError(f"{where}: `kind` must be read or write")
        if not isinstance(topic, str) or not isinstance(missing, bool):
            raise QuestionError(f"{where}: `topic` must be a string and `missing` true or false")
        out.append(Question(text, tool, dict(arguments), kind, topic, missing))
    return out


def load_questions(path: str | Path) -> list[Question]:
    """The questions of one YAML file (see `parse_questions`)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise QuestionError(f"{path}: not valid YAML ({exc})") from exc
    return parse_questions(data, str(path))
