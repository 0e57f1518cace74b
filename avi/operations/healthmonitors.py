"""Health monitors: list, get, create, update (PATCH replace), delete."""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


RESPONSE_CODES = ("HTTP_ANY", "HTTP_1XX", "HTTP_2XX", "HTTP_3XX", "HTTP_4XX", "HTTP_5XX")
HTTP_KEYS = {"HEALTH_MONITOR_HTTP": "http_monitor", "HEALTH_MONITOR_HTTPS": "https_monitor"}


def _monitor_type(value: str) -> str:
    short = value.strip().upper().removeprefix("HEALTH_MONITOR_")
    if short not in MONITOR_TYPES:
        raise ValueError(f"unknown monitor type {value!r}; one of {', '.join(MONITOR_TYPES)}")
    return f"HEALTH_MONITOR_{short}"


def response_code(value: str) -> str:
    """`2xx`, `HTTP_2XX`, `any` -> the controller's enum value."""
    code = value.strip().upper().replace(" ", "")
    code = code if code.startswith("HTTP_") else f"HTTP_{code}"
    if code not in RESPONSE_CODES:
        raise ValueError(f"unknown HTTP response code {value!r}; one of 1xx, 2xx, 3xx, 4xx, 5xx or any")
    return code


def _codes(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    codes = list(dict.fromkeys(response_code(v) for v in value))
    if not codes:
        raise ValueError("give at least one HTTP response code, e.g. 2xx")
    return codes


def _check_timing(send_interval: int, receive_timeout: int) -> None:
    if receive_timeout >= send_interval:
        raise ValueError(
            f"receive_timeout ({receive_timeout}s) must be less than send_interval ({send_interval}s)"
        )


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

    @field_validator("http_response_codes")
    @classmethod
    def _response_codes(cls, value: list[str] | None) -> list[str] | None:
        return _codes(value)

    @model_validator(mode="after")
    def _check(self) -> HealthMonitorCreate:
        self.type = _monitor_type(self.type)
        _check_timing(self.send_interval, self.receive_timeout)
        if self.type not in HTTP_KEYS and (self.http_request or self.http_response_codes):
            raise ValueError("http_request and http_response_codes apply only to HTTP and HTTPS monitors")
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
    """The fields to change; `None` = keep. The HTTP(S) ones are merged into the monitor's own
    `http_monitor` / `https_monitor` (a PATCH `replace` sets that whole sub-object)."""

    model_config = ConfigDict(extra="forbid")

    send_interval: int | None = Field(None, ge=1, le=3600)
    receive_timeout: int | None = Field(None, ge=1, le=2400)
    successful_checks: int | None = Field(None, ge=1, le=50)
    failed_checks: int | None = Field(None, ge=1, le=50)
    monitor_port: int | None = Field(None, ge=1, le=65535)
    http_request: str | None = Field(None, description='HTTP(S) only, e.g. "GET /healthz HTTP/1.0"')
    http_response_codes: list[str] | None = Field(None, description="HTTP(S) only, e.g. HTTP_2XX")
    description: str | None = None

    @field_validator("http_response_codes")
    @classmethod
    def _response_codes(cls, value: list[str] | None) -> list[str] | None:
        return _codes(value)

    def to_api(self, current: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `replace` body against `current` (the monitor as read); only the fields that differ."""
        current = current or {}
        body = {
            k: v
            for k, v in self.model_dump(
                exclude_none=True, exclude={"http_request", "http_response_codes"}
            ).items()
            if current.get(k) != v
        }
        if self.http_request is not None or self.http_response_codes is not None:
            key = HTTP_KEYS.get(str(current.get("type", "")))
            if key is None:
                raise ValueError("http_request and http_response_codes apply only to HTTP and HTTPS monitors")
            http = dict(current.get(key) or {})
            if self.http_request is not None:
                http["http_request"] = self.http_request
            if self.http_response_codes is not None:
                http["http_response_code"] = self.http_response_codes
            if http != (current.get(key) or {}):
                body[key] = http
        if "send_interval" in body or "receive_timeout" in body:
            _check_timing(
                body.get("send_interval", current.get("send_interval", 10)),
                body.get("receive_timeout", current.get("receive_timeout", 4)),
            )
        return body


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

    async def changes(
        self, name_or_uuid: str, changes: HealthMonitorUpdate, *, tenant: str | None = None
    ) -> tuple[HealthMonitorSummary, dict[str, Any]]:
        """The monitor as it is, and the `replace` body `update` would send (empty: nothing changes).

        The body is built from the monitor as read, not redacted: it is written back, never shown."""
        current = await self._object("healthmonitor", name_or_uuid, tenant)
        return monitor_summary(current), changes.to_api(current)

    async def update(
        self, name_or_uuid: str, changes: HealthMonitorUpdate, *, tenant: str | None = None
    ) -> HealthMonitorSummary:
        """Read the monitor, then one PATCH `replace` of the fields that change (ValueError: none)."""
        current = await self._object("healthmonitor", name_or_uuid, tenant)
        body = changes.to_api(current)
        if not body:
            raise ValueError("nothing to change")
        updated = await self.client.patch(
            f"/api/healthmonitor/{current['uuid']}", {"replace": body}, tenant=tenant
        )
        return monitor_summary(updated)

    async def used_by(self, name_or_uuid: str, *, tenant: str | None = None) -> builtins.list[str]:
        """Names of the pools whose `health_monitor_refs` hold this monitor (`refers_to`, one walk)."""
        uuid = await self.client.resolve_uuid("healthmonitor", name_or_uuid, tenant=tenant)
        names: builtins.list[str] = []
        params = {"refers_to": f"healthmonitor:{uuid}", "fields": "name"}
        async for page in self.client.iter_pages("pool", params=params, tenant=tenant):
            names += [str(p.get("name") or p.get("uuid")) for p in page.results]
        return names

    async def delete(self, name_or_uuid: str, *, tenant: str | None = None) -> DeleteResult:
        uuid = await self.client.resolve_uuid("healthmonitor", name_or_uuid, tenant=tenant)
        await self.client.delete(f"/api/healthmonitor/{uuid}", tenant=tenant)
        return DeleteResult(
            object_type="healthmonitor", uuid=uuid, name=None if uuid == name_or_uuid else name_or_uuid
        )
