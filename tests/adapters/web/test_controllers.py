"""The web platform with several controllers: `GET /api/controllers`, `controller` on a chat message
(the JSON API and the page's form), and the header's picker; with one controller nothing changes.

Two simulators (different seeds, so different names), the real server app and a real redis-server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.web import harness
from tests.adapters.web.two_controllers import Served, passwords, serving, write_config
from tests.conftest import RunningSim, StartSim

__all__ = ["passwords"]  # the fixture, used by every test here


@pytest.fixture
async def two(start_sim: StartSim, redis_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    a, b = await start_sim(seed=7), await start_sim(seed=8)
    async with serving(write_config(tmp_path / "c.yaml", a.url, b.url, redis_url), a, b) as served:
        yield served


async def chat(served: Served, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    resp = await served.client.post("/api/chat", json=body, headers=await served.admin())
    assert resp.status == status, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


def table_names(answer: dict[str, Any]) -> set[str]:
    table = next(p for p in answer["parts"] if p["kind"] == "table")
    index = table["columns"].index("Name")
    return {row[index] for row in table["rows"]}


async def test_the_controllers_and_the_current_one(two: Served) -> None:
    resp = await two.client.get("/api/controllers")
    assert resp.status == 200
    body = await resp.json()
    assert [(c["name"], c["label"]) for c in body["controllers"]] == [("a", ""), ("b", "Staging")]
    assert all(c["address"].startswith("http://127.0.0.1:") for c in body["controllers"])
    assert body["current"] == "a"
    assert body["several"] is True
    assert "password" not in await resp.text()
    spec = await (await two.client.get("/api/openapi.json")).json()
    assert "/api/controllers" in spec["paths"]
    assert "controller" in spec["components"]["schemas"]["ChatRequest"]["properties"]


async def test_a_chat_message_asks_the_controller_it_names_and_stays_there(two: Served) -> None:
    only_b = await two.names(two.ops_b) - await two.names(two.ops_a)
    answer = await chat(two, {"message": "vs list", "conversation_id": "c1", "controller": "b"})
    names = table_names(answer)
    assert names <= await two.names(two.ops_b)
    assert names & only_b
    current = await (await two.client.get("/api/controllers", params={"conversation_id": "c1"})).json()
    assert current["current"] == "b"
    assert table_names(await chat(two, {"message": "vs list", "conversation_id": "c1"})) & only_b
    page = await (await two.client.get("/api/controllers")).json()
    assert page["current"] == "a"  # the page's conversation is another one


async def test_a_controller_name_is_checked(two: Served) -> None:
    too_long = await chat(two, {"message": "vs list", "controller": "x" * 65}, status=400)
    assert too_long["field"] == "controller"
    unknown = await chat(two, {"message": "vs list", "controller": "zz"})
    assert "zz" in unknown["text"]
    assert not any(p["kind"] == "table" for p in unknown["parts"])


async def test_the_page_header_shows_a_picker_and_the_form_carries_the_pick(two: Served) -> None:
    html = await (await two.client.get("/")).text()
    assert 'id="controller-select"' in html
    assert re.search(r'<option value="a" selected>a</option>', html)
    assert '<option value="b">b · Staging</option>' in html
    assert 'id="controller-choice"' in html
    headers = await two.admin()
    form = {"message": "vs list", "controller": "b"}
    pending = await two.client.post("/htmx/chat", data=form, headers=headers)
    assert pending.status == 200
    assert "/htmx/stream/" in (text := await pending.text())
    assert "?controller=b" in text
    refused = await two.client.post("/htmx/chat", data={**form, "controller": "b" * 65}, headers=headers)
    assert refused.status == 400
    fragment = await (await two.client.get("/htmx/controller")).text()
    assert 'id="controller-select"' in fragment


async def test_one_controller_looks_as_before(sim: RunningSim, redis_url: str) -> None:
    async with harness.serving(sim, redis_url) as served:
        body = await (await served.client.get("/api/controllers")).json()
        assert body["several"] is False
        assert [c["name"] for c in body["controllers"]] == ["default"]
        assert body["current"] == "default"
        html = await (await served.client.get("/")).text()
        assert "controller-select" not in html
        assert "controller-choice" not in html
        assert '<span class="label">Controller</span> <code class="controller"' in html
