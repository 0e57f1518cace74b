"""The `s` fixture: the Slack channel over HTTP with its fakes (tests/adapters/slack/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from avi.operations import AviOperations
from tests.adapters.slack.harness import SlackEnv, slack_env


@pytest.fixture
async def s(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[SlackEnv]:
    async with slack_env(redis_url, ops) as env:
        yield env
