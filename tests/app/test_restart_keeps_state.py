"""Without Redis, `avibot serve` keeps history, pending actions and the audit in its state directory:
a restart loses nothing (the runtime is built as `avibot serve` builds it, twice, on one directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from avi.settings import AviSettings
from avibot.config import LogSettings, RedisSettings, ServerSettings, Settings, StateSection
from avibot.factory import build_runtime
from bot.history import HistorySettings
from bot.model_loop import AgentSettings
from bot.permissions import AccessSettings
from bot.types import Inbound, Outcome, Role, User
from llm.settings import LLMSettings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim

ME = User(id="U1", name="olivia")


def settings_for(sim: RunningSim) -> Settings:
    return Settings(
        server=ServerSettings(),
        avi=AviSettings(host=sim.url, username=SIM_USERNAME, password=SIM_PASSWORD),
        llm=LLMSettings(host="http://127.0.0.1:9"),
        log=LogSettings(),
        redis=RedisSettings(),
        history=HistorySettings(),
        access=AccessSettings(users={"slack:U1": Role.OPERATOR}),
        agent=AgentSettings(),
        state=StateSection(),  # AVIBOT_STATE_DIR wins, as for `avibot serve`
    )


def ask(text: str) -> Inbound:
    return Inbound(platform="slack", conversation_key="slack:T:C:1.1", channel="C", user=ME, text=text)


async def test_a_restart_loses_nothing(
    sim: RunningSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("AVIBOT_STATE_DIR", str(state))
    first = await build_runtime(settings_for(sim), use_llm=False)
    try:
        assert first.store.startswith("SQLite at ")
        assert "several replicas need REDIS_URL" in first.store
        name = next(v.name for v in await first.agent.ops.virtualservices.list() if v.enabled)
        proposed = await first.turns.run(ask(f"vs disable {name}"))
        assert proposed.action is not None
    finally:
        await first.aclose()
    assert oct(state.stat().st_mode & 0o777) == "0o700"

    second = await build_runtime(settings_for(sim), use_llm=False)
    try:
        assert await second.turns.history("slack:T:C:1.1")  # the history survived
        done = await second.turns.settle("confirm", proposed.action.id, ask(""))
        assert done.outcome is Outcome.DONE
        again = await second.turns.settle("confirm", proposed.action.id, ask(""))
        assert again.outcome is Outcome.ALREADY_SETTLED
        entries = await second.agent.audit.recent(5)
        assert [e.result for e in entries][:1] == ["ok"]
    finally:
        await second.aclose()
