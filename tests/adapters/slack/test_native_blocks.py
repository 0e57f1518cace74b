"""Block Kit for tables (Slack's `table` block, with the monospaced fallback), "Show more" buttons and
the message a settled confirmation leaves: pure rendering, each block checked by slack_sdk's own
Block Kit models (parsed, validated, and sent back unchanged)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from adapters.slack import blocks as bk
from bot.types import (
    ConfirmationPart,
    MoreRows,
    PendingActionView,
    Reply,
    Risk,
    TablePart,
    TextPart,
)

KEY = "slack:T1:C1:1700000001.000100"


def valid(blocks: list[dict[str, Any]]) -> None:
    """Each block as slack_sdk's Block Kit models read it: known, within their limits, nothing lost."""
    assert 0 < len(blocks) <= bk.MAX_BLOCKS
    for block in blocks:
        model = Block.parse(block)
        assert model is not None, block
        model.validate_json()
        assert model.to_dict() == block, block
        if block["type"] == "section" and "text" in block:
            assert 0 < len(block["text"]["text"]) <= bk.SECTION_TEXT
    tables = [b for b in blocks if b["type"] == "table"]
    assert len(tables) <= 1  # one table a message
    for t in tables:
        assert len(t["rows"]) <= bk.TABLE_ROWS
        assert all(0 < len(row) <= bk.TABLE_COLUMNS for row in t["rows"])
        assert all(cell["text"] for row in t["rows"] for cell in row)  # Slack rejects empty cells
        assert sum(len(c["text"]) for row in t["rows"] for c in row) <= bk.TABLE_CHARS


def table(rows: int = 3, columns: int = 3, **extra: Any) -> TablePart:
    names = ["Name", "Conns", "State", *(f"c{i}" for i in range(3, columns))][:columns]
    body = [
        [f"vs-{r}", str(r * 10), "", *(f"x{i}" for i in range(3, columns))][:columns] for r in range(rows)
    ]
    return TablePart(title="Virtual services", columns=names, rows=body, **extra)


def test_a_table_becomes_slacks_table_block_with_numbers_right_aligned() -> None:
    rendered = bk.render_reply(Reply(parts=[table()]))
    valid(rendered.blocks)
    title, native = rendered.blocks[0], rendered.blocks[1]
    assert title["text"]["text"] == "*Virtual services*"
    assert native["type"] == "table"
    assert [c["text"] for c in native["rows"][0]] == ["Name", "Conns", "State"]
    assert [c["text"] for c in native["rows"][2]] == ["vs-1", "10", "-"]  # an empty cell is never sent
    assert native["column_settings"] == [None, {"align": "right"}, None]
    assert "```" not in json.dumps(rendered.blocks)


def test_controller_text_in_cells_is_escaped() -> None:
    part = TablePart(columns=["Name"], rows=[["<!channel>"], ["a&b"]])
    [native] = bk.table_blocks(part, native=True)
    assert [r[0]["text"] for r in native["rows"][1:]] == ["&lt;!channel&gt;", "a&amp;b"]


def test_a_second_table_and_tables_over_the_limits_stay_monospaced() -> None:
    rendered = bk.render_reply(Reply(parts=[table(), table()]))
    valid(rendered.blocks)
    assert [b["type"] for b in rendered.blocks].count("table") == 1
    assert "```Name" in json.dumps(rendered.blocks)  # the second one

    too_many_rows = table(rows=bk.TABLE_ROWS)  # + the header row
    too_many_columns = table(columns=bk.TABLE_COLUMNS + 1)
    too_much_text = TablePart(columns=["Name"], rows=[["x" * 150] for _ in range(70)])
    for part in (too_many_rows, too_many_columns, too_much_text):
        blocks = bk.render_reply(Reply(parts=[part])).blocks
        valid(blocks)
        assert not any(b["type"] == "table" for b in blocks)
        assert "```" in json.dumps(blocks)


def test_where_the_table_block_is_not_used_the_table_is_monospaced() -> None:
    blocks = bk.render_reply(Reply(parts=[table()]), native_tables=False).blocks
    valid(blocks)
    assert not any(b["type"] == "table" for b in blocks)
    assert "```Name" in json.dumps(blocks)


def test_a_cut_table_says_how_many_more_and_carries_a_show_more_button() -> None:
    more = MoreRows(tool="list_virtual_services", arguments={"page": 2}, command="vs list page 2")
    rendered = bk.render_reply(Reply(parts=[table(total=80, more=more)], conversation_key=KEY))
    valid(rendered.blocks)
    kinds = [b["type"] for b in rendered.blocks]
    assert kinds[:4] == ["section", "table", "context", "actions"]
    assert "and 77 more rows" in json.dumps(rendered.blocks[2])
    [button] = rendered.blocks[3]["elements"]
    assert (button["action_id"], button["text"]["text"]) == (bk.MORE_ACTION, "Show more")
    value = bk.parse_more_value(button["value"])
    assert value is not None
    assert (value.k, value.m) == (KEY, more)


def test_a_show_more_value_too_long_for_a_button_says_what_to_type() -> None:
    more = MoreRows(tool="list_pools", arguments={"filter": "x" * 3000}, command="pool list page 2")
    blocks = bk.table_blocks(table(more=more), native=True, conversation_key=KEY)
    valid(blocks)
    assert not any(b["type"] == "actions" for b in blocks)
    assert "type `pool list page 2`" in json.dumps(blocks)


def test_damaged_show_more_values_are_rejected() -> None:
    good = bk.more_value(MoreRows(tool="list_pools"), KEY)
    assert bk.parse_more_value(good) is not None
    for bad in ("", "{", "[]", good[:-5], json.dumps({"k": KEY}), json.dumps({"k": KEY, "m": {"x": 1}})):
        assert bk.parse_more_value(bad) is None, bad


def pending(diff: list[str] | None = None) -> tuple[list[dict[str, Any]], PendingActionView]:
    expires = datetime.now(UTC) + timedelta(minutes=10)
    part = ConfirmationPart(
        action_id="act0000001",
        summary="Disable virtual service vs-web",
        diff=diff or ["- enabled: true", "+ enabled: false"],
        risk=Risk.WRITE,
        expires_at=expires,
    )
    reply = Reply(parts=[TextPart(markdown="I can do that."), part], conversation_key=KEY)
    view = PendingActionView(
        id=part.action_id, summary=part.summary, diff=part.diff, risk=part.risk, expires_at=expires
    )
    return bk.render_reply(reply, controller="ctl", mode="command mode").blocks, view


LONG_DIFF = [f"~ analytics_field_{i:03d}: {'x' * 20} → {'y' * 20}" for i in range(120)]


def test_a_long_generic_change_shows_every_field_before_and_after_it_is_settled() -> None:
    """120 changed fields are more than one section holds: none is cut, the buttons stay last."""
    original, view = pending(LONG_DIFF)
    valid(original)
    text = json.dumps(original)
    missing = [f"analytics_field_{i:03d}" for i in range(120) if f"analytics_field_{i:03d}" not in text]
    assert not missing, missing
    assert "more changed lines" not in text
    assert bk.has_confirmation(original)
    assert text.count("Confirm this change") == 1
    done = Reply(parts=[TextPart(markdown="Done: Patched virtual service vs-web.")])
    for settled in (
        bk.outcome(original, ":white_check_mark:", "Confirmed by <@U1>", done, view=view),
        bk.outcome(original, ":hourglass:", "", Reply(parts=[TextPart(markdown="It expired.")])),
    ):
        valid(settled.blocks)
        after = json.dumps(settled.blocks)
        assert all(f"analytics_field_{i:03d}" in after for i in range(120))
        assert "Confirm this change" not in after
        assert not bk.has_confirmation(settled.blocks)


def test_a_settled_confirmation_has_one_outcome_line_in_place_of_buttons_and_expiry() -> None:
    original, view = pending()
    assert bk.holds_action(original, view)
    result = Reply(parts=[TextPart(markdown="Done: Disabled virtual service vs-web.")])
    rendered = bk.outcome(original, ":white_check_mark:", "Confirmed by <@U1>", result, view=view)
    valid(rendered.blocks)
    text = json.dumps(rendered.blocks)
    assert not bk.has_confirmation(rendered.blocks)
    assert "Expires" not in text
    assert "/avi confirm" not in text
    assert "Confirm this change" not in text
    assert "Disable virtual service vs-web" not in text  # the plan is not repeated next to its result
    assert text.count("Done: Disabled virtual service vs-web.") == 1
    line = next(b for b in rendered.blocks if "Done:" in json.dumps(b))
    assert line["text"]["text"] == (
        ":white_check_mark: Done: Disabled virtual service vs-web. · Confirmed by <@U1>"
    )
    assert "+ enabled: false" in text  # what changed stays
    assert "I can do that." in json.dumps(rendered.blocks[0])  # what came before stays, in order
    assert rendered.blocks[-1] == original[-1]  # the footer stays last
    assert rendered.text.startswith(":white_check_mark: Done: Disabled")


def test_an_expired_confirmation_keeps_what_was_asked_under_why() -> None:
    original, _ = pending()
    result = Reply(parts=[TextPart(markdown="Action act0000001 was not found or has expired.")])
    rendered = bk.outcome(original, ":hourglass:", "", result)
    valid(rendered.blocks)
    text = json.dumps(rendered.blocks)
    assert not bk.has_confirmation(rendered.blocks)
    assert "Expires" not in text
    assert "Confirm this change" not in text
    assert "Disable virtual service vs-web" in text  # nothing was done: what was asked is kept
    assert ":hourglass: Action act0000001 was not found or has expired." in text
