"""Alerts as the controller keeps them (alb-sdk `swagger/Alert.json`), and the simulator's own hooks to
raise and clear them.

An alert carries the real required fields (`alert_config_ref`, `level`, `name`, `obj_key`, `obj_uuid`,
`reason`, `state`, `summary`, `timestamp` in epoch seconds) plus `obj_name`, `description`,
`throttle_count` and one attached `events[]` entry (EventLog: `event_id`, `module`, `report_timestamp`,
`obj_type`, `obj_uuid`, `obj_name`, `tenant_name`, `event_description`). `event_id` is also kept at the
top level, as the seeded alerts always had it (not a swagger field). Each event id gets one
`System-<EventId>` alertconfig, created when first needed.

- `POST /api/simulator/alerts` `{"level", "obj_name", "summary", "reason"}` (optional `event_id`,
  `obj_type`): the object is looked up by name in every type visible to the caller's tenant; 201 with
  the alert. Same login and CSRF rules as every other write.
- `DELETE /api/simulator/alerts/{uuid}`: the controller clears (deletes) it; 204.
- `SimulatorConfig.alert_every` > 0: a background task raises one alert that often (clearing the one
  before), on a seeded pick of the inventory's virtual services and pools
  (`avibot sim --alert-every SECONDS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .alert_objects import add_alert, find_object, raise_random_alert
from .context import Ctx, empty
from .errors import ApiError, bad_request
from .render import present

if TYPE_CHECKING:
    from .state import SimulatorState


class AlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["ALERT_LOW", "ALERT_MEDIUM", "ALERT_HIGH"] = "ALERT_MEDIUM"
    obj_name: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    reason: str = "threshold_exceeded"
    event_id: str | None = None
    obj_type: str | None = None


async def create_alert(ctx: Ctx) -> web.Response:
    raw = await ctx.body()
    try:
        body = AlertBody.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise bad_request(f"{field}: {err['msg']}") from exc
    store = ctx.state.store
    found = find_object(store, body.obj_name, ctx.tenant, body.obj_type)
    if found is None:
        raise ApiError(404, f"No object named '{body.obj_name}' in this tenant")
    obj_type, obj = found
    alert = add_alert(
        store,
        obj_type,
        obj,
        level=body.level,
        summary=body.summary,
        reason=body.reason,
        event_id=body.event_id,
        uuid=ctx.state.new_uuid("alert"),
    )
    return ctx.respond(present(ctx.state.runtime, "alert", alert), status=201, include_name=True)


async def clear_alert(ctx: Ctx) -> web.Response:
    store = ctx.state.store
    uuid = ctx.match["uuid"]
    alert = store.get("alert", uuid)
    if alert is None or not store.visible("alert", uuid, ctx.tenant):
        raise ApiError(404, "Alert object not found!")
    store.remove("alert", uuid)
    return empty(204)


def alert_ticker(state: SimulatorState, every: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context that raises one alert every `every` seconds while the app runs."""

    async def ticker(_: web.Application) -> AsyncIterator[None]:
        rng = random.Random(state.config.seed)

        async def loop() -> None:
            # Each alert lives one interval: the previous one clears as the next is raised, so a
            # poller sees both a new alert and a resolution every time.
            previous: str | None = None
            while True:
                await asyncio.sleep(every)
                if previous is not None and previous in state.store.objects["alert"]:
                    state.store.remove("alert", previous)
                raised = raise_random_alert(state.store, rng, state.new_uuid("alert"))
                previous = str(raised["uuid"]) if raised is not None else None

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ticker
