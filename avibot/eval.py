"""`avibot eval`: how well a model answers real questions, through the real agent and the demo simulator.

Each question of a labelled set (bot/questions/, format: bot/questions/format.py) goes through the agent
(`build_runtime(demo=True)`: command grammar, router, prompt, the configured Ollama, tool validation,
pending writes) in a fresh conversation pinned to the model under test, and the turn is scored:

- tool: the first tool called is the expected one; arguments: and its key arguments are right;
- writes refused unconfirmed: after a write question the simulator is exactly as before (nothing is
  ever confirmed here), which must be 100%; writes proposed: the turn ended as a pending action;
- answer time (p50/p95), prompt and output tokens per turn and model calls per question, from the
  agent's `ModelCalled` events.

Questions for tools the catalogue does not have yet are counted apart. The user is an admin (every tool
may be offered) and the stores are in-process, whatever the configuration says: this is the demo
controller, never a real one. Exit status 1 when a write ran without confirmation, 2 when the run
could not start (Ollama unreachable, no usable model, a bad question file).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avi.client import AviClient
from avibot.config import Settings, load_settings
from avibot.factory import Runtime, build_runtime
from avibot.logging_setup import setup_logging
from bot.commands import parse_command
from bot.events import Event, ModelCalled
from bot.permissions import AccessSettings
from bot.quality import arguments_match
from bot.questions import BLIND, FRESH, SEEN_FRESH, SPLITS, WRITTEN, question_file
from bot.questions.format import Question, QuestionError, load_questions
from bot.types import Inbound, Role, User

CHOICES = (*SPLITS, *SEEN_FRESH, *WRITTEN, *BLIND, "all")
EVAL_USER = "avibot-eval"
EXIT_UNSAFE = 1
EXIT_USAGE = 2
# What a write can change on the simulator: the objects' configuration, and where each VS is placed.
SNAPSHOT_TYPES = ("virtualservice", "pool", "poolgroup", "healthmonitor", "vsvip", "sslkeyandcertificate")


def questions_for(split: str, path: str | Path | None = None) -> list[Question]:
    """The questions of a file, or of a shipped split: `tune`, `holdout`, `all` (those two), `fresh` ..
    `fresh7` (blind splits, seen since), `train1` .. `train3` (written to learn from) or `fresh8`
    (blind; see bot/questions/__init__.py)."""
    if path is not None:
        return load_questions(path)
    names = SPLITS if split == "all" else (split,)
    return [q for name in names for q in load_questions(question_file(name))]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="score models on labelled questions, against the demo simulator")
    p.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="M",
        help="an Ollama model to score; repeat for several (default: the configured LLM_MODEL)",
    )
    p.add_argument("--questions", default=None, metavar="FILE", help="a question file instead of a split")
    p.add_argument(
        "--split",
        choices=CHOICES,
        default=FRESH,
        help=f"which shipped questions (default {FRESH}: the ones nobody tuned the fallback on)",
    )
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="ask every question N times")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    p.add_argument("--config", default=None, help="config file (default ./config.yaml if present)")
    p.add_argument(
        "--verbose", action="store_true", help="log at the configured level (errors only otherwise)"
    )


# -- the simulator's state ---------------------------------------------------------------------------


async def snapshot(client: AviClient) -> str:
    """A digest of everything a write could change on the controller, in every tenant."""
    state: dict[str, Any] = {}
    for obj_type in SNAPSHOT_TYPES:
        items = await client.list_all(obj_type, tenant="*")
        state[obj_type] = sorted(json.dumps(o, sort_keys=True, default=str) for o in items)
    placed = await client.list_all("virtualservice-inventory", params={"include": "runtime"}, tenant="*")
    state["placement"] = sorted(
        json.dumps(
            [
                [vip.get("vip_id"), vip.get("service_engine")]
                for vip in (item.get("runtime") or {}).get("vip_summary") or []
            ],
            sort_keys=True,
        )
        + str(item.get("uuid"))
        for item in placed
    )
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


# -- one question ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One question asked once, and what the agent did with it."""

    question: Question
    missing: bool
    by_command: bool  # the command grammar answered it; no model was asked
    tools: list[str] = field(default_factory=list)
    tool_ok: bool = False
    arguments_ok: bool = False
    pending: bool = False
    changed: bool = False  # the simulator changed during this turn
    mode: str = ""
    seconds: float = 0.0
    llm_calls: int = 0
    llm_failures: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    answer: str = ""

    @property
    def model_failed(self) -> bool:
        """The model did not answer (an error, or command mode instead of the model)."""
        return not self.by_command and (self.llm_failures > 0 or self.mode != "llm")

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.question.text,
            "expected_tool": self.question.expected_tool,
            "kind": self.question.kind,
            "missing": self.missing,
            "tools": self.tools,
            "tool_ok": self.tool_ok,
            "arguments_ok": self.arguments_ok,
            "pending": self.pending,
            "simulator_changed": self.changed,
            "by_command": self.by_command,
            "mode": self.mode,
            "seconds": round(self.seconds, 3),
            "llm_calls": self.llm_calls,
            "llm_failures": self.llm_failures,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "answer": self.answer[:300],
        }


class Evaluator:
    """Asks the questions through one built runtime, watching its model calls."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.calls: list[ModelCalled] = []
        self.run_id = secrets.token_hex(3)
        self.state = ""
        runtime.observers.subscribe(self._observe)

    def _observe(self, event: Event) -> None:
        if isinstance(event, ModelCalled):
            self.calls.append(event)

    async def ask(self, model: str, question: Question, key: str) -> Run:
        agent = self.runtime.agent
        run = Run(
            question=question,
            missing=question.expected_tool not in agent.catalogue,
            by_command=parse_command(question.text) is not None,
        )
        if not run.by_command and not agent.model_status.up:
            await agent.model_status.probe_now()  # a failed turn marked it down: look again first
        await agent.use_model(key, model)
        inbound = Inbound(
            platform="eval",
            conversation_key=key,
            user=User(id=EVAL_USER, name="avibot eval"),
            text=question.text,
        )
        self.calls = []
        started = time.perf_counter()
        result = await agent.handle(inbound)
        run.seconds = time.perf_counter() - started
        reply = result.reply
        run.mode = reply.mode
        run.answer = reply.text
        run.tools = [c.name for c in reply.tool_calls]
        run.pending = reply.pending_action is not None or result.action is not None
        run.llm_calls = len(self.calls)
        run.llm_failures = sum(not c.ok for c in self.calls)
        run.prompt_tokens = sum(c.prompt_tokens for c in self.calls)
        run.output_tokens = sum(c.completion_tokens for c in self.calls)
        if reply.tool_calls and not run.model_failed:
            first = reply.tool_calls[0]
            run.tool_ok = first.name == question.expected_tool
            run.arguments_ok = run.tool_ok and arguments_match(
                question.arguments, first.arguments, agent.catalogue.get(question.expected_tool)
            )
        state = await snapshot(self.runtime.client)
        run.changed = state != self.state
        self.state = state
        return run

    async def score(self, model: str, questions: Sequence[Question], repeat: int) -> list[Run]:
        self.state = await snapshot(self.runtime.client)
        runs: list[Run] = []
        for r in range(repeat):
            for i, question in enumerate(questions):
                key = f"eval:{self.run_id}:{model}:{r}:{i}"
                runs.append(await self.ask(model, question, key))
        return runs


# -- the figures -------------------------------------------------------------------------------------


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize(model: str, runs: Sequence[Run]) -> dict[str, Any]:
    present = [r for r in runs if not r.missing]
    missing = [r for r in runs if r.missing]
    writes = [r for r in runs if r.question.kind == "write"]
    present_writes = [r for r in writes if not r.missing]
    tool_right = sum(r.tool_ok for r in present)
    args_right = sum(r.arguments_ok for r in present)
    unchanged = sum(not r.changed for r in writes)
    seconds = [r.seconds for r in runs]
    return {
        "model": model,
        "ok": True,
        "questions": len(runs),
        "tool_accuracy": _rate(tool_right, len(present)),
        "argument_accuracy": _rate(args_right, len(present)),
        "write_refusal": _rate(unchanged, len(writes)),
        "writes_proposed": _rate(sum(r.pending for r in present_writes), len(present_writes)),
        "simulator_unchanged": not any(r.changed for r in runs),
        "answer_seconds": {
            "p50": _round(percentile(seconds, 0.5)),
            "p95": _round(percentile(seconds, 0.95)),
        },
        "prompt_tokens_per_turn": _mean([r.prompt_tokens for r in runs]),
        "output_tokens_per_turn": _mean([r.output_tokens for r in runs]),
        "llm_calls_per_question": _mean([r.llm_calls for r in runs]),
        "counts": {
            "scored": len(present),
            "tool_right": tool_right,
            "tool_and_arguments_right": args_right,
            "writes": len(writes),
            "writes_unexecuted": unchanged,
            "writes_scored": len(present_writes),
            "writes_pending": sum(r.pending for r in present_writes),
            "by_command": sum(r.by_command for r in runs),
            "model_failed": sum(r.model_failed for r in runs),
            "no_tool": sum(not r.tools for r in present),
        },
        "missing_tools": {
            "questions": len(missing),
            "called_a_tool": sum(bool(r.tools) for r in missing),
            "no_tool": sum(not r.tools for r in missing),
            "pending": sum(r.pending for r in missing),
        },
        "runs": [r.as_dict() for r in runs],
    }


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _pct(rate: float | None, hits: int, total: int) -> str:
    return "n/a" if rate is None else f"{rate:.1%} ({hits}/{total})"


def _num(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def table(doc: dict[str, Any]) -> str:
    """The Markdown table people read: one row per model."""
    q = doc["questions"]
    lines = [
        f"avibot eval: {q['count']} questions ({q['source']}; {q['reads']} reads, {q['writes']} writes, "
        f"{q['missing']} for tools not in the catalogue yet), asked {doc['repeat']}x each, "
        f"Ollama at {doc['ollama']}, demo simulator",
        "",
        "| model | tool | tool + arguments | writes refused unconfirmed | writes proposed "
        "| p50 s | p95 s | prompt tokens/turn | output tokens/turn | model calls/question |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for m in doc["models"]:
        if not m.get("ok"):
            lines.append(f"| {m['model']} | not scored: {m['error']} |||||||||")
            continue
        c = m["counts"]
        lines.append(
            f"| {m['model']} | {_pct(m['tool_accuracy'], c['tool_right'], c['scored'])} "
            f"| {_pct(m['argument_accuracy'], c['tool_and_arguments_right'], c['scored'])} "
            f"| {_pct(m['write_refusal'], c['writes_unexecuted'], c['writes'])} "
            f"| {_pct(m['writes_proposed'], c['writes_pending'], c['writes_scored'])} "
            f"| {_num(m['answer_seconds']['p50'], 2)} | {_num(m['answer_seconds']['p95'], 2)} "
            f"| {_num(m['prompt_tokens_per_turn'])} | {_num(m['output_tokens_per_turn'])} "
            f"| {_num(m['llm_calls_per_question'], 2)} |"
        )
        miss = m["missing_tools"]
        if miss["questions"]:
            notes.append(
                f"- {m['model']}: of {miss['questions']} questions for tools not in the catalogue yet, "
                f"it called some other tool on {miss['called_a_tool']} and answered without a tool on "
                f"{miss['no_tool']}."
            )
        notes.append(
            f"- {m['model']}: {c['by_command']} answered by the command grammar (no model asked); "
            f"{c['model_failed']} where the model failed and command mode answered (scored as wrong)."
        )
        if not m["simulator_unchanged"]:
            notes.append(f"- {m['model']}: THE SIMULATOR CHANGED during the run: a write ran unconfirmed.")
    return "\n".join([*lines, "", *notes])


# -- the command -------------------------------------------------------------------------------------


def _eval_settings(settings: Settings) -> Settings:
    """The demo's settings: the eval user may be offered every tool; nothing shared is written to."""
    access = AccessSettings(users={EVAL_USER: Role.ADMIN})
    redis = settings.redis.model_copy(update={"url": None})
    return settings.model_copy(update={"access": access, "redis": redis})


def _fail(message: str) -> int:
    print(f"avibot eval: {message}", file=sys.stderr)
    return EXIT_USAGE


async def run_eval(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        return _fail("--repeat must be at least 1")
    try:
        questions = questions_for(args.split, args.questions)
    except (QuestionError, OSError) as exc:
        return _fail(str(exc))
    if not questions:
        return _fail("no questions to ask")
    settings = _eval_settings(load_settings(args.config))
    setup_logging(settings.log.level if args.verbose else "ERROR", settings.log.format)
    models: list[str] = args.model or [settings.llm.model]
    runtime = await build_runtime(settings, demo=True)
    agent = runtime.agent
    try:
        if agent.llm is None or not agent.model_status.up:
            return _fail(
                f"Ollama at {settings.llm.host} does not answer ({agent.offline_reason}); "
                "start it or set OLLAMA_HOST"
            )
        evaluator = Evaluator(runtime)
        results: list[dict[str, Any]] = []
        for model in models:
            check = await agent.validate_model(model)
            if not check.ok:
                results.append({"model": model, "ok": False, "error": check.message, "hint": check.hint})
                continue
            if not args.json:
                print(f"scoring {model} on {len(questions) * args.repeat} questions...", file=sys.stderr)
            runs = await evaluator.score(model, questions, args.repeat)
            results.append(summarize(model, runs))
    finally:
        await runtime.aclose()
    reads = sum(q.kind == "read" for q in questions)
    doc = {
        "questions": {
            "source": str(args.questions) if args.questions else f"{args.split} split",
            "count": len(questions),
            "reads": reads,
            "writes": len(questions) - reads,
            "missing": sum(q.expected_tool not in agent.catalogue for q in questions),
        },
        "repeat": args.repeat,
        "ollama": settings.llm.host,
        "controller": "demo simulator",
        "models": results,
    }
    print(json.dumps(doc, indent=2) if args.json else table(doc))
    if any(m.get("ok") and not m["simulator_unchanged"] for m in results):
        return EXIT_UNSAFE
    if not any(m.get("ok") for m in results):
        return EXIT_USAGE
    return 0
