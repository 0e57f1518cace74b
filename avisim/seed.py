"""A deterministic, realistic inventory: same seed -> same names, uuids and states.

Layout for `objects` = N virtual services: admin + `finance` tenants (every 10th application lives in
finance), two clouds, two SE groups, service engines, the System-* profiles and monitors, certificates
(some expiring or expired), and per VS a vsvip and a pool (or pool group) in mixed health.

The steps run in this order and share one random generator (seed_context.Seeder); reordering them, or
the draws inside them, changes every seeded inventory (tests/sim/test_sim_seed.py pins it).
"""

from __future__ import annotations

from .config import SimulatorConfig
from .runtime import OperState
from .seed_apps import seed_applications
from .seed_certificates import seed_certificates
from .seed_context import Seeder
from .seed_controller import seed_controller, seed_tenants
from .seed_infra import seed_clouds, seed_profiles, seed_service_engines
from .seed_runtime import seed_alerts
from .store import Store

STEPS = (
    seed_tenants,
    seed_controller,
    seed_clouds,
    seed_profiles,
    seed_service_engines,
    seed_certificates,
    seed_applications,
    seed_alerts,
)


def seed_inventory(store: Store, runtime: OperState, config: SimulatorConfig) -> None:
    """Fill an empty store (and the runtime facts) with the inventory for `config`."""
    seeder = Seeder(store, runtime, config)
    for step in STEPS:
        step(seeder)
