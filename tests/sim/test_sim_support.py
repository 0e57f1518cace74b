"""Shared helpers for the simulator tests (no tests here): log in over real HTTP with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim

VERSION = "30.2.1"


@asynccontextmanager
async def client(sim: RunningSim, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10, **kwargs) as c:
        yield c


async def login(c: httpx.AsyncClient, tenant: str | None = None) -> dict[str, str]:
    """Log in with the form body the SDK sends; returns the headers later calls need."""
    r = await c.post("/login", data={"username": SIM_USERNAME, "password": SIM_PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"X-CSRFToken": r.cookies["csrftoken"], "X-Avi-Version": VERSION, "Referer": str(c.base_url)}
    if tenant:
        headers["X-Avi-Tenant"] = tenant
    return headers


@asynccontextmanager
async def session(
    sim: RunningSim, tenant: str | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    async with client(sim) as c:
        yield c, await login(c, tenant)


async def get_all(
    c: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every object of a collection, following `next`."""
    out: list[dict[str, Any]] = []
    r = await c.get(path, headers=headers, params={"page_size": 200, **params})
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["results"]
        if "next" not in body:
            return out
        r = await c.get(body["next"], headers=headers)


async def first(c: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = await c.get(path, headers=headers, params={"page_size": 1, **params})
    assert r.status_code == 200, r.text
    return r.json()["results"][0]
