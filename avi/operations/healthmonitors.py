"""Health monitors: list, get, create, update (PATCH replace), delete."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from avi.models import DeleteResult, HealthMonitorSummary, ref_name
from avi.operations._common import clean
from avi.operations.base import OperationGroup

MONITOR_TYPES = (
    "PING",
    "TCP",
    "HTTP",
    "HTTPS",
    "EXTERNAL",
    "UDP",
    "DNS",
    "GSLB",
    "SIP",
    "RADIUS",
    "SMTP",
    "SMTPS",
    "POP3",
    "POP3S",
    "IMAP",
    "IMAPS",
    "FTP",
    "FTPS",
    "LDAP",
    "LDAPS",
    "SCTP",
)


def _monitor_type(value: str) -> str:
    short = value.strip().upper().removeprefix("HEALTH_MONITOR_")
    if short not in MONITOR_TYPES:
        raise ValueError(f"unknown monitor type {value!r}; one of {', '.join(MONITOR_TYPES)}")
    return f"HEALTH_MONITOR_{short}"


class HealthMonitorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    type: str = Field("HTTP", description="PING, TCP, HTTP, HTTPS, UDP, DNS ... (HEALTH_MONITOR_ optional)")
    send_interval: int = Field(10, ge=1, le=3600)
    receive_timeout: int = Field(4, ge=1, le=2400)
    successful_checks: int = Field(2, ge=1, le=50)
    failed_checks: int = Field(2, ge=1, le=50)
    monitor_port: int | None = Field(None, ge=1, le=65535)
    http_request: str | None = Field(None, description='HTTP(S) only, e.g. "GET /healthz HTTP/1.0"')
    http_response_codes: list[str] | None = Field(None, description="e.g. HTTP_2XX, HTTP_3XX")
    description: str | None = None

    @model_validator(mode="after")
    def _check(self) -> HealthMonitorCreate:
        self.type = _monitor_type(self.type)
        if self.receive_timeout >= self.send_interval:
            raise ValueError("receive_timeout must be less than send_interval")
        return self

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "send_interval": self.send_interval,
            "receive_timeout": self.receive_timeout,
            "successful_checks": self.successful_checks,
            "failed_checks": self.failed_checks,
        }
        if self.monitor_port:
            body["monitor_port"] = self.monitor_port
        if self.description:
            body["description"] = self.description
        if self.type in ("HEALTH_MONITOR_HTTP", "HEALTH_MONITOR_HTTPS"):
            http: dict[str, Any] = {"http_request": self.http_request or "GET / HTTP/1.0"}
            http["http_response_code"] = self.http_response_codes or ["HTTP_2XX", "HTTP_3XX"]
            body["http_monitor" if self.type == "HEALTH_MONITOR_HTTP" else "https_monitor"] = http
        return body


class HealthMonitorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    send_interval: int | None = Field(None, ge=1, le=3600)
    receive_timeout: int | None = Field(None, ge=1, le=2400)
    successful_checks: int | None = Field(None, ge=1, le=50)
    failed_checks: int | None = Field(None, ge=1, le=50)
    monitor_port: int | None = Field(None, ge=1, le=65535)
    description: str | None = None

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def monitor_summary(obj: dict[str, Any]) -> HealthMonitorSummary:
    return HealthMonitorSummary(
        uuid=str(obj.get("uuid")),
        name=str(obj.get("name", "")),
        tenant=ref_name(obj.get("tenant_ref")),
        type=str(obj.get("type", "")),
        send_interval=obj.get("send_interval"),
        receive_timeout=obj.get("receive_timeout"),
        successful_checks=obj.get("successful_checks"),
        failed_checks=obj.get("failed_checks"),
        monitor_port=obj.get("monitor_port"),
        config=clean(obj),
    )


class HealthMonitorOps(OperationGroup):
    async def list(
        self,
        *,
        name_contains: str | None = None,
        type: str | None = None,
        tenant: str | None = None,
        limit: int | None = None,
    ) -> list[HealthMonitorSummary]:
        params: dict[str, Any] = {"include_name": True}
        if name_contains:
            params["name.icontains"] = name_contains
        want = _monitor_type(type) if type else None
        out: list[HealthMonitorSummary] = []
        async for page in self.client.iter_pages("healthmonitor", params=params, tenant=tenant):
            for obj in page.results:
                if name_contains and name_contains.lower() not in str(obj.get("name", "")).lower():
                    continue
                if want and obj.get("type") != want:
                    continue
                out.append(monitor_summary(obj))
                if limit and len(out) >= limit:
                    return out
        return out

    async def get(self, name_or_uuid: str, *, tenant: str | None = None) -> HealthMonitorSummary:
        return monitor_summary(await self._object("healthmonitor", name_or_uuid, tenant))

    async def create(self, spec: HealthMonitorCreate, *, tenant: str | None = None) -> HealthMonitorSummary:
        return monitor_summary(await self.client.post("/api/healthmonitor", spec.to_api(), tenant=tenant))

    async def update(
        self, name_or_uuid: str, changes: HealthMonitorUpdate, *, tenant: str | None = None
    ) -> HealthMonitorSummary:
        uuid = await self.client.resolve_uuid("healthmonitor", name_or_uuid, tenant=tenant)
        body = changes.to_api()
        if not body:
            raise ValueError("nothing to change")
        updated = await self.client.patch(f"/api/healthmonitor/{uuid}", {"replace": body}, tenant=tenant)
        return monitor_summary(updated)

    async def delete(self, name_or_uuid: str, *, tenant: str | None = None) -> DeleteResult:
        uuid = await self.client.resolve_uuid("healthmonitor", name_or_uuid, tenant=tenant)
        await self.client.delete(f"/api/healthmonitor/{uuid}", tenant=tenant)
        return DeleteResult(
            object_type="healthmonitor", uuid=uuid, name=None if uuid == name_or_uuid else name_or_uuid
        )
