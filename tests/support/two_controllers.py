"""Two controllers for one bot, for the tests of issue 17: the runtime built from a config file the
way `avibot serve` builds it, and uncached reads of each simulator for the checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from avi.operations import AviOperations
from avibot.config import load_settings
from avibot.factory import Runtime, build_runtime
from tests.conftest import RunningSim, ops_for


@asynccontextmanager
async def built(
    a: RunningSim, b: RunningSim, config: Path, use_llm: bool = False
) -> AsyncIterator[tuple[Runtime, AviOperations, AviOperations]]:
    runtime = await build_runtime(load_settings(config), use_llm=use_llm)
    ops_a, ops_b = ops_for(a, cache_seconds=0), ops_for(b, cache_seconds=0)
    try:
        yield runtime, ops_a, ops_b
    finally:
        await runtime.aclose()
        await ops_a.client.aclose()
        await ops_b.client.aclose()
