"""Alerts as an ops team deploys them: two `avibot serve` processes on one real Redis, polling the
simulator every second, posting to a local Slack Web API and a local Bot Framework connector.

One alert gives exactly one thread root per route within two poll intervals; a reply in the Slack thread
is answered about the alert's object; the controller clearing it gives one resolution; fifty alerts in
a minute give one digest; restarting both replicas posts nothing twice. Real processes, real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from avi.operations import AviOperations
from tests.alerts.helpers import (
    clear_alert,
    names,
    raise_alert,
    uncached_ops,  # noqa: F401 (the `ops` fixture: no read cache)
)
from tests.conftest import RunningSim
from tests.faults.serve_process import Served, environment, serve, write_config
from tests.support.fakes.slack_api import BOT_USER, TEAM, FakeSlack, running_fake_slack, signed_headers
from tests.support.fakes.teams_connector import FakeConnector, running_fake_connector

POLL = 1.0
CONVERSATIONS = "/v3/conversations"
SIGNING = "two-replica-alert-signing-secret"
SLACK_CHANNEL = "C0ALERTS"
TEAMS_CHANNEL = "19:alerts@thread.tacv2"
TEAMS_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ROUTES = f"""alerts:
  poll_seconds: {POLL}
  storm_per_minute: 10
  routes:
    - {{to: "slack:{SLACK_CHANNEL}"}}
    - {{to: "teams:{TEAMS_CHANNEL}"}}
"""


@dataclass
class Deployment:
    slack: FakeSlack
    teams: FakeConnector
    replicas: list[Served]
    start: Callable[[], Any]

    def roots(self) -> list[dict[str, Any]]:
        """Slack thread roots the bot posted in the alert channel (latest state of each)."""
        return [
            m
            for m in self.slack.messages.values()
            if m["channel"] == SLACK_CHANNEL and not m.get("thread_ts") and m.get("attachments")
        ]

    def teams_threads(self) -> list[Any]:
        return [c for c in self.teams.calls if c.method == "POST" and c.path.rstrip("/") == CONVERSATIONS]

    def posts(self) -> int:
        """Every message the bot sent or changed, on both platforms."""
        slack = sum(len(self.slack.calls_to(m)) for m in ("chat.postMessage", "chat.update"))
        teams = sum(1 for c in self.teams.calls if c.method in ("POST", "PUT"))
        return slack + teams


async def _polled(replica: Served, after: float) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        health = (await http.get(replica.url + "/api/health")).json()
    alerts = health.get("alerts") or {}
    return bool(alerts.get("last_ok_at")) and float(alerts["last_ok_at"]) > after


async def wait_until(predicate: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


async def settled(deployment: Deployment, polls: int = 3) -> None:
    """Both replicas have polled `polls` more times: whatever they would post is posted."""
    after = time.time() + (polls - 1) * POLL
    for replica in deployment.replicas:
        await wait_until(lambda r=replica: _polled(r, after), polls * POLL + 10, "a poll")


@asynccontextmanager
async def deployed(sim: RunningSim, redis_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with running_fake_slack() as slack, running_fake_connector() as teams:
        environ = environment(
            sim.url,
            REDIS_URL=redis_url,
            REDIS_PREFIX=f"alerts-{uuid.uuid4().hex[:8]}:",
            AVI_CACHE_SECONDS="0",
            AVIBOT_SESSION_SECRET="x" * 48,
            SLACK_BOT_TOKEN="xoxb-alerts",
            SLACK_SIGNING_SECRET=SIGNING,
            SLACK_API_URL=slack.api_url,
            TEAMS_ENABLED="true",
            TEAMS_ALERT_SERVICE_URL=teams.url,
            TEAMS_ALERT_TENANT_ID=TEAMS_TENANT,
        )
        config = write_config(tmp_path / "config.yaml", ROUTES)

        async def start() -> list[Served]:
            return [await serve(environ, config), await serve(environ, config)]

        deployment = Deployment(slack, teams, await start(), start)
        try:
            yield deployment
        finally:
            for replica in deployment.replicas:
                await replica.stop()


async def slack_event(replica: Served, event: dict[str, Any]) -> int:
    body = json.dumps({
        "type": "event_callback", "token": "legacy", "team_id": TEAM, "api_app_id": "A1",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    })  # fmt: skip
    headers = {"Content-Type": "application/json", **signed_headers(SIGNING, body)}
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.post(replica.url + "/slack/events", content=body, headers=headers)).status_code


async def test_one_root_per_route_a_thread_answer_one_resolution_a_digest_and_a_quiet_restart(
    sim: RunningSim, ops: AviOperations, redis_url: str, tmp_path: Path
) -> None:
    async with deployed(sim, redis_url, tmp_path) as d:
        await settled(d, polls=1)  # both replicas have set their cursor
        vs = names(sim)[0]

        # One alert: one root per route, within two poll intervals, from two replicas.
        alert = await raise_alert(ops, vs)
        raised = time.monotonic()
        await wait_until(lambda: d.roots() and d.teams_threads(), 2 * POLL + 3, "the roots")
        took = time.monotonic() - raised
        assert took <= 2 * POLL  # "within two poll intervals"
        print(f"alert to both roots: {took:.2f} s (poll every {POLL:g} s)")
        await settled(d)
        (root,) = d.roots()
        assert len(d.teams_threads()) == 1
        assert vs in json.dumps(root)

        # A reply in the Slack thread, without a mention, to the other replica: about the object.
        status = await slack_event(d.replicas[1], {
            "type": "message", "channel": SLACK_CHANNEL, "channel_type": "channel", "user": "U-ops",
            "text": "is it healthy?", "ts": f"{time.time():.6f}", "thread_ts": root["ts"],
        })  # fmt: skip
        assert status == 200
        answers = await d.slack.wait_for(lambda: d.slack.replies_in(SLACK_CHANNEL, root["ts"]), within=20)
        assert vs in json.dumps(answers[-1]), answers[-1]

        # The controller clears it: the root is updated to resolved, once, on both platforms.
        updates_before = len(d.slack.calls_to("chat.update"))
        teams_before = len(d.teams.calls)
        await clear_alert(ops, alert["uuid"])
        await wait_until(lambda: "resolved" in json.dumps(d.roots()[0]).lower(), 2 * POLL + 3, "resolved")
        await settled(d)
        resolutions = [
            c for c in d.slack.calls_to("chat.update")[updates_before:] if c.args.get("ts") == root["ts"]
        ]
        assert len(resolutions) == 1
        assert len(d.roots()) == 1  # an update, not a new message
        teams_updates = [c for c in d.teams.calls[teams_before:] if c.method == "PUT"]
        assert (
            len(teams_updates) == 1
        )  # the root card, resolved (its first PUT gave the buttons their thread)

        # Fifty alerts in a minute: one digest per route.
        objects = names(sim)[1:6]
        await asyncio.gather(*(raise_alert(ops, objects[i % 5]) for i in range(50)))
        await settled(d)
        digests = [r for r in d.roots() if "storm" in json.dumps(r).lower()]
        assert len(digests) == 1, [r.get("text") for r in d.roots()]
        singles = [r for r in d.roots() if r not in digests and r["ts"] != root["ts"]]
        # A poll that began mid-burst may have posted a few singly before the storm was clear.
        assert len(singles) <= 10
        storm_threads = [c for c in d.teams_threads() if "storm" in json.dumps(c.body).lower()]
        assert len(storm_threads) == 1
        assert len(d.teams_threads()) == 1 + len(singles) + 1  # the first alert, the singles, the digest
        print(f"storm: {len(singles)} posted singly before the digest")

        # Both replicas restart: nothing is posted twice.
        for replica in d.replicas:
            await replica.stop()
        before = d.posts()
        d.replicas = await d.start()
        await settled(d)
        assert d.posts() == before, "a restart posted again"
