"""A change's diff as Slack sections: every changed line is shown, in as many code sections as it takes
(a section holds 3,000 characters), because a confirmation that hides a field hides the change
(SECURITY.md, "generic writes"). Only past `MAX_SECTIONS` sections, far beyond any real change, does the
rest become a count that points to the web page."""

from __future__ import annotations

MAX_SECTIONS = 20
FENCE = "```"


def diff_sections(lines: list[str], room: int, max_sections: int = MAX_SECTIONS) -> list[str]:
    """`lines` (already escaped for Slack) as section texts of at most `room` characters each."""
    inner = room - 2 * len(FENCE) - 1
    chunks: list[list[str]] = []
    size = inner + 1  # start a chunk at the first line
    for n, line in enumerate(lines):
        line = line if len(line) <= inner else line[: inner - 1] + "…"
        if size + len(line) + 1 > inner:
            if len(chunks) == max_sections:
                left = len(lines) - n
                return [*_fenced(chunks), f"… and {left} more changed lines: the web page shows them all."]
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return _fenced(chunks)


def _fenced(chunks: list[list[str]]) -> list[str]:
    return [FENCE + "\n".join(chunk) + FENCE for chunk in chunks]
