"""Controller data is text, never Slack markup: a pool named `<!channel>` must not ping the channel
from a reply, its notification text, a live update, a confirmation or its outcome. Real Bolt app,
the local Slack Web API recording every call, the agent on the simulator (names set over its API)."""

from __future__ import annotations

import json
from typing import Any

from tests.adapters.slack.harness import OPERATOR, SlackEnv, all_text, final, mention
from tests.support.fakes.ollama_server import Reply

PING, AMP = "<!channel>", "a&b<c>"
LINK = "https://docs.example/pools?a=1&b=2"


async def rename(s: SlackEnv, kind: str, name: str) -> None:
    """Rename an enabled object of `kind` (the first by name not renamed yet), through the REST API."""
    objects = (await s.env.ops.client.get(f"/api/{kind}", params={"page_size": 200}))["results"]
    untouched = [o for o in objects if o.get("enabled", True) and not o["name"].startswith(("<", "a&"))]
    obj = min(untouched, key=lambda o: o["name"])
    await s.env.ops.client.put(f"/api/{kind}/{obj['uuid']}", json={**obj, "name": name})


def texts(value: Any) -> list[str]:
    """Every string Slack would read as text in a call's arguments (button values are ids, not text)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in ("value", "action_id", "block_id") for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return [value] if isinstance(value, str) else []


def everything_sent(s: SlackEnv) -> list[str]:
    return [t for c in s.slack.calls for t in texts(c.args)] + [
        t for r in s.slack.responses for t in texts(r)
    ]


async def test_controller_names_never_become_slack_markup(s: SlackEnv) -> None:
    await rename(s, "pool", PING)
    await rename(s, "pool", AMP)
    await rename(s, "virtualservice", PING)  # the same name in another collection
    await s.command("pool list")  # a table, its fallback text, the "asked" line
    await s.slack.wait_for(lambda: any("&lt;!channel&gt;" in t for t in everything_sent(s)))

    # the model's words, streamed (chat.update) then final, with a link the bot builds itself
    s.llm.script(Reply.say(f"Pool {PING} is down & so is {AMP}; see [the docs]({LINK}).", chunk_delay=0.01))
    await s.event(mention("what is down?", "1400.0001"))
    [answer] = await s.slack.wait_for(final(s.slack, "C1", "1400.0001"))
    assert "<https://docs.example/pools?a=1&amp;b=2|the docs>" in all_text(answer["blocks"])

    # the same through Slack's streaming API
    s.channel.settings.stream = "api"
    s.llm.script(Reply.say(f"Streaming: {PING} and {AMP}.", chunk_delay=0.01))
    await s.event(mention("and now?", "1500.0001"))
    await s.slack.wait_for(lambda: s.slack.calls_to("chat.stopStream"))
    s.channel.settings.stream = "update"

    # a confirmation naming the object, then its outcome
    s.llm.script(Reply.call("disable_virtual_service", {"name": PING}), Reply.say(f"Disable {PING}?"))
    await s.event(mention(f"disable {PING}", "1600.0001"))
    [proposal] = await s.slack.wait_for(
        lambda: [m for m in s.slack.replies_in("C1", "1600.0001") if "avi_confirm" in all_text(m["blocks"])]
    )
    confirm = next(b for b in proposal["blocks"] if b["type"] == "actions")["elements"][0]
    await s.click(confirm, proposal, user=OPERATOR)
    await s.slack.wait_for(lambda: "Confirmed by" in all_text(s.slack.messages[proposal["ts"]]["blocks"]))

    sent = everything_sent(s)
    assert sent
    raw = [t for t in sent if PING in t or AMP in t or "&b<c" in t]
    assert raw == [], json.dumps(raw, ensure_ascii=False)[:2000]
    assert any("a&amp;b&lt;c&gt;" in t for t in sent)
    assert any(f"<@{OPERATOR}>" in t for t in sent)  # the bot's own mentions still work
