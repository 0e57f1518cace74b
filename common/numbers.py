"""One way to write a number for a person, in every channel: `49.5M`, `49.5 Mbps`, `9,876`, `45.2%`.

Never scientific notation. Small numbers keep about three significant digits (`98.5`, `5.68`, `0.26`,
`0.0042`); whole numbers below 10,000 are grouped (`9,876`); larger ones take an SI prefix with three
significant digits (`12.3k`, `49.5M`, `1.2G`). With a unit:

- rates and sizes scale from 1,000 with a space before the unit: `bps` -> `49.5 Mbps`, `B` / `bytes`
  -> `1.5 GB` (decimal prefixes, as the controller reports them), `/s` -> `1.23k/s`;
- `ms` and `s` never scale: `14.4 ms`, `1,234 ms`;
- `%` follows the number: `66.7%`;
- any other unit is written after the number: `12 conns`.

Counts (rows, points, objects) are `fmt_count`: every digit, grouped (`1,234,567`).
"""

from __future__ import annotations

import math
from decimal import Decimal

_PREFIXES = ("", "k", "M", "G", "T", "P", "E")
_SCALED = {"bps": "bps", "b/s": "bps", "bits/s": "bps", "b": "B", "byte": "B", "bytes": "B"}
_FIXED = {"ms", "s", "us", "µs"}
BARE_SI_FROM = 10_000  # a bare number below this is written in full (`9,876`), a chart label stays narrow


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _small(value: float) -> str:
    """|value| < 1,000: about three significant digits, at most two decimals; 2 digits below 0.1."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return _trim(f"{value:.1f}")
    if magnitude >= 0.1:
        return _trim(f"{value:.2f}")
    digits = 1 - math.floor(math.log10(magnitude))  # two significant digits
    return _trim(format(Decimal(repr(round(value, digits))), "f"))


def _si(value: float) -> tuple[str, str]:
    """(mantissa, prefix): three significant digits; 999,950 is `1M`, not `1000k`."""
    magnitude = abs(value)
    index = min(int(math.log10(magnitude) // 3), len(_PREFIXES) - 1) if magnitude >= 1 else 0
    while True:
        scaled = value / 1000**index
        size = abs(scaled)
        decimals = 2 if size < 10 else 1 if size < 100 else 0
        text = f"{scaled:,.{decimals}f}"
        if abs(float(text.replace(",", ""))) >= 1000 and index < len(_PREFIXES) - 1:
            index += 1
            continue
        return _trim(text), _PREFIXES[index]


def _plain(value: float, si_from: float) -> tuple[str, str]:
    magnitude = abs(value)
    if magnitude >= si_from:
        return _si(value)
    if magnitude >= 1000 or float(value).is_integer():
        return f"{value:,.0f}", ""
    return _small(value), ""


def fmt_number(value: float | None, unit: str = "") -> str:
    """A number (and its unit) as a person reads it; `-` for no value. See the module docstring."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if isinstance(value, bool):
        value = int(value)
    unit = unit.strip()
    key = unit.lower()
    if key in _SCALED or key.startswith("/"):
        mantissa, prefix = _plain(value, 1000)
        if key.startswith("/"):
            return f"{mantissa}{prefix}{unit}"
        return f"{mantissa} {prefix}{_SCALED[key]}"
    if key in _FIXED:
        mantissa, prefix = _plain(value, math.inf)
        return f"{mantissa} {unit}"
    mantissa, prefix = _plain(value, BARE_SI_FROM)
    if unit == "%":
        return f"{mantissa}{prefix}%"
    return f"{mantissa}{prefix}" + (f" {unit}" if unit else "")


def fmt_count(value: int) -> str:
    """A count, exact and grouped: `1,234,567`."""
    return f"{value:,}"
