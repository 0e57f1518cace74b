"""update_virtual_service's SSL, certificate, profile and pool changes against the simulator over HTTP:
names become refs (or an error naming the close ones), the diff shows only what changes, Confirm
changes exactly that (every other field of each service port kept), no-ops and viewers are refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from avi.models import VirtualServiceSummary, ref_name
from avi.operations import AviOperations, VirtualServiceUpdate
from avi.operations.virtualservices import with_ssl_ports
from bot.tools import ToolError
from bot.types import ConfirmationPart, Outcome, Risk
from tests.support.agent_env import OPERATOR, VIEWER, AgentEnv, MakeAgent, agent_factory
from tests.support.fakes.ollama_server import FakeOllama, Reply, running_fake_ollama
from tests.support.tools_helpers import CATALOGUE, call, context, plan


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running_fake_ollama() as server:
        yield server


@pytest.fixture
async def make(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    async with agent_factory(redis_url, ops) as factory:
        yield factory


async def ask(env: AgentEnv, fake: FakeOllama, args: dict[str, Any], user: Any = OPERATOR) -> Any:
    fake.script(Reply.call("update_virtual_service", args), Reply.say("Please confirm."))
    return await env.handle(env.inbound("please run update_virtual_service", user=user))


def told(fake: FakeOllama) -> dict[str, Any]:
    return json.loads(fake.chat_requests[-1]["messages"][-1]["content"])  # type: ignore[no-any-return]


async def plain_http_vs(ops: AviOperations) -> VirtualServiceSummary:
    """An HTTP virtual service on port 80 only, with a pool."""
    return next(
        v
        for v in await ops.virtualservices.list()
        if [s.port for s in v.services] == [80] and not v.services[0].enable_ssl and v.pool
    )


async def ssl_vs(ops: AviOperations) -> VirtualServiceSummary:
    return next(v for v in await ops.virtualservices.list() if any(s.enable_ssl for s in v.services))


def test_update_virtual_service_has_the_new_fields_and_lost_reply_handlers() -> None:
    tool = CATALOGUE.get("update_virtual_service")
    assert tool is not None
    assert tool.risk is Risk.WRITE
    assert set(tool.args.model_fields) == {
        "name",
        "enabled",
        "description",
        "pool",
        "application_profile",
        "ssl_port",
        "certificate",
        "ssl_profile",
    }
    assert all(x is not None for x in (tool.plan, tool.verify, tool.readback, tool.target))


async def test_enable_ssl_with_a_certificate_is_pending_until_confirmed(
    make: MakeAgent, fake: FakeOllama
) -> None:
    env = await make(fake.url)
    vs = await plain_http_vs(env.ops)
    before = await env.ops.virtualservices.get(vs.name)
    assert "ssl_profile_ref" not in before.config
    change = {
        "name": vs.name,
        "ssl_port": "443",
        "certificate": "shop-cert-001",
        "application_profile": "system-secure-http",  # any case: the diff shows the controller's name
    }
    reply = await ask(env, fake, change)
    action = reply.pending_action
    assert action is not None
    assert action.summary == (
        f"Change application_profile, services, certificate, ssl_profile of virtual service {vs.name} "
        "(tenant admin)"
    )
    assert action.diff == [
        "- application_profile: System-HTTP",
        "+ application_profile: System-Secure-HTTP",
        "- services: 80",
        "+ services: 80, 443(ssl)",
        "- certificate: (none)",
        "+ certificate: shop-cert-001",
        "- ssl_profile: (none)",
        "+ ssl_profile: System-Standard",
    ]
    assert isinstance(reply.parts[-1], ConfirmationPart)
    unchanged = await env.ops.virtualservices.get(vs.name)
    assert unchanged.config["_last_modified"] == before.config["_last_modified"]

    done = await env.agent.confirm(action.id, env.inbound("confirm", user=OPERATOR))
    assert done.outcome is Outcome.DONE, done.reply.text
    after = await env.ops.virtualservices.get(vs.name)
    assert after.config["services"] == [
        {"port": 80, "enable_ssl": False, "port_range_end": 80},
        {"port": 443, "enable_ssl": True, "port_range_end": 443},
    ]
    assert [ref_name(r) for r in after.config["ssl_key_and_certificate_refs"]] == ["shop-cert-001"]
    assert ref_name(after.config["ssl_profile_ref"]) == "System-Standard"
    assert ref_name(after.config["application_profile_ref"]) == "System-Secure-HTTP"
    assert after.pool == before.pool
    assert after.config["description"] == before.config["description"]


async def test_ssl_on_a_port_keeps_the_other_fields_of_each_service(ops: AviOperations) -> None:
    vs = await plain_http_vs(ops)
    await ops.client.patch(
        f"/api/virtualservice/{vs.uuid}",
        {
            "replace": {
                "services": [{"port": 80, "enable_http2": True}, {"port": 8000, "port_range_end": 8010}]
            }
        },
    )
    await call(ops, "update_virtual_service", name=vs.name, ssl_port=8005, certificate="api-cert-002")
    services = (await ops.virtualservices.get(vs.name)).config["services"]
    assert services == [
        {"port": 80, "enable_http2": True, "enable_ssl": False, "port_range_end": 80},
        {"port": 8000, "port_range_end": 8010, "enable_ssl": True},
    ]
    assert with_ssl_ports([{"port": 80}], [443, 80]) == [
        {"port": 80, "enable_ssl": True},
        {"port": 443, "enable_ssl": True},
    ]
    with pytest.raises(ValueError, match="needs the virtual service"):
        VirtualServiceUpdate(ssl_ports=[443]).to_api()


async def test_changing_only_the_certificate_of_an_ssl_service(ops: AviOperations) -> None:
    vs = await ssl_vs(ops)
    detail = await ops.virtualservices.get(vs.name)
    current = [str(ref_name(r)) for r in detail.config["ssl_key_and_certificate_refs"]]
    other = next(c for c in ("auth-cert-003", "billing-cert-004") if c not in current)
    p = await plan(ops, "update_virtual_service", name=vs.name, certificate=other)
    assert p.diff == [f"- certificate: {', '.join(current)}", f"+ certificate: {other}"]  # SSL profile kept
    await call(ops, "update_virtual_service", name=vs.name, certificate=other)
    after = await ops.virtualservices.get(vs.name)
    assert [ref_name(r) for r in after.config["ssl_key_and_certificate_refs"]] == [other]
    assert after.config["services"] == detail.config["services"]
    assert after.config["ssl_profile_ref"] == detail.config["ssl_profile_ref"]


async def test_switch_pool_and_profile_by_name(ops: AviOperations) -> None:
    vs = await plain_http_vs(ops)
    other = next(p for p in await ops.pools.list() if p.name != vs.pool)
    p = await plan(
        ops, "update_virtual_service", name=vs.name, pool=other.name, application_profile="System-HTTP"
    )
    assert p.diff == [f"- pool: {vs.pool}", f"+ pool: {other.name}"]  # System-HTTP already: not shown
    result = await call(ops, "update_virtual_service", name=vs.name, pool=other.name)
    assert result.data["pool"] == other.name
    assert (await ops.virtualservices.get(vs.name)).pool == other.name


CERT_CLOSE = "no certificate named 'shop-crt'; close: shop-cert-001"
PROFILE_CLOSE = "no application profile named 'System-Secure-HTPP'; close: System-Secure-HTTP"
SSL_PROFILE_CLOSE = "no SSL profile named 'Sytem-Standard'; close: System-Standard"
WITH_CERT = {"ssl_port": 443, "certificate": "shop-cert-001"}


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        ({"certificate": "shop-crt", "ssl_port": 443}, CERT_CLOSE, "list_certificates"),
        ({"ssl_port": 443}, "SSL on port 443 of {vs} needs a certificate to present", "certificate"),
        ({"certificate": "shop-cert-001"}, "virtual service {vs} terminates SSL on no port", "ssl_port"),
        ({"application_profile": "System-Secure-HTPP"}, PROFILE_CLOSE, ""),
        ({**WITH_CERT, "ssl_profile": "Sytem-Standard"}, SSL_PROFILE_CLOSE, ""),
        ({"pool": "ghost-pool"}, "no pool named 'ghost-pool'", "list_pools"),
        ({}, "say what to change on {vs}", "ssl_port"),
    ],
)
async def test_bad_names_and_ssl_without_certificate_are_refused(
    make: MakeAgent, fake: FakeOllama, args: dict[str, Any], message: str, hint: str
) -> None:
    env = await make(fake.url)
    vs = await plain_http_vs(env.ops)
    before = (await env.ops.virtualservices.get(vs.name)).config
    reply = await ask(env, fake, {"name": vs.name, **args})
    assert reply.pending_action is None
    error = told(fake)
    assert message.format(vs=vs.name) in error["error"]
    assert hint in error["hint"]
    assert (await env.ops.virtualservices.get(vs.name)).config == before


async def test_no_op_is_said_plainly(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    vs = await ssl_vs(env.ops)
    detail = await env.ops.virtualservices.get(vs.name)
    cert = ref_name(detail.config["ssl_key_and_certificate_refs"][0])
    port = next(s.port for s in vs.services if s.enable_ssl)
    same = {
        "name": vs.name,
        "ssl_port": port,
        "certificate": cert,
        "application_profile": "System-Secure-HTTP",
    }
    with pytest.raises(ToolError) as err:
        await plan(env.ops, "update_virtual_service", **same)
    assert err.value.no_op
    assert err.value.message == f"nothing to change on {vs.name}; it already has those values"
    reply = await ask(env, fake, same)
    assert reply.pending_action is None
    assert "already has those values" in told(fake)["error"]


async def test_viewer_may_not_enable_ssl(make: MakeAgent, fake: FakeOllama) -> None:
    env = await make(fake.url)
    vs = await plain_http_vs(env.ops)
    before = (await env.ops.virtualservices.get(vs.name)).config
    reply = await ask(
        env, fake, {"name": vs.name, "ssl_port": 443, "certificate": "shop-cert-001"}, user=VIEWER
    )
    assert reply.pending_action is None
    assert "Not allowed" in told(fake)["error"]
    offered = {t["function"]["name"] for t in fake.chat_requests[0].get("tools") or []}
    assert "update_virtual_service" not in offered
    assert (await env.ops.virtualservices.get(vs.name)).config == before


async def test_after_a_lost_reply_verify_reads_the_ssl_change_back(ops: AviOperations) -> None:
    vs = await plain_http_vs(ops)
    ctx = context(ops)
    tool = CATALOGUE.get("update_virtual_service")
    assert tool is not None
    assert tool.verify is not None
    assert tool.readback is not None
    args = tool.args.model_validate(
        {
            "name": vs.name,
            "ssl_port": 443,
            "certificate": "billing-cert-004",
            "ssl_profile": "System-Standard",
        }
    )
    assert await tool.verify(ctx, args) is False
    await tool.run(ctx, args)
    assert await tool.verify(ctx, args) is True
    shown = await tool.readback(ctx, args)
    assert shown.data["vip"][0].endswith(":80,443(ssl)")
    assert (shown.data["ssl_certificates"], shown.data["ssl_profile"]) == (
        ["billing-cert-004"],
        "System-Standard",
    )
    assert tool.target is not None
    assert tool.target(args) == f"virtual service {vs.name}"
