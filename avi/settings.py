"""Controller connection settings: the `avi` section of config.yaml, overridden by `AVI_*` variables."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from common.settings import EnvFirstSettings


def normalize_controller_url(value: str) -> str:
    """Turn a host name, `host:port` or URL into a base URL (`https://` unless `http://` is given).

    Credentials in it (`https://user:password@ctl`) are refused without being repeated: they belong in
    avi.username / avi.password, and an error message ends up in logs and terminals.
    """
    raw = value.strip()
    if not raw:
        raise ValueError("must not be empty")
    if "://" not in raw:
        raw = f"https://{raw}"
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise ValueError("not a host, host:port or URL") from None
    if "@" in parts.netloc:
        raise ValueError(
            "must not contain credentials (user:password@); set avi.username and avi.password "
            "(AVI_USERNAME, AVI_PASSWORD) or avi.token (AVI_TOKEN)"
        )
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme must be http or https, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"no host name in {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected a host, host:port or base URL, got {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in {value!r}") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def check_ca_bundle(path: Path) -> None:
    """ValueError (one line, no file content) unless `path` is a readable PEM bundle of certificates."""
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError(f"{path} is not a PEM bundle of CA certificates (no BEGIN CERTIFICATE)")
    try:
        ssl.create_default_context().load_verify_locations(cadata=data.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError):
        raise ValueError(f"{path} is not a PEM bundle of CA certificates (cannot be loaded)") from None


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
    cache_seconds: float = Field(
        5.0, ge=0, le=300, description="share identical reads and keep them this long; 0 = off"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else normalize_controller_url(value)

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        if value is not None:
            check_ca_bundle(value)
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
