"""The `slack` config section; `SLACK_*` environment variables win over config.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from common.settings import EnvFirstSettings

SLACK_API_URL = "https://slack.com/api/"


class SlackSettings(EnvFirstSettings):
    """Tokens and tuning of the Slack channel. Without a bot token the channel is simply off."""

    model_config = SettingsConfigDict(env_prefix="SLACK_", extra="forbid")

    bot_token: SecretStr | None = Field(None, description="xoxb-... bot token (SLACK_BOT_TOKEN)")
    signing_secret: SecretStr | None = Field(
        None, description="verifies HTTP requests (SLACK_SIGNING_SECRET)"
    )
    app_token: SecretStr | None = Field(None, description="xapp-... token: Socket Mode (SLACK_APP_TOKEN)")
    api_url: str = Field(SLACK_API_URL, description="Web API base URL (SLACK_API_URL); tests use a fake")
    path: str = Field("/slack/events", description="HTTP path for events, commands and interactivity")
    command: str = Field("/avi", description="the slash command, as in the manifest")
    stream: Literal["api", "update", "off"] = Field(
        "update",
        description="live answers: `update` edits the reply about once a second; `api` uses Slack's "
        "chat streaming methods for thread replies (falling back to `update`); `off` posts once",
    )
    update_interval: float = Field(1.0, ge=0.2, le=10, description="seconds between chat.update edits")
    dedup_ttl_seconds: int = Field(3600, ge=60, description="how long a seen event id is remembered")
    follow_thread_replies: bool = Field(
        True, description="answer un-mentioned replies in threads the bot is already part of"
    )
    read_thread_context: int = Field(
        20, ge=0, le=200, description="earlier thread messages read when first mentioned in a thread"
    )

    @field_validator("bot_token", "signing_secret", "app_token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty value is a mistake, not "off": an empty signing secret would mean unsigned requests."""
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty; set it to the value from the Slack app's settings, or unset it")
        return value

    @property
    def socket_mode(self) -> bool:
        return given(self.bot_token) and given(self.app_token)

    @property
    def enabled(self) -> bool:
        """Bot token + signing secret (HTTP) or bot token + app token (Socket Mode)."""
        return given(self.bot_token) and (given(self.signing_secret) or given(self.app_token))

    def status(self) -> str:
        """One line for `avibot serve`, never a token."""
        if self.socket_mode:
            return "slack: on (Socket Mode)"
        if self.enabled:
            return f"slack: on (HTTP at {self.path})"
        if given(self.bot_token):
            return "slack: off (SLACK_BOT_TOKEN set, but no SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)"
        return "slack: off (no SLACK_BOT_TOKEN)"


def given(secret: SecretStr | None) -> bool:
    """Set and not blank (settings changed after validation are held to the same rule)."""
    return secret is not None and bool(secret.get_secret_value().strip())
