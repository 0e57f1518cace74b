"""A read tool's failure is shown to the person as an error part, whatever the model says about it:
with the controller down, "Two pools are unhealthy." must not stand alone."""

from __future__ import annotations

import redis.asyncio as aioredis

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from bot.types import ErrorPart, TablePart
from tests.support.agent_env import agent_factory
from tests.support.fakes.ollama_server import Reply, running_fake_ollama


async def test_the_controller_being_down_is_shown_whatever_the_model_says(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    down = AviOperations(
        AviClient(AviSettings(host="http://127.0.0.1:9", username="u", password="p"), retry_backoff=0.01)
    )
    async with running_fake_ollama() as fake, agent_factory(redis_url, down) as make:
        env = await make(fake.url)
        fake.script(Reply.call("list_unhealthy_pools", {}), Reply.say("Two pools are unhealthy."))
        reply = await env.handle(env.inbound("which pools are unhealthy?"))
    errors = [p for p in reply.parts if isinstance(p, ErrorPart)]
    assert reply.parts[0].markdown == "Two pools are unhealthy."  # type: ignore[union-attr]
    assert len(errors) == 1
    assert "unreachable" in errors[0].message
    assert errors[0].hint
    await down.client.aclose()


async def test_a_failure_the_model_corrected_is_not_shown(
    redis_url: str, redis_client: aioredis.Redis, ops: AviOperations
) -> None:
    pools = await ops.pools.list()
    async with running_fake_ollama() as fake, agent_factory(redis_url, ops) as make:
        env = await make(fake.url)
        fake.script(
            Reply.call("get_pool", {"name": "no-such-pool"}),
            Reply.call("get_pool", {"name": pools[0].name}),
            Reply.say("Here it is."),
        )
        reply = await env.handle(env.inbound("show me the pool"))
    assert not [p for p in reply.parts if isinstance(p, ErrorPart)]
    assert reply.parts[0].markdown == "Here it is."  # type: ignore[union-attr]
    assert not any(isinstance(p, TablePart) and "no-such-pool" in str(p) for p in reply.parts)
