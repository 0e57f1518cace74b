"""A channel's mounting context over a test agent: the real `Turns` with Redis de-dup and ordering."""

from __future__ import annotations

from adapters.base import PlatformContext, ServiceInfo
from bot.alerts.service import AlertService
from bot.dedup import channel_guards
from bot.turns import Turns
from tests.support.agent_env import AgentEnv

PREFIX = "t:"


def channel_context(
    env: AgentEnv, *, prefix: str = PREFIX, alerts: AlertService | None = None
) -> PlatformContext:
    """What the server hands a channel, over `env`'s agent and its Redis (shared across "replicas");
    with `alerts`, the platform registers its alert poster there."""
    deduper, locks = channel_guards(env.redis, prefix=prefix, ttl_seconds=3600)
    turns = Turns(env.agent, deduper=deduper, locks=locks, alerts=alerts)
    info = ServiceInfo(controller=env.agent.controller, llm_mode="", store="redis")
    return PlatformContext(turns=turns, info=info, redis=env.redis, prefix=prefix)
