"""Prometheus metrics, from what the parts report: the core's events (bot/events.py) and the
controller client's request observers (avi/client.py `RequestEvent`). Nothing is wrapped or
patched. Each app has its own registry, so tests and several apps in one process do not collide.

Label values are bounded: tools by their catalogue name (or `unknown`), statuses by HTTP code,
controllers by their configured name (`default` for the `avi` section; the list is fixed at start).
Each controller client gets its own observer (`request_observer(name)`), so the controller request
metrics carry a `controller` label; queries that sum them (`sum by (status)`) read as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from avi.client import RequestEvent
from avi.client_types import RequestObserver
from bot.alerts.events import AlertMuted, AlertPollFinished, AlertPosted, AlertPostFailed, PostKind
from bot.controllers import DEFAULT
from bot.events import ActionEvent, Event, ModelCalled, ModelStatusChanged, Observers, ToolCalled, TurnEnded

TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The counters and histograms of one server."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.turns = Counter(
            "avibot_turns", "Answered messages, by platform and mode", ["platform", "mode"], registry=r
        )
        self.turn_seconds = Histogram(
            "avibot_turn_seconds", "Time to answer one message", ["platform", "mode"],
            buckets=TURN_BUCKETS, registry=r,
        )  # fmt: skip
        self.llm_up = Gauge(
            "avibot_llm_up", "1 while the language model answers, 0 in command mode", registry=r
        )
        self.llm_seconds = Histogram(
            "avibot_llm_seconds", "One model call, request to last token", buckets=TURN_BUCKETS, registry=r
        )
        self.llm_tokens = Counter("avibot_llm_tokens", "Tokens, by kind", ["kind"], registry=r)
        self.llm_errors = Counter("avibot_llm_errors", "Model calls that failed", registry=r)
        self.tool_calls = Counter(
            "avibot_tool_calls", "Tool calls, by tool and outcome", ["tool", "ok"], registry=r
        )
        self.avi_requests = Counter(
            "avibot_avi_requests", "HTTP requests to a controller, by controller and status",
            ["controller", "status"], registry=r,
        )  # fmt: skip
        self.avi_request_seconds = Histogram(
            "avibot_avi_request_seconds", "One HTTP request to a controller, by controller and method",
            ["controller", "method"], buckets=REQUEST_BUCKETS, registry=r,
        )  # fmt: skip
        self.pending = Counter(
            "avibot_pending_actions",
            "Pending writes, by event (proposed, confirmed, cancelled, refused) and outcome",
            ["event", "outcome"], registry=r,
        )  # fmt: skip

        self.alerts_seen = Counter(
            "avibot_alerts_seen", "Controller alerts new to the poller (or pushed to the webhook)", registry=r
        )
        self.alerts_posted = Counter(
            "avibot_alerts_posted",
            "Alert messages sent, by platform and kind (root, grouped, digest, digest_update, resolved)",
            ["platform", "kind"], registry=r,
        )  # fmt: skip
        self.alert_post_errors = Counter(
            "avibot_alert_post_errors", "Alert messages a platform refused (retried)", ["platform", "kind"],
            registry=r,
        )  # fmt: skip
        self.alerts_muted = Counter(
            "avibot_alerts_muted", "New alerts not posted because their object is muted", ["platform"],
            registry=r,
        )  # fmt: skip
        self.alert_polls = Counter(
            "avibot_alert_polls", "Reads of the controller's alerts", ["ok"], registry=r
        )
        self.alert_poll_seconds = Histogram(
            "avibot_alert_poll_seconds", "One alert poll", buckets=REQUEST_BUCKETS, registry=r
        )
        self.alert_last_poll = Gauge(
            "avibot_alert_last_success_timestamp_seconds", "When the alert poller last read the controller",
            registry=r,
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def expect_alert_platforms(self, platforms: Iterable[str]) -> None:
        """Start the alert series of each routed platform at zero, so a scrape shows them (and the
        dashboard's rates) before the first alert rather than only after it."""
        for platform in platforms:
            for kind in get_args(PostKind):
                self.alerts_posted.labels(platform=platform, kind=kind)
                self.alert_post_errors.labels(platform=platform, kind=kind)
            self.alerts_muted.labels(platform=platform)

    # -- observations ------------------------------------------------------------------------------

    def subscribe(self, observers: Observers) -> None:
        observers.subscribe(self.observe)

    def observe(self, event: Event) -> None:
        match event:
            case TurnEnded():
                labels = {"platform": event.platform, "mode": event.mode}
                self.turns.labels(**labels).inc()
                self.turn_seconds.labels(**labels).observe(event.seconds)
            case ModelCalled(ok=True):
                self.llm_seconds.observe(event.seconds)
                self.llm_tokens.labels(kind="prompt").inc(event.prompt_tokens)
                self.llm_tokens.labels(kind="completion").inc(event.completion_tokens)
            case ModelCalled(ok=False):
                self.llm_errors.inc()
            case ToolCalled():
                self.tool_calls.labels(tool=event.tool, ok=str(event.ok).lower()).inc()
            case ActionEvent():
                self.pending.labels(event=event.event, outcome=event.outcome.value).inc()
            case ModelStatusChanged():
                self.llm_up.set(1 if event.up else 0)
            case _:
                self._observe_alert(event)

    def _observe_alert(self, event: object) -> None:
        match event:
            case AlertPosted():
                self.alerts_posted.labels(platform=event.platform, kind=event.kind).inc()
            case AlertPostFailed():
                self.alert_post_errors.labels(platform=event.platform, kind=event.kind).inc()
            case AlertMuted():
                self.alerts_muted.labels(platform=event.platform).inc()
            case AlertPollFinished():
                self.alert_polls.labels(ok=str(event.ok).lower()).inc()
                self.alert_poll_seconds.observe(event.seconds)
                self.alerts_seen.inc(event.new)
                if event.ok:
                    self.alert_last_poll.set_to_current_time()
            case _:
                pass

    def request_observer(self, controller: str) -> RequestObserver:
        """The observer for one controller's client: its requests labelled with its name. Its latency
        series start at zero for GET, so the per-controller panels show it before its first request."""
        self.avi_request_seconds.labels(controller=controller, method="GET")

        def observe(event: RequestEvent) -> None:
            self.observe_request(event, controller)

        return observe

    def observe_request(self, event: RequestEvent, controller: str = DEFAULT) -> None:
        status = str(event.status) if event.status is not None else "unreachable"
        self.avi_requests.labels(controller=controller, status=status).inc()
        self.avi_request_seconds.labels(controller=controller, method=event.method).observe(event.seconds)
