"""Every renderer handles every Part kind, and refuses what is not one (instead of falling through to
the last case and drawing, say, Confirm buttons for it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest

from adapters.slack import blocks as bk
from adapters.teams import cards
from adapters.web import render
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    Fact,
    FactsPart,
    Part,
    Reply,
    Risk,
    SeriesPart,
    SeriesPoint,
    TablePart,
    TextPart,
    render_plain,
)

NOW = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
SAMPLES: dict[type, Any] = {
    TextPart: TextPart(markdown="**hello**"),
    TablePart: TablePart(title="Pools", columns=["name", "up"], rows=[["p1", "yes"]], total=3),
    FactsPart: FactsPart(title="vs-web", facts=[Fact(label="state", value="up")]),
    SeriesPart: SeriesPart(
        title="conns",
        unit="/s",
        points=[SeriesPoint(timestamp=NOW + timedelta(minutes=i), value=i) for i in range(5)],
    ),
    ErrorPart: ErrorPart(message="boom", hint="try again"),
    ConfirmationPart: ConfirmationPart(
        action_id="abc123defg",
        summary="Disable vs-web",
        diff=["- enabled: true", "+ enabled: false"],
        risk=Risk.WRITE,
        expires_at=NOW + timedelta(minutes=10),
    ),
}
KEY = "slack:T1:C1:1.1"
RENDERERS: dict[str, Callable[[Any], object]] = {
    "slack": lambda part: bk.part_blocks(part, KEY),
    "teams": lambda part: cards.part_elements(part, KEY, 10),
    "web": render.render_part,
    "plain": render_plain,
}


def part_kinds() -> tuple[type, ...]:
    union, *_ = get_args(Part)  # Annotated[A | B | ..., Field(discriminator=...)]
    return get_args(union)


def test_there_is_a_sample_of_every_part_kind() -> None:
    assert set(part_kinds()) == set(SAMPLES), "add a sample of the new Part kind here"


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("kind", part_kinds(), ids=lambda k: k.__name__)
def test_every_part_kind_renders(renderer: str, kind: type) -> None:
    assert RENDERERS[renderer](SAMPLES[kind])


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_something_that_is_not_a_part_is_refused(renderer: str) -> None:
    class NotAPart:
        kind = "confirmation"  # looks like one to code that only checks the tag
        action_id = "x"

    with pytest.raises((AssertionError, TypeError)):
        RENDERERS[renderer](NotAPart())


def test_whole_replies_of_every_kind_render() -> None:
    reply = Reply(parts=[SAMPLES[k] for k in part_kinds()], conversation_key=KEY)
    slack = bk.render_reply(reply, controller="ctl")
    assert any(b["type"] == "actions" for b in slack.blocks)
    teams = cards.render_reply(reply, controller="ctl")
    assert any(e["type"] == "Container" for e in teams["body"])
    assert "abc123defg" in str(render.render_reply(reply))
