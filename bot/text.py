"""Platform-neutral text that every channel shows the same way: numbers, sparklines, series stats,
the footer.

Adapters render parts in their own markup; these few strings are the same everywhere, so one place
builds them (each adapter escapes them for its format). Numbers go through `fmt_number` (re-exported
here from common/numbers.py, so adapters need nothing else): `49.5M`, `49.5 Mbps`, never `4.9e+07`.
"""

from __future__ import annotations

from bot.types import Reply
from common.numbers import fmt_count, fmt_number

__all__ = ["SPARK", "fmt_count", "fmt_number", "footer_text", "series_stats", "sparkline"]

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], width: int) -> str:
    """Unicode block characters, one per point (averaged down to `width`); gaps are spaces."""
    if len(values) > width:
        size = len(values) / width
        buckets = [values[int(i * size) : int((i + 1) * size)] for i in range(width)]
        values = [
            (sum(v for v in b if v is not None) / n) if (n := sum(v is not None for v in b)) else None
            for b in buckets
        ]
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, span = min(known), max(known) - min(known)
    top = len(SPARK) - 1
    return "".join(
        " " if v is None else SPARK[int((v - low) / span * top) if span else len(SPARK) // 2] for v in values
    )


def series_stats(known: list[float], unit: str = "") -> str:
    """`last 49.5M · min 39.8M · max 53.9M · 12 points` for the non-empty values of a series; with
    its unit, `last 49.5 Mbps · ...`."""
    last, low, high = (fmt_number(v, unit) for v in (known[-1], min(known), max(known)))
    points = f"{fmt_count(len(known))} point{'' if len(known) == 1 else 's'}"
    return f"last {last} · min {low} · max {high} · {points}"


def footer_text(reply: Reply, controller: str = "") -> str:
    """The mode, how many tool calls answered, and which controller: one line under an answer."""
    mode = "assistant (LLM)" if reply.mode == "llm" else "command mode"
    n = len(reply.tool_calls)
    tools = f" · {n} tool call{'s' if n != 1 else ''}" if n else ""
    where = f" · controller {controller}" if controller else ""
    return f"{mode}{tools}{where}"
