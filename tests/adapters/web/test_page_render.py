"""The page's renderer on its own: every part as HTML, the Markdown subset, the SVG chart, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.web.render import chart, fmt_number, markdown, render_history, render_part, render_reply
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
)

EVIL = "<script>alert(1)</script>"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def series(
    *values: float | None, title: str = "l4_client.avg_complete_conns", unit: str = "conn/s"
) -> SeriesPart:
    points = [SeriesPoint(timestamp=T0 + timedelta(minutes=5 * i), value=v) for i, v in enumerate(values)]
    return SeriesPart(title=title, unit=unit, points=points)


# -- markdown ------------------------------------------------------------------------------------


def test_markdown_subset() -> None:
    html = markdown("**Two** pools are _down_: `web-pool`\nsecond line\n\n- a\n- b\n\n1. x\n2. y")
    assert "<strong>Two</strong>" in html
    assert "<em>down</em>" in html
    assert "<code>web-pool</code>" in html
    assert "down</em>: <code>web-pool</code><br>second line" in html
    assert "<ul><li>a</li><li>b</li></ul>" in html
    assert "<ol><li>x</li><li>y</li></ol>" in html


def test_markdown_is_escaped_before_formatting() -> None:
    html = markdown(f"{EVIL} **<b>x</b>** `<img src=x onerror=alert(1)>` [a](javascript:alert(1))")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>&lt;b&gt;x&lt;/b&gt;</strong>" in html
    assert "<code>&lt;img src=x onerror=alert(1)&gt;</code>" in html
    assert "<a " not in html
    assert set(re.findall(r"<(\w+)", html)) <= {"p", "strong", "code", "br", "em", "ul", "ol", "li", "pre"}


def test_markdown_leaves_names_and_code_alone() -> None:
    html = markdown("pool web_pool_1 and `a **not bold** b` and 2 * 3 * 4")
    assert "web_pool_1" in html
    assert "<code>a **not bold** b</code>" in html
    assert "<em>" not in html


def test_markdown_fenced_code() -> None:
    html = markdown('before\n```json\n{"a": "<x>"}\n```\nafter')
    assert "<pre><code>{&#34;a&#34;: &#34;&lt;x&gt;&#34;}</code></pre>" in html
    assert html.startswith("<p>before</p>")
    assert html.endswith("<p>after</p>")


# -- parts ---------------------------------------------------------------------------------------


def test_table_with_more_rows_than_shown() -> None:
    part = TablePart(title="Pools", columns=["pool", "servers up"], rows=[["web-pool", "2/3"]], total=12)
    html = render_part(part)
    assert "<table>" in html
    assert '<th scope="col">pool</th>' in html
    assert "<td>web-pool</td><td>2/3</td>" in html
    assert "and 11 more" in html


def test_facts_as_a_definition_list() -> None:
    html = render_part(FactsPart(title="vs-web", facts=[Fact(label="VIP", value="10.0.0.5")]))
    assert "<dl>" in html
    assert "<dt>VIP</dt><dd>10.0.0.5</dd>" in html


def test_error_with_hint() -> None:
    html = render_part(ErrorPart(message="No such pool", hint="Try `pool list`."))
    assert "No such pool" in html
    assert "Hint: Try `pool list`." in html


def test_confirmation_card() -> None:
    part = ConfirmationPart(
        action_id="act_123456",
        summary="Disable virtual service vs-web",
        diff=["- enabled: true", "+ enabled: false"],
        risk=Risk.WRITE,
        expires_at=T0,
    )
    html = render_part(part)
    assert 'hx-post="/htmx/actions/act_123456/confirm"' in html
    assert 'hx-post="/htmx/actions/act_123456/cancel"' in html
    assert '<span class="del">- enabled: true</span>' in html
    assert '<span class="add">+ enabled: false</span>' in html
    assert "expires 12:00:00 UTC" in html
    assert ">write</span>" in html


def test_chart_draws_a_line_with_labels() -> None:
    html = render_part(series(1, 5, 3, 9.5))
    assert "<svg" in html
    assert html.count("<polyline") == 1
    assert "last <b>9.5</b> conn/s" in html
    assert ">9.5</text>" in html  # max
    assert ">1</text>" in html  # min
    assert "12:15 UTC" in html


def test_chart_gaps_split_the_line() -> None:
    geometry = chart(series(1, 2, None, 4, 5, None, 7))
    assert len(geometry.segments) == 2
    assert len(geometry.dots) == 1  # the lone 7 after the second gap
    assert geometry.count == 5
    assert geometry.last_value == 7


def test_chart_single_point_and_flat_line() -> None:
    one = chart(series(3))
    assert one.segments == []
    assert len(one.dots) == 1
    flat = chart(series(2, 2, 2))
    assert len(flat.segments) == 1
    assert all(float(p.split(",")[1]) == pytest.approx(flat.height / 2 - 5) for p in flat.segments[0].split())


def test_chart_without_data() -> None:
    html = render_part(series(None, None))
    assert "<svg" not in html
    assert "No data" in html


def test_numbers_are_compact() -> None:
    assert [fmt_number(v) for v in (98_643_958, 12345.6, 1234.5, 98.54, 0.256, 3.0, None)] == [
        "98.6M",
        "12.3k",
        "1,234",
        "98.5",
        "0.26",
        "3",
        "-",
    ]


# -- escaping everywhere -------------------------------------------------------------------------


def every_part(text: str) -> list[Part]:
    return [
        TextPart(markdown=text),
        TablePart(title=text, columns=[text], rows=[[text]], total=3),
        FactsPart(title=text, facts=[Fact(label=text, value=text)]),
        series(1, 2, title=text, unit=text),
        ErrorPart(message=text, hint=text),
        ConfirmationPart(action_id="abcdef", summary=text, diff=[f"+ name: {text}"], risk=Risk.WRITE,
                         expires_at=T0),
    ]  # fmt: skip


def test_a_script_named_object_is_text_everywhere() -> None:
    html = render_reply(Reply(parts=every_part(EVIL), mode="command"))
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 12
    history = render_history([{"role": "user", "content": EVIL}, {"role": "assistant", "content": EVIL}])
    assert "<script" not in history
    assert history.count("&lt;script&gt;") == 2


def test_quotes_cannot_break_out_of_attributes() -> None:
    html = render_part(series(1, 2, title='x" onload="alert(1)', unit="'"))
    assert 'onload="alert(1)"' not in html
    assert "&#34; onload=&#34;alert(1)" in html


def test_history_shows_only_the_words() -> None:
    messages = [
        {"role": "user", "content": "which pools are down?"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "list_pools"}}]},
        {"role": "tool", "tool_name": "list_pools", "content": '{"pools": []}'},
        {"role": "assistant", "content": "**None** are down."},
    ]
    html = render_history(messages)
    assert html.count('class="turn user"') == 1
    assert html.count('class="turn assistant') == 1
    assert "<strong>None</strong> are down." in html
    assert "list_pools" not in html


def test_empty_history_welcomes() -> None:
    html = render_history([])
    assert 'id="welcome"' in html
    assert 'data-suggest="which pools have unhealthy servers?"' in html
