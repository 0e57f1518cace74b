"""An agent wired to real parts for tests: the simulator over HTTP, a real redis-server, the fake Ollama."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from avi.operations import AviOperations
from bot.agent import Agent, AgentSettings
from bot.audit import RedisAuditLog
from bot.history import RedisConversationStore
from bot.pending import RedisPendingStore
from bot.permissions import AccessSettings
from bot.tools import build_catalogue
from bot.types import Inbound, Reply, Role, User
from llm.client import OllamaChat
from llm.settings import LLMSettings

OPERATOR = User(id="U-op", name="olivia")
ADMIN = User(id="U-admin", name="adam")
VIEWER = User(id="U-view", name="victor")
ACCESS = AccessSettings(
    default_role=Role.VIEWER,
    users={"slack:U-op": Role.OPERATOR, "slack:U-admin": Role.ADMIN},
)


@dataclass
class AgentEnv:
    agent: Agent
    ops: AviOperations
    redis: aioredis.Redis

    def inbound(self, text: str, user: User = OPERATOR, key: str = "slack:T1:C1:100.1") -> Inbound:
        return Inbound(platform="slack", conversation_key=key, channel="C1", user=user, text=text)

    async def handle(self, inbound: Inbound) -> Reply:
        """The agent's Reply for one message (tests of outcomes call `agent.handle` itself)."""
        return (await self.agent.handle(inbound)).reply

    async def confirm(self, action_id: str, inbound: Inbound) -> Reply:
        return (await self.agent.confirm(action_id, inbound)).reply


MakeAgent = Callable[..., Awaitable[AgentEnv]]


@asynccontextmanager
async def agent_factory(redis_url: str, ops: AviOperations) -> AsyncIterator[MakeAgent]:
    """`await make(llm_url=..., num_ctx=..., access=..., **agent_settings)`: one more replica."""
    clients: list[aioredis.Redis] = []
    llms: list[OllamaChat] = []

    async def make(
        llm_url: str | None = None,
        *,
        num_ctx: int = 8192,
        access: AccessSettings = ACCESS,
        llm_timeout: float = 10.0,
        controller: str | None = None,
        **settings: Any,
    ) -> AgentEnv:
        redis = aioredis.from_url(redis_url, decode_responses=True)
        clients.append(redis)
        llm = None
        if llm_url is not None:
            llm = OllamaChat(
                LLMSettings(host=llm_url, model="llama3.1:8b", num_ctx=num_ctx, timeout=llm_timeout)
            )
            llms.append(llm)
        agent = Agent(
            ops=ops,
            catalogue=build_catalogue(),
            history=RedisConversationStore(redis, prefix="t:"),
            pending=RedisPendingStore(redis, prefix="t:"),
            audit=RedisAuditLog(redis, prefix="t:"),
            access=access,
            llm=llm,
            num_ctx=num_ctx,
            default_tenant="admin",
            settings=AgentSettings(**settings),
            controller=ops.client.settings.host if controller is None else controller,
        )
        return AgentEnv(agent=agent, ops=ops, redis=redis)

    try:
        yield make
    finally:
        for llm in llms:
            await llm.aclose()
        for client in clients:
            await client.aclose()
