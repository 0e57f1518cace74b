"""Slack and Teams show how a confirmed write really ended, in place of the buttons: a write the
controller refused is "failed", one whose reply was lost and cannot be read back is "unknown" with what
to check. The controller sits behind the fault proxy (tests/support/fault_proxy.py); the platforms are
their real client libraries against the local fakes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from adapters.slack import blocks as bk
from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from tests.adapters.slack.harness import OPERATOR, all_text, pending_message, slack_env
from tests.adapters.teams.test_http import EMULATOR, execute, pending_card, teams_env
from tests.adapters.teams.test_http import OPERATOR as TEAMS_OPERATOR
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim
from tests.support.fault_proxy import FaultProxy


@pytest.fixture
async def proxy(sim: RunningSim) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(sim.url) as running:
        yield running


@pytest.fixture
async def ops(proxy: FaultProxy) -> AsyncIterator[AviOperations]:
    """The bot's controller client, through the proxy (1 s timeout, no read cache)."""
    settings = AviSettings(
        host=proxy.url, username=SIM_USERNAME, password=SecretStr(SIM_PASSWORD), timeout=1.0, cache_seconds=0
    )
    ops = AviOperations(AviClient(settings, retry_backoff=0.01))
    yield ops
    await ops.client.aclose()


def refuse_the_write(proxy: FaultProxy) -> None:
    proxy.answer("PATCH", "/api/virtualservice/", status=503)


def lose_reply_and_read_back(proxy: FaultProxy) -> None:
    proxy.drop("PATCH", "/api/virtualservice/")
    proxy.answer("GET", "/api/virtualservice-inventory", status=503, times=100)


CASES = [
    pytest.param(refuse_the_write, ":warning:", "⚠", "was not applied", id="failed"),
    pytest.param(lose_reply_and_read_back, ":grey_question:", "❔", "before trying again", id="unknown"),
]


@pytest.mark.parametrize(("fault", "slack_icon", "_teams_icon", "says"), CASES)
async def test_slack_shows_the_real_outcome_in_place_of_the_buttons(
    proxy: FaultProxy, ops: AviOperations, redis_url: str, redis_client: aioredis.Redis,
    fault: Any, slack_icon: str, _teams_icon: str, says: str,
) -> None:  # fmt: skip
    async with slack_env(redis_url, ops) as s:
        name, msg, confirm, _ = await pending_message(s)
        fault(proxy)
        await s.click(confirm, msg, user=OPERATOR)
        await s.slack.wait_for(lambda: not bk.has_confirmation(s.slack.messages[msg["ts"]]["blocks"]), 15)
        text = all_text(s.slack.messages[msg["ts"]]["blocks"])
        assert slack_icon in text, text
        assert says in text, text
        assert name in text
        assert ":white_check_mark:" not in text


@pytest.mark.parametrize(("fault", "_slack_icon", "teams_icon", "says"), CASES)
async def test_teams_shows_the_real_outcome_in_place_of_the_buttons(
    proxy: FaultProxy, ops: AviOperations, redis_url: str, redis_client: aioredis.Redis,
    fault: Any, _slack_icon: str, teams_icon: str, says: str,
) -> None:  # fmt: skip
    async with teams_env(redis_url, ops, EMULATOR) as t:
        name, card_id, confirm, _ = await pending_card(t)
        fault(proxy)
        resp = await t.post(execute(t, confirm, card_id, TEAMS_OPERATOR))
        content = (await resp.json())["value"]
        shown = json.dumps(content, ensure_ascii=False)
        assert content["body"][0]["text"].startswith(teams_icon), shown
        assert says in shown, shown
        assert name in shown
        assert "Action.Execute" not in shown
