"""Two controllers for one bot, for the tests of issue 17: the runtime built from a config file the
way `avibot serve` builds it, and uncached reads of each simulator for the checks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from avi.operations import AviOperations
from avibot.config import load_settings
from avibot.factory import Runtime, build_runtime
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim, ops_for


def entry(name: str, url: str, password_env: str, **extra: Any) -> dict[str, Any]:
    """One `controllers:` entry for a simulator, its password in `password_env`."""
    return {"name": name, "host": url, "username": SIM_USERNAME, "password_env": password_env, **extra}


def set_passwords(
    monkeypatch: pytest.MonkeyPatch, *variables: str, clear: tuple[str, ...] = ("AVI_",)
) -> None:
    """The simulators' password in each of `variables`; the environment's `clear` variables gone (an
    AVI_HOST would add a controller named default)."""
    for name in [n for n in os.environ if n.startswith(clear)]:
        monkeypatch.delenv(name)
    for variable in variables:
        monkeypatch.setenv(variable, SIM_PASSWORD)


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
