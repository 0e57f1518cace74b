"""The alert engine against the simulator over real HTTP and a real redis-server: exactly once across
two replicas and a restart, resolution, storms, flapping, thread context, retries."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from avi.operations import AviOperations
from bot.alerts import AlertEngine, MemoryPoster, RedisAlertStore
from bot.alerts.events import AlertPollFinished, AlertPosted
from bot.events import Observers
from tests.alerts.helpers import clear_alert, engine, names, raise_alert, settings
from tests.conftest import RunningSim
from tests.support.redis_server import MakeRedis

ALL = {"to": "slack:C0ALL"}
HIGH_TEAMS = {"to": "teams:19:ops@thread.tacv2", "min_level": "ALERT_HIGH"}
POOLS_ONLY = {"to": "slack:C0POOLS", "object_types": ["pool"]}


async def both(*engines: AlertEngine) -> None:
    await asyncio.gather(*(e.poll_once() for e in engines))


async def test_one_alert_one_root_per_matching_route_across_two_replicas(
    sim: RunningSim, replicas: tuple[AviOperations, AviOperations], redis_client: Redis, make_redis: MakeRedis
) -> None:
    ops_a, ops_b = replicas
    poster = MemoryPoster()
    conf = settings(ALL, HIGH_TEAMS, POOLS_ONLY)
    one = engine(ops_a, RedisAlertStore(redis_client), poster, conf)
    two = engine(ops_b, RedisAlertStore(make_redis()), poster, conf)
    await both(one, two)  # first start: sets the cursor, replays nothing already on the controller
    assert poster.roots == []
    vs = names(sim)[0]
    created = await raise_alert(ops_a, vs, "ALERT_HIGH")
    await both(one, two)
    await both(one, two)
    assert [r.route_to for r in poster.roots].count("slack:C0ALL") == 1
    assert [r.route_to for r in poster.roots].count("teams:19:ops@thread.tacv2") == 1
    assert poster.roots_to("slack:C0POOLS") == []
    view = poster.roots_to("slack:C0ALL")[0].view
    assert (view.object_name, view.object_type, view.alert_uuid) == (vs, "virtualservice", created["uuid"])
    assert view.tenant == "admin"
    # a medium alert on a pool: the pool route and the catch-all, not the high-only Teams route
    pool = names(sim, "pool")[0]
    await raise_alert(ops_b, pool, "ALERT_MEDIUM")
    await both(one, two)
    assert len(poster.roots_to("slack:C0POOLS")) == 1
    assert len(poster.roots_to("slack:C0ALL")) == 2
    assert len(poster.roots_to("teams:19:ops@thread.tacv2")) == 1


async def test_restart_posts_nothing_twice_and_misses_nothing(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    conf = settings(ALL)
    first = engine(ops, RedisAlertStore(redis_client), poster, conf)
    await first.poll_once()
    vs = names(sim)
    await raise_alert(ops, vs[0])
    await first.poll_once()
    assert len(poster.roots) == 1
    # down: another alert arrives; a new engine on the same store picks it up, and only it
    await raise_alert(ops, vs[1])
    restarted = engine(ops, RedisAlertStore(redis_client), poster, conf)
    await restarted.poll_once()
    await restarted.poll_once()
    assert sorted(r.view.object_name for r in poster.roots) == [vs[0], vs[1]]


async def test_restart_with_a_lost_cursor_still_posts_nothing_twice(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    store = RedisAlertStore(redis_client)
    eng = engine(ops, store, poster, settings(ALL))
    await eng.poll_once()
    created = await raise_alert(ops, names(sim)[0])
    await eng.poll_once()
    # the cursor moves back (an older replica wrote it, say): the claims still say what is done
    await store.put("cursor", f'{{"timestamp": {created["timestamp"] - 1}, "seen": []}}', 60)
    await eng.poll_once()
    assert len(poster.roots) == 1


async def test_clearing_posts_one_resolution_and_updates_the_root(
    sim: RunningSim, replicas: tuple[AviOperations, AviOperations], redis_client: Redis, make_redis: MakeRedis
) -> None:
    ops_a, ops_b = replicas
    poster = MemoryPoster()
    conf = settings(ALL)
    one = engine(ops_a, RedisAlertStore(redis_client), poster, conf)
    two = engine(ops_b, RedisAlertStore(make_redis()), poster, conf)
    await both(one, two)
    created = await raise_alert(ops_a, names(sim)[0])
    await both(one, two)
    await clear_alert(ops_a, created["uuid"])
    await both(one, two)
    await both(one, two)
    (root,) = poster.roots
    assert len(root.replies) == 1
    assert root.replies[0].startswith("Resolved: the controller cleared the alert after ")
    assert root.view.state == "resolved"
    assert root.view.resolved_after_seconds is not None
    assert "resolved after" in root.view.headline()


async def test_dismissed_state_counts_as_cleared(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    eng = engine(ops, RedisAlertStore(redis_client), poster, settings(ALL))
    await eng.poll_once()
    created = await raise_alert(ops, names(sim)[0])
    await eng.poll_once()
    sim.state.store.objects["alert"][created["uuid"]]["state"] = "ALERT_STATE_DISMISSED"
    await eng.poll_once()
    assert poster.roots[0].replies[0].startswith("Resolved")


async def test_fifty_alerts_in_a_minute_become_one_digest(
    sim: RunningSim, replicas: tuple[AviOperations, AviOperations], redis_client: Redis, make_redis: MakeRedis
) -> None:
    ops_a, ops_b = replicas
    poster = MemoryPoster()
    conf = settings(ALL, storm_per_minute=10)
    one = engine(ops_a, RedisAlertStore(redis_client), poster, conf)
    two = engine(ops_b, RedisAlertStore(make_redis()), poster, conf)
    await both(one, two)
    vs = names(sim)[:5]
    for i in range(50):
        await raise_alert(ops_a, vs[i % 5])
    await both(one, two)
    (digest,) = poster.roots
    view = digest.view
    assert view.kind == "digest"
    assert view.total == 50
    assert {d.object_name: d.count for d in view.digest} == dict.fromkeys(vs, 10)
    assert view.headline() == "Alert storm: 50 alerts on 5 objects"
    # more of the storm a moment later: the same digest, updated in place
    for _ in range(5):
        await raise_alert(ops_b, vs[0])
    await both(one, two)
    assert len(poster.roots) == 1
    assert poster.roots[0].view.total == 55
    context = await one.context_for("slack", digest.ref.thread_key)
    assert context is not None
    assert context.kind == "digest"


async def test_a_storm_is_as_serious_as_its_worst_alert(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    one = engine(ops, RedisAlertStore(redis_client), poster, settings(ALL, storm_per_minute=3))
    await one.poll_once()
    vs = names(sim)[:4]
    for name in vs[:3]:
        await raise_alert(ops, name, level="ALERT_LOW")
    await raise_alert(ops, vs[3], level="ALERT_HIGH")
    await one.poll_once()
    (digest,) = poster.roots
    assert digest.view.kind == "digest"
    assert digest.view.level == "ALERT_HIGH"


async def test_flapping_object_is_grouped_into_its_thread(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    eng = engine(ops, RedisAlertStore(redis_client), poster, settings(ALL))
    await eng.poll_once()
    vs = names(sim)[0]
    for _ in range(3):
        created = await raise_alert(ops, vs)
        await eng.poll_once()
        await clear_alert(ops, created["uuid"])
        await eng.poll_once()
    (root,) = poster.roots
    assert [r.split(":")[0] for r in root.replies] == [
        "Resolved",
        "Fired again at " + root.replies[1].split("Fired again at ")[1].split(":")[0],
        "Resolved",
        "Fired again at " + root.replies[3].split("Fired again at ")[1].split(":")[0],
        "Resolved",
    ]
    assert "the 3rd in this thread" in root.replies[3]
    assert root.view.fired == 3
    assert root.view.state == "resolved"


async def test_thread_context_for_a_follow_up(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    eng = engine(ops, RedisAlertStore(redis_client), poster, settings(ALL))
    await eng.poll_once()
    vs = names(sim)[0]
    created = await raise_alert(ops, vs)
    await eng.poll_once()
    ref = poster.roots[0].ref
    context = await eng.context_for("slack", ref.thread_key)
    assert context is not None
    assert (context.object_type, context.object_name, context.object_uuid) == (
        "virtualservice",
        vs,
        created["obj_uuid"],
    )
    assert (context.tenant, context.summary, context.alert_uuid) == (
        "admin",
        f"{vs} is down",
        created["uuid"],
    )
    assert vs in context.as_text()
    assert await eng.context_for("slack", "slack:T1:C0ALL:999.000") is None
    assert await eng.context_for("teams", ref.thread_key) is None


async def test_a_failed_post_is_retried_once_on_the_next_poll(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    seen: list[object] = []
    observers = Observers()
    observers.subscribe(seen.append)  # type: ignore[arg-type]
    eng = engine(ops, RedisAlertStore(redis_client), poster, settings(ALL), observers=observers)
    await eng.poll_once()
    await raise_alert(ops, names(sim)[0])
    poster.fail_next = 1
    report = await eng.poll_once()
    assert (report.ok, report.retry, poster.roots) == (False, 1, [])
    report = await eng.poll_once()
    assert report.posted == 1
    await eng.poll_once()
    assert len(poster.roots) == 1
    assert AlertPosted("slack", "root") in seen
    assert any(isinstance(e, AlertPollFinished) for e in seen)


async def test_no_route_no_posting_and_no_reading(
    sim: RunningSim, ops: AviOperations, redis_client: Redis
) -> None:
    poster = MemoryPoster()
    eng = engine(ops, RedisAlertStore(redis_client), poster, settings())
    await raise_alert(ops, names(sim)[0])
    sim.state.stats.reset()
    report = await eng.poll_once()
    assert report.new == 0
    assert poster.roots == []
    assert sim.state.stats.requests == 0


async def test_run_polls_until_stopped(sim: RunningSim, ops: AviOperations, redis_client: Redis) -> None:
    poster = MemoryPoster()
    eng = engine(ops, RedisAlertStore(redis_client), poster, settings(ALL, poll_seconds=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(eng.run(stop))
    await asyncio.sleep(0.2)
    await raise_alert(ops, names(sim)[0])
    for _ in range(100):
        if poster.roots:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert len(poster.roots) == 1
