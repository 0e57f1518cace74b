"""Platform-neutral text that every channel shows the same way: sparklines, series stats, the footer.

Adapters render parts in their own markup; these few strings are the same everywhere, so one place
builds them (each adapter escapes them for its format).
"""

from __future__ import annotations

from bot.types import Reply

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


def series_stats(known: list[float]) -> str:
    """`last 3 · min 1 · max 9 · 12 points` for the non-empty values of a series."""
    return f"last {known[-1]:g} · min {min(known):g} · max {max(known):g} · {len(known)} points"


def footer_text(reply: Reply, controller: str = "") -> str:
    """The mode, how many tool calls answered, and which controller: one line under an answer."""
    mode = "assistant (LLM)" if reply.mode == "llm" else "command mode"
    n = len(reply.tool_calls)
    tools = f" · {n} tool call{'s' if n != 1 else ''}" if n else ""
    where = f" · controller {controller}" if controller else ""
    return f"{mode}{tools}{where}"
