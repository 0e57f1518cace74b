"""The `web` config section and what the page shows about the running bot.

Plain pydantic (no environment handling here): avibot/config.py layers `AVIBOT_*` environment
overrides on top, so this package stays free of the composition root.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MIN_TOKEN_LENGTH = 32
_HOST_ENTRY = re.compile(r"^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9\-.]*[a-z0-9])?)(?::(\d{1,5}))?$")


def _as_list(value: Any) -> Any:
    """A list from config.yaml, or from the environment: `a,b` or a JSON list; one item is a list too."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # `[::1]` is an address, not JSON
    return [item for item in (part.strip() for part in text.split(",")) if item]


def host_entry(value: str) -> str:
    """`host`, `host:port`, `[v6]` or `[v6]:port`, lower case; ValueError otherwise."""
    entry = value.strip().lower()
    match = _HOST_ENTRY.match(entry)
    if match is None or (match.group(1) is not None and not 0 < int(match.group(1)) < 65536):
        raise ValueError(f"not a host or host:port: {value!r}")
    return entry


class WebSettings(BaseModel):
    """Who may use the web channel and how hard; every default is safe for a laptop on 127.0.0.1."""

    model_config = ConfigDict(extra="forbid")

    access_token: SecretStr | None = Field(
        None, description="shared token: `Authorization: Bearer <token>` or a one-time `?token=` login"
    )
    token_user: str = Field("token", min_length=1, description="user id of token holders (`web:<id>`)")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="IPs/CIDRs whose X-Forwarded-User header is believed (env: comma-separated)",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header values served (`name` = any port, `name:port`); others get 421. "
        "Default: localhost, 127.0.0.1, [::1] and the bound address, on the port served. A list "
        "replaces the default: include what probes and channels (Slack, Teams) use too",
    )
    bind_host: str | None = Field(
        None, description="the address `avibot serve` listens on (set by it; part of the default hosts)"
    )
    proxy_user_header: str = "X-Forwarded-User"
    proxy_groups_header: str = Field(
        "X-Forwarded-Groups",
        description="comma-separated groups the trusted proxy vouches for (matched by access.groups)",
    )
    local_user: str = Field(
        "local", min_length=1, description="user id of anonymous sessions when no auth is configured"
    )
    session_secret: SecretStr | None = Field(
        None, description="HMAC key of the cookie; random at start when unset (sessions end at restart)"
    )
    session_max_age: int = Field(7 * 86400, ge=60, description="seconds a session cookie lives")
    cookie_secure: bool = Field(False, description="set the Secure flag (serve over HTTPS)")
    rate_limit_per_minute: float = Field(30.0, ge=0, description="sustained requests per user; 0 = no limit")
    rate_limit_burst: int = Field(10, ge=1, description="requests a user may make at once")
    auth_failures_per_minute: int = Field(
        10, ge=0, description="failed authentications a peer may make a minute before 429; 0 = no limit"
    )
    allow_remote: bool = Field(False, description="bind a non-loopback address without any authentication")

    @field_validator("trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [host_entry(item) for item in value]

    @field_validator("access_token")
    @classmethod
    def _token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_TOKEN_LENGTH} characters (e.g. `openssl rand -hex 24`)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR: {item!r}") from None
        return [item.strip() for item in value]

    @property
    def auth_required(self) -> bool:
        """With a token or a proxy configured, anonymous requests are refused (401)."""
        return self.access_token is not None or bool(self.trusted_proxies)


class WebInfo(BaseModel):
    """What runs, for the page's header: controller label, LLM or command mode line, store."""

    controller: str
    llm_mode: str
    store: str


WEB_INFO = web.AppKey("avibot_web_info", WebInfo)
WEB_SETTINGS = web.AppKey("avibot_web_settings", WebSettings)
