"""What the dashboard and the alert rules need from /metrics: turns by platform, controller request
latency, whether the model is up, and how confirmed writes ended (deploy/grafana, deploy/prometheus)."""

from __future__ import annotations

from avi.client_types import RequestEvent
from avibot.metrics import Metrics
from bot.events import ActionEvent, ModelStatusChanged, TurnEnded
from bot.types import Outcome


def test_the_labels_the_dashboard_reads() -> None:
    metrics = Metrics()
    metrics.observe(TurnEnded(platform="slack", mode="llm", outcome=Outcome.ANSWERED, seconds=0.4))
    metrics.observe(ActionEvent(event="confirmed", outcome=Outcome.DONE))
    metrics.observe(ModelStatusChanged(up=True, reason=""))
    metrics.observe_request(RequestEvent("GET", "/api/pool", 200, 0.02))
    text = metrics.render().decode()
    assert 'avibot_turns_total{mode="llm",platform="slack"} 1.0' in text
    assert 'avibot_pending_actions_total{event="confirmed",outcome="done"} 1.0' in text
    assert "avibot_llm_up 1.0" in text
    assert 'avibot_avi_request_seconds_count{method="GET"} 1.0' in text
    metrics.observe(ModelStatusChanged(up=False, reason="timeout"))
    assert "avibot_llm_up 0.0" in metrics.render().decode()
