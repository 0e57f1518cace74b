"""The URL table: which handler serves which /api path and method, and which paths need no login."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from . import actions, alerts, analytics, crud, inventory, logs, system
from .context import Ctx
from .crud import SINGLETON_TYPES
from .errors import method_not_allowed
from .object_types import INVENTORY_TYPES
from .store import Store

Handler = Callable[[Ctx], Awaitable[web.Response]]
Valid = Callable[[dict[str, str], Store], bool]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]
    public: bool = False
    valid: Valid | None = None
    fixed: dict[str, str] = field(default_factory=dict)


def _singleton_only(handler: Handler, method: str) -> Handler:
    async def wrapped(ctx: Ctx) -> web.Response:
        if ctx.match["type"] not in SINGLETON_TYPES:
            raise method_not_allowed(method)
        return await handler(ctx)

    return wrapped


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^/api/{pattern}/?$")


UUID = r"(?P<uuid>[^/]+)"
TYPE = r"(?P<type>[a-z0-9]+)"

ROUTES: tuple[Route, ...] = (
    Route(_r("initial-data"), {"GET": system.initial_data}, public=True),
    Route(_r("cluster/runtime"), {"GET": system.cluster_runtime}, public=True),
    Route(_r("cluster/status"), {"GET": system.cluster_status}, public=True),
    Route(_r("cluster/version"), {"GET": system.cluster_version}),
    Route(
        _r("cluster"),
        {"GET": crud.list_objects, "PUT": crud.replace_object, "PATCH": crud.patch_object},
        fixed={"type": "cluster"},
    ),
    Route(
        _r(f"cluster/{UUID}"),
        {"GET": crud.list_objects, "PUT": crud.replace_object},
        fixed={"type": "cluster"},
    ),
    Route(_r("user-token"), {"GET": system.token_list, "POST": system.token_create}),
    Route(_r(f"user-token/{UUID}"), {"GET": system.token_get, "DELETE": system.token_delete}),
    Route(_r("useraccount"), {"GET": system.useraccount_get, "PUT": system.useraccount_put}),
    Route(_r("simulator/alerts"), {"POST": alerts.create_alert}),
    Route(_r(f"simulator/alerts/{UUID}"), {"DELETE": alerts.clear_alert}),
    Route(_r("analytics/logs"), {"GET": logs.get_logs}),
    Route(_r("analytics/metric_id"), {"GET": analytics.get_metric_ids}),
    Route(_r("analytics/metrics/collection"), {"POST": analytics.post_collection}),
    Route(_r(f"analytics/metrics/(?P<entity>[a-z]+)(?:/{UUID})?"), {"GET": analytics.get_metrics}),
    Route(_r(f"analytics/healthscore/(?P<entity>[a-z]+)(?:/{UUID})?"), {"GET": analytics.get_healthscore}),
    Route(
        _r(f"{TYPE}-inventory"),
        {"GET": inventory.list_inventory},
        valid=lambda m, s: m["type"] in INVENTORY_TYPES,
    ),
    Route(
        _r(f"{TYPE}-inventory/{UUID}"),
        {"GET": inventory.get_inventory},
        valid=lambda m, s: m["type"] in INVENTORY_TYPES,
    ),
    Route(
        _r(
            f"(?P<type>virtualservice|pool|serviceengine)/{UUID}/runtime(?P<server>/server)?(?P<detail>/detail)?"
        ),
        {"GET": inventory.get_runtime},
    ),
    Route(
        _r("(?P<type>virtualservice|pool|serviceengine)/clear"),
        {"POST": actions.clear},
    ),
    Route(
        _r(f"{TYPE}/{UUID}/(?P<action>[a-z_-]+)"),
        {"POST": actions.run_action},
        valid=lambda m, s: actions.is_action(m["type"], m["action"]),
    ),
    Route(
        _r(TYPE),
        {
            "GET": crud.list_objects,
            "POST": crud.create_object,
            "PUT": _singleton_only(crud.replace_object, "PUT"),
            "PATCH": _singleton_only(crud.patch_object, "PATCH"),
        },
        valid=lambda m, s: m["type"] in s.objects,
    ),
    Route(
        _r(f"{TYPE}/{UUID}"),
        {
            "GET": crud.get_object,
            "PUT": crud.replace_object,
            "PATCH": crud.patch_object,
            "DELETE": crud.delete_object,
        },
        valid=lambda m, s: m["type"] in s.objects and m["type"] not in SINGLETON_TYPES,
    ),
)


def match(path: str, store: Store) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        groups = {k: v for k, v in found.groupdict().items() if v is not None}
        groups.update(route.fixed)
        if route.valid is None or route.valid(groups, store):
            return route, groups
    return None
