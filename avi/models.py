"""Result models of the typed operations: what the agent core turns into tables, facts and charts.

Each summary keeps the fields an operator asks about; `config`/`runtime` carry the rest of the
controller's object, already redacted, for "show me everything".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def ref_name(ref: Any) -> str | None:
    """`https://h/api/pool/pool-1#web-pool` -> `web-pool`; without `#name`, the uuid."""
    if not isinstance(ref, str) or not ref:
        return None
    if "#" in ref:
        return ref.rsplit("#", 1)[1]
    return ref.rstrip("/").rsplit("/", 1)[-1]


def ref_uuid(ref: Any) -> str | None:
    """`https://h/api/pool/pool-1#web-pool` -> `pool-1`."""
    if not isinstance(ref, str) or not ref:
        return None
    return ref.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class OperState(_Model):
    state: str = "OPER_UNKNOWN"
    reason: list[str] = Field(default_factory=list)

    @property
    def up(self) -> bool:
        return self.state == "OPER_UP"


class ServicePort(_Model):
    port: int
    port_range_end: int | None = None
    enable_ssl: bool = False


class VirtualServiceSummary(_Model):
    uuid: str
    name: str
    tenant: str | None = None
    enabled: bool = True
    oper_status: OperState = Field(default_factory=OperState)
    health_score: float | None = None
    vips: list[str] = Field(default_factory=list, description="VIP addresses")
    services: list[ServicePort] = Field(default_factory=list)
    pool: str | None = Field(None, description="pool name (or uuid when the name is unknown)")
    pool_uuid: str | None = None
    pool_group: str | None = Field(None, description="pool group name, when the VS uses one")
    se_group: str | None = None
    num_se_assigned: int | None = None
    service_engines: list[str] = Field(default_factory=list)


class VsVipSummary(_Model):
    uuid: str
    name: str
    addresses: list[str] = Field(default_factory=list)


class PoolServer(_Model):
    ip: str
    port: int | None = None
    hostname: str | None = None
    enabled: bool = True
    ratio: int | None = None
    oper_state: str | None = Field(None, description="OPER_UP/OPER_DOWN/... when runtime is known")
    reason: list[str] = Field(default_factory=list)


class PoolSummary(_Model):
    uuid: str
    name: str
    tenant: str | None = None
    enabled: bool = True
    oper_status: OperState = Field(default_factory=OperState)
    health_score: float | None = None
    num_servers: int = 0
    num_servers_enabled: int = 0
    num_servers_up: int = 0
    virtualservices: list[str] = Field(default_factory=list)

    @property
    def servers_down(self) -> int:
        return max(0, self.num_servers_enabled - self.num_servers_up)


class PoolDetail(PoolSummary):
    lb_algorithm: str | None = None
    default_server_port: int | None = None
    health_monitors: list[str] = Field(default_factory=list)
    servers: list[PoolServer] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)


class VirtualServiceDetail(VirtualServiceSummary):
    vsvip: VsVipSummary | None = None
    pool_summary: PoolSummary | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    runtime: dict[str, Any] = Field(default_factory=dict)


class HealthMonitorSummary(_Model):
    uuid: str
    name: str
    tenant: str | None = None
    type: str
    send_interval: int | None = None
    receive_timeout: int | None = None
    successful_checks: int | None = None
    failed_checks: int | None = None
    monitor_port: int | None = None
    config: dict[str, Any] = Field(default_factory=dict)


class ServiceEngineSummary(_Model):
    uuid: str
    name: str
    oper_status: OperState = Field(default_factory=OperState)
    enable_state: str | None = None
    se_connected: bool | None = None
    power_state: str | None = None
    se_group: str | None = None
    cloud: str | None = None
    mgmt_ip: str | None = None
    num_virtualservices: int = 0
    health_score: float | None = None
    cpu_percent: float | None = Field(None, description="se_stats.avg_cpu_usage, latest 5-minute point")
    mem_percent: float | None = Field(None, description="se_stats.avg_mem_usage, latest 5-minute point")


class ServiceEngineDetail(ServiceEngineSummary):
    virtualservices: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    runtime: dict[str, Any] = Field(default_factory=dict)


class Window(StrEnum):
    """Analytics windows: (step seconds, number of points)."""

    HOUR = "hour"
    SIX_HOURS = "6h"
    DAY = "day"
    WEEK = "week"

    @classmethod
    def parse(cls, value: Window | str) -> Window:
        """Accepts the values and common spellings: `1h`, `last hour`, `6 hours`, `24h`, `1d`, `7d` ..."""
        if isinstance(value, Window):
            return value
        text = value.strip().lower().removeprefix("last ").replace(" ", "")
        alias = _ALIASES.get(text)
        if alias is None:
            raise ValueError(f"unknown window {value!r}; one of hour, 6h, day, week")
        return alias

    @property
    def step(self) -> int:
        return _WINDOWS[self][0]

    @property
    def limit(self) -> int:
        return _WINDOWS[self][1]

    @property
    def seconds(self) -> int:
        """The whole range: 3600 for an hour ... 604800 for a week."""
        step, limit = _WINDOWS[self]
        return step * limit


_ALIASES: dict[str, Window] = {
    **dict.fromkeys(("hour", "1h", "60m", "1hour", "anhour"), Window.HOUR),
    **dict.fromkeys(("6h", "6hours", "sixhours", "6hrs"), Window.SIX_HOURS),
    **dict.fromkeys(("day", "1d", "24h", "24hours", "today", "1day"), Window.DAY),
    **dict.fromkeys(("week", "1w", "7d", "7days", "1week"), Window.WEEK),
}

_WINDOWS: dict[Window, tuple[int, int]] = {
    Window.HOUR: (300, 12),
    Window.SIX_HOURS: (300, 72),
    Window.DAY: (3600, 24),
    Window.WEEK: (86400, 7),
}


class CertificateSummary(_Model):
    """An SSL/TLS certificate's identity and expiry (never its key)."""

    uuid: str
    name: str
    tenant: str | None = None
    type: str | None = Field(None, description="SSL_CERTIFICATE_TYPE_VIRTUALSERVICE / SYSTEM / CA")
    subject_cn: str | None = None
    issuer_cn: str | None = None
    self_signed: bool | None = None
    not_before: datetime | None = None
    not_after: datetime | None = Field(None, description="expiry, UTC; None when the controller has none")
    days_left: int | None = Field(None, description="whole days from now to not_after (negative: expired)")
    expired: bool = False
    expiry_status: str | None = Field(None, description="the controller's SSL_CERTIFICATE_GOOD/... status")


class CertificateList(_Model):
    certificates: list[CertificateSummary] = Field(default_factory=list, description="soonest expiry first")
    total: int = Field(description="certificates in the tenant before the filters")
    now: datetime = Field(description="the time days_left and the expiry filter were computed at")


class EventRecord(_Model):
    """One thing that happened to an object: an event of the controller's event log, or an alert."""

    timestamp: datetime
    source: Literal["event", "alert"]
    event_id: str = Field(description="VS_DOWN, SERVER_DOWN, CONFIG_UPDATE ... (upper case)")
    object_type: str | None = Field(None, description="virtualservice, pool ... (lower case)")
    object_name: str | None = None
    object_uuid: str | None = None
    description: str = ""
    level: str | None = Field(None, description="alerts: ALERT_LOW / ALERT_MEDIUM / ALERT_HIGH")
    state: str | None = Field(None, description="alerts: ALERT_STATE_ON / DISMISSED / THROTTLED")
    user: str | None = Field(None, description="config events: who made the change")
    module: str | None = None


class EventList(_Model):
    window: Window
    start: datetime
    end: datetime
    object_name: str | None = Field(None, description="the object asked about; None = every object")
    events: list[EventRecord] = Field(default_factory=list, description="newest first, at most `limit`")
    total: int = Field(description="matching events and alerts in the window before the limit")
    complete: bool = Field(True, description="False when the controller's log search was still unfinished")


class MetricPoint(_Model):
    timestamp: str
    value: float | None = None


class MetricStatistics(_Model):
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    num_samples: int | None = None
    trend: float | None = None


class MetricSeries(_Model):
    metric_id: str
    units: str | None = None
    description: str | None = None
    statistics: MetricStatistics | None = None
    points: list[MetricPoint] = Field(default_factory=list)

    @property
    def latest(self) -> float | None:
        for point in reversed(self.points):
            if point.value is not None:
                return point.value
        return None


class AnalyticsResult(_Model):
    entity_type: str
    entity_uuid: str
    entity_name: str | None = None
    window: Window
    step: int
    limit: int
    series: list[MetricSeries] = Field(default_factory=list)


class ActionResult(_Model):
    """The outcome of a controller action (scale out/in, migrate, switchover ...)."""

    action: str
    object_type: str
    uuid: str
    name: str | None = None
    response: Any = None


class DeleteResult(_Model):
    object_type: str
    uuid: str
    name: str | None = None
    deleted: bool = True


class PoolServersDown(_Model):
    pool: PoolSummary
    down_servers: list[PoolServer] | None = Field(
        None, description="the servers that are down; None when not fetched (beyond the detail bound)"
    )


class HealthReport(_Model):
    """An answer to "what is unhealthy?": what was scanned and what matched, with the request cost."""

    scanned: int
    requests: int = Field(description="controller requests spent answering")
    virtualservices: list[VirtualServiceSummary] = Field(default_factory=list)
    pools: list[PoolSummary] = Field(default_factory=list)
    pools_with_servers_down: list[PoolServersDown] = Field(default_factory=list)


class ObjectTypeInfo(_Model):
    name: str
    description: str | None = None
    has_inventory: bool = False
    singleton: bool = False


class ObjectList(_Model):
    object_type: str
    count: int = Field(description="total on the controller")
    items: list[dict[str, Any]] = Field(default_factory=list)
    truncated: bool = False


class GenericResult(_Model):
    method: str
    path: str
    status: int
    body: Any = None
