"""Pending actions on a real redis-server and in memory: single use, expiry, tombstones, approvers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from bot.model_loop import AgentSettings
from bot.pending import (
    MemoryPendingStore,
    PendingAction,
    PendingStore,
    RedisPendingStore,
    Status,
    check_approver,
    new_action_id,
    resolve,
)
from bot.permissions import Access
from bot.sqlite import Database, SQLitePendingStore
from bot.types import Inbound, PendingActionView, Risk, Role, User, utcnow

ALICE = User(id="U1", name="alice")
BOB = User(id="U2", name="bob")
CONV = "slack:T1:C1:1700000000.0001"

OPERATOR = Access(role=Role.OPERATOR)
VIEWER = Access(role=Role.VIEWER)
ADMIN = Access(role=Role.ADMIN)


def make_action(risk: Risk = Risk.WRITE, ttl: float = 600, **over: object) -> PendingAction:
    fields: dict[str, object] = {
        "tool": "vs_disable",
        "arguments": {"name": "vs-web"},
        "risk": risk,
        "summary": "Disable virtual service vs-web",
        "diff": ["- enabled: true", "+ enabled: false"],
        "requested_by": ALICE,
        "platform": "slack",
        "conversation_key": CONV,
        "channel": "C1",
        "tenant": "prod",
    }
    return PendingAction.new(ttl_seconds=ttl, **{**fields, **over})


def inbound(who: User, conversation_key: str = CONV, platform: str = "slack") -> Inbound:
    return Inbound(
        platform=platform, conversation_key=conversation_key, user=who, text="confirm", channel="C1"
    )


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An embedded store file in the test's own directory, closed after the test."""
    db = await Database.open(tmp_path / "avibot.db")
    yield db
    await db.close()


@pytest.fixture(params=["redis", "memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> PendingStore:
    if request.param == "redis":
        return RedisPendingStore(request.getfixturevalue("redis_client"), prefix="t:")
    if request.param == "sqlite":
        return SQLitePendingStore(request.getfixturevalue("sqlite_db"))
    return MemoryPendingStore()


# -- the model ---------------------------------------------------------------------------------------


def test_action_id_and_times() -> None:
    ids = {new_action_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 10 and i.isalnum() and i == i.lower() for i in ids)
    action = make_action(ttl=600)
    assert action.expires_at - action.created_at == timedelta(seconds=600)


def test_view_shows_what_the_user_sees() -> None:
    action = make_action()
    assert action.view() == PendingActionView(
        id=action.id, summary=action.summary, diff=action.diff, risk=Risk.WRITE, expires_at=action.expires_at
    )


# -- the stores --------------------------------------------------------------------------------------


async def test_put_get_claim_once(store: PendingStore) -> None:
    action = make_action()
    await store.put(action)
    assert await store.get(action.id) == action
    assert await store.get(action.id) == action  # get only peeks
    assert await store.claim(action.id, BOB) == action
    assert await store.claim(action.id, BOB) is None
    assert await store.get(action.id) is None
    settled = await store.settled(action.id)
    assert settled is not None
    assert settled.text == "confirmed by bob"
    assert settled.by_id == "U2"
    assert await store.outcome(action.id) == "confirmed by bob"


async def test_cancel_takes_it_and_leaves_a_tombstone(store: PendingStore) -> None:
    action = make_action()
    await store.put(action)
    assert await store.cancel(action.id, ALICE) == action
    assert await store.claim(action.id, BOB) is None
    settled = await store.settled(action.id)
    assert settled is not None
    assert settled.text == "cancelled by alice"


async def test_a_losing_claim_does_not_overwrite_the_tombstone(store: PendingStore) -> None:
    action = make_action()
    await store.put(action)
    await store.claim(action.id, ALICE)
    assert await store.cancel(action.id, BOB) is None
    settled = await store.settled(action.id)
    assert settled is not None
    assert settled.text == "confirmed by alice"


async def test_unknown_id(store: PendingStore) -> None:
    assert await store.get("nosuchid00") is None
    assert await store.claim("nosuchid00", ALICE) is None
    assert await store.cancel("nosuchid00", ALICE) is None
    assert await store.settled("nosuchid00") is None  # a miss leaves no tombstone
    assert await store.outcome("nosuchid00") is None


async def test_expiry_with_a_real_wait(store: PendingStore) -> None:
    action = make_action(ttl=0.15)
    await store.put(action)
    assert await store.get(action.id) == action
    await asyncio.sleep(0.25)
    assert await store.get(action.id) is None
    assert await store.claim(action.id, BOB) is None
    assert await store.settled(action.id) is None  # expired, not "confirmed by bob"


async def test_put_refuses_expired_and_duplicate_ids(store: PendingStore) -> None:
    with pytest.raises(ValueError, match="expired"):
        await store.put(make_action(ttl=-1))
    action = make_action()
    await store.put(action)
    with pytest.raises(ValueError, match="in use"):
        await store.put(action.model_copy(update={"summary": "something else"}))
    assert (await store.get(action.id)) == action


async def test_redis_keys_and_ttls(redis_client: aioredis.Redis) -> None:
    store = RedisPendingStore(redis_client, prefix="t:", tombstone_ttl_seconds=600)
    action = make_action(ttl=600)
    await store.put(action)
    assert 595_000 <= await redis_client.pttl(f"t:pending:{action.id}") <= 600_000
    await store.claim(action.id, BOB)
    assert await redis_client.exists(f"t:pending:{action.id}") == 0
    assert 595_000 <= await redis_client.pttl(f"t:pending-done:{action.id}") <= 600_000


async def test_concurrent_claims_from_two_clients_exactly_one_wins(
    redis_client: aioredis.Redis, make_redis: Callable[[], aioredis.Redis]
) -> None:
    replica_a = RedisPendingStore(make_redis(), prefix="t:")
    replica_b = RedisPendingStore(make_redis(), prefix="t:")
    for _ in range(20):
        action = make_action()
        await replica_a.put(action)
        results = await asyncio.gather(replica_a.claim(action.id, ALICE), replica_b.claim(action.id, BOB))
        winners = [r for r in results if r is not None]
        assert winners == [action]
        settled = await replica_a.settled(action.id)
        assert settled is not None
        assert settled.by_id == ("U1" if results[0] is not None else "U2")


async def test_memory_concurrent_claims_exactly_one_wins() -> None:
    store = MemoryPendingStore()
    action = make_action()
    await store.put(action)
    results = await asyncio.gather(*(store.claim(action.id, BOB) for _ in range(10)))
    assert [r for r in results if r is not None] == [action]


async def test_memory_a_flood_of_actions_stays_bounded() -> None:
    store = MemoryPendingStore(max_actions=10_000)
    template = make_action()
    for n in range(50_000):
        action = template.model_copy(update={"id": f"flood{n:06d}"})
        await store.put(action)
        if n % 2:
            assert await store.claim(action.id, BOB) == action
    assert len(store._actions) <= 10_000
    assert len(store._done) <= 10_000
    assert await store.get("flood000000") is None  # the oldest went first
    assert await store.outcome("flood000001") is None
    assert await store.get("flood049998") is not None
    assert await store.outcome("flood049999") == "confirmed by bob"


async def test_memory_an_expired_action_behind_a_live_one_frees_its_id() -> None:
    store = MemoryPendingStore()
    short, long = make_action(ttl=0.05), make_action(ttl=600)
    await store.put(long)
    await store.put(short)
    await asyncio.sleep(0.1)
    await store.put(short.model_copy(update={"expires_at": long.expires_at}))  # not "in use"
    assert await store.get(short.id) is not None


# -- the approver check and the whole flow -----------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "access", "allowed"),
    [
        (Risk.WRITE, VIEWER, False),
        (Risk.WRITE, OPERATOR, True),
        (Risk.DESTRUCTIVE, OPERATOR, False),
        (Risk.DESTRUCTIVE, ADMIN, True),
        (Risk.WRITE, Access(role=Role.ADMIN, read_only=True), False),
    ],
)
def test_check_approver_confirm(risk: Risk, access: Access, allowed: bool) -> None:
    refusal = check_approver(make_action(risk=risk), "confirm", inbound(BOB), access)
    assert (refusal is None) is allowed
    if refusal is not None:
        assert refusal.status is Status.NOT_ALLOWED
        assert risk.value in refusal.message


def test_requester_needs_the_role_to_confirm_but_may_always_cancel() -> None:
    action = make_action(risk=Risk.WRITE)
    refusal = check_approver(action, "confirm", inbound(ALICE), VIEWER)
    assert refusal is not None
    assert refusal.status is Status.NOT_ALLOWED
    assert check_approver(action, "cancel", inbound(ALICE), VIEWER) is None
    assert check_approver(action, "cancel", inbound(BOB), VIEWER) is not None


def test_an_id_used_in_another_conversation_is_refused() -> None:
    action = make_action()
    for elsewhere in (inbound(BOB, conversation_key="slack:T1:C9:1"), inbound(BOB, platform="teams")):
        refusal = check_approver(action, "confirm", elsewhere, ADMIN)
        assert refusal is not None
        assert refusal.status is Status.OTHER_CONVERSATION


async def test_resolve_confirm_then_every_later_answer(store: PendingStore) -> None:
    action = make_action()
    await store.put(action)

    denied = await resolve(store, action.id, "confirm", inbound(BOB), VIEWER)
    assert denied.status is Status.NOT_ALLOWED
    assert denied.action == action
    assert await store.get(action.id) == action  # a refusal leaves it pending

    ready = await resolve(store, action.id, "confirm", inbound(BOB), OPERATOR)
    assert (ready.status, ready.action, ready.ok) == (Status.READY, action, True)

    again = await resolve(store, action.id, "confirm", inbound(ALICE), OPERATOR)
    assert again.status is Status.ALREADY_CONFIRMED
    assert again.message == f"Action {action.id} was already confirmed by bob."

    late_cancel = await resolve(store, action.id, "cancel", inbound(ALICE), OPERATOR)
    assert late_cancel.status is Status.ALREADY_CONFIRMED


async def test_resolve_cancel_then_confirm(store: PendingStore) -> None:
    action = make_action()
    await store.put(action)
    cancelled = await resolve(store, action.id, "cancel", inbound(ALICE), VIEWER)
    assert cancelled.status is Status.CANCELLED
    assert cancelled.message == "Cancelled: Disable virtual service vs-web"
    confirm = await resolve(store, action.id, "confirm", inbound(BOB), ADMIN)
    assert confirm.status is Status.ALREADY_CANCELLED
    assert "already cancelled by alice" in confirm.message
    assert not confirm.ok


async def test_resolve_unknown_or_expired(store: PendingStore) -> None:
    gone = await resolve(store, "nosuchid00", "confirm", inbound(BOB), ADMIN)
    assert gone.status is Status.NOT_FOUND
    assert "not found or has expired" in gone.message


async def test_resolve_loses_the_race_between_get_and_claim(store: PendingStore) -> None:
    action = make_action()
    await store.put(action)

    class Racy:
        """Another replica claims right after our peek."""

        async def get(self, action_id: str) -> PendingAction | None:
            found = await store.get(action_id)
            await store.claim(action_id, ALICE)
            return found

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

    result = await resolve(Racy(), action.id, "confirm", inbound(BOB), ADMIN)  # type: ignore[arg-type]
    assert result.status is Status.ALREADY_CONFIRMED
    assert result.settled is not None
    assert result.settled.by_name == "alice"


def test_times_are_utc_aware() -> None:
    action = make_action()
    assert action.created_at.tzinfo is not None
    assert abs((action.created_at - utcnow()).total_seconds()) < 5


@pytest.mark.parametrize(
    ("seconds", "valid"), [(0, False), (1, True), (600, True), (86400, True), (86401, False)]
)
def test_the_confirmation_window_setting_has_bounds(seconds: int, valid: bool) -> None:
    """`agent.pending_ttl_seconds`: at least a second, at most a day (a stale Confirm must not linger)."""
    if valid:
        assert AgentSettings(pending_ttl_seconds=seconds).pending_ttl_seconds == seconds
    else:
        with pytest.raises(ValidationError, match="pending_ttl_seconds"):
            AgentSettings(pending_ttl_seconds=seconds)


def test_the_default_confirmation_window_is_ten_minutes() -> None:
    assert AgentSettings().pending_ttl_seconds == 600
    assert make_action(ttl=AgentSettings().pending_ttl_seconds).remaining_ms() > 599_000
