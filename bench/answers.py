"""Answer quality without a model: the router's recall and the plain-English fallback's accuracy.

On the labelled questions shipped in bot/questions (see bot/quality.py for what each figure means),
per split: does the router offer the expected tool, does the fallback choose it (and its key
arguments), how often does the fallback choose a wrong tool, and how many tool-schema characters a
turn sends compared with every tool. Questions for tools the catalogue does not have yet are counted
apart. No model, no controller: it runs in seconds.

Run: `make bench`, or `python -m bench.answers [--set SPLIT] [--json] [--failures]` (tune, holdout, all,
fresh .. fresh8, train1 .. train3) (`--split` is the same option). The full run (every split) writes
bench/results_answers.json; a run of one split only prints. What each split is for is in
bot/questions/__init__.py: the fallback's tool classifier learns from every seen split, so on those
its figures are what it was trained on; the third table measures each seen split with a classifier
trained without it (leave one split out), and `fresh8`, never learned from nor tuned on, is the
figure that counts: its failures are never listed. With Ollama, `avibot eval` scores the whole answer
through a model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from avi.client import AviClient
from avi.operations import AviOperations
from avibot.eval import CHOICES, questions_for
from avibot.factory import start_demo_controller
from bot.commands.learned import ToolClassifier, training_examples
from bot.entities import EntityIndex, NameTable
from bot.quality import Report, measure
from bot.questions import BLIND, SEEN_FRESH, SPLITS, TRAINING, WRITTEN

RESULTS = Path(__file__).resolve().parent / "results_answers.json"


def _pct(rate: float | None, hits: int, total: int) -> str:
    return "n/a" if rate is None else f"{rate:.1%} ({hits}/{total})"


def _chars(schema: dict[str, Any]) -> str:
    if schema["chars_per_turn"] is None:
        return "n/a"
    return f"{schema['chars_per_turn']:,.0f} of {schema['all_tools_chars']:,} ({schema['share_of_all']:.0%})"


def markdown(reports: dict[str, Report]) -> str:
    lines = [
        "## Answer quality without a model",
        "",
        "| split | questions (reads/writes) | router recall | fallback: right tool (reads) "
        "| fallback: tool + key arguments (reads) | fallback: wrong tool | tool-schema chars/turn vs all |",
        "|---|---|---|---|---|---|---|",
    ]
    missing = [
        "",
        "Questions for tools the catalogue does not have yet (counted apart):",
        "",
        "| split | questions (reads/writes) | fallback: wrong tool | fallback: no match "
        "| tool-schema chars/turn vs all |",
        "|---|---|---|---|---|",
    ]
    notes = ["", f"Router: `select_tools` as an admin, no previous turn, limit {_limit(reports)} (the agent's"
             " `max_tools`); plus the always-on tools. Fallback: `match_plain_english`; no match (asking"
             " back / command help) is not counted as wrong.", ""]  # fmt: skip
    for split, report in reports.items():
        d = report.as_dict(failures=False)
        router, fallback, miss = d["router"], d["fallback"], d["missing_tools"]
        reads = fallback["reads"]
        present = d["questions"] - d["missing"]
        lines.append(
            f"| {split} | {present} ({fallback['reads']}/{present - fallback['reads']}) "
            f"| {_pct(router['recall'], router['hits'], router['questions'])} "
            f"| {_pct(fallback['accuracy'], fallback['right_tool'], fallback['reads'])} "
            f"| {_pct(fallback['accuracy_with_arguments'], fallback['right_tool_and_arguments'], reads)} "
            f"| {_pct(fallback['wrong_tool_rate'], fallback['wrong_tool'], fallback['questions'])} "
            f"| {_chars(d['schema'])} |"
        )
        missing.append(
            f"| {split} | {miss['questions']} ({miss['reads']}/{miss['questions'] - miss['reads']}) "
            f"| {_pct(miss['fallback_wrong_tool_rate'], miss['fallback_answered'], miss['questions'])} "
            f"| {miss['fallback_no_match']} | {_chars(miss['schema'])} |"
        )
        commands = d["commands"]
        notes.append(
            f"- {split}: the command grammar answers {commands['parsed']} of {d['questions']} questions"
            f" itself (before routing or any model): {commands['right_tool']} with the expected tool,"
            f" {commands['errors']} as a usage error."
        )
    return "\n".join([*lines, *missing, *notes])


def _limit(reports: dict[str, Report]) -> int:
    return next(iter(reports.values())).limit


TUNED_ON = ("tune", *SEEN_FRESH, *WRITTEN)  # failures listed (the holdout's read by hand; the blind never)


def failures_text(reports: dict[str, Report]) -> str:
    out: list[str] = []
    if not set(TUNED_ON) & set(reports):
        return "\n(failures are listed for the tune and seen fresh splits only: `--split tune --failures`)"
    for split, report in reports.items():
        if split not in TUNED_ON:
            continue
        for kind, items in report.failures().items():
            if items:
                out.append(f"\n### {split}: {kind.replace('_', ' ')} ({len(items)})\n")
                out.extend(f"- {json.dumps(item)}" for item in items)
    return "\n".join(out)


async def _demo_names() -> NameTable:
    """The demo controller's names in tenant admin (the simulator `--demo` starts), read the way the
    agent's entity index reads them, over HTTP."""
    async with AsyncExitStack() as stack:
        settings = await start_demo_controller(stack)
        client = AviClient(settings)
        stack.push_async_callback(client.aclose)
        return await EntityIndex(AviOperations(client)).refresh("admin")


def _fallback_table(intro: list[str], reports: dict[str, Report], *, arguments: bool) -> str:
    """A table of the fallback's figures per split, after `intro` (a few lines of text)."""
    head = "| split | fallback: right tool (reads) |"
    head += " fallback: tool + key arguments (reads) |" if arguments else ""
    lines = [
        "",
        *intro,
        "",
        f"{head} fallback: wrong tool |",
        "|---|---|---|" + ("---|" if arguments else ""),
    ]
    for split, report in reports.items():
        f = report.as_dict(failures=False)["fallback"]
        row = f"| {split} | {_pct(f['accuracy'], f['right_tool'], f['reads'])} |"
        if arguments:
            row += f" {_pct(f['accuracy_with_arguments'], f['right_tool_and_arguments'], f['reads'])} |"
        lines.append(f"{row} {_pct(f['wrong_tool_rate'], f['wrong_tool'], f['questions'])} |")
    return "\n".join(lines)


def with_names_text(reports: dict[str, Report]) -> str:
    """The fallback as the product runs it: with the demo controller's names (unknown names ask back)."""
    intro = [
        "With the demo controller's names (the agent links names through its entity index; a name the",
        "controller does not have is asked back about, not guessed):",
    ]
    return _fallback_table(intro, reports, arguments=False)


def left_out() -> dict[str, Report]:
    """Each seen split measured with a classifier trained on the others (and the router's phrasings):
    how the fallback does on questions it did not learn from, split by split."""
    return {
        split: measure(questions_for(split), model=ToolClassifier(training_examples(set(TRAINING) - {split})))
        for split in TRAINING
    }


def left_out_text(reports: dict[str, Report]) -> str:
    intro = ["Each seen split with a classifier that did not learn from it (leave one split out):"]
    return _fallback_table(intro, reports, arguments=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--set",
        "--split",
        dest="split",
        choices=CHOICES,
        default="all",
        help="default: each, and all",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of tables")
    parser.add_argument(
        "--failures", action="store_true", help="also list the tune questions that went wrong"
    )
    args = parser.parse_args(argv)
    splits = [*SPLITS, "all", *SEEN_FRESH, *WRITTEN, *BLIND] if args.split == "all" else [args.split]
    reports = {split: measure(questions_for(split)) for split in splits}
    names = asyncio.run(_demo_names())
    named = {split: measure(questions_for(split), names=names) for split in splits}
    # Which questions failed is listed for the seen splits only, never for the blind ones.
    doc = {split: report.as_dict(failures=split in TUNED_ON) for split, report in reports.items()}
    for split, report in named.items():
        doc[split]["with_demo_names"] = report.as_dict(failures=False)["fallback"]
    held = left_out() if args.split == "all" else {}
    for split, report in held.items():
        doc[split]["left_out"] = report.as_dict(failures=False)["fallback"]
    written = args.split == "all"
    if written:
        RESULTS.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(markdown(reports))
        print(with_names_text(named))
        if held:
            print(left_out_text(held))
        if args.failures:
            print(failures_text(reports))
        shown = RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS
        print(f"\n(written to {shown})" if written else f"\n(one split: {shown} is written by the full run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
