"""The footer under an answer says the bot's mode as it is when the answer is posted: the model's
name while the model answers, else command mode and why. The model's status changes at runtime
(a failed turn marks it down; the prober brings it back), and the footer follows it."""

from __future__ import annotations

from typing import Any

from tests.adapters.slack.harness import SlackEnv, final, has_table, mention
from tests.support.fakes.ollama_server import Reply

MODEL = "llama3.1:8b"  # the model tests/support/agent_env.py configures
DOWN = "Ollama at http://127.0.0.1:9 is unreachable"


def footer(message: dict[str, Any]) -> str:
    last = message["blocks"][-1]
    assert last["type"] == "context", message["blocks"]
    return str(last["elements"][0]["text"])


async def command_footer(s: SlackEnv, text: str) -> str:
    """The footer of the channel message that answers `/avi <text>`."""
    before = set(s.slack.messages)
    await s.command(text)
    [ts] = await s.slack.wait_for(lambda: [t for t in s.slack.messages if t not in before])
    await s.slack.wait_for(lambda: has_table(s.slack.messages[ts]["blocks"]))  # the answer is in
    return footer(s.slack.messages[ts])


async def test_the_footer_shows_the_live_mode(s: SlackEnv) -> None:
    # the model is up: even a structured command's answer says so, with the model's name
    assert s.env.agent.mode == "llm"
    up = await command_footer(s, "vs list")
    assert "LLM" in up
    assert MODEL in up
    assert "command mode" not in up

    s.env.agent.model_status.mark_down(DOWN)  # as a turn does when Ollama stops answering
    down = await command_footer(s, "vs list")
    assert "command mode" in down
    assert DOWN in down
    assert MODEL not in down

    assert await s.env.agent.model_status.probe_now()  # the prober finds the model again
    s.llm.script(Reply.say("Back."))
    await s.event(mention("are you back?", "1700.0001"))
    [answer] = await s.slack.wait_for(final(s.slack, "C1", "1700.0001"))
    back = footer(answer)
    assert "LLM" in back
    assert MODEL in back
    assert "command mode" not in back
