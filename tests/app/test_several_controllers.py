"""Several controllers, one bot: two simulators with different seeds (so different names), the real
config loader and composition root, a real redis-server, answers checked against each simulator's
own names."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from avi.operations import AviOperations
from avibot.config import ConfigError, load_settings
from avibot.factory import Runtime
from bot.types import Inbound, Outcome, Reply, TablePart, User
from tests.conftest import SIM_PASSWORD, RunningSim, StartSim
from tests.support.fakes.ollama_server import Reply as Say
from tests.support.fakes.ollama_server import running_fake_ollama
from tests.support.fault_proxy import FaultProxy
from tests.support.two_controllers import built, entry, set_passwords

OPERATOR = User(id="U-op", name="olivia")


@dataclass
class Two:
    runtime: Runtime
    a: RunningSim
    b: RunningSim
    ops_a: AviOperations
    ops_b: AviOperations
    config: Path

    async def names(self, ops: AviOperations) -> set[str]:
        return {vs.name for vs in await ops.virtualservices.list(tenant="*")}

    async def only(self) -> tuple[set[str], set[str]]:
        """The names only a has and only b has (the seeds' name patterns overlap a little)."""
        names_a, names_b = await self.names(self.ops_a), await self.names(self.ops_b)
        return names_a - names_b, names_b - names_a

    async def on_a(self, names: set[str]) -> bool:
        return bool(names) and names <= await self.names(self.ops_a) and bool(names & (await self.only())[0])

    async def on_b(self, names: set[str]) -> bool:
        return bool(names) and names <= await self.names(self.ops_b) and bool(names & (await self.only())[1])

    def inbound(self, text: str, key: str = "slack:T1:C1:1.1", channel: str = "C1", **extra: Any) -> Inbound:
        return Inbound(
            platform="slack", conversation_key=key, channel=channel, user=OPERATOR, text=text, **extra
        )

    async def ask(self, text: str, **where: Any) -> Reply:
        return (await self.runtime.agent.handle(self.inbound(text, **where))).reply


def table_names(reply: Reply, column: str = "Name") -> set[str]:
    tables = [p for p in reply.parts if isinstance(p, TablePart)]
    assert tables, reply.text
    index = tables[0].columns.index(column)
    return {row[index] for row in tables[0].rows}


def write_config(
    path: Path, a: RunningSim, b: RunningSim, redis_url: str, b_url: str = "", **extra: Any
) -> Path:
    config = {
        "controllers": [
            entry("a", a.url, "TEST_A_PASSWORD"),
            entry("b", b_url or b.url, "TEST_B_PASSWORD", timeout=20, label="Staging"),
        ],
        "access": {
            "default_role": "operator",
            "channel_controllers": {"slack:C-B": "b"},
            **extra.pop("access", {}),
        },
        "redis": {"url": redis_url, "prefix": f"t{secrets.token_hex(3)}:"},
        **extra,
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    set_passwords(monkeypatch, "TEST_A_PASSWORD", "TEST_B_PASSWORD")


@asynccontextmanager
async def opened(a: RunningSim, b: RunningSim, config: Path, use_llm: bool = False) -> AsyncIterator[Two]:
    """The bot built from `config` the way `avibot serve` builds it, and uncached reads of each
    simulator for the checks."""
    async with built(a, b, config, use_llm) as (runtime, ops_a, ops_b):
        yield Two(runtime, a, b, ops_a, ops_b, config)


@pytest.fixture
async def two(start_sim: StartSim, redis_url: str, tmp_path: Path, passwords: None) -> AsyncIterator[Two]:
    a, b = await start_sim(seed=7), await start_sim(seed=8)
    async with opened(a, b, write_config(tmp_path / "config.yaml", a, b, redis_url)) as two:
        yield two


async def test_the_two_simulators_have_different_names(two: Two) -> None:
    only_a, only_b = await two.only()
    assert len(only_a) >= 30
    assert len(only_b) >= 30
    assert two.runtime.agent.controllers.names == ["a", "b"]


async def test_a_channel_mapped_to_b_answers_from_b_and_others_from_the_default(two: Two) -> None:
    assert await two.on_b(table_names(await two.ask("vs list", key="slack:T1:C-B:1.1", channel="C-B")))
    assert await two.on_a(table_names(await two.ask("vs list")))
    result = await two.runtime.agent.handle(two.inbound("vs list", key="slack:T1:C-B:2.2", channel="C-B"))
    assert result.controller == "b"  # what the Slack and Teams footers show


async def test_a_thread_that_switched_to_b_stays_on_b(two: Two) -> None:
    assert await two.on_b(table_names(await two.ask("on b, vs list", key="slack:T1:C1:7.7")))
    assert await two.on_b(table_names(await two.ask("vs list", key="slack:T1:C1:7.7")))  # sticks
    assert await two.on_a(table_names(await two.ask("vs list", key="slack:T1:C1:8.8")))
    assert await two.on_a(table_names(await two.ask("vs list @a", key="slack:T1:C1:7.7")))
    switched = await two.ask("use b", key="slack:T1:C1:7.7")
    assert "Now on controller **b**" in switched.text
    assert await two.on_b(table_names(await two.ask("vs list", key="slack:T1:C1:7.7")))
    listed = await two.ask("controllers", key="slack:T1:C1:7.7")
    assert [row[0] for row in listed.parts[0].rows] == ["a", "b"]  # type: ignore[union-attr]
    assert [row[3] for row in listed.parts[0].rows] == ["", "current"]  # type: ignore[union-attr]


async def test_a_write_planned_on_a_runs_on_a_after_the_conversation_moved_to_b(two: Two) -> None:
    target = sorted((await two.only())[0])[0]
    assert (await two.ops_a.virtualservices.get(target)).enabled
    before_b = {vs.name: vs.enabled for vs in await two.ops_b.virtualservices.list(tenant="*")}
    key = "slack:T1:C1:9.9"
    proposed = await two.ask(f"vs disable {target}", key=key)
    action = proposed.pending_action
    assert action is not None
    assert action.summary.endswith("on controller a")
    assert action.diff[0].strip() == "controller: a"
    assert await two.on_b(table_names(await two.ask("on b, vs list", key=key)))
    done = await two.runtime.agent.confirm(action.id, two.inbound(f"confirm {action.id}", key=key))
    assert done.outcome is Outcome.DONE, done.reply.text
    assert "on controller a" in done.reply.text
    assert done.controller == "a"
    assert not (await two.ops_a.virtualservices.get(target)).enabled
    after_b = {vs.name: vs.enabled for vs in await two.ops_b.virtualservices.list(tenant="*")}
    assert after_b == before_b
    entries = await two.runtime.agent.audit.recent(5)
    assert {e.controller for e in entries if e.action_id == action.id} == {"a"}


async def test_a_change_asked_everywhere_is_refused(two: Two) -> None:
    target = sorted(await two.names(two.ops_a))[0]
    reply = await two.ask(f"vs disable {target} @all")
    assert reply.pending_action is None
    assert "one controller" in reply.text
    assert (await two.ops_a.virtualservices.get(target)).enabled


async def test_down_everywhere_asks_both_and_labels_the_rows(two: Two) -> None:
    only_a, only_b = await two.only()
    for ops, name in ((two.ops_a, sorted(only_a)[0]), (two.ops_b, sorted(only_b)[0])):
        await ops.virtualservices.disable(name)
    result = await two.runtime.agent.handle(two.inbound("which virtual services are down everywhere?"))
    reply = result.reply
    assert [c.name for c in reply.tool_calls] == ["list_unhealthy_virtual_services"]
    table = next(p for p in reply.parts if isinstance(p, TablePart))
    assert table.columns[0] == "Controller"
    by_controller: dict[str, set[str]] = {}
    for row in table.rows:
        by_controller.setdefault(row[0], set()).add(row[1])
    assert set(by_controller) == {"a", "b"}
    assert await two.on_a(by_controller["a"])
    assert await two.on_b(by_controller["b"])


async def test_one_controller_down_leaves_the_other_answering(
    start_sim: StartSim, redis_url: str, tmp_path: Path, passwords: None
) -> None:
    a, b = await start_sim(seed=7), await start_sim(seed=8)
    proxy = await FaultProxy(b.url).start()
    config = write_config(
        tmp_path / "config.yaml", a, b, redis_url, b_url=proxy.url, agent={"everywhere_seconds": 2}
    )
    try:
        async with opened(a, b, config) as two:
            assert await two.on_b(table_names(await two.ask("vs list @b")))
            proxy.delay("GET", "/", 3600, times=1000)  # b hangs: accepts, never answers
            b_wait = asyncio.create_task(two.ask("se list @b", key="slack:T1:C1:2.2"))  # not cached
            started = time.monotonic()
            assert await two.on_a(table_names(await two.ask("vs list @a")))
            assert table_names(await two.ask("pool list @a"))
            assert time.monotonic() - started < 10  # b's client waits its own 20 s, nobody else does
            assert not b_wait.done()
            b_wait.cancel()
            started = time.monotonic()
            hung = await two.ask("pool list everywhere")  # b still hangs: a's rows after the deadline
            assert time.monotonic() - started < 10
            table = next(p for p in hung.parts if isinstance(p, TablePart))
            assert {row[0] for row in table.rows} == {"a"}
            assert "b: not answered (no answer within 2 s)" in hung.text
            await proxy.aclose()  # b is gone: connections refused
            everywhere = await two.ask("vs list everywhere")
            table = next(p for p in everywhere.parts if isinstance(p, TablePart))
            assert {row[0] for row in table.rows} == {"a"}
            assert "b: not answered" in everywhere.text
    finally:
        await proxy.aclose()


async def test_the_model_can_switch_and_the_switch_sticks(
    start_sim: StartSim, redis_url: str, tmp_path: Path, passwords: None
) -> None:
    a, b = await start_sim(seed=7), await start_sim(seed=8)
    async with running_fake_ollama() as fake:
        fake.script(
            Say.call("use_controller", {"name": "b"}),
            Say.call("list_virtual_services", {}),
            Say.say("Here they are."),
            Say.call("list_virtual_services", {}),
            Say.say("Still b."),
        )
        config = write_config(tmp_path / "config.yaml", a, b, redis_url, llm={"host": fake.url})
        async with opened(a, b, config, use_llm=True) as two:
            first = await two.ask("what about staging? list its virtual services", key="slack:T1:C1:5.5")
            assert await two.on_b(table_names(first))
            system = fake.chat_requests[0]["messages"][0]["content"]
            assert "a is current; also b (Staging)" in system
            assert "use_controller" in {t["function"]["name"] for t in fake.chat_requests[0]["tools"]}
            assert await two.on_b(table_names(await two.ask("and now?", key="slack:T1:C1:5.5")))
            second = fake.chat_requests[-1]["messages"][0]["content"]
            assert "b (Staging) is current; also a" in second


async def test_chat_controller_flag_answers_from_that_controller(two: Two) -> None:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "OLLAMA_HOST": "http://127.0.0.1:9",
        "TEST_A_PASSWORD": SIM_PASSWORD,
        "TEST_B_PASSWORD": SIM_PASSWORD,
        "AVIBOT_STATE_DIR": os.environ["AVIBOT_STATE_DIR"],
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "chat", "--config", str(two.config), "--json",
        "--controller", "b", "vs list",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()
    import json

    reply = json.loads(out.decode().strip().splitlines()[-1])
    assert reply["controller"] == "b"
    table = next(p for p in reply["parts"] if p["kind"] == "table")
    assert await two.on_b({row[0] for row in table["rows"]})


def test_config_names_the_missing_variable_and_unknown_mappings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("AVI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TEST_A_PASSWORD", "secret-a-value")
    monkeypatch.delenv("TEST_B_PASSWORD", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "controllers": [
                    {"name": "a", "host": "ctl-a.example.com", "password_env": "TEST_A_PASSWORD"},
                    {"name": "b", "host": "ctl-b.example.com", "password_env": "TEST_B_PASSWORD"},
                ],
                "access": {"channel_controllers": {"C9": "nowhere"}, "controller_roles": {"zz": "viewer"}},
            }
        )
    )
    settings = load_settings(path)
    with pytest.raises(ConfigError) as err:
        settings.require_controllers()
    message = str(err.value)
    assert "environment variable TEST_B_PASSWORD is not set" in message
    assert "access.channel_controllers: no controller named nowhere" in message
    assert "access.controller_roles: no controller named zz" in message
    assert "secret-a-value" not in message
    path.write_text(yaml.safe_dump({"controllers": [{"name": "all", "host": "x", "password_env": "P"}]}))
    with pytest.raises(ConfigError, match=r"controllers\[0\]\.name"):
        load_settings(path)
    path.write_text(yaml.safe_dump({"controllers": {"name": "a"}}))
    with pytest.raises(ConfigError, match="must be a list of controllers"):
        load_settings(path)


def test_a_named_controller_never_takes_the_avi_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from avi.named import ControllerEntry

    monkeypatch.setenv("AVI_PASSWORD", "the-default-controllers")
    monkeypatch.setenv("AVI_TENANT", "elsewhere")
    monkeypatch.setenv("B_TOKEN", "b-token")
    settings = ControllerEntry(name="b", host="ctl-b", token_env="B_TOKEN").avi_settings()
    assert settings.password is None
    assert settings.token is not None
    assert settings.token.get_secret_value() == "b-token"
    assert settings.tenant == "admin"
    assert settings.host == "https://ctl-b"


async def test_roles_can_be_limited_per_controller(
    start_sim: StartSim, redis_url: str, tmp_path: Path, passwords: None
) -> None:
    a, b = await start_sim(seed=7), await start_sim(seed=8)
    config = write_config(
        tmp_path / "config.yaml", a, b, redis_url, access={"controller_roles": {"a": "viewer"}}
    )
    async with opened(a, b, config) as two:
        on_a = sorted((await two.only())[0])[0]
        refused = await two.ask(f"vs disable {on_a}")
        assert refused.pending_action is None
        assert "viewer" in refused.text
        on_b = sorted((await two.only())[1])[0]
        allowed = await two.ask(f"on b, vs disable {on_b}")
        assert allowed.pending_action is not None
        assert allowed.pending_action.summary.endswith("on controller b")


async def test_check_logs_in_to_every_controller_and_names_the_one_that_fails(two: Two) -> None:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TEST_A_PASSWORD": SIM_PASSWORD,
        "TEST_B_PASSWORD": SIM_PASSWORD,
    }

    async def check(env: dict[str, str]) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "avibot.cli", "check", "--config", str(two.config),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    code, out, err = await check(environ)
    assert code == 0, err
    assert [line.split(":")[0] for line in out.splitlines()] == ["controller a (http", "controller b (http"]
    code, out, err = await check({**environ, "TEST_B_PASSWORD": "wrong-password"})
    assert code == 2  # avibot's exit status for a failed check
    assert "controller a (" in out
    assert "1 of 2 controllers failed the check: b" in err
    assert "wrong-password" not in out + err


async def test_a_change_planned_on_a_controller_no_longer_configured_runs_nowhere(two: Two) -> None:
    """A pending change made before a restart that dropped its controller: taken, never run."""
    from bot.pending import PendingAction
    from bot.types import Risk

    target = sorted((await two.only())[0])[0]
    key = "slack:T1:C1:6.6"
    action = PendingAction.new(
        tool="disable_virtual_service",
        arguments={"name": target},
        risk=Risk.WRITE,
        summary=f"Disable virtual service {target} on controller gone",
        requested_by=OPERATOR,
        platform="slack",
        conversation_key=key,
        channel="C1",
        controller="gone",
    )
    await two.runtime.agent.pending.put(action)
    done = await two.runtime.agent.confirm(action.id, two.inbound(f"confirm {action.id}", key=key))
    assert done.outcome is Outcome.FAILED
    assert "controller gone is no longer configured" in done.reply.text
    assert "Nothing was changed" in done.reply.text
    assert (await two.ops_a.virtualservices.get(target)).enabled
    entries = await two.runtime.agent.audit.recent(5)
    assert [e.result for e in entries if e.action_id == action.id] == ["error"]
