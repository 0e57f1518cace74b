"""What the dashboard and the alert rules need from /metrics: turns by platform, controller request
latency, whether the model is up, and how confirmed writes ended (deploy/grafana, deploy/prometheus)."""

from __future__ import annotations

import re

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
    assert 'avibot_avi_request_seconds_count{controller="default",method="GET"} 1.0' in text
    assert 'avibot_avi_requests_total{controller="default",status="200"} 1.0' in text
    metrics.observe(ModelStatusChanged(up=False, reason="timeout"))
    assert "avibot_llm_up 0.0" in metrics.render().decode()


def test_each_controller_client_has_its_own_label() -> None:
    """One observer per controller client: the same request counted under the controller that made it;
    a controller's latency series is there (at zero) before its first request."""
    metrics = Metrics()
    on_a, on_b = metrics.request_observer("a"), metrics.request_observer("b")
    text = metrics.render().decode()
    assert 'avibot_avi_request_seconds_count{controller="b",method="GET"} 0.0' in text
    on_a(RequestEvent("GET", "/api/pool", 200, 0.02))
    on_b(RequestEvent("GET", "/api/pool", None, 3.0))
    on_b(RequestEvent("PATCH", "/api/pool/pool-1", 200, 0.1))
    text = metrics.render().decode()
    assert 'avibot_avi_requests_total{controller="a",status="200"} 1.0' in text
    assert 'avibot_avi_requests_total{controller="b",status="unreachable"} 1.0' in text
    assert 'avibot_avi_requests_total{controller="b",status="200"} 1.0' in text
    assert 'avibot_avi_request_seconds_count{controller="b",method="PATCH"} 1.0' in text
    assert 'avibot_avi_request_seconds_count{controller="a",method="GET"} 1.0' in text
    labels = {
        frozenset(re.findall(r"(\w+)=", found))
        for found in re.findall(r"^avibot_avi_\w+\{([^}]*)\}", text, re.MULTILINE)
    }
    assert labels <= {frozenset({"controller", "status"}), frozenset({"controller", "method"}),
                      frozenset({"controller", "method", "le"})}  # fmt: skip
