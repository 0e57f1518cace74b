"""avibot/terminal_render.py: the terminal's drawing of each reply part, on a TTY and not."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from avibot.terminal_render import (
    MarkdownLines,
    markdown,
    render_part,
    render_reply,
    strip_ansi,
    use_style,
    width,
)
from bot.types import (
    ConfirmationPart,
    ErrorPart,
    Fact,
    FactsPart,
    PendingActionView,
    Reply,
    Risk,
    SeriesPart,
    SeriesPoint,
    TablePart,
    TextPart,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TABLE = TablePart(
    title="3 virtual services, 1 down",
    columns=["Name", "State", "VIP", "Health"],
    rows=[["web", "up", "10.0.0.1:443", "93"], ["checkout-prod", "down", "10.0.0.22:80", "7"],
          ["api", "degraded", "10.0.0.3:443", "100"]],
    total=5,
)  # fmt: skip


def columns_start(lines: list[str], names: list[str]) -> None:
    """Every row has a cell starting at each header's column (two spaces before it)."""
    header, *rows = lines
    for name in names:
        at = header.index(name)
        for row in rows:
            assert row[at - 2 : at] == "  ", (name, row)


def test_a_table_on_a_tty_is_aligned_bold_and_coloured() -> None:
    out = render_part(TABLE, tty=True)
    title, header, *rows, more = out.split("\n")
    assert title == "\x1b[1m3 virtual services, 1 down\x1b[0m"
    assert header.startswith("\x1b[1mName")
    assert "\x1b[32mup\x1b[0m" in rows[0]
    assert "\x1b[31mdown\x1b[0m" in rows[1]
    assert "\x1b[33mdegraded\x1b[0m" in rows[2]
    assert strip_ansi(more) == "... and 2 more"
    columns_start([strip_ansi(line) for line in (header, *rows)], ["State", "VIP", "Health"])


def test_a_table_off_a_tty_is_the_same_layout_without_escapes() -> None:
    out = render_part(TABLE, tty=False)
    assert "\x1b" not in out
    assert out == strip_ansi(render_part(TABLE, tty=True))
    lines = out.split("\n")
    assert lines[1] == "Name           State     VIP           Health"
    assert lines[2] == "web            up        10.0.0.1:443      93"  # numbers to the right
    columns_start(lines[1:4], ["State", "VIP"])


def test_wide_characters_keep_columns_aligned() -> None:
    part = TablePart(columns=["Name", "State"], rows=[["東京-vs", "up"], ["web", "down"]])
    lines = render_part(part, tty=False).split("\n")
    starts = [
        width(line[: line.rindex(last)]) for line, last in zip(lines, ("State", "up", "down"), strict=True)
    ]
    assert starts == [9, 9, 9]  # 東京-vs is 7 columns wide, not 5
    assert width("東京") == 4


def test_facts_pad_their_labels() -> None:
    part = FactsPart(
        title="Pool web", facts=[Fact(label="State", value="down"), Fact(label="Servers up", value="2")]
    )
    plain = render_part(part, tty=False)
    assert plain == "Pool web\nState:      down\nServers up: 2"
    styled = render_part(part, tty=True)
    assert "\x1b[31mdown\x1b[0m" in styled
    assert strip_ansi(styled) == plain


def test_a_series_has_a_sparkline_and_its_numbers_in_units() -> None:
    values = [39_778_800.0, 53_875_700.0, None, 49_496_400.0]
    part = SeriesPart(
        title="l4_client.avg_bandwidth",
        unit="bps",
        points=[SeriesPoint(timestamp=NOW + timedelta(minutes=i), value=v) for i, v in enumerate(values)],
    )
    plain = render_part(part, tty=False)
    assert plain.split("\n")[0] == "l4_client.avg_bandwidth (bps)"
    assert "last 49.5 Mbps · min 39.8 Mbps · max 53.9 Mbps · 3 points" in plain
    assert "▁" in plain
    assert "█" in plain
    assert "e+07" not in plain
    assert "\x1b" not in plain
    assert "\x1b[1ml4_client.avg_bandwidth\x1b[0m" in render_part(part, tty=True)
    empty = SeriesPart(title="cpu", unit="%", points=[SeriesPoint(timestamp=NOW, value=None)])
    assert render_part(empty, tty=False) == "cpu (%)\n  no data"


def test_markdown_is_shown_without_its_markup() -> None:
    text = (
        "# Pools\n**2 pools** are down: `web-pool` and _checkout_pool_.\n"
        "- *first* item\n* second, see [docs](https://avi.example/docs)\n"
        "```\nshow pool web-pool\n```\nsnake_case_name and 2 * 3 stay as they are"
    )
    plain = markdown(text, tty=False)
    assert plain == (
        "Pools\n2 pools are down: web-pool and checkout_pool.\n• first item\n"
        "• second, see docs (https://avi.example/docs)\n    show pool web-pool\n"
        "snake_case_name and 2 * 3 stay as they are"
    )
    styled = markdown(text, tty=True)
    assert "\x1b[1m2 pools\x1b[0m" in styled
    assert "\x1b[36mweb-pool\x1b[0m" in styled
    assert "\x1b[3mcheckout_pool\x1b[0m" in styled
    assert strip_ansi(styled) == plain


def test_streamed_markdown_matches_the_whole_text() -> None:
    text = "Two pools are **down**:\n```\npool list --down\n```\n- `web-pool`\n- _api_"
    lines = MarkdownLines(tty=False)
    streamed = "".join(lines.feed(text[i : i + 3]) for i in range(0, len(text), 3)) + lines.finish()
    assert streamed == markdown(text, tty=False)


def test_errors_and_confirmations() -> None:
    error = ErrorPart(message="no pool named `x`", hint="check the name with `pool list`")
    assert render_part(error, tty=False) == "Error: no pool named x\nHint: check the name with pool list"
    assert render_part(error, tty=True).startswith("\x1b[31;1mError")
    confirm = ConfirmationPart(
        action_id="abc123",
        summary="Disable virtual service web",
        diff=["- enabled: true", "+ enabled: false"],
        risk=Risk.WRITE,
        expires_at=NOW,
    )
    styled = render_part(confirm, tty=True)
    assert "\x1b[31m- enabled: true\x1b[0m" in styled
    assert "\x1b[32m+ enabled: false\x1b[0m" in styled
    assert strip_ansi(styled) == render_part(confirm, tty=False)


def test_a_reply_with_a_pending_change_says_what_to_type() -> None:
    pending = PendingActionView(id="abc123", summary="s", diff=[], risk=Risk.WRITE, expires_at=NOW)
    reply = Reply(parts=[TextPart(markdown="streamed"), TABLE], pending_action=pending)
    out = render_reply(reply, tty=False, streamed=True)
    assert not out.startswith("streamed")  # already shown as it arrived
    assert out.endswith("Type confirm abc123 to make the change, or cancel abc123 to drop it.")
    assert "`" not in out


@pytest.mark.parametrize(
    ("env", "isatty", "expected"),
    [
        ({"TERM": "xterm"}, True, True),
        ({"TERM": "xterm"}, False, False),
        ({"TERM": "xterm", "NO_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_use_style(env: dict[str, str], isatty: bool, expected: bool) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return isatty

    assert use_style(Stream(), env) is expected
