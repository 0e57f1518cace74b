"""The `teams` config section; `TEAMS_*` environment variables win over config.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from common.settings import EnvFirstSettings


class TeamsSettings(EnvFirstSettings):
    """The Azure bot registration and the channel's tuning.

    On when an app id is set (every request then needs a Bot Framework JWT). Without one it is off
    unless `enabled: true` (TEAMS_ENABLED) asks for it: then it serves loopback peers only, without
    authentication, the Bot Framework Emulator case. Off by default because a reverse proxy on the
    same host would make every outside request look like loopback.
    """

    model_config = SettingsConfigDict(env_prefix="TEAMS_", extra="forbid", populate_by_name=True)

    enabled: bool | None = Field(
        None, description="TEAMS_ENABLED: on/off; unset = on exactly when TEAMS_APP_ID is set"
    )
    app_id: str = Field("", description="the Azure bot's Microsoft App ID (TEAMS_APP_ID)")
    app_password: SecretStr | None = Field(None, description="its client secret (TEAMS_APP_PASSWORD)")
    app_type: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = Field(
        "SingleTenant",
        description="TEAMS_APP_TYPE; new multi-tenant bots can no longer be registered",
    )
    tenant_id: str = Field(
        "",
        validation_alias=AliasChoices("tenant_id", "TEAMS_APP_TENANT_ID"),
        description="the Entra tenant of a SingleTenant bot (TEAMS_APP_TENANT_ID)",
    )
    path: str = Field("/api/messages", description="the messaging endpoint registered in Azure")
    turn_budget_seconds: float = Field(
        5.0,
        ge=0,
        le=12,
        description="how long a turn may wait for the answer before returning 2xx and answering "
        "proactively (Teams gives up on a request after about 15 s)",
    )
    typing_interval_seconds: float = Field(
        3.0, ge=0.5, le=30, description="resend the typing indicator this often while the agent works"
    )
    dedup_ttl_seconds: int = Field(3600, ge=60, description="how long a seen activity id is remembered")
    send_retries: int = Field(3, ge=0, le=10, description="connector calls retried on 429 / 503")
    max_retry_after_seconds: float = Field(10.0, ge=0, description="cap on a connector's Retry-After")
    alert_service_url: str = Field(
        "",
        description="TEAMS_ALERT_SERVICE_URL: the Bot Connector address alerts are posted to, the "
        "`serviceUrl` Teams sends with every activity (e.g. https://smba.trafficmanager.net/emea/); a "
        "poller has no activity to take it from. Empty = alerts routed to teams: are not posted",
    )
    alert_tenant_id: str = Field(
        "", description="TEAMS_ALERT_TENANT_ID: the Entra tenant of the alert channels; empty = tenant_id"
    )

    @field_validator("alert_service_url")
    @classmethod
    def _service_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("alert_service_url must start with https:// (or http:// for the Emulator)")
        return value

    @property
    def alert_tenant(self) -> str:
        """The tenant alert threads are created in: TEAMS_ALERT_TENANT_ID, else the bot's own."""
        return self.alert_tenant_id or self.tenant_id

    @property
    def active(self) -> bool:
        """Whether the channel serves: as set, else exactly when an app id is configured."""
        return bool(self.app_id) if self.enabled is None else self.enabled

    @property
    def authenticated(self) -> bool:
        """With an app id every request must carry a Bot Framework JWT for it."""
        return bool(self.app_id)

    def problems(self) -> list[str]:
        """What keeps the registration from working (the SDK would fail on the first request)."""
        out: list[str] = []
        if not self.app_id:
            return out
        if self.app_type != "UserAssignedMSI" and self.app_password is None:
            out.append("TEAMS_APP_PASSWORD is not set")
        if self.app_type == "SingleTenant" and not self.tenant_id:
            out.append("TEAMS_APP_TENANT_ID is not set (needed for a SingleTenant bot)")
        return out

    def status(self) -> str:
        """One line for `avibot serve`, never a secret."""
        if not self.active:
            if self.enabled is False:
                return "teams: off (teams.enabled is false)"
            return "teams: off (no TEAMS_APP_ID; TEAMS_ENABLED=true serves the Emulator on loopback)"
        if not self.app_id:
            return (
                f"teams: on at {self.path}, NO TEAMS_APP_ID: unauthenticated and loopback-only "
                "(Bot Framework Emulator); set TEAMS_APP_ID/TEAMS_APP_PASSWORD for Teams"
            )
        issues = "; ".join(self.problems())
        tail = f"; WARNING: {issues}" if issues else ""
        return f"teams: on at {self.path} (app {self.app_id}, {self.app_type}, JWT required){tail}"

    def sdk_config(self) -> object:
        """The attribute bag `ConfigurationBotFrameworkAuthentication` reads."""

        class _Config:
            APP_ID = self.app_id
            APP_PASSWORD = self.app_password.get_secret_value() if self.app_password else ""
            APP_TYPE = self.app_type if self.app_id else "MultiTenant"
            APP_TENANTID = self.tenant_id

        return _Config()
