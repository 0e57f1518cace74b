"""Typed, tenant-aware operations on the controller; every result is a pydantic model or redacted dict.

`AviOperations(client)` groups them: `.virtualservices`, `.pools`, `.healthmonitors`,
`.serviceengines`, `.analytics`, `.health`, `.certificates`, `.events`, `.objects` (any object type),
`.generic`.
"""

from __future__ import annotations

from avi.client import AviClient
from avi.models import Window
from avi.operations.alerts import AlertOps
from avi.operations.analytics import DEFAULT_METRICS, AnalyticsOps
from avi.operations.certificates import CertificateOps
from avi.operations.events import EventOps
from avi.operations.generic import GenericOps
from avi.operations.health import HealthOps
from avi.operations.healthmonitors import HealthMonitorCreate, HealthMonitorOps, HealthMonitorUpdate
from avi.operations.objects import ObjectOps
from avi.operations.pools import PoolCreate, PoolFilter, PoolOps, PoolUpdate, PoolUsers, ServerSpec
from avi.operations.serviceengines import ServiceEngineOps
from avi.operations.virtualservices import (
    ServicePortSpec,
    VirtualServiceCreate,
    VirtualServiceFilter,
    VirtualServiceOps,
    VirtualServiceUpdate,
)


class AviOperations:
    """Every operation group over one client."""

    def __init__(self, client: AviClient) -> None:
        self.client = client
        self.virtualservices = VirtualServiceOps(client)
        self.pools = PoolOps(client)
        self.healthmonitors = HealthMonitorOps(client)
        self.serviceengines = ServiceEngineOps(client)
        self.analytics = AnalyticsOps(client)
        self.health = HealthOps(client)
        self.certificates = CertificateOps(client)
        self.events = EventOps(client)
        self.objects = ObjectOps(client)
        self.generic = GenericOps(client)
        self.alerts = AlertOps(client)


__all__ = [
    "DEFAULT_METRICS",
    "AnalyticsOps",
    "AviOperations",
    "CertificateOps",
    "EventOps",
    "GenericOps",
    "HealthMonitorCreate",
    "HealthMonitorOps",
    "HealthMonitorUpdate",
    "HealthOps",
    "ObjectOps",
    "PoolCreate",
    "PoolFilter",
    "PoolOps",
    "PoolUpdate",
    "PoolUsers",
    "ServerSpec",
    "ServiceEngineOps",
    "ServicePortSpec",
    "VirtualServiceCreate",
    "VirtualServiceFilter",
    "VirtualServiceOps",
    "VirtualServiceUpdate",
    "Window",
]
