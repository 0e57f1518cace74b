"""The composition root: build the agent from settings, the only place that knows every concrete part.

`build_runtime` wires the controller client (or an in-process simulator for `--demo`), the stores
(Redis when `REDIS_URL` is set, in-process otherwise), the language model when Ollama answers, and
the agent; `Runtime.aclose` undoes it all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from avi.simulator import SimulatorConfig, create_app
from avibot.config import Settings
from bot.agent import Agent
from bot.audit import MemoryAuditLog, RedisAuditLog
from bot.dedup import channel_guards
from bot.events import Observers
from bot.history import MemoryConversationStore, RedisConversationStore
from bot.pending import MemoryPendingStore, RedisPendingStore
from bot.tools import build_catalogue
from bot.turns import Turns
from llm.client import OllamaChat
from llm.errors import LLMError

log = logging.getLogger("avibot")

DEMO_OBJECTS = 120
PROBE_SECONDS = 5.0
DEDUP_SECONDS = 3600  # how long a platform's event id is remembered (Slack retries within minutes)


@dataclass
class Runtime:
    """A built agent, the turn entry the channels use, and what needs closing at the end."""

    agent: Agent
    turns: Turns
    observers: Observers
    client: AviClient
    controller: str
    llm_mode: str
    store: str
    redis: Any = None  # the shared redis.asyncio client when REDIS_URL is set (channels de-dup with it)
    stack: AsyncExitStack = field(repr=False, default_factory=AsyncExitStack)

    @property
    def mode(self) -> str:
        return "llm" if self.agent.llm is not None else "command"

    async def aclose(self) -> None:
        await self.stack.aclose()


async def start_demo_controller(stack: AsyncExitStack, objects: int = DEMO_OBJECTS) -> AviSettings:
    """A simulator in this process on a free loopback port, with a throwaway password."""
    password = secrets.token_urlsafe(12)
    app = create_app(SimulatorConfig(objects=objects, seed=1, password=password))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return AviSettings(host=f"http://127.0.0.1:{port}", username="admin", password=password)


async def probe_llm(llm: OllamaChat) -> tuple[bool, str, str]:
    """Whether the configured model can serve tool calls; the banner line; why not (for replies)."""
    try:
        check = await asyncio.wait_for(llm.validate_model(None), PROBE_SECONDS)
    except TimeoutError:
        why = f"Ollama at {llm.host} did not answer within {PROBE_SECONDS:g} s"
    except LLMError as exc:
        why = exc.message.rstrip(".")
    else:
        if check.ok:
            return True, f"LLM {llm.model} at {llm.host}", ""
        why = " ".join(filter(None, (check.message.rstrip("."), check.hint))).rstrip(".")
    return False, f"command mode ({why})", why


async def build_runtime(settings: Settings, *, demo: bool = False, use_llm: bool = True) -> Runtime:
    stack = AsyncExitStack()
    try:
        if demo:
            avi_settings = await start_demo_controller(stack)
            controller = f"demo simulator at {avi_settings.base_url}"
        else:
            avi_settings = settings.require_avi()
            controller = avi_settings.base_url
        client = AviClient(avi_settings)
        stack.push_async_callback(client.aclose)

        shared: Any = None
        if settings.redis.url:
            import redis.asyncio as aioredis

            shared = aioredis.from_url(settings.redis.url, decode_responses=True)
            stack.push_async_callback(shared.aclose)
            prefix = settings.redis.prefix
            history = RedisConversationStore(
                shared, max_messages=settings.history.max_messages, ttl_seconds=settings.history.ttl_seconds,
                prefix=prefix,
            )  # fmt: skip
            pending = RedisPendingStore(
                shared, prefix=prefix, tombstone_ttl_seconds=settings.agent.pending_ttl_seconds
            )
            audit = RedisAuditLog(shared, prefix=prefix)
            store = "redis"
        else:
            history = MemoryConversationStore(
                max_messages=settings.history.max_messages, ttl_seconds=settings.history.ttl_seconds
            )
            pending = MemoryPendingStore(tombstone_ttl_seconds=settings.agent.pending_ttl_seconds)
            audit = MemoryAuditLog()
            store = "in-process (set REDIS_URL to share state across replicas)"

        llm: OllamaChat | None = None
        llm_mode, offline_reason = "command mode (--no-llm)", "the language model is switched off"
        if use_llm:
            candidate = OllamaChat(settings.llm)
            stack.push_async_callback(candidate.aclose)
            ok, llm_mode, offline_reason = await probe_llm(candidate)
            llm = candidate if ok else None

        observers = Observers()
        agent = Agent(
            ops=AviOperations(client),
            catalogue=build_catalogue(),
            history=history,
            pending=pending,
            audit=audit,
            access=settings.access,
            llm=llm,
            num_ctx=settings.llm.num_ctx,
            default_tenant=avi_settings.tenant,
            settings=settings.agent,
            offline_reason=offline_reason,
            observers=observers,
            controller=controller,
        )
        deduper, locks = channel_guards(shared, prefix=settings.redis.prefix, ttl_seconds=DEDUP_SECONDS)
        return Runtime(
            agent=agent,
            turns=Turns(agent, deduper=deduper, locks=locks, observers=observers),
            observers=observers,
            client=client,
            controller=controller,
            llm_mode=llm_mode,
            store=store,
            redis=shared,
            stack=stack,
        )
    except BaseException:
        await stack.aclose()
        raise
