"""Settings, mounting, the manifests, and Slack's rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from aiohttp import web
from pydantic import SecretStr, ValidationError

from adapters.slack import PLATFORM, SlackBridge, SlackSettings, build_app
from adapters.slack.app import make_client
from tests.support.fakes.slack_api import running_fake_slack

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests" / "slack"


def test_settings_enable_the_channel_only_when_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    assert not SlackSettings().enabled
    assert SlackSettings().status() == "slack: off (no SLACK_BOT_TOKEN)"
    assert not SlackSettings(bot_token="xoxb-1").enabled
    assert (
        SlackSettings(bot_token="xoxb-1", signing_secret="s").status() == "slack: on (HTTP at /slack/events)"
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-env")
    settings = SlackSettings(bot_token="xoxb-file")
    assert settings.socket_mode
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "xoxb-env"  # the environment wins over config.yaml
    assert "xoxb" not in repr(settings) + settings.status()  # tokens never printed


@pytest.mark.parametrize("value", ["", "   ", "\t\n"], ids=["empty", "spaces", "whitespace"])
@pytest.mark.parametrize("field", ["bot_token", "signing_secret", "app_token"])
def test_an_empty_or_blank_token_is_refused(field: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty secret must never mean "no signature check": it is an error, from the file or the
    environment, naming the setting and never echoing its value."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as file_error:
        SlackSettings(**{"bot_token": "xoxb-1", "signing_secret": "s", field: value})
    monkeypatch.setenv(f"SLACK_{field.upper()}", value)
    with pytest.raises(ValidationError) as env_error:
        SlackSettings(bot_token="xoxb-1", signing_secret="s")
    for exc in (file_error.value, env_error.value):
        [error] = exc.errors(include_input=False)
        assert error["loc"] == (field,)
        assert "empty" in error["msg"]


def http_bridge(**settings: object) -> SlackBridge:
    return SlackBridge(object(), SlackSettings(**settings))  # type: ignore[arg-type]


def test_an_http_mode_app_is_never_built_without_a_signing_secret() -> None:
    bridge = http_bridge(bot_token="xoxb-1")
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        build_app(bridge)
    # validation bypassed (settings changed after they were read): still refused, and the channel stays off
    for blank in ("", "  "):
        bridge.settings = SlackSettings(bot_token="xoxb-1", signing_secret="s").model_copy(
            update={"signing_secret": SecretStr(blank)}
        )
        with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
            build_app(bridge)
        assert not bridge.settings.enabled
        assert bridge.settings.status().startswith("slack: off")
        server = web.Application()
        assert PLATFORM.mount(server, object(), bridge.settings) is False  # type: ignore[arg-type]
        assert not list(server.router.routes())


def test_setup_without_settings_mounts_nothing() -> None:
    server = web.Application()
    settings = SlackSettings(bot_token=None, signing_secret=None)
    assert PLATFORM.mount(server, object(), settings) is False  # type: ignore[arg-type]
    assert not list(server.router.routes())
    assert PLATFORM.status(settings) == settings.status()


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest-socket-mode.yaml"])
def test_manifests_match_what_the_app_handles(name: str) -> None:
    manifest = yaml.safe_load((MANIFESTS / name).read_text())
    socket = manifest["settings"]["socket_mode_enabled"]
    assert socket == ("socket" in name)
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/avi"
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "assistant_thread_started"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "channels:history"} <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    urls = [
        command.get("url"),
        manifest["settings"]["event_subscriptions"].get("request_url"),
        manifest["settings"]["interactivity"].get("request_url"),
    ]
    if socket:
        assert urls == [None, None, None]
    else:
        assert all(u and u.endswith("/slack/events") for u in urls)


async def test_web_api_client_waits_out_a_rate_limit() -> None:
    async with running_fake_slack() as slack:
        client = make_client(SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=slack.api_url))
        slack.throttle("chat.postMessage")
        resp = await client.chat_postMessage(channel="C1", text="hi")
        assert resp["ok"]
        first, second = slack.calls_to("chat.postMessage")
        assert second.at - first.at >= 0.9  # Slack's Retry-After: 1
