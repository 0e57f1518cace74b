"""One number and unit formatter for every channel: `49.5M`, `49.5 Mbps`, `9,876`, never `4.9e+07`."""

from __future__ import annotations

import re

import pytest

from adapters.slack.blocks import series_blocks
from adapters.teams.cards import series_elements
from adapters.web.render import render_part
from avi.models import MetricPoint, MetricSeries
from avibot.terminal_render import render_part as terminal_part
from bot.text import fmt_count, fmt_number, series_stats
from bot.tools.analytics import series_part

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (49_496_400, "", "49.5M"),
        (98_643_958, "", "98.6M"),
        (1_234_567_890, "", "1.23G"),
        (12_345.6, "", "12.3k"),
        (10_000, "", "10k"),
        (999_950, "", "1M"),  # rounds up to the next prefix, never "1000k"
        (9_876, "", "9,876"),  # whole numbers below 10,000: grouped, exact
        (1_234.5, "", "1,234"),
        (9_999.7, "", "10,000"),
        (98.54, "", "98.5"),
        (5.678, "", "5.68"),
        (0.256, "", "0.26"),
        (0.0042, "", "0.0042"),
        (1e-7, "", "0.0000001"),
        (3.0, "", "3"),
        (0, "", "0"),
        (-49_496_400, "", "-49.5M"),
        (None, "", "-"),
        (float("nan"), "", "-"),
        (1e30, "", "1,000,000,000,000E"),  # past the last prefix: digits, still no exponent
        (49_496_400, "bps", "49.5 Mbps"),
        (1_234, "bps", "1.23 kbps"),
        (999, "bps", "999 bps"),
        (1.5e9, "B", "1.5 GB"),
        (512, "bytes", "512 B"),
        (1_234.5, "/s", "1.23k/s"),
        (152.205, "/s", "152/s"),
        (0.875, "/s", "0.88/s"),
        (14.352, "ms", "14.4 ms"),
        (123_456.7, "ms", "123,457 ms"),  # milliseconds are never scaled
        (66.72, "%", "66.7%"),
        (100.0, "%", "100%"),
        (12, "conns", "12 conns"),
    ],
)
def test_fmt_number(value: float | None, unit: str, expected: str) -> None:
    assert fmt_number(value, unit) == expected


@pytest.mark.parametrize("exponent", range(-12, 31))
def test_no_magnitude_is_written_in_scientific_notation(exponent: int) -> None:
    for mantissa in (1.0, 4.94964, 9.99999):
        for unit in ("", "bps", "B", "/s", "ms", "%"):
            text = fmt_number(mantissa * 10.0**exponent, unit)
            assert not SCIENTIFIC.search(text), text


def test_counts_are_exact_and_grouped() -> None:
    assert [fmt_count(n) for n in (0, 12, 1_440, 1_234_567)] == ["0", "12", "1,440", "1,234,567"]


def test_series_stats_with_and_without_a_unit() -> None:
    known = [39_778_800.0, 53_875_700.0, 49_496_400.0]
    assert series_stats(known) == "last 49.5M · min 39.8M · max 53.9M · 3 points"
    assert series_stats(known, "bps") == "last 49.5 Mbps · min 39.8 Mbps · max 53.9 Mbps · 3 points"
    assert series_stats([2.0]) == "last 2 · min 2 · max 2 · 1 point"


def bandwidth() -> MetricSeries:
    values = [39_778_800.0, 53_875_700.0, None, 45_669_800.0, 49_496_400.0]
    return MetricSeries(
        metric_id="l4_client.avg_bandwidth",
        units="BITS_PER_SECOND",
        points=[MetricPoint(timestamp=f"2025-01-01T00:0{i}:00+00:00", value=v) for i, v in enumerate(values)],
    )


def test_an_analytics_result_reads_the_same_in_every_channel() -> None:
    part = series_part(bandwidth())
    terminal = terminal_part(part, tty=False)
    slack = str(series_blocks(part))
    teams = str(series_elements(part))
    web = str(render_part(part))
    assert "last 49.5 Mbps" in terminal
    assert "49.5 Mbps" in teams  # with its unit
    for shown in (slack, web):
        assert "49.5M" in shown
    for shown in (terminal, slack, teams, web):
        assert "e+07" not in shown
        assert "4.94964" not in shown
