"""Reply -> Block Kit within Slack's limits; the pure parts of the channel (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from adapters.slack import blocks as bk
from adapters.slack import events as ev
from bot.text import sparkline
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


def within_limits(rendered: bk.Rendered) -> None:
    assert 0 < len(rendered.blocks) <= bk.MAX_BLOCKS
    assert 0 < len(rendered.text) <= bk.FALLBACK_TEXT
    for block in rendered.blocks:
        if block["type"] == "section":
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            for f in block.get("fields", []):
                assert len(f["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"])


def test_a_300_row_table_is_cut_with_and_n_more() -> None:
    rows = [[f"vs-{i:03d}", "up" if i % 3 else "down", f"10.0.{i // 256}.{i % 256}"] for i in range(300)]
    reply = Reply(parts=[TablePart(title="Virtual services", columns=["Name", "State", "VIP"], rows=rows)])
    rendered = bk.render_reply(reply)
    within_limits(rendered)
    table = rendered.blocks[0]["text"]["text"]
    shown = sum(1 for line in table.splitlines() if line.startswith(("vs-", "```vs-")))
    assert 20 < shown < 300
    assert rendered.blocks[1] == bk.more_line(300 - shown, "more rows")
    assert table.startswith("*Virtual services*\n```Name")
    assert table.endswith("```")


def test_rows_already_cut_by_the_core_count_in_and_n_more() -> None:
    part = TablePart(columns=["Name"], rows=[["a"], ["b"]], total=40)
    blocks = bk.table_blocks(part)
    assert "and 38 more rows" in json.dumps(blocks)


def test_many_parts_stay_within_50_blocks_and_keep_the_confirmation() -> None:
    confirmation = ConfirmationPart(
        action_id="abc123def4",
        summary="Disable vs-web",
        diff=["- enabled: true", "+ enabled: false"] * 2000,
        risk=Risk.WRITE,
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )
    parts = [TextPart(markdown=f"paragraph {i} " + "x" * 5000) for i in range(40)]
    reply = Reply(parts=[*parts, confirmation], conversation_key="slack:T1:C1:1.1")
    rendered = bk.render_reply(reply)
    within_limits(rendered)
    types = [b["type"] for b in rendered.blocks]
    assert "actions" in types
    assert "more parts not shown" in json.dumps(rendered.blocks)
    actions = next(b for b in rendered.blocks if b["type"] == "actions")
    value = actions["elements"][0]["value"]
    assert bk.parse_confirmation_value(value) == ("abc123def4", "slack:T1:C1:1.1")
    assert [e["action_id"] for e in actions["elements"]] == ["avi_confirm", "avi_cancel"]


def test_facts_series_and_errors() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [SeriesPoint(timestamp=start + timedelta(minutes=i), value=float(i % 8)) for i in range(16)]
    points[3] = SeriesPoint(timestamp=points[3].timestamp, value=None)
    reply = Reply(
        parts=[
            FactsPart(title="vs-web", facts=[Fact(label=f"k{i}", value="v" * 3000) for i in range(12)]),
            SeriesPart(title="l4_client.avg_bandwidth", unit="bps", points=points),
            ErrorPart(message="Pool <web> not found", hint="Try `pool list`."),
        ]
    )
    rendered = bk.render_reply(reply)
    within_limits(rendered)
    text = json.dumps(rendered.blocks, ensure_ascii=False)
    assert "`▁▂▃ ▅▆▇█▁▂▃▄▅▆▇█`" in text  # one character per point, a gap for the missing one
    assert "Pool &lt;web&gt; not found" in text
    assert sum(1 for b in rendered.blocks if "fields" in b) == 2  # 12 facts: 10 + 2


def test_sparkline_downsamples_and_handles_flat_series() -> None:
    assert len(sparkline([float(i) for i in range(1000)], bk.SPARK_POINTS)) == bk.SPARK_POINTS
    assert sparkline([5.0, 5.0], bk.SPARK_POINTS) == "▅▅"
    assert sparkline([None, None], bk.SPARK_POINTS) == ""


def test_markdown_becomes_mrkdwn() -> None:
    md = "## Pools\n**web** is [down](https://x/y) & <b>\n- one\n```python\ncode\n```"
    assert bk.to_mrkdwn(md) == "*Pools*\n*web* is <https://x/y|down> &amp; &lt;b&gt;\n• one\n```\ncode\n```"


def test_long_text_is_split_at_lines_with_code_blocks_reopened() -> None:
    text = "```\n" + "\n".join(f"line {i:04d}" for i in range(800)) + "\n```"
    chunks = bk.split_text(text)
    assert len(chunks) > 1
    assert all(len(c) <= 3000 and c.count("```") % 2 == 0 for c in chunks)


def test_event_helpers() -> None:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT>, vs list &amp; more",
        "ts": "2.2",
        "thread_ts": "1.1",
        "channel": "C1",
    }
    msg = ev.message_from_event(event, "T1")
    assert msg is not None
    assert msg.in_thread
    assert ev.strip_mention(msg.text, "UBOT") == "vs list & more"
    assert ev.inbound(msg, "x").conversation_key == "slack:T1:C1:1.1"
    assert ev.message_from_event({**event, "subtype": "message_changed"}, "T1") is None
    assert ev.message_from_event({**event, "bot_id": "B1"}, "T1") is None


def test_plain_text_is_escaped_and_cut_without_breaking_an_entity() -> None:
    assert bk.plain("<!channel> a&b", 100) == "&lt;!channel&gt; a&amp;b"
    for limit in range(2, 30):
        cut = bk.plain("<" * 40, limit)
        assert len(cut) <= limit
        assert cut.removesuffix("…").replace("&lt;", "") == ""  # whole entities only
    rendered = bk.render_reply(Reply(parts=[TextPart(markdown="<!here> " * 1000)]))
    within_limits(rendered)
    assert "<!here>" not in rendered.text


def test_the_footer_says_the_mode_it_is_given() -> None:
    reply = Reply(parts=[TextPart(markdown="hi")], mode="command")
    llm = bk.render_reply(reply, controller="ctl<1>", mode=bk.mode_line("llm", model="qwen3:8b"))
    assert llm.blocks[-1] == bk.context("assistant (LLM: qwen3:8b) · controller ctl&lt;1&gt;")
    down = bk.render_reply(reply, mode=bk.mode_line("command", reason="Ollama <x> is down"))
    assert down.blocks[-1] == bk.context("command mode (Ollama &lt;x&gt; is down)")
    assert bk.render_reply(reply).blocks[-1] == bk.context("command mode")  # no live mode given
