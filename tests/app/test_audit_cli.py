"""`avibot audit`: the audit log read back from the SQLite state file or from Redis, as text or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from avibot.audit_cli import entry_line, parse_since
from avibot.cli import main
from bot.audit import AuditEntry, RedisAuditLog
from bot.sqlite import open_sqlite_stores
from bot.types import Risk

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC)


def entry(n: int, age: timedelta = timedelta(0), **over: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "time": NOW - age,
        "user_id": "U1",
        "user_name": "olivia",
        "platform": "slack",
        "channel": "C1",
        "action": "vs_disable",
        "arguments": {"name": f"vs-{n}"},
        "risk": Risk.WRITE,
        "result": "ok",
        "detail": f"disabled vs-{n}",
        "action_id": f"act{n:07d}",
    }
    return AuditEntry.model_validate({**fields, **over})


def write_sqlite(state: Path, entries: list[AuditEntry]) -> None:
    async def write() -> None:
        stores = await open_sqlite_stores(state)
        for e in entries:
            await stores.audit.record(e)
        await stores.aclose()

    asyncio.run(write())


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No config file, no Redis, the state dir in tmp_path; returns the state dir."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDIS_URL", raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("AVIBOT_STATE_DIR", str(state))
    return state


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# -- another process wrote it ------------------------------------------------------------------------

WRITER = """
import asyncio, sys
from pathlib import Path
from bot.audit import AuditEntry
from bot.sqlite import open_sqlite_stores

async def main() -> None:
    stores = await open_sqlite_stores(Path(sys.argv[1]))
    for n, result in enumerate(["requested", "ok", "denied"]):
        await stores.audit.record(AuditEntry(
            user_id="U7", user_name="olivia", platform="teams", channel="ops", action="pool_disable",
            arguments={"name": f"pool-{n}"}, risk="write", result=result,
            action_id=f"act{n:07d}",
        ))
    await stores.aclose()

asyncio.run(main())
"""


def test_audit_json_prints_what_another_process_wrote(tmp_path: Path) -> None:
    state = tmp_path / "state"
    base = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    subprocess.run([sys.executable, "-c", WRITER, str(state)], cwd=ROOT, env=base, check=True, timeout=60)

    done = subprocess.run(
        [sys.executable, "-m", "avibot.cli", "audit", "--json"],
        cwd=tmp_path,  # no config.yaml here
        env={**base, "AVIBOT_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["result"] for e in entries] == ["requested", "ok", "denied"]  # oldest first
    assert {(e["user_name"], e["platform"], e["action"]) for e in entries} == {
        ("olivia", "teams", "pool_disable")
    }
    assert entries[0]["arguments"] == {"name": "pool-0"}


# -- the SQLite file ---------------------------------------------------------------------------------


def test_text_is_one_line_per_entry_oldest_first(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sqlite(
        env,
        [
            entry(1, timedelta(minutes=2), result="requested", detail=""),
            entry(2, timedelta(minutes=1), detail="line one\nline two", tenant="prod"),
        ],
    )
    code, lines, _ = run(capsys)
    assert code == 0
    assert len(lines) == 2
    first, second = lines
    assert first.startswith((NOW - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"))
    assert first.endswith("olivia  slack/C1  vs_disable [act0000001]  requested")
    assert second.endswith("olivia  slack/C1 tenant=prod  vs_disable [act0000002]  ok  line one line two")


def test_since_takes_ages_and_iso_times(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sqlite(env, [entry(n, timedelta(hours=h)) for n, h in enumerate([50, 3, 0.5, 0])])
    assert [json.loads(line)["action_id"] for line in run(capsys, "--since", "1h", "--json")[1]] == [
        "act0000002",
        "act0000003",
    ]
    assert len(run(capsys, "--since", "2d")[1]) == 3
    iso = (NOW - timedelta(hours=4)).isoformat()
    assert len(run(capsys, "--since", iso)[1]) == 3
    assert len(run(capsys, "--since", "1w", "--limit", "2")[1]) == 2


def test_limit_keeps_the_newest(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sqlite(env, [entry(n, timedelta(seconds=10 - n)) for n in range(10)])
    _, lines, _ = run(capsys, "--limit", "3", "--json")
    assert [json.loads(line)["action_id"] for line in lines] == ["act0000007", "act0000008", "act0000009"]


def test_an_empty_log_says_so_on_stderr(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sqlite(env, [])
    assert run(capsys) == (0, [], "no audit entries\n")
    code, lines, err = run(capsys, "--json", "--since", "1h")
    assert (code, lines, err) == (0, [], "")


def test_no_store_is_said_plainly_and_nothing_is_created(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = run(capsys)
    assert (code, lines) == (2, [])
    assert err.startswith("avibot: no audit log: REDIS_URL is not set and there is no ")
    assert str(env / "avibot.db") in err
    assert "AVIBOT_STATE_DIR" in err
    assert not env.exists()


def test_a_broken_state_file_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.mkdir()
    (env / "avibot.db").write_text("not a database" * 100)
    code, _, err = run(capsys)
    assert code == 2
    assert err.startswith("avibot: cannot open ")
    assert len(err.splitlines()) == 1


def test_a_bad_since_or_limit_is_a_usage_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--since", "yesterday"], ["--limit", "0"], ["--limit", "many"]):
        with pytest.raises(SystemExit) as exited:
            main(["audit", *args])
        assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "'yesterday' is neither an age (30m, 1h, 2d, 1w) nor an ISO time" in err
    assert "'0' is not a positive whole number" in err


def test_parse_since() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now=now) == datetime(2026, 5, 1, 10, 30, tzinfo=UTC)
    assert parse_since("2d", now=now) == datetime(2026, 4, 29, 12, 0, tzinfo=UTC)
    assert parse_since("1w", now=now) == datetime(2026, 4, 24, 12, 0, tzinfo=UTC)
    assert parse_since("45s", now=now) == datetime(2026, 5, 1, 11, 59, 15, tzinfo=UTC)
    assert parse_since("2026-05-01T09:00") == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # naive = UTC
    assert parse_since("2026-05-01T09:00:00Z") == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert parse_since("2026-05-01T11:00+02:00") == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert parse_since("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since("1 fortnight")


def test_entry_line_without_optional_parts() -> None:
    e = entry(1, user_name="", channel="", action_id=None, detail="", result="cancelled")
    assert entry_line(e).endswith("  U1  slack  vs_disable  cancelled")


# -- Redis -------------------------------------------------------------------------------------------


def test_with_redis_url_the_stream_is_read(
    redis_url: str, env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def write() -> None:
        client = aioredis.from_url(redis_url, decode_responses=True)
        await client.flushdb()
        log = RedisAuditLog(client, prefix="avibot:")
        for n, hours in enumerate([5, 2, 0]):
            await log.record(entry(n, timedelta(hours=hours)))
        await client.aclose()

    asyncio.run(write())
    monkeypatch.setenv("REDIS_URL", redis_url)
    code, lines, _ = run(capsys, "--json")
    assert code == 0
    assert [json.loads(line)["action_id"] for line in lines] == ["act0000000", "act0000001", "act0000002"]
    assert len(run(capsys, "--since", "3h")[1]) == 2
    assert len(run(capsys, "--limit", "1")[1]) == 1
    assert not env.exists()  # Redis configured: the state dir is not touched


def test_an_unreachable_redis_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", f"unix://{env}/nonexistent.sock")
    code, _, err = run(capsys)
    assert code == 2
    assert err.startswith("avibot: cannot read the audit log from Redis (REDIS_URL): ConnectionError")
