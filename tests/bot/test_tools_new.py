"""The certificate, event and health-monitor tools against the simulator over HTTP: reads answer what
a direct read of the controller shows; each write, through the agent, becomes a pending action with
the right diff, changes nothing before Confirm and exactly what it showed after; no-ops, missing
objects and viewers are refused."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from avi.operations import AviOperations, HealthMonitorCreate, HealthMonitorUpdate
from avi.operations.certificates import parse_cert_time
from bot.tools.certificates import ListArgs
from bot.tools.events import EventsArgs
from bot.types import ConfirmationPart, Outcome, Risk, TablePart
from tests.conftest import StartSim, ops_for
from tests.support.agent_env import ADMIN, OPERATOR, VIEWER, AgentEnv, MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama
from tests.support.tools_helpers import CATALOGUE, call, context, plan

NEW_TOOLS = {
    "list_certificates": Risk.READ,
    "list_events": Risk.READ,
    "create_health_monitor": Risk.WRITE,
    "update_health_monitor": Risk.WRITE,
    "delete_health_monitor": Risk.DESTRUCTIVE,
}


def test_new_tools_are_in_the_catalogue_with_their_risks() -> None:
    for name, risk in NEW_TOOLS.items():
        tool = CATALOGUE.get(name)
        assert tool is not None, name
        assert tool.risk is risk, name
        assert (tool.plan is None) == (risk is Risk.READ), name
        assert tool.topics, name
    assert {"certificate", "expire", "ssl"} <= CATALOGUE.get("list_certificates").topics  # type: ignore[union-attr]
    assert {"event", "happened", "alert"} <= CATALOGUE.get("list_events").topics  # type: ignore[union-attr]
    for name in ("create_health_monitor", "update_health_monitor", "delete_health_monitor"):
        tool = CATALOGUE.get(name)
        assert tool is not None
        assert tool.verify is not None, name
        assert tool.target is not None, name


# -- reads ---------------------------------------------------------------------------------------


async def test_list_certificates_shows_what_the_controller_holds(ops: AviOperations) -> None:
    direct = await ops.client.list_all("sslkeyandcertificate")
    result = await call(ops, "list_certificates")
    ordered = sorted(direct, key=lambda c: (parse_cert_time(c["certificate"]["not_after"]), c["name"]))
    assert [i["name"] for i in result.data["items"]] == [c["name"] for c in ordered]
    first, raw = result.data["items"][0], ordered[0]["certificate"]
    assert first["subject_cn"] == raw["subject"]["common_name"]
    assert first["not_after"] == raw["not_after"][:10]
    assert result.data["total"] == len(direct)
    table = result.parts[0]
    assert isinstance(table, TablePart)
    assert table.columns[:4] == ["Name", "Subject CN", "Issuer", "Expires (UTC)"]
    assert [r[0] for r in table.rows] == [c["name"] for c in ordered]
    assert "certificates" in result.summary


async def test_list_certificates_expiry_filter_at_its_boundary(start_sim: StartSim) -> None:
    sim = await start_sim(objects=200)  # enough certificates for expired and expiring ones
    ops = ops_for(sim)
    try:
        now = dt.datetime.now(dt.UTC)
        direct = await ops.client.list_all("sslkeyandcertificate")
        expiry = {c["name"]: parse_cert_time(c["certificate"]["not_after"]) for c in direct}
        future = {n: t for n, t in expiry.items() if t is not None and t > now}
        soonest = min(future, key=lambda n: future[n])
        days = math.ceil((future[soonest] - now) / dt.timedelta(days=1))  # it expires within `days`

        inside = await call(ops, "list_certificates", expiring_within_days=str(days))
        names = [i["name"] for i in inside.data["items"]]
        assert soonest in names
        horizon = now + dt.timedelta(days=days)
        assert set(names) == {n for n, t in expiry.items() if t is not None and t <= horizon}
        expired = [i for i in inside.data["items"] if i["expired"]]
        assert expired  # the seeded expired certificates are listed, marked expired
        assert all(i["days_left"] < 0 for i in expired)
        assert f"expire within {days} days" in inside.summary
        assert f"({len(expired)} already expired)" in inside.summary

        outside = await call(ops, "list_certificates", expiring_within_days=days - 1)
        assert soonest not in [i["name"] for i in outside.data["items"]]
        assert len(outside.data["items"]) < len(names)
    finally:
        await ops.client.aclose()


def test_list_certificates_arguments() -> None:
    args = ListArgs
    assert args.model_validate({"expiring_within_days": "30", "name_contains": ""}).expiring_within_days == 30
    assert args.model_validate({"expiring_within_days": None}).expiring_within_days is None
    with pytest.raises(ValidationError):
        args.model_validate({"expiring_within_days": -1})
    schema = args.model_json_schema()["properties"]["expiring_within_days"]
    assert schema["type"] == "integer"
    assert "anyOf" not in schema


async def test_list_events_newest_first_within_the_window(ops: AviOperations) -> None:
    await ops.healthmonitors.create(HealthMonitorCreate(name="hm-story", type="tcp"))
    await ops.healthmonitors.update("hm-story", HealthMonitorUpdate(send_interval=30))
    result = await call(ops, "list_events", name="hm-story", window="1h")
    items = result.data["items"]
    assert [(i["event"], i["object"], i["by"]) for i in items] == [
        ("CONFIG_UPDATE", "healthmonitor hm-story", "admin"),
        ("CONFIG_CREATE", "healthmonitor hm-story", "admin"),
    ]
    times = [i["time_utc"] for i in items]
    assert times == sorted(times, reverse=True)
    assert result.data["newest_first"] is True
    assert result.summary.startswith("2 events and alerts for hm-story in the last hour")
    table = result.parts[0]
    assert isinstance(table, TablePart)
    assert [r[2] for r in table.rows] == ["CONFIG_UPDATE", "CONFIG_CREATE"]

    await ops.healthmonitors.create(HealthMonitorCreate(name="hm-once", type="tcp"))
    once = await call(ops, "list_events", name="hm-once", window="1h")
    assert once.summary.startswith("1 event or alert for hm-once in the last hour")

    kinds = await call(ops, "list_events", name="hm-story", object_type="monitor")
    assert len(kinds.data["items"]) == 2
    assert not (await call(ops, "list_events", name="hm-story", object_type="vs")).data["items"]
    none = await call(ops, "list_events", name="hm-nothing")
    assert none.summary.startswith("No events or alerts for hm-nothing in the last 24 hours")

    alerts = await ops.client.list_all("alert")
    down = next(a for a in alerts if a["event_id"] == "VS_DOWN")
    vs = await call(ops, "list_events", name=down["obj_name"], window="7d")
    assert vs.data["items"][0]["event"] == "VS_DOWN"
    assert vs.data["items"][0]["level"] == "high"
    assert vs.data["items"][0]["what"] == down["summary"]

    args = EventsArgs
    assert args.model_validate({"window": "last hour"}).window == "hour"
    assert args.model_validate({"object_type": "virtual service"}).object_type == "virtualservice"
    with pytest.raises(ValidationError, match="window"):
        args.model_validate({"window": "fortnight"})


# -- writes through the agent ----------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


async def ask(env: AgentEnv, fake: FakeOllama, tool: str, args: dict[str, Any], user: Any = OPERATOR) -> Any:
    fake.script(Reply.call(tool, args), Reply.say("Please confirm."))
    return await env.handle(env.inbound(f"please run {tool}", user=user))


def told(fake: FakeOllama) -> dict[str, Any]:
    """What the model was told about its tool call."""
    return json.loads(fake.chat_requests[-1]["messages"][-1]["content"])  # type: ignore[no-any-return]


async def confirm(env: AgentEnv, action_id: str, user: Any = OPERATOR) -> Any:
    done = await env.agent.confirm(action_id, env.inbound(f"confirm {action_id}", user=user))
    assert done.outcome is Outcome.DONE, done.reply
    assert done.reply.tool_calls[0].ok
    return done


def _stable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "_last_modified"}


async def test_create_health_monitor_is_pending_until_confirmed(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    args = {
        "name": "hm-web-ok",
        "type": "HTTPS",
        "send_interval": 15,
        "receive_timeout": "5",
        "failed_checks": 3,
        "port": 8443,
        "http_request": "GET /healthz HTTP/1.1",
        "response_codes": "2xx, 3xx",
    }
    reply = await ask(env, fake, "create_health_monitor", args)
    action = reply.pending_action
    assert action is not None
    assert action.summary == "Create https health monitor hm-web-ok, every 15s (tenant admin)"
    assert action.diff == [
        "+ name: hm-web-ok",
        "+ type: https",
        "+ send_interval: 15s",
        "+ receive_timeout: 5s",
        "+ successful_checks: 2",
        "+ failed_checks: 3",
        "+ port: 8443",
        "+ http_request: GET /healthz HTTP/1.1",
        "+ response_codes: 2xx, 3xx",
    ]
    assert isinstance(reply.parts[-1], ConfirmationPart)
    assert await env.ops.client.get_by_name("healthmonitor", "hm-web-ok") is None  # nothing yet

    await confirm(env, action.id)
    m = await env.ops.healthmonitors.get("hm-web-ok")
    assert (m.type, m.send_interval, m.receive_timeout, m.successful_checks, m.failed_checks) == (
        "HEALTH_MONITOR_HTTPS",
        15,
        5,
        2,
        3,
    )
    assert m.monitor_port == 8443
    assert m.config["https_monitor"] == {
        "http_request": "GET /healthz HTTP/1.1",
        "http_response_code": ["HTTP_2XX", "HTTP_3XX"],
    }
    assert "http_monitor" not in m.config

    again = await ask(env, fake, "create_health_monitor", {"name": "hm-web-ok", "type": "tcp"})
    assert again.pending_action is None
    assert "already exists" in told(fake)["error"]


async def test_update_health_monitor_changes_exactly_the_diff(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    await env.ops.healthmonitors.create(
        HealthMonitorCreate(name="hm-api", type="http", http_request="GET /ping HTTP/1.0", description="api")
    )
    before = await env.ops.healthmonitors.get("hm-api")
    change = {"name": "hm-api", "send_interval": 30, "failed_checks": 2, "response_codes": "2xx"}
    reply = await ask(env, fake, "update_health_monitor", change)
    action = reply.pending_action
    assert action is not None
    # failed_checks is already 2: not part of the change
    assert action.summary == "Change send_interval, response_codes of health monitor hm-api (tenant admin)"
    assert action.diff == [
        "- send_interval: 10s",
        "+ send_interval: 30s",
        "- response_codes: 2xx, 3xx",
        "+ response_codes: 2xx",
    ]
    assert _stable((await env.ops.healthmonitors.get("hm-api")).config) == _stable(before.config)

    await confirm(env, action.id)
    after = await env.ops.healthmonitors.get("hm-api")
    expected = _stable(before.config)
    expected["send_interval"] = 30
    expected["http_monitor"] = {"http_request": "GET /ping HTTP/1.0", "http_response_code": ["HTTP_2XX"]}
    assert _stable(after.config) == expected

    same = await ask(env, fake, "update_health_monitor", {"name": "hm-api", "send_interval": 30})
    assert same.pending_action is None
    assert "nothing to change" in told(fake)["error"]
    bad = await ask(env, fake, "update_health_monitor", {"name": "hm-api", "receive_timeout": 30})
    assert bad.pending_action is None
    assert "receive_timeout" in told(fake)["error"]


async def test_delete_health_monitor_refuses_one_in_use(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    await env.ops.healthmonitors.create(HealthMonitorCreate(name="hm-spare", type="ping"))
    operator = await ask(env, fake, "delete_health_monitor", {"name": "hm-spare"})
    assert operator.pending_action is None  # a destructive change is for admins
    assert "Not allowed" in told(fake)["error"]
    reply = await ask(env, fake, "delete_health_monitor", {"name": "hm-spare"}, user=ADMIN)
    action = reply.pending_action
    assert action is not None
    assert action.risk is Risk.DESTRUCTIVE
    assert action.summary == "Delete health monitor hm-spare (tenant admin)"
    assert action.diff == [
        "- health monitor: hm-spare (ping, every 10s, down after 2 failed)",
        "  used by: no pools",
    ]
    assert await env.ops.client.get_by_name("healthmonitor", "hm-spare") is not None
    await confirm(env, action.id, user=ADMIN)
    assert await env.ops.client.get_by_name("healthmonitor", "hm-spare") is None

    pools = await env.ops.client.list_all("pool", params={"include_name": True})
    in_use = next(
        ref.rsplit("#", 1)[1]
        for p in pools
        for ref in p.get("health_monitor_refs") or []
        if "#System-" not in ref
    )
    users = await env.ops.healthmonitors.used_by(in_use)
    refused = await ask(env, fake, "delete_health_monitor", {"name": in_use}, user=ADMIN)
    assert refused.pending_action is None
    error = told(fake)
    assert f"used by {len(users)} pool(s): {users[0]}" in error["error"]
    assert "pools" in error["hint"]
    assert await env.ops.client.get_by_name("healthmonitor", in_use) is not None

    system = await ask(env, fake, "delete_health_monitor", {"name": "System-HTTP"}, user=ADMIN)
    assert system.pending_action is None
    assert "system default" in told(fake)["error"]


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("update_health_monitor", {"name": "ghost-hm", "send_interval": 20}),
        ("delete_health_monitor", {"name": "ghost-hm"}),
    ],
)
async def test_missing_monitor_is_refused_before_anything_is_pending(
    make: MakeAgent, fake: FakeOllama, tool: str, args: dict[str, Any]
) -> None:
    env = await make(fake.url)
    reply = await ask(env, fake, tool, args, user=ADMIN)
    assert reply.pending_action is None
    error = told(fake)
    assert "ghost-hm" in error["error"]
    assert "list_health_monitors" in error["hint"]


async def test_plans_read_the_controller_and_refuse_bad_values(ops: AviOperations) -> None:
    from bot.tools import ToolError

    with pytest.raises(ToolError, match="receive_timeout"):
        await plan(ops, "create_health_monitor", name="hm-x", send_interval=3, receive_timeout=4)
    with pytest.raises(ToolError, match="only to HTTP"):
        await plan(ops, "create_health_monitor", name="hm-x", type="tcp", http_request="GET / HTTP/1.0")
    with pytest.raises(ValidationError, match="unknown type"):
        CATALOGUE.get("create_health_monitor").args.model_validate({"name": "x", "type": "dns"})  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="response code"):
        CATALOGUE.get("create_health_monitor").args.model_validate({"name": "x", "response_codes": "ok"})  # type: ignore[union-attr]
    p = await plan(ops, "create_health_monitor", name="hm-x", type="tcp", port=5432)
    assert p.diff[-1] == "+ port: 5432"
    assert not any("http" in line for line in p.diff)


async def test_viewers_may_not_change_monitors(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    reply = await ask(env, fake, "create_health_monitor", {"name": "hm-viewer"}, user=VIEWER)
    catalogue = {t.name: t for t in env.agent.catalogue.all()}
    offered = {t["function"]["name"] for t in fake.chat_requests[0].get("tools") or []}
    assert all(catalogue[n].risk is Risk.READ for n in offered), offered
    assert reply.pending_action is None
    assert "Not allowed" in told(fake)["error"]
    assert await env.ops.client.get_by_name("healthmonitor", "hm-viewer") is None

    # an admin's pending delete cannot be confirmed by a viewer (nor an operator) either
    await env.ops.healthmonitors.create(HealthMonitorCreate(name="hm-keep", type="tcp"))
    pending = await ask(env, fake, "delete_health_monitor", {"name": "hm-keep"}, user=ADMIN)
    assert pending.pending_action is not None
    for who in (VIEWER, OPERATOR):
        result = await env.agent.confirm(pending.pending_action.id, env.inbound("confirm", user=who))
        assert result.outcome is Outcome.REFUSED, who
    assert await env.ops.client.get_by_name("healthmonitor", "hm-keep") is not None
    ok = await env.agent.confirm(pending.pending_action.id, env.inbound("confirm", user=ADMIN))
    assert ok.outcome is Outcome.DONE
    assert await env.ops.client.get_by_name("healthmonitor", "hm-keep") is None


async def test_after_a_lost_reply_verify_reads_the_monitor_back(ops: AviOperations) -> None:
    """Each write's `verify` says from the controller whether the planned change is there."""
    ctx = context(ops)

    def tool_and_args(tool_name: str, /, **kwargs: Any) -> tuple[Any, Any]:
        tool = CATALOGUE.get(tool_name)
        assert tool is not None
        assert tool.verify is not None
        return tool, tool.args.model_validate(kwargs)

    create, create_args = tool_and_args("create_health_monitor", name="hm-lost", type="tcp")
    assert await create.verify(ctx, create_args) is False
    await create.run(ctx, create_args)
    assert await create.verify(ctx, create_args) is True

    update, update_args = tool_and_args("update_health_monitor", name="hm-lost", send_interval=25, port=99)
    assert await update.verify(ctx, update_args) is False
    await update.run(ctx, update_args)
    assert await update.verify(ctx, update_args) is True
    shown = await update.readback(ctx, update_args)
    assert (shown.data["interval_s"], shown.data["port"]) == (25, 99)

    delete, delete_args = tool_and_args("delete_health_monitor", name="hm-lost")
    assert await delete.verify(ctx, delete_args) is False
    await delete.run(ctx, delete_args)
    assert await delete.verify(ctx, delete_args) is True
