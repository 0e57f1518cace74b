"""Every log line of a turn carries its id; a turn starts and ends with a line saying where it came
from (user id hashed), its tool calls, its controller requests and its outcome, and never the text
of the question. JSON lines carry the id as a field."""

from __future__ import annotations

import io
import json
import logging
import re

from avibot.logging_setup import make_handler, quiet_libraries
from tests.adapters.web.harness import serving
from tests.conftest import RunningSim

SECRET_QUESTION = "vs list tell-nobody-7Q"  # a filter that matches nothing: a tool call all the same


async def _ask_twice(sim: RunningSim, fmt: str) -> list[str]:
    stream = io.StringIO()
    handler = make_handler(fmt, stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    quiet_libraries()  # as setup_logging does
    try:
        async with serving(sim) as served:
            for _ in range(2):
                answered = await served.client.post("/api/chat", json={"message": SECRET_QUESTION})
                assert answered.status == 200
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    return stream.getvalue().splitlines()


async def test_text_lines_of_a_turn_carry_its_id(sim: RunningSim) -> None:
    lines = await _ask_twice(sim, "text")
    started = [line for line in lines if "turn started" in line]
    ended = [line for line in lines if "turn ended" in line]
    assert len(started) == len(ended) == 2
    ids = [re.search(r"\[turn ([0-9a-f]{8})\]", line).group(1) for line in started]  # type: ignore[union-attr]
    assert ids[0] != ids[1]
    for turn_id, end in zip(ids, ended, strict=True):
        assert f"[turn {turn_id}]" in end
        assert "controller_requests=" in end
        assert re.search(r"tools=\S*:ok", end), end  # the tool the question needed, and that it worked
        assert "outcome=answered" in end
    assert "platform=web" in started[0]
    assert re.search(r"controller_requests=[1-9]", ended[0]), ended[0]
    assert "web:local" not in "\n".join(lines)  # the user id is hashed
    assert "tell-nobody-7Q" not in "\n".join(lines)  # never the question


async def test_json_lines_carry_the_turn_as_a_field(sim: RunningSim) -> None:
    lines = [json.loads(line) for line in await _ask_twice(sim, "json") if line.startswith("{")]
    turn_lines = [entry for entry in lines if entry.get("turn")]
    assert {e["msg"].split(":")[0] for e in turn_lines} >= {"turn started", "turn ended"}
    assert len({e["turn"] for e in turn_lines}) == 2
