"""Route filters and the settings model: every filter optional, each one narrowing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from avi.operations.alerts import Alert, AlertCursor
from bot.alerts import AlertRoute, AlertSettings, AlertView
from bot.alerts.models import duration_text


def alert(**fields: object) -> Alert:
    raw = {
        "uuid": "alert-1",
        "level": "ALERT_MEDIUM",
        "state": "ALERT_STATE_ON",
        "obj_uuid": "pool-123",
        "obj_name": "web-pool",
        "tenant_ref": "https://c/api/tenant/admin#admin",
        "summary": "pool down",
        "timestamp": 1700000000.5,
        **fields,
    }
    made = Alert.from_api(raw)
    assert made is not None
    return made


def test_alert_fields_from_the_api() -> None:
    a = alert(events=[{"event_id": "POOL_DOWN", "obj_type": "POOL"}])
    assert (a.obj_type, a.tenant, a.event_ids, a.timestamp) == ("pool", "admin", ("POOL_DOWN",), 1700000000.5)
    assert (
        alert(obj_uuid="virtualservice-9", tenant_ref="https://c/api/tenant/t-1").obj_type == "virtualservice"
    )
    assert alert(tenant_ref="https://c/api/tenant/t-1").tenant == "t-1"
    assert Alert.from_api({"uuid": "x"}) is None  # no timestamp
    assert Alert.from_api({"timestamp": 1.0}) is None  # no uuid


def test_defaults_and_no_route_means_disabled() -> None:
    s = AlertSettings()
    assert (s.poll_seconds, s.storm_per_minute, s.routes, s.enabled) == (30.0, 10, (), False)
    assert AlertSettings.model_validate({"routes": [{"to": "slack:C0123"}]}).enabled


def test_a_route_without_filters_takes_everything() -> None:
    route = AlertRoute(to="slack:C0123")
    assert route.matches(alert(level="ALERT_LOW"))
    assert (route.platform, route.target) == ("slack", "C0123")


def test_teams_conversation_ids_keep_their_colons() -> None:
    route = AlertRoute(to="teams:19:abc@thread.tacv2;messageid=1")
    assert (route.platform, route.target) == ("teams", "19:abc@thread.tacv2;messageid=1")


@pytest.mark.parametrize(
    ("route", "fields", "expected"),
    [
        ({"min_level": "ALERT_MEDIUM"}, {"level": "ALERT_LOW"}, False),
        ({"min_level": "ALERT_MEDIUM"}, {"level": "ALERT_MEDIUM"}, True),
        ({"min_level": "ALERT_MEDIUM"}, {"level": "ALERT_HIGH"}, True),
        ({"min_level": "ALERT_HIGH"}, {"level": "ALERT_MEDIUM"}, False),
        ({"tenants": ["finance"]}, {}, False),
        ({"tenants": ["finance", "admin"]}, {}, True),
        ({"object_types": ["virtualservice"]}, {}, False),
        ({"object_types": ["POOL"]}, {}, True),
        ({"names": "^web-"}, {}, True),
        ({"names": "^db-"}, {}, False),
        ({"names": "pool$", "object_types": ["pool"], "min_level": "ALERT_LOW"}, {}, True),
        ({"names": "pool$", "tenants": ["finance"]}, {}, False),
    ],
)
def test_each_filter_narrows(route: dict[str, object], fields: dict[str, object], expected: bool) -> None:
    assert AlertRoute.model_validate({"to": "slack:C1", **route}).matches(alert(**fields)) is expected


@pytest.mark.parametrize(
    "bad",
    [
        {"to": "email:ops@example.com"},
        {"to": "slack:"},
        {"to": "slack:C1", "names": "("},
        {"to": "slack:C1", "min_level": "ALERT_LOUD"},
        {"to": "slack:C1", "channel": "x"},
    ],
)
def test_bad_routes_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AlertRoute.model_validate(bad)


def test_cursor_takes_newer_and_unseen_same_time_alerts() -> None:
    cursor = AlertCursor(timestamp=10.0, seen=frozenset({"a"}))
    assert not cursor.is_new(alert(uuid="a", timestamp=10.0))
    assert cursor.is_new(alert(uuid="b", timestamp=10.0))
    assert not cursor.is_new(alert(uuid="c", timestamp=9.0))
    after = cursor.after([alert(uuid="b", timestamp=10.0)])
    assert after == AlertCursor(timestamp=10.0, seen=frozenset({"a", "b"}))
    assert cursor.after([alert(uuid="d", timestamp=11.0)]) == AlertCursor(
        timestamp=11.0, seen=frozenset({"d"})
    )
    assert cursor.after([]) == cursor


def test_views_and_durations() -> None:
    view = AlertView.of(alert(level="ALERT_HIGH"), "slack:C1")
    assert view.headline() == "[high] pool web-pool: pool down"
    resolved = view.model_copy(update={"state": "resolved", "resolved_after_seconds": 720, "fired": 2})
    assert resolved.headline() == "[high] pool web-pool: pool down (fired 2 times) — resolved after 12 min"
    assert [duration_text(s) for s in (5, 59.6, 125, 3600, 3720, 90000)] == [
        "5 s",
        "1 min",
        "2 min",
        "1 h",
        "1 h 2 min",
        "1 d 1 h",
    ]
