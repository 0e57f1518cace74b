"""What the seed steps share: the store and runtime being filled, one seeded random generator (the steps
draw from it in a fixed order, so the same seed gives the same inventory), the name index, and the facts
one step leaves for a later one (the finance tenant, placeable SEs, certificates, down virtual services).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from typing import Any

from .config import SimulatorConfig
from .refs import make_ref
from .runtime import OperState
from .store import ADMIN, Obj, Store

APPS = [
    "shop",
    "api",
    "auth",
    "billing",
    "search",
    "media",
    "mail",
    "crm",
    "erp",
    "portal",
    "payments",
    "inventory",
    "catalog",
    "checkout",
    "identity",
    "reports",
    "chat",
    "maps",
    "news",
    "ads",
]
ENVS = ("prod", "stage", "dev", "qa")
SECOND_TENANT = "finance"
L4_PORTS = (3306, 5432, 6379, 25, 8883)


class Seeder:
    """The seeding context: shared state and the helpers every step uses."""

    def __init__(self, store: Store, runtime: OperState, config: SimulatorConfig) -> None:
        self.store = store
        self.runtime = runtime
        self.config = config
        self.rng = random.Random(config.seed)
        self.by_name: dict[tuple[str, str], str] = {}
        today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.anchor = today
        self.finance = ""  # uuid of the second tenant (seed_tenants)
        self.ses: dict[str, list[str]] = {}  # SE group name -> placeable SE uuids (seed_service_engines)
        self.certs: list[str] = []  # application certificate uuids (seed_certificates)
        self.down_vs: list[tuple[str, str, str]] = []  # (uuid, name, tenant) of down VSs (seed_applications)

    def new_uuid(self, obj_type: str) -> str:
        return f"{obj_type}-{uuidlib.UUID(int=self.rng.getrandbits(128), version=4)}"

    def add(
        self, obj_type: str, fields: dict[str, Any], owner: str | None = ADMIN, uuid: str | None = None
    ) -> Obj:
        obj = {"uuid": uuid or self.new_uuid(obj_type), **fields}
        self.store.add(obj_type, obj, owner)
        if "name" in obj:
            self.by_name[(obj_type, obj["name"])] = obj["uuid"]
        return obj

    def ref(self, obj_type: str, name: str) -> str:
        return make_ref(obj_type, self.by_name[(obj_type, name)])
