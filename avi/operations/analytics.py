"""Metrics time series for a virtual service, pool or service engine (`/api/analytics/metrics/...`)."""

from __future__ import annotations

from typing import Any, Literal

from avi.models import AnalyticsResult, MetricPoint, MetricSeries, MetricStatistics, Window
from avi.operations.base import OperationGroup

EntityType = Literal["virtualservice", "pool", "serviceengine"]

DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "virtualservice": (
        "l4_client.avg_bandwidth",
        "l4_client.avg_complete_conns",
        "l7_client.avg_complete_responses",
        "l7_client.avg_resp_5xx",
        "l4_client.avg_total_rtt",
    ),
    "pool": (
        "l4_server.avg_open_conns",
        "l4_server.avg_bandwidth",
        "l7_server.avg_application_response_time",
    ),
    "serviceengine": ("se_stats.avg_cpu_usage", "se_stats.avg_mem_usage", "se_if.avg_bandwidth"),
}

SE_LOAD_METRICS = ("se_stats.avg_cpu_usage", "se_stats.avg_mem_usage")


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse_series(raw: dict[str, Any]) -> MetricSeries:
    header = raw.get("header") or {}
    stats = header.get("statistics")
    statistics = None
    if isinstance(stats, dict):
        statistics = MetricStatistics(
            min=_float(stats.get("min")),
            max=_float(stats.get("max")),
            mean=_float(stats.get("mean")),
            num_samples=stats.get("num_samples") if isinstance(stats.get("num_samples"), int) else None,
            trend=_float(stats.get("trend")),
        )
    points = [
        MetricPoint(timestamp=str(p.get("timestamp")), value=_float(p.get("value")))
        for p in raw.get("data") or []
        if isinstance(p, dict)
    ]
    return MetricSeries(
        metric_id=str(header.get("name", "")),
        units=header.get("units"),
        description=header.get("metric_description"),
        statistics=statistics,
        points=points,
    )


class AnalyticsOps(OperationGroup):
    async def metrics(
        self,
        entity_type: EntityType,
        name_or_uuid: str,
        *,
        window: Window | str = Window.HOUR,
        metrics: list[str] | None = None,
        tenant: str | None = None,
    ) -> AnalyticsResult:
        """One GET for all the metrics of one entity over the window (plus a name lookup if needed)."""
        window = Window.parse(window)
        if entity_type not in DEFAULT_METRICS:
            raise ValueError(f"entity_type must be one of {', '.join(DEFAULT_METRICS)}")
        ids = list(metrics or DEFAULT_METRICS[entity_type])
        lookup_tenant = "admin" if entity_type == "serviceengine" else tenant
        uuid = await self.client.resolve_uuid(entity_type, name_or_uuid, tenant=lookup_tenant)
        body = await self.client.get(
            f"/api/analytics/metrics/{entity_type}/{uuid}",
            params={"metric_id": ",".join(ids), "step": window.step, "limit": window.limit},
            tenant=tenant,
        )
        raw_series = body.get("series") if isinstance(body, dict) else None
        series = [parse_series(s) for s in raw_series or [] if isinstance(s, dict)]
        return AnalyticsResult(
            entity_type=entity_type,
            entity_uuid=uuid,
            entity_name=None if uuid == name_or_uuid else name_or_uuid,
            window=window,
            step=window.step,
            limit=window.limit,
            series=series,
        )

    async def latest_for_all(
        self,
        entity_type: EntityType,
        metric_ids: tuple[str, ...] | list[str],
        *,
        tenant: str | None = None,
        entity_uuids: list[str] | None = None,
    ) -> dict[str, dict[str, float | None]]:
        """The latest 5-minute value of some metrics for every entity, in ONE collection request.

        Returns {entity_uuid: {metric_id: value}}.
        """
        request = {
            "id": "latest",
            "entity_uuid": ",".join(entity_uuids) if entity_uuids else "*",
            "metric_id": ",".join(metric_ids),
            "step": 300,
            "limit": 1,
        }
        body = await self.client.post(
            "/api/analytics/metrics/collection", {"metric_requests": [request]}, tenant=tenant
        )
        out: dict[str, dict[str, float | None]] = {}
        by_entity = ((body or {}).get("series") or {}).get("latest") or {}
        for entity_uuid, series_list in by_entity.items():
            values: dict[str, float | None] = {}
            for raw in series_list or []:
                if isinstance(raw, dict):
                    series = parse_series(raw)
                    values[series.metric_id] = series.latest
            out[entity_uuid] = values
        return out
