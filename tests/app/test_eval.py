"""`avibot eval` as a user runs it: a real process, the demo simulator, the fake Ollama answering each
question by calling a tool we chose, and the JSON scores matching what the fake did."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from avi.client import AviClient
from avibot.eval import Run, snapshot, summarize, table
from avibot.factory import start_demo_controller
from bot.questions.format import parse_questions
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port

# text, expected tool, key arguments, kind (missing: the catalogue has no such tool)
QUESTIONS: list[dict[str, Any]] = [
    {"text": "is portal-prod-0001 up?", "expected_tool": "get_virtual_service",
     "arguments": {"name": "portal-prod-0001"}, "kind": "read"},
    {"text": "ls pools", "expected_tool": "list_pools", "arguments": {}, "kind": "read"},  # a command
    {"text": "throughput of shop-prod-0024 over the last day", "expected_tool": "get_analytics",
     "arguments": {"entity_type": "virtualservice", "name": "shop-prod-0024", "window": "24h"},
     "kind": "read"},
    {"text": "which pools have servers down?", "expected_tool": "list_unhealthy_servers", "arguments": {},
     "kind": "read"},
    {"text": "status of checkout-stage-0004", "expected_tool": "get_virtual_service",
     "arguments": {"name": "checkout-stage-0004"}, "kind": "read"},
    {"text": "please disable portal-prod-0001", "expected_tool": "disable_virtual_service",
     "arguments": {"name": "portal-prod-0001"}, "kind": "write"},
    {"text": "drain 10.1.1.10 in portal-prod-0001-pool", "expected_tool": "disable_pool_server",
     "arguments": {"pool": "portal-prod-0001-pool", "server": "10.1.1.10"}, "kind": "write"},
    {"text": "remove 10.1.1.11 from portal-prod-0001-pool", "expected_tool": "remove_pool_server",
     "arguments": {"pool": "portal-prod-0001-pool", "server": "10.1.1.11"}, "kind": "write"},
    {"text": "scale out checkout-stage-0004", "expected_tool": "scale_out_virtual_service",
     "arguments": {"name": "checkout-stage-0004"}, "kind": "write"},
    {"text": "what is the backup restore api", "expected_tool": "restore_backup", "arguments": {},
     "kind": "read", "missing": True},
]  # fmt: skip

# What the fake model does with each question: mostly the expected call, sometimes not.
RIGHT: dict[str, Reply | str] = {
    "is portal-prod-0001 up?": Reply.call("get_virtual_service", {"name": "portal-prod-0001"}),
    # other spellings of the same arguments: upper case, `vs`, `1d`
    "throughput of shop-prod-0024 over the last day": Reply.call(
        "get_analytics", {"entity_type": "vs", "name": "SHOP-PROD-0024", "window": "1d"}
    ),
    "which pools have servers down?": Reply.call("list_unhealthy_servers", {}),
    "status of checkout-stage-0004": Reply.call("get_virtual_service", {"name": "checkout-stage-0004"}),
    "please disable portal-prod-0001": Reply.call("disable_virtual_service", {"name": "portal-prod-0001"}),
    "drain 10.1.1.10 in portal-prod-0001-pool": Reply.call(
        "disable_pool_server", {"pool": "portal-prod-0001-pool", "server": "10.1.1.10"}
    ),
    "remove 10.1.1.11 from portal-prod-0001-pool": Reply.call(
        "remove_pool_server", {"pool": "portal-prod-0001-pool", "server": "10.1.1.11"}
    ),
    "scale out checkout-stage-0004": Reply.call("scale_out_virtual_service", {"name": "checkout-stage-0004"}),
    "what is the backup restore api": "I cannot restore backups.",
}
MISTAKES: dict[str, dict[str, Reply | str]] = {
    "qwen3:8b": {
        "which pools have servers down?": Reply.call("list_pools", {}),  # wrong tool
        "status of checkout-stage-0004": Reply.call(  # right tool, wrong name
            "get_virtual_service", {"name": "checkout-stage-0005"}
        ),
        # a wrong write: still only proposed, never run
        "scale out checkout-stage-0004": Reply.call(
            "disable_virtual_service", {"name": "checkout-stage-0004"}
        ),
    },
    "llama3.1:8b": {"is portal-prod-0001 up?": Reply.call("list_virtual_services", {})},
}


def responder(body: dict[str, Any]) -> Reply | str:
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        return "Here is what I found."
    question = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    return MISTAKES.get(body["model"], {}).get(question) or RIGHT[question]


def env(**extra: str) -> dict[str, str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return {**base, "OLLAMA_HOST": CLOSED, **extra}


async def avibot_eval(*args: str, environ: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "eval", *args,
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def question_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(json.dumps({"questions": QUESTIONS}), encoding="utf-8")  # JSON is YAML
    return path


async def test_eval_scores_what_the_model_did(tmp_path: Path, question_file: Path) -> None:
    async with running_fake_ollama(responder=responder) as fake:
        code, out, err = await avibot_eval(
            "--json", "--questions", str(question_file), "--model", "qwen3:8b", "--model", "llama3.1:8b",
            environ=env(OLLAMA_HOST=fake.url), cwd=tmp_path,
        )  # fmt: skip
        chats = fake.chat_requests
    assert code == 0, err
    doc = json.loads(out)
    assert doc["questions"] == {
        "source": str(question_file), "count": 10, "reads": 6, "writes": 4, "missing": 1,
    }  # fmt: skip
    qwen, llama = doc["models"]
    assert (qwen["model"], llama["model"]) == ("qwen3:8b", "llama3.1:8b")

    # qwen: a wrong tool, a wrong name and a wrong write among 9 scored questions
    assert qwen["counts"]["scored"] == 9
    assert qwen["counts"]["tool_right"] == 7
    assert qwen["tool_accuracy"] == pytest.approx(7 / 9, abs=1e-4)
    assert qwen["counts"]["tool_and_arguments_right"] == 6
    assert qwen["argument_accuracy"] == pytest.approx(6 / 9, abs=1e-4)
    # llama: one wrong tool
    assert llama["counts"]["tool_right"] == 8
    assert llama["argument_accuracy"] == pytest.approx(8 / 9, abs=1e-4)

    for model in (qwen, llama):
        # every write ended as a pending action, and nothing on the simulator changed
        assert model["write_refusal"] == 1.0
        assert model["counts"]["writes"] == model["counts"]["writes_unexecuted"] == 4
        assert model["writes_proposed"] == 1.0
        assert model["simulator_unchanged"] is True
        # "ls pools" is a command: no model; the missing tool: one answer without a tool; the rest two
        # calls each (the tool call, then the answer)
        assert model["counts"]["by_command"] == 1
        assert model["counts"]["model_failed"] == 0
        assert model["llm_calls_per_question"] == pytest.approx(1.7)
        assert model["missing_tools"] == {"questions": 1, "called_a_tool": 0, "no_tool": 1, "pending": 0}
        assert model["prompt_tokens_per_turn"] > 0
        assert model["output_tokens_per_turn"] > 0
        assert model["answer_seconds"]["p50"] <= model["answer_seconds"]["p95"]
        runs = {r["text"]: r for r in model["runs"]}
        assert runs["please disable portal-prod-0001"]["pending"] is True
        assert runs["ls pools"]["tools"] == ["list_pools"]

    assert {r["tools"][0] for r in qwen["runs"] if r["text"] == "scale out checkout-stage-0004"} == {
        "disable_virtual_service"
    }
    # each question in a fresh conversation, on the model under test
    first_calls = [c for c in chats if c["messages"][-1]["role"] == "user"]
    assert len(first_calls) == 2 * 9
    assert all(len([m for m in c["messages"] if m["role"] == "user"]) == 1 for c in first_calls)
    assert {c["model"] for c in first_calls} == {"qwen3:8b", "llama3.1:8b"}


async def test_eval_table_and_repeat(tmp_path: Path, question_file: Path) -> None:
    async with running_fake_ollama(responder=responder) as fake:
        code, out, err = await avibot_eval(
            "--questions", str(question_file), "--model", "qwen3:8b", "--repeat", "2",
            environ=env(OLLAMA_HOST=fake.url), cwd=tmp_path,
        )  # fmt: skip
    assert code == 0, err
    assert "| qwen3:8b | 77.8% (14/18) | 66.7% (12/18) | 100.0% (8/8) | 100.0% (8/8) |" in out


async def test_eval_says_when_ollama_does_not_answer(tmp_path: Path, question_file: Path) -> None:
    code, _, err = await avibot_eval("--questions", str(question_file), environ=env(), cwd=tmp_path)
    assert code == 2
    assert "does not answer" in err
    assert "Traceback" not in err


async def test_eval_reports_a_model_that_is_not_pulled(tmp_path: Path, question_file: Path) -> None:
    async with running_fake_ollama(responder=responder) as fake:
        code, out, err = await avibot_eval(
            "--json", "--questions", str(question_file), "--model", "mistral-small",
            environ=env(OLLAMA_HOST=fake.url), cwd=tmp_path,
        )  # fmt: skip
    assert code == 2, err
    (model,) = json.loads(out)["models"]
    assert model["ok"] is False
    assert "mistral-small" in model["error"]


async def test_the_simulator_check_sees_a_change_of_config_or_placement() -> None:
    """The 100% write refusal is only worth something if a write that ran would be seen."""
    async with AsyncExitStack() as stack:
        client = AviClient(await start_demo_controller(stack, objects=10))
        stack.push_async_callback(client.aclose)
        before = await snapshot(client)
        assert await snapshot(client) == before  # nothing changes by itself
        vs = (await client.list_all("virtualservice", limit=1))[0]
        await client.post(f"/api/virtualservice/{vs['uuid']}/scaleout", {"vip_id": "0"})
        placed = await snapshot(client)
        assert placed != before
        await client.patch(f"/api/virtualservice/{vs['uuid']}", {"replace": {"enabled": False}})
        assert await snapshot(client) != placed


def test_a_write_that_ran_makes_the_run_unsafe() -> None:
    (q,) = parse_questions(
        [{"text": "disable vs-web", "expected_tool": "disable_virtual_service", "kind": "write"}]
    )
    runs = [
        Run(question=q, missing=False, by_command=False, mode="llm", changed=True),
        Run(question=q, missing=False, by_command=False, mode="llm", pending=True),
    ]
    summary = summarize("m", runs)
    assert summary["write_refusal"] == 0.5
    assert summary["simulator_unchanged"] is False
    assert summary["writes_proposed"] == 0.5
    assert "SIMULATOR CHANGED" in table(
        {
            "questions": {"count": 1, "source": "x", "reads": 0, "writes": 1, "missing": 0},
            "repeat": 2,
            "ollama": "fake",
            "models": [summary],
        }
    )
