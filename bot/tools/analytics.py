"""get_analytics: metric time series for a virtual service, pool or service engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from avi.models import MetricSeries, Window
from avi.operations import DEFAULT_METRICS
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, OptStrList, tool
from bot.tools.labels import metric_title
from bot.tools.render import fit_object, num
from bot.types import SeriesPart, SeriesPoint

ENTITY_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        (
            "virtualservice",
            "vs",
            "virtual service",
            "virtual_service",
            "virtual-service",
            "virtualservices",
            "vip",
            "app",
        ),
        "virtualservice",
    ),
    **dict.fromkeys(("pool", "pools", "server pool"), "pool"),
    **dict.fromkeys(
        (
            "serviceengine",
            "se",
            "service engine",
            "service_engine",
            "service-engine",
            "engine",
            "serviceengines",
        ),
        "serviceengine",
    ),
}
POINTS_FOR_MODEL = 4  # the last few points: enough to say "rising" without a long list


def entity_type(value: str) -> str:
    key = " ".join(value.strip().lower().split())
    if key not in ENTITY_SYNONYMS:
        raise ValueError(f"unknown entity_type {value!r}; use virtualservice, pool or serviceengine")
    return ENTITY_SYNONYMS[key]


class AnalyticsArgs(Args):
    entity_type: str = Field(description="what to measure: virtualservice (vs), pool or serviceengine (se)")
    name: str = Field(min_length=1, description="name (or uuid) of that virtual service, pool or engine")
    window: str = Field("1h", description="time range: 1h, 6h, 24h or 7d")
    metrics: OptStrList = Field(
        None, description="metric ids, e.g. l4_client.avg_bandwidth; empty = the usual ones"
    )

    @field_validator("entity_type")
    @classmethod
    def _entity(cls, value: str) -> str:
        return entity_type(value)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        return Window.parse(value).value


def _short_unit(units: str | None) -> str:
    return {"BITS_PER_SECOND": "bps", "PER_SECOND": "/s", "PERCENT": "%", "MILLISECONDS": "ms"}.get(
        units or "", (units or "").lower()
    )


def series_data(s: MetricSeries) -> dict[str, Any]:
    values = [p.value for p in s.points if p.value is not None]
    stats = s.statistics
    return {
        "metric": s.metric_id,
        "unit": _short_unit(s.units),
        "latest": num(s.latest),
        "min": num(stats.min if stats and stats.min is not None else min(values, default=None)),
        "max": num(stats.max if stats and stats.max is not None else max(values, default=None)),
        "mean": num(
            stats.mean
            if stats and stats.mean is not None
            else (sum(values) / len(values) if values else None)
        ),
        "last_points": [[p.timestamp, num(p.value)] for p in s.points[-POINTS_FOR_MODEL:]],
    }


def series_part(s: MetricSeries) -> SeriesPart:
    return SeriesPart(
        title=metric_title(s.metric_id),
        unit=_short_unit(s.units),
        points=[SeriesPoint(timestamp=datetime.fromisoformat(p.timestamp), value=p.value) for p in s.points],
    )


async def get_analytics(ctx: ToolContext, args: AnalyticsArgs) -> ToolResult:
    result = await ctx.ops.analytics.metrics(
        args.entity_type,  # type: ignore[arg-type]  # checked by the validator
        args.name,
        window=args.window,
        metrics=args.metrics or list(DEFAULT_METRICS[args.entity_type]),
        tenant=ctx.tenant,
    )
    name = result.entity_name or args.name
    metrics = [series_data(s) for s in result.series]
    summary = f"{len(metrics)} metrics of {args.entity_type} {name} over the last {result.window.value}"
    data = {
        "entity_type": args.entity_type,
        "name": name,
        "window": result.window.value,
        "step_seconds": result.step,
        "metrics": metrics,
    }
    return ToolResult(summary=summary, data=fit_object(data), parts=[series_part(s) for s in result.series])


TOOLS: list[Tool] = [
    tool(
        "get_analytics",
        "Metrics over time (traffic, connections, errors, latency, CPU, memory) for one virtual service, "
        "pool or service engine. Use for questions like 'how busy is web-vs?', 'CPU of se-1 today', "
        "'latency of web-pool in the last hour'.",
        AnalyticsArgs,
        get_analytics,
        topics=(
            "metric",
            "metrics",
            "analytics",
            "cpu",
            "memory",
            "latency",
            "traffic",
            "bandwidth",
            "throughput",
            "connections",
            "requests",
            "errors",
            "5xx",
            "rtt",
            "busy",
            "load",
            "graph",
            "chart",
            "trend",
            "hour",
            "day",
            "week",
            "stats",
            "performance",
            "slow",
        ),
        lookup="list_virtual_services, list_pools or list_service_engines",
    ),
]
