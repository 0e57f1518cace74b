"""Alerts wired into the service: the `alerts` config section, the demo's page feed, the poller started
with the server, its health in /api/health and its counts in /metrics, `--alert-every` on the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from avibot.cli import build_parser
from avibot.config import ConfigError, load_settings
from avibot.factory import build_runtime
from avibot.metrics import Metrics
from avibot.server import create_server_app
from bot.alerts.events import AlertMuted, AlertPollFinished, AlertPosted, AlertPostFailed
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_the_alerts_section_and_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        "alerts:\n  poll_seconds: 15\n  routes:\n"
        "    - {to: 'slack:C0123', min_level: ALERT_MEDIUM, names: '^shop-'}\n"
        "    - {to: 'teams:19:ops@thread.tacv2', tenants: [prod], object_types: [virtualservice]}\n",
    )
    monkeypatch.setenv("AVIBOT_ALERT_WEBHOOK_SECRET", "s" * 24)
    alerts = load_settings(path).alerts
    assert alerts.enabled
    assert alerts.poll_seconds == 15
    assert [r.to for r in alerts.routes] == ["slack:C0123", "teams:19:ops@thread.tacv2"]
    assert alerts.webhook_secret is not None
    assert alerts.webhook_secret.get_secret_value() == "s" * 24
    assert not load_settings(write(tmp_path, "server: {}\n")).alerts.enabled  # no route, no posting


@pytest.mark.parametrize(
    ("yaml", "says"),
    [
        ("alerts:\n  routes: [{to: 'irc:#ops'}]\n", "alerts.routes.0.to"),
        ("alerts:\n  routes: [{to: 'slack:C1', names: '(['}]\n", "not a valid regular expression"),
        ("alerts:\n  routes: [{to: 'slack:C1', min_level: URGENT}]\n", "alerts.routes.0.min_level"),
        ("alerts:\n  poll_seconds: 0\n", "alerts.poll_seconds"),
        ("alerts:\n  webhook_secret: short\n", "at least 16 characters"),
        ("alerts:\n  controller_url: avi.example.com\n", "https://"),
    ],
)
def test_a_bad_alerts_section_is_one_line(tmp_path: Path, yaml: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, yaml))
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
    assert "short" not in message.replace(says, "")


def test_alert_every_on_the_command_line() -> None:
    parser = build_parser()
    assert parser.parse_args(["sim", "--alert-every", "30"]).alert_every == 30.0
    assert parser.parse_args(["sim"]).alert_every == 0.0
    assert parser.parse_args(["serve", "--demo", "--alert-every", "120"]).alert_every == 120.0


def test_alert_metrics() -> None:
    metrics = Metrics()
    metrics.observe(AlertPollFinished(seconds=0.05, ok=True, new=3, claimed=2))  # type: ignore[arg-type]
    metrics.observe(AlertPosted(platform="slack", kind="root"))  # type: ignore[arg-type]
    metrics.observe(AlertPosted(platform="slack", kind="grouped"))  # type: ignore[arg-type]
    metrics.observe(AlertPostFailed(platform="teams", kind="digest"))  # type: ignore[arg-type]
    metrics.observe(AlertMuted(platform="slack"))  # type: ignore[arg-type]
    text = metrics.render().decode()
    assert "avibot_alerts_seen_total 3.0" in text
    assert 'avibot_alerts_posted_total{kind="root",platform="slack"} 1.0' in text
    assert 'avibot_alerts_posted_total{kind="grouped",platform="slack"} 1.0' in text
    assert 'avibot_alert_post_errors_total{kind="digest",platform="teams"} 1.0' in text
    assert 'avibot_alerts_muted_total{platform="slack"} 1.0' in text
    assert 'avibot_alert_polls_total{ok="true"} 1.0' in text
    assert "avibot_alert_last_success_timestamp_seconds 0.0" not in text


async def test_the_demo_feeds_its_alerts_to_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --demo` with no route: the web:demo feed, the poller started with the app, health and
    metrics saying what it did."""
    monkeypatch.chdir(Path(__file__).parent)  # no config.yaml here
    runtime = await build_runtime(load_settings(None), demo=True, use_llm=False)
    try:
        assert runtime.alerts is not None
        assert [r.to for r in runtime.alerts.settings.routes] == ["web:demo"]
        assert runtime.alerts.settings.poll_seconds == 5
        app = create_server_app(runtime, load_settings(None))
        async with TestClient(TestServer(app)) as http:
            assert runtime.alerts.health().running  # started with the app
            await runtime.alerts.poll_once()  # (the background one may have set the cursor already)
            pools: Any = await runtime.client.get("/api/pool", params={"page_size": 1})
            name = pools["results"][0]["name"]
            created: dict[str, Any] = await runtime.client.post(
                "/api/simulator/alerts", json={"level": "ALERT_HIGH", "obj_name": name, "summary": "down"}
            )
            await runtime.alerts.poll_once()
            await runtime.alerts.poll_once()
            feed = await runtime.turns.alert_feed()
            assert [(i.view.object_name, i.view.alert_uuid) for i in feed] == [(name, created["uuid"])]
            health = await (await http.get("/api/health")).json()
            assert health["alerts"]["running"] is True
            assert health["alerts"]["routes"] == 1
            assert health["alerts"]["last_error"] is None
            assert health["alerts"]["posted"] >= 1
            metrics = await (await http.get("/metrics")).text()
            assert 'avibot_alerts_posted_total{kind="root",platform="web"} 1.0' in metrics
        assert not runtime.alerts.health().running  # stopped with the app... or with the runtime
    finally:
        await runtime.aclose()


def test_alert_series_of_routed_platforms_start_at_zero() -> None:
    """A dashboard's rate() needs the series before the first alert, not only after it."""
    metrics = Metrics()
    assert "avibot_alerts_posted_total{" not in metrics.render().decode()
    metrics.expect_alert_platforms({"slack", "web"})
    text = metrics.render().decode()
    for platform in ("slack", "web"):
        assert f'avibot_alerts_posted_total{{kind="root",platform="{platform}"}} 0.0' in text
        assert f'avibot_alert_post_errors_total{{kind="digest",platform="{platform}"}} 0.0' in text
        assert f'avibot_alerts_muted_total{{platform="{platform}"}} 0.0' in text
    assert 'platform="teams"' not in text


async def test_a_route_naming_a_controller_the_bot_lacks_is_a_config_error(
    tmp_path: Path, sim: RunningSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVI_HOST", sim.url)
    monkeypatch.setenv("AVI_USERNAME", SIM_USERNAME)
    monkeypatch.setenv("AVI_PASSWORD", SIM_PASSWORD)
    path = write(
        tmp_path,
        "state: {state_dir: '" + str(tmp_path) + "'}\n"
        "alerts:\n  routes:\n    - {to: 'web:ops'}\n    - {to: 'slack:C1', controller: prod-west}\n",
    )
    settings = load_settings(path)
    assert settings.alerts.routes[1].controller == "prod-west"
    with pytest.raises(ConfigError) as caught:
        await build_runtime(settings, use_llm=False)
    message = str(caught.value)
    assert "no controller named prod-west" in message
    assert "default" in message  # what the bot has
    assert "\n" not in message
