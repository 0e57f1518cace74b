"""Controller connection settings: the `avi` section of config.yaml, overridden by `AVI_*` variables."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from common.settings import EnvFirstSettings


def normalize_controller_url(value: str) -> str:
    """Turn a host name, `host:port` or URL into a base URL (`https://` unless `http://` is given)."""
    raw = value.strip()
    if not raw:
        raise ValueError("must not be empty")
    if "://" not in raw:
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme must be http or https, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"no host name in {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected a host, host:port or base URL, got {value!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {value!r}") from exc
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


class AviSettings(EnvFirstSettings):
    """How to reach and log in to one Avi controller."""

    model_config = SettingsConfigDict(env_prefix="AVI_", extra="forbid")

    host: str | None = Field(None, description="host, host:port or URL; https:// unless http:// is given")
    username: str = "admin"
    password: SecretStr | None = None
    token: SecretStr | None = Field(None, description="API token, used instead of the password")
    version: str | None = Field(None, description="X-Avi-Version to send; the controller's own by default")
    tenant: str = "admin"
    verify_ssl: bool = True
    ca_bundle: Path | None = Field(None, description="PEM file of CAs to trust for the controller")
    timeout: float = Field(30.0, gt=0, le=600, description="seconds for one request")
    connect_timeout: float = Field(5.0, gt=0, le=120)
    retries: int = Field(2, ge=0, le=10, description="retries of idempotent requests on 502/503/504")
    max_connections: int = Field(20, ge=1, le=500)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else normalize_controller_url(value)

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @property
    def base_url(self) -> str:
        if not self.host:
            raise ValueError("avi.host is not set")
        return self.host

    def missing(self) -> list[str]:
        """Names of the settings a controller connection still needs."""
        out = []
        if not self.host:
            out.append("avi.host (AVI_HOST)")
        if self.password is None and self.token is None:
            out.append("avi.password (AVI_PASSWORD) or avi.token (AVI_TOKEN)")
        return out
