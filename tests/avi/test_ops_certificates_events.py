"""Certificates, events and health monitor writes against the simulator over HTTP: each answer agrees
with a direct read of the controller, in the requests the operation promises."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from avi.errors import AviValidationError
from avi.operations import AviOperations, HealthMonitorCreate, HealthMonitorUpdate
from avi.operations.certificates import parse_cert_time
from avi.operations.events import parse_timestamp
from tests.conftest import RunningSim, StartSim, ops_for

# -- certificates --------------------------------------------------------------------------------


async def test_certificates_agree_with_a_direct_read_in_one_page(ops: AviOperations) -> None:
    direct = await ops.client.list_all("sslkeyandcertificate")
    before = ops.client.stats.requests
    found = await ops.certificates.list()
    assert ops.client.stats.requests - before == 1  # one page of certificates, no per-object request

    assert found.total == len(direct)
    by_name = {c["name"]: c["certificate"] for c in direct}
    assert {c.name for c in found.certificates} == set(by_name)
    expiries = [c.not_after for c in found.certificates]
    assert expiries == sorted(expiries)  # type: ignore[type-var]
    for cert in found.certificates:
        raw = by_name[cert.name]
        assert cert.subject_cn == raw["subject"]["common_name"]
        assert cert.issuer_cn == raw["issuer"]["common_name"]
        assert cert.not_after == parse_cert_time(raw["not_after"])
        assert cert.not_after is not None
        assert cert.days_left == (cert.not_after - found.now).days
        assert cert.expired is (cert.not_after <= found.now)
        assert cert.expiry_status == raw["expiry_status"]
    assert "System-Default-Cert" in by_name
    assert all("key" not in c for c in direct)  # the key never comes back without export_key


async def test_expiry_filter_is_inclusive_at_its_boundary(ops: AviOperations) -> None:
    everything = (await ops.certificates.list()).certificates
    target = everything[len(everything) // 2]
    assert target.not_after is not None
    days = 30
    at_boundary = target.not_after - dt.timedelta(days=days)  # it expires exactly 30 days from "now"
    inside = await ops.certificates.list(expiring_within_days=days, now=at_boundary)
    assert target.name in {c.name for c in inside.certificates}
    a_second_earlier = at_boundary - dt.timedelta(seconds=1)
    outside = await ops.certificates.list(expiring_within_days=days, now=a_second_earlier)
    assert target.name not in {c.name for c in outside.certificates}
    for c in inside.certificates:
        assert c.not_after is not None
        assert c.not_after <= at_boundary + dt.timedelta(days=days)
    # after it expired: listed as expired, or left out on request
    later = target.not_after + dt.timedelta(days=1)
    expired = await ops.certificates.list(expiring_within_days=0, now=later)
    assert next(c for c in expired.certificates if c.name == target.name).expired
    kept = await ops.certificates.list(expiring_within_days=0, now=later, include_expired=False)
    assert target.name not in {c.name for c in kept.certificates}
    with pytest.raises(ValueError, match="expiring_within_days"):
        await ops.certificates.list(expiring_within_days=-1)


async def test_certificate_name_filter(ops: AviOperations) -> None:
    names = {c.name for c in (await ops.certificates.list(name_contains="CERT-00")).certificates}
    direct = await ops.client.list_all("sslkeyandcertificate")
    assert names == {c["name"] for c in direct if "cert-00" in c["name"].lower()}
    assert names


def test_certificate_times_parse() -> None:
    utc = dt.UTC
    assert parse_cert_time("2027-06-09 04:44:28") == dt.datetime(2027, 6, 9, 4, 44, 28, tzinfo=utc)
    assert parse_cert_time("2027-06-09T04:44:28Z") == dt.datetime(2027, 6, 9, 4, 44, 28, tzinfo=utc)
    assert parse_cert_time("") is None
    assert parse_cert_time("soon") is None


# -- events --------------------------------------------------------------------------------------


async def _monitor_history(ops: AviOperations, name: str) -> None:
    await ops.healthmonitors.create(HealthMonitorCreate(name=name, type="tcp"))
    await ops.healthmonitors.update(name, HealthMonitorUpdate(send_interval=20))
    await ops.healthmonitors.update(name, HealthMonitorUpdate(failed_checks=4))


async def test_events_of_one_object_newest_first_within_the_window(
    ops: AviOperations, sim: RunningSim
) -> None:
    await _monitor_history(ops, "hm-events")
    await ops.healthmonitors.create(HealthMonitorCreate(name="hm-other", type="ping"))
    hm = await ops.healthmonitors.get("hm-events")
    two_hours_ago = time.time() - 2 * 3600
    sim.state.events.record("config_update", "healthmonitor", hm.config, "admin", "earlier", at=two_hours_ago)

    hour = await ops.events.list("hm-events", window="1h")
    assert [e.event_id for e in hour.events] == ["CONFIG_UPDATE", "CONFIG_UPDATE", "CONFIG_CREATE"]
    stamps = [e.timestamp for e in hour.events]
    assert stamps == sorted(stamps, reverse=True)
    assert all(hour.start <= t <= hour.end for t in stamps)
    assert hour.end - hour.start == dt.timedelta(hours=1)
    assert {(e.source, e.object_type, e.object_name, e.user) for e in hour.events} == {
        ("event", "healthmonitor", "hm-events", "admin")
    }
    assert hour.total == 3
    assert hour.complete

    six = await ops.events.list("hm-events", window="6h")
    assert len(six.events) == 4
    assert six.events[-1].user == "earlier"  # the oldest last
    assert six.events[-1].timestamp == dt.datetime.fromtimestamp(two_hours_ago, dt.UTC)

    # the same as the controller's own log search answers
    logs = await ops.client.get(
        "/api/analytics/logs", params={"type": 2, "duration": 3600, "filter": "eq(obj_name,hm-events)"}
    )
    direct = [parse_timestamp(e["report_timestamp"]) for e in logs["results"]]
    assert stamps == sorted(direct, reverse=True)  # type: ignore[type-var]

    limited = await ops.events.list("hm-events", window="6h", limit=2)
    assert [e.timestamp for e in limited.events] == [e.timestamp for e in six.events[:2]]
    assert limited.total == 4

    everything = await ops.events.list(window="1h")
    assert {"hm-events", "hm-other"} <= {e.object_name for e in everything.events}
    by_uuid = await ops.events.list(hm.uuid, window="1h")
    assert [e.timestamp for e in by_uuid.events] == stamps


async def test_events_filter_by_kind_and_include_the_objects_alerts(ops: AviOperations) -> None:
    alerts = await ops.client.list_all("alert")
    down = next(a for a in alerts if a["event_id"] == "VS_DOWN")
    found = await ops.events.list(down["obj_name"], window="7d")
    mine = [a for a in alerts if a["obj_name"] == down["obj_name"]]
    got = [e for e in found.events if e.source == "alert"]
    assert len(got) == len(mine)
    alert = got[0]
    assert (alert.event_id, alert.object_type, alert.level, alert.state) == (
        "VS_DOWN",
        "virtualservice",
        "ALERT_HIGH",
        "ALERT_STATE_ON",
    )
    assert alert.description == down["summary"]
    assert alert.timestamp == dt.datetime.fromtimestamp(down["timestamp"], dt.UTC)

    assert not (await ops.events.list(down["obj_name"], object_type="pool", window="7d")).events
    kind = await ops.events.list(down["obj_name"], object_type="VIRTUALSERVICE", window="7d")
    assert len(kind.events) == len(got)
    assert not (await ops.events.list("no-such-object", window="7d")).events


async def test_events_cost_one_log_search_and_one_page_of_alerts(ops: AviOperations) -> None:
    await ops.client.login()
    before = ops.client.stats.requests
    await ops.events.list("anything", window="24h")
    assert ops.client.stats.requests - before == 2


async def test_events_old_alerts_are_left_out(start_sim: StartSim) -> None:
    sim = await start_sim()
    ops = ops_for(sim)
    try:
        raw = await ops.client.list_all("alert", params={"sort": "-timestamp"})
        # an hour that ends just before the newest alert is an hour old: the older ones fall out
        now = dt.datetime.fromtimestamp(raw[0]["timestamp"], dt.UTC) + dt.timedelta(minutes=59, seconds=30)
        found = await ops.events.list(window="1h", now=now)
        expected = [a for a in raw if now.timestamp() - 3600 <= a["timestamp"] <= now.timestamp()]
        assert 0 < len(expected) < len(raw)
        got = [e for e in found.events if e.source == "alert"]
        assert [e.object_name for e in got] == [a["obj_name"] for a in expected]
    finally:
        await ops.client.aclose()


def test_event_timestamps_parse() -> None:
    at = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    for raw in ("2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00Z", at.timestamp(), at.timestamp() * 1e6):
        assert parse_timestamp(raw) == at, raw
    assert parse_timestamp(str(int(at.timestamp() * 1000))) == at
    assert parse_timestamp(None) is None
    assert parse_timestamp(True) is None


# -- health monitors: what the writes rely on ------------------------------------------------------


async def test_monitor_users_are_the_pools_that_reference_it(ops: AviOperations) -> None:
    pools = await ops.client.list_all("pool", params={"include_name": True})
    used: dict[str, list[str]] = {}
    for p in pools:
        for ref in p.get("health_monitor_refs") or []:
            used.setdefault(ref.rsplit("#", 1)[1], []).append(p["name"])
    name, users = next((n, u) for n, u in used.items() if not n.startswith("System-"))
    assert sorted(await ops.healthmonitors.used_by(name)) == sorted(users)
    # the controller refuses to delete a monitor in use, naming who uses it
    with pytest.raises(AviValidationError, match="referred by"):
        await ops.healthmonitors.delete(name)
    assert (await ops.healthmonitors.get(name)).name == name


async def test_monitor_update_merges_http_fields_and_refuses_no_ops(ops: AviOperations) -> None:
    await ops.healthmonitors.create(
        HealthMonitorCreate(name="hm-merge", type="http", http_request="GET /a HTTP/1.1")
    )
    m, body = await ops.healthmonitors.changes("hm-merge", HealthMonitorUpdate(http_response_codes=["4xx"]))
    assert body == {"http_monitor": {"http_request": "GET /a HTTP/1.1", "http_response_code": ["HTTP_4XX"]}}
    await ops.healthmonitors.update("hm-merge", HealthMonitorUpdate(http_response_codes=["4xx"]))
    read = await ops.healthmonitors.get("hm-merge")
    assert read.config["http_monitor"] == body["http_monitor"]
    with pytest.raises(ValueError, match="nothing to change"):
        await ops.healthmonitors.update("hm-merge", HealthMonitorUpdate(send_interval=m.send_interval))
    with pytest.raises(ValueError, match="receive_timeout"):
        await ops.healthmonitors.update("hm-merge", HealthMonitorUpdate(send_interval=3))
    await ops.healthmonitors.create(HealthMonitorCreate(name="hm-tcp", type="tcp"))
    with pytest.raises(ValueError, match="only to HTTP"):
        await ops.healthmonitors.update("hm-tcp", HealthMonitorUpdate(http_request="GET / HTTP/1.0"))
    with pytest.raises(ValueError, match="only to HTTP"):
        HealthMonitorCreate(name="x", type="tcp", http_response_codes=["2xx"])
    with pytest.raises(ValueError, match="response code"):
        HealthMonitorCreate(name="x", type="http", http_response_codes=["200"])
