"""Teams: table columns sized to their content, "Show more" (Action.Submit with the next page, run
through the core as the clicker, answered in the conversation), and the card a settled confirmation
becomes (one outcome line, no buttons, no "Expires" line, the plan not repeated). Cards checked by
the structural Adaptive Card 1.5 validator of test_cards.py; HTTP through the real botbuilder adapter
against the local Bot Framework connector."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.teams import cards
from adapters.teams.bot import BROKEN_MORE
from avi.operations import AviOperations
from bot.types import MoreRows, Reply, TablePart
from tests.adapters.teams.test_cards import validate_card
from tests.adapters.teams.test_http import (
    CHANNEL_THREAD,
    EMULATOR,
    OPERATOR,
    TeamsEnv,
    _walk,
    activity,
    execute,
    pending_card,
    teams_env,
    text_of,
)

KEY = f"teams:{CHANNEL_THREAD}"


@pytest.fixture
async def t(redis_url: str, redis_client: aioredis.Redis, ops: AviOperations) -> AsyncIterator[TeamsEnv]:
    async with teams_env(redis_url, ops, EMULATOR) as env:
        yield env


STALE = ("Expires", "type `confirm", "Confirm this change", "Action.Execute", "Action.Submit")


def test_columns_are_weighted_by_their_content_within_bounds() -> None:
    part = TablePart(
        columns=["Name", "Enabled", "Notes"],
        rows=[["vs-payments-eu-west-1", "yes", "x" * 500], ["vs-a", "no", "short"]],
    )
    content = cards.render_reply(Reply(parts=[part]))
    validate_card(content)
    [table] = [e for e in content["body"] if e["type"] == "Table"]
    widths = [c["width"] for c in table["columns"]]
    assert widths == [len("vs-payments-eu-west-1"), len("Enabled"), cards.MAX_WEIGHT]
    assert all(isinstance(w, int) and cards.MIN_WEIGHT <= w <= cards.MAX_WEIGHT for w in widths)
    tiny = cards.column_weights(["#"], [["1"]])
    assert tiny == [cards.MIN_WEIGHT]


def test_a_table_with_a_next_page_has_a_show_more_submit() -> None:
    more = MoreRows(tool="list_virtual_services", arguments={"page": 2}, label="Show 5 more")
    part = TablePart(columns=["Name"], rows=[["a"]], total=6, more=more)
    content = cards.render_reply(Reply(parts=[part], conversation_key=KEY))
    validate_card(content)
    [button] = [a for e in _walk(content["body"]) if e["type"] == "ActionSet" for a in e["actions"]]
    assert button["type"] == "Action.Submit"
    assert button["title"] == "Show 5 more"
    assert button["data"] == {"avibot": "more", "k": KEY, "m": more.model_dump(mode="json")}


async def first_page(t: TeamsEnv) -> dict[str, Any]:
    await t.say("vs list limit 5")
    content = await t.connector.wait_for(
        lambda: next((c for c in t.cards_in(CHANNEL_THREAD) if '"avibot": "more"' in text_of(c)), None)
    )
    validate_card(content)
    return next(
        a
        for e in _walk(content["body"])
        if e["type"] == "ActionSet"
        for a in e["actions"]
        if a["data"].get("avibot") == "more"
    )


def names_in(content: dict[str, Any]) -> list[str]:
    [table] = [e for e in content["body"] if e["type"] == "Table"]
    return [r["cells"][0]["items"][0]["text"] for r in table["rows"][1:]]


async def test_show_more_answers_the_next_page_in_the_conversation(t: TeamsEnv) -> None:
    button = await first_page(t)
    [first] = t.cards_in(CHANNEL_THREAD)
    resp = await t.post(activity(service_url=t.connector.url, mention=False, value=button["data"]))
    assert resp.status in (200, 201)
    cards_now = await t.connector.wait_for(
        lambda: len(t.cards_in(CHANNEL_THREAD)) == 2 and t.cards_in(CHANNEL_THREAD)
    )
    second = cards_now[1]
    validate_card(second)
    assert names_in(second)
    assert not set(names_in(second)) & set(names_in(first))  # the next page, not the first again


async def test_a_damaged_show_more_gets_one_line(t: TeamsEnv) -> None:
    button = await first_page(t)
    damaged = {**button["data"], "m": {"arguments": "not a dict"}}
    await t.post(activity(service_url=t.connector.url, mention=False, value=damaged))
    cards_now = await t.connector.wait_for(
        lambda: len(t.cards_in(CHANNEL_THREAD)) == 2 and t.cards_in(CHANNEL_THREAD)
    )
    refusal = cards_now[1]
    validate_card(refusal)
    assert [e["type"] for e in refusal["body"]] == ["TextBlock"]
    assert BROKEN_MORE in refusal["body"][0]["text"]


async def test_a_confirmed_card_is_replaced_by_one_outcome_line(t: TeamsEnv) -> None:
    name, card_id, confirm, _ = await pending_card(t)
    resp = await t.post(execute(t, confirm, card_id, OPERATOR))
    body = await resp.json()
    [put] = await t.connector.wait_for(t.connector.updates)
    for content in (body["value"], put.body["attachments"][0]["content"]):
        validate_card(content)
        shown = json.dumps(content, ensure_ascii=False)
        assert not [word for word in STALE if word in shown], shown
        assert content["body"][0]["text"] == f"✅ Done: Disabled virtual service {name}. · Confirmed by op"
        assert shown.count("Done: ") == 1
        assert f"Disable virtual service {name}" not in shown  # the plan, not repeated beside its result
