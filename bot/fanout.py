"""One read on every controller at once ("which virtual services are down everywhere?").

Each controller is asked concurrently with its own client, so a slow or dead one costs its own
timeout and nothing more; its failure becomes one line of the answer, not the whole answer. Tables
with the same columns become one table with a Controller column in front; other parts are titled
with their controller.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.controllers import Controller
from bot.tools import ToolError
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.types import FactsPart, Part, SeriesPart, TablePart, TextPart

log = logging.getLogger("avibot.agent")
CONTROLLER_COLUMN = "Controller"


async def _one(tool: Tool, args: Any, ctx: ToolContext) -> ToolResult | str:
    """The tool's result on one controller, or why there is none (a sentence)."""
    try:
        return await tool.run(ctx, args)
    except ToolError as exc:
        return exc.message
    except Exception as exc:  # one controller's trouble must not spoil the others' answers
        log.warning("%s on one controller failed: %s", tool.name, type(exc).__name__)
        return "the read failed"


async def run_everywhere(
    tool: Tool, args: Any, contexts: list[tuple[Controller, ToolContext]], deadline: float = 10.0
) -> ToolResult:
    """`tool` run on every controller in `contexts`, concurrently, merged into one result; a controller
    that has not answered within `deadline` seconds is left out with a line saying so (a hung one
    must not hold the others' answers for its whole request timeout)."""
    tasks = [asyncio.ensure_future(_one(tool, args, ctx)) for _, ctx in contexts]
    await asyncio.wait(tasks, timeout=deadline)
    outcomes: list[ToolResult | str] = []
    for task in tasks:
        if task.done():
            outcomes.append(task.result())
        else:
            task.cancel()
            outcomes.append(f"no answer within {deadline:g} s")
    answered = [(c, r) for (c, _), r in zip(contexts, outcomes, strict=True) if isinstance(r, ToolResult)]
    failed = [(c, r) for (c, _), r in zip(contexts, outcomes, strict=True) if isinstance(r, str)]
    summary = "; ".join(
        [f"{c.name}: {r.summary}" for c, r in answered] + [f"{c.name}: not answered ({r})" for c, r in failed]
    )
    data: dict[str, Any] = {c.name: r.data for c, r in answered}
    data.update({c.name: {"error": r} for c, r in failed})
    parts = merge_parts([(c.name, r.parts) for c, r in answered])
    parts += [TextPart(markdown=f"_{c.name}: not answered ({r.rstrip('.')})._") for c, r in failed]
    return ToolResult(summary=summary, data={"controllers": data}, parts=parts)


def merge_parts(results: list[tuple[str, list[Part]]]) -> list[Part]:
    """One table per set of columns with a Controller column; the rest titled with its controller.
    Paging stops here: "Show more" would continue one controller's list, not the merged one."""
    tables: dict[tuple[str, ...], TablePart] = {}
    rest: list[Part] = []
    for name, parts in results:
        for part in parts:
            if isinstance(part, TablePart):
                key = tuple(part.columns)
                merged = tables.get(key)
                if merged is None:
                    merged = tables[key] = TablePart(
                        title=part.title, columns=[CONTROLLER_COLUMN, *part.columns], rows=[], total=0
                    )
                    rest.append(merged)
                merged.rows.extend([name, *row] for row in part.rows)
                count = part.total if part.total is not None else len(part.rows)
                merged.total = (merged.total or 0) + count
            elif isinstance(part, FactsPart | SeriesPart):
                title = f"{name}: {part.title}" if part.title else name
                rest.append(part.model_copy(update={"title": title}))
            elif isinstance(part, TextPart):
                rest.append(TextPart(markdown=f"**{name}**: {part.markdown}"))
            else:
                rest.append(part)
    return rest
