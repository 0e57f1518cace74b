"""A wrong controller password must not lock the service account for everyone: the bot, as `avibot serve`
runs it (server app over HTTP, a real redis-server), against a simulator that locks an account after 3
failed logins, as the controller does.

Every question is answered at once with the cause; the bot tries one login, then waits (30 s, doubling);
/api/health and /readyz say the login is refused, and neither ever logs in itself.
"""

from __future__ import annotations

import asyncio

from tests.conftest import StartSim
from tests.faults.harness import http_for, runtime_for, settings_for

QUESTIONS = 6  # twice the simulator's lockout threshold


async def test_a_wrong_password_costs_one_login_and_locks_nobody_out(
    start_sim: StartSim, redis_url: str
) -> None:
    sim = await start_sim(lockout_failures=3)
    settings = settings_for(sim.url, redis_url, password="not-the-password")
    runtime = await runtime_for(settings)
    try:
        async with http_for(runtime, settings) as http:
            answers = []
            for i in range(QUESTIONS):
                resp = await asyncio.wait_for(
                    http.post("/api/chat", json={"message": "vs list", "conversation_id": f"pw{i}"}), 60
                )
                assert resp.status == 200
                answers.append(await resp.json())
            for answer in answers:
                errors = [p for p in answer["parts"] if p["kind"] == "error"]
                assert errors, answer
                assert "login" in errors[0]["message"].lower(), errors[0]
            assert "not retrying for" in answers[-1]["text"]  # the backoff is said, not hidden

            for _ in range(5):
                health = await (await http.get("/api/health")).json()
                ready = await http.get("/readyz")
            assert health["checks"]["avi"]["status"] == "down"
            assert health["checks"]["avi"]["detail"].startswith("login refused")
            assert ready.status == 503
            assert (await ready.json())["reasons"] == ["avi_login_failed"]

        assert sim.state.stats.login_failures == 1  # one real attempt for six questions and ten probes
        assert not sim.state.auth.locked_until  # the account still works for everyone else
    finally:
        await runtime.aclose()
