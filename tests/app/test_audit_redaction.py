"""A proxied write's secrets never reach the audit trail: not the log line, its JSON form nor Redis.

The real server app, a real redis-server (tests/support/redis_server.py) and the simulator over HTTP: an
admin behind the trusted proxy creates a user with a password through /api/avi, confirms it, and
every place the audit wrote to is searched for the password.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
import redis.asyncio as aioredis

from adapters.web.settings import WebSettings
from avi.redact import MASK
from avibot import logging_setup
from bot.audit import AuditEntry
from bot.types import Inbound, Risk, User
from tests.adapters.web.harness import clean_environment, serving
from tests.conftest import RunningSim

PASSWORD = "Sup3r-S3cret-pw"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


async def test_proxy_write_password_is_not_logged_nor_streamed(
    sim: RunningSim, redis_url: str, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    web = WebSettings(trusted_proxies=["127.0.0.1/32"], rate_limit_per_minute=0)
    async with serving(sim, redis_url, web=web) as served:
        client = served.client
        bob = {"X-Forwarded-User": "bob"}
        csrf = (await (await client.get("/api/session", headers=bob)).json())["csrf_token"]
        headers = {**bob, "X-CSRF-Token": csrf}
        body = {"name": "new-user", "username": "new-user", "password": PASSWORD}
        with caplog.at_level(logging.INFO, logger="avibot.audit"):
            proposed = await client.post("/api/avi/user", json=body, headers=headers)
            assert proposed.status == 202, await proposed.text()
            action = (await proposed.json())["pending_action"]["id"]
            done = await client.post(
                f"/api/actions/{action}/confirm", json={"conversation_id": "avi-proxy"}, headers=headers
            )
            assert done.status == 200, await done.text()
        audit_key = served.settings.redis.prefix + "audit"
        rows = await redis_client.xrange(audit_key)
        entries = await served.runtime.agent.audit.recent(5)
    records = [r for r in caplog.records if r.name == "avibot.audit"]
    assert records, "the audit wrote no log line"
    assert any(e.action == "execute_generic_operation" and e.result == "ok" for e in entries)
    assert rows, "nothing in the audit stream"
    assert PASSWORD not in json.dumps(rows)
    assert MASK in json.dumps(rows)
    for record in records:
        assert PASSWORD not in record.getMessage()
        assert PASSWORD not in json.dumps(record.audit)  # type: ignore[attr-defined]
        for fmt in ("text", "json"):
            out = io.StringIO()
            logging_setup.make_handler(fmt, out).handle(record)
            assert PASSWORD not in out.getvalue(), (fmt, out.getvalue())
    assert PASSWORD not in json.dumps([e.model_dump(mode="json") for e in entries])


async def test_confirmed_write_audits_no_password(
    sim: RunningSim, redis_url: str, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """The same write through the agent's entry the proxy uses (propose, then confirm)."""
    async with serving(sim, redis_url) as served:
        agent = served.runtime.agent
        who = Inbound(
            platform="web", conversation_key="web:p-bob:avi-proxy", channel="web",
            user=User(id="bob", name="bob"), text="POST /api/user",
        )  # fmt: skip
        body = json.dumps({"name": "u2", "username": "u2", "password": PASSWORD})
        with caplog.at_level(logging.INFO, logger="avibot.audit"):
            proposed = await agent.propose(
                who, "execute_generic_operation", {"method": "POST", "path": "/api/user", "body": body}
            )
            pending = proposed.reply.pending_action
            assert pending is not None, proposed.reply.text
            done = await agent.confirm(pending.id, who)
            assert done.outcome.value == "done", done.reply.text
        rows = await redis_client.xrange(served.settings.redis.prefix + "audit")
    assert [r for r in caplog.records if r.name == "avibot.audit"]
    assert rows
    assert PASSWORD not in json.dumps(rows)
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        for fmt in ("text", "json"):
            out = io.StringIO()
            logging_setup.make_handler(fmt, out).handle(record)
            assert PASSWORD not in out.getvalue(), (fmt, out.getvalue())


def test_every_audit_field_is_redacted() -> None:
    entry = AuditEntry(
        user_id="U1",
        user_name="alice",
        platform="web",
        action="execute_generic_operation",
        arguments={
            "method": "POST",
            "path": "/api/user",
            "body": json.dumps({"name": "u", "password": "pw-1", "nested": [{"token": "tk-1"}]}),
            "password": "pw-2",
        },
        risk=Risk.DESTRUCTIVE,
        result="error",
        detail='controller said: {"password": "pw-3"} and token=tk-2',
    )
    assert entry.arguments == {
        "method": "POST",
        "path": "/api/user",
        "body": json.dumps(
            {"name": "u", "password": MASK, "nested": [{"token": MASK}]}, separators=(",", ":")
        ),
        "password": MASK,
    }
    assert entry.detail == f'controller said: {{"password": "{MASK}"}} and token={MASK}'
    line = entry.log_line()
    stream = json.dumps(entry.fields())
    for secret in ("pw-1", "pw-2", "pw-3", "tk-1", "tk-2"):
        assert secret not in line
        assert secret not in stream
    assert AuditEntry.from_fields(entry.fields()) == entry  # redaction is stable across a round trip


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(
    "message",
    [
        'body {"password": "hunter2"}',
        'body {\\"password\\":\\"hunter2\\"}',
        "password=hunter2",
        "Authorization: Bearer hunter2",
        "url https://admin:hunter2@ctl/api",
        '{"pass_phrase": "hunter2"}',
    ],
)
def test_log_formats_mask_secrets(fmt: str, message: str) -> None:
    out = io.StringIO()
    logger = logging.Logger("t")
    logger.addHandler(logging_setup.make_handler(fmt, out))
    logger.info("%s", message, extra={"audit": {"arguments": {"password": "hunter2"}}})
    try:
        raise ValueError(message)
    except ValueError:
        logger.exception("failed")
    text = out.getvalue()
    assert "hunter2" not in text
    assert MASK in text
