"""The `web` config section and what the page shows about the running bot.

Plain pydantic (no environment handling here): avibot/config.py layers `AVIBOT_*` environment
overrides on top, so this package stays free of the composition root.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.agent import Agent


class WebSettings(BaseModel):
    """Who may use the web channel and how hard; every default is safe for a laptop on 127.0.0.1."""

    model_config = ConfigDict(extra="forbid")

    access_token: SecretStr | None = Field(
        None, description="shared token: `Authorization: Bearer <token>` or a one-time `?token=` login"
    )
    token_user: str = Field("token", min_length=1, description="user id of token holders (`web:<id>`)")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="IPs/CIDRs whose X-Forwarded-User header is believed"
    )
    proxy_user_header: str = "X-Forwarded-User"
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
    allow_remote: bool = Field(False, description="bind a non-loopback address without any authentication")

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
AGENT = web.AppKey("avibot_agent", Agent)
