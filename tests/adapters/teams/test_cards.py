"""Reply -> Adaptive Card 1.5: the structure Teams accepts and the size it allows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.teams import cards
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    Fact,
    FactsPart,
    Reply,
    Risk,
    SeriesPart,
    SeriesPoint,
    TablePart,
    TextPart,
)

# The Adaptive Cards 1.5 element and action types (adaptivecards.io/explorer), and what each must have.
ELEMENTS: dict[str, set[str]] = {
    "TextBlock": {"text"},
    "RichTextBlock": {"inlines"},
    "Image": {"url"},
    "Media": {"sources"},
    "Container": {"items"},
    "ColumnSet": set(),
    "Column": set(),
    "FactSet": {"facts"},
    "ImageSet": {"images"},
    "ActionSet": {"actions"},
    "Table": {"columns", "rows"},
    "Input.Text": {"id"},
    "Input.Number": {"id"},
    "Input.Date": {"id"},
    "Input.Time": {"id"},
    "Input.Toggle": {"id", "title"},
    "Input.ChoiceSet": {"id"},
}
ACTIONS: dict[str, set[str]] = {
    "Action.OpenUrl": {"url"},
    "Action.Submit": set(),
    "Action.ShowCard": {"card"},
    "Action.ToggleVisibility": {"targetElements"},
    "Action.Execute": {"verb"},
}
TEXT_COLORS = {"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"}
ACTION_STYLES = {"default", "positive", "destructive"}


def _action(a: dict[str, Any], where: str) -> None:
    kind = a.get("type")
    assert kind in ACTIONS, f"{where}: unknown action {kind!r}"
    assert ACTIONS[kind] <= a.keys(), f"{where}: {kind} lacks {ACTIONS[kind] - a.keys()}"
    assert a.get("style", "default") in ACTION_STYLES, where
    if "fallback" in a:
        fb = a["fallback"]
        assert fb == "drop" or (isinstance(fb, dict) and _action(fb, where + ".fallback") is None)


def _element(e: dict[str, Any], where: str) -> None:
    kind = e.get("type")
    assert kind in ELEMENTS, f"{where}: unknown element {kind!r}"
    assert ELEMENTS[kind] <= e.keys(), f"{where}: {kind} lacks {ELEMENTS[kind] - e.keys()}"
    if kind == "TextBlock":
        assert isinstance(e["text"], str), where
        assert e["text"], where
        assert e.get("color", "Default") in TEXT_COLORS, where
    elif kind == "Container":
        for i, child in enumerate(e["items"]):
            _element(child, f"{where}.items[{i}]")
    elif kind == "ActionSet":
        for i, a in enumerate(e["actions"]):
            _action(a, f"{where}.actions[{i}]")
    elif kind == "FactSet":
        assert all({"title", "value"} <= f.keys() for f in e["facts"]), where
    elif kind == "Table":
        width = len(e["columns"])
        for r, row in enumerate(e["rows"]):
            assert row["type"] == "TableRow", f"{where}.rows[{r}]"
            assert len(row["cells"]) == width, f"{where}.rows[{r}]"
            for c, cell in enumerate(row["cells"]):
                assert cell["type"] == "TableCell", f"{where}.rows[{r}].cells[{c}]"
                for i, child in enumerate(cell["items"]):
                    _element(child, f"{where}.rows[{r}].cells[{c}].items[{i}]")


def validate_card(card: dict[str, Any]) -> None:
    """A structural check of an Adaptive Card 1.5 as Teams takes it, and Teams' size limit."""
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert isinstance(card["body"], list)
    assert card["body"]
    for i, e in enumerate(card["body"]):
        _element(e, f"body[{i}]")
    for i, a in enumerate(card.get("actions", [])):
        _action(a, f"actions[{i}]")
    assert len(json.dumps({"type": "message", "attachments": [cards.attachment(card)]}).encode()) < 28_000


def confirmation(diff: int = 2) -> ConfirmationPart:
    return ConfirmationPart(
        action_id="abc123defg",
        summary="Disable virtual service vs-web",
        diff=[f"- enabled: true {i}" for i in range(diff)],
        risk=Risk.WRITE,
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )


def test_every_part_renders_a_valid_card_with_a_footer() -> None:
    now = datetime.now(UTC)
    reply = Reply(
        parts=[
            TextPart(markdown="# Pools\n**bold** and a list:\n- a\n- b\n```\ncode here\n```\nafter"),
            TablePart(title="Pools", columns=["name", "up"], rows=[["p1", "yes"], ["p2", "no"]]),
            FactsPart(title="vs-web", facts=[Fact(label="state", value="up")]),
            SeriesPart(
                title="l4 conns",
                unit="/s",
                points=[SeriesPoint(timestamp=now, value=float(i)) for i in range(90)],
            ),
            ErrorPart(message="boom", hint="try again"),
            confirmation(),
        ],
        mode="llm",
        conversation_key="teams:19:x",
    )
    card = cards.render_reply(reply, controller="ctl.example")
    validate_card(card)
    text = json.dumps(card, ensure_ascii=False)
    assert "**Pools**" in text
    assert "```" not in text
    assert '"fontType": "Monospace"' in text
    assert "assistant (LLM) · controller ctl.example" in text
    assert "▁" in text
    assert "█" in text
    execute = next(
        a
        for e in card["body"]
        if e["type"] == "Container"
        for i in e["items"]
        if i["type"] == "ActionSet"
        for a in i["actions"]
    )
    assert execute["verb"] == cards.CONFIRM_VERB
    assert execute["data"] == {"avibot": "confirm", "a": "abc123defg", "k": "teams:19:x"}
    assert execute["fallback"]["type"] == "Action.Submit"
    assert execute["fallback"]["data"] == execute["data"]


def test_the_footer_says_the_mode_it_is_given_and_why_there_is_no_model() -> None:
    reply = Reply(parts=[TextPart(markdown="ok")], mode="command")

    def footer(mode: cards.Mode | None) -> str:
        text: str = cards.render_reply(reply, controller="ctl", mode=mode)["body"][-1]["text"]
        return text

    assert footer(None) == "command mode · controller ctl"  # the reply's own, when nobody says
    assert footer(cards.Mode("llm", "ignored while up")) == "assistant (LLM) · controller ctl"
    assert footer(cards.Mode("command", "Ollama is not answering")) == (
        "command mode (Ollama is not answering) · controller ctl"
    )
    outcome = cards.outcome(None, "", "", reply, controller="ctl", mode=cards.Mode("llm"))
    assert outcome["body"][-1]["text"] == "assistant (LLM) · controller ctl"


@pytest.mark.parametrize("width", [3, 8, 12])
def test_a_300_row_result_stays_under_the_limit_and_says_how_many_more(width: int) -> None:
    rows = [[f"virtualservice-{r:04d}-{c}" * 2 for c in range(width)] for r in range(300)]
    reply = Reply(
        parts=[
            TablePart(columns=[f"col{c}" for c in range(width)], rows=rows, total=300),
            confirmation(diff=60),
        ],
        conversation_key="teams:19:x",
    )
    card = cards.render_reply(reply)
    validate_card(card)
    assert cards.size(card) <= cards.MAX_CARD_BYTES
    table = next(e for e in card["body"] if e["type"] == "Table")
    shown = len(table["rows"]) - 1
    assert 0 < shown < 300
    assert f"and {300 - shown} more rows" in json.dumps(card)
    assert any(e["type"] == "Container" for e in card["body"])  # the confirmation survived


def test_huge_text_is_clipped_and_outcome_and_refusal_cards_are_valid() -> None:
    card = cards.render_reply(Reply(parts=[TextPart(markdown="word " * 20000)]))
    validate_card(card)
    view = confirmation().model_dump()
    view["id"] = view.pop("action_id")
    view.pop("kind")
    from bot.types import PendingActionView

    pending = PendingActionView(**view)
    done = cards.outcome(pending, "✅", "Confirmed by olivia", Reply(parts=[TextPart(markdown="Done.")]))
    validate_card(done)
    assert "Action.Execute" not in json.dumps(done)
    refused = cards.refusal(pending, "victor: not allowed", "teams:19:x")
    validate_card(refused)
    assert "Action.Execute" in json.dumps(refused)


def test_a_long_generic_change_shows_every_field_on_its_card_and_its_outcome() -> None:
    from bot.types import PendingActionView

    diff = [f"~ analytics_field_{i:03d}: {'x' * 20} → {'y' * 20}" for i in range(120)]
    part = confirmation().model_copy(update={"diff": diff})
    card = cards.render_reply(Reply(parts=[part], conversation_key="teams:19:x"))
    validate_card(card)
    text = json.dumps(card)
    assert all(f"analytics_field_{i:03d}" in text for i in range(120))
    assert "more changed lines" not in text
    pending = PendingActionView(
        id=part.action_id, summary=part.summary, diff=diff, risk=part.risk, expires_at=part.expires_at
    )
    done = cards.outcome(pending, "✅", "Confirmed by olivia", Reply(parts=[TextPart(markdown="Done.")]))
    validate_card(done)
    assert all(f"analytics_field_{i:03d}" in json.dumps(done) for i in range(120))
