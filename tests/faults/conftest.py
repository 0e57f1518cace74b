"""Fixtures of the fault suite: a redis-server of the test's own (to kill, restart, stall and fill)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_process import RedisProcess


@pytest.fixture
def redis_proc() -> Iterator[RedisProcess]:
    proc = RedisProcess()
    proc.start()
    yield proc
    proc.close()
