"""Alert tests read the controller with the client's short read cache off (`cache_seconds=0`): they
change the simulator directly between polls a few milliseconds apart, which a real poller (every
30 s) never does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from avi.operations import AviOperations
from tests.alerts.helpers import uncached_ops  # noqa: F401 (the `ops` fixture)
from tests.conftest import RunningSim, ops_for


@pytest.fixture
async def replicas(sim: RunningSim) -> AsyncIterator[tuple[AviOperations, AviOperations]]:
    """Two controller clients, as two bot replicas would have."""
    a, b = ops_for(sim, cache_seconds=0), ops_for(sim, cache_seconds=0)
    yield a, b
    await a.client.aclose()
    await b.client.aclose()
