"""The seeded inventory is deterministic: the same config gives the same objects, uuids and runtime.

The digests below were taken before seed.py was split into its seed_* modules and are unchanged by it.
A deliberate change to the seeded inventory changes them: re-run this file and replace the digests (and
the facts) in the same commit, saying why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import types
from typing import Any

import pytest

from avisim import SimulatorConfig, SimulatorState, seed_context

# Certificate dates are relative to today; a fixed day makes the whole state comparable across days.
DAY = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)


class _FixedDay(dt.datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _FixedDay:  # type: ignore[override]
        return cls.fromtimestamp(DAY.timestamp(), tz)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed_context, "dt", types.SimpleNamespace(datetime=_FixedDay, UTC=dt.UTC))


def seeded(**config: Any) -> SimulatorState:
    return SimulatorState(SimulatorConfig(**config))


def digest(state: SimulatorState) -> str:
    """One hash of everything the seed decides (objects in creation order, tenants, runtime facts);
    `_last_modified` is wall-clock time and left out."""
    store, runtime = state.store, state.runtime
    doc = {
        "objects": {
            t: [{k: v for k, v in o.items() if k != "_last_modified"} for o in objs.values()]
            for t, objs in store.objects.items()
        },
        "tenant_of": list(store.tenant_of.items()),
        "server_down": {k: sorted(v) for k, v in runtime.server_down.items()},
        "placements": runtime.placements,
        "requested": sorted([list(k), v] for k, v in runtime.requested.items()),
        "se_vs": {k: sorted(v) for k, v in runtime.se_vs.items()},
        "se_base_cpu": runtime.se_base_cpu,
    }
    return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()


DIGESTS = {
    (100, 1, None): "6762b97808d1c52b1ea829c0a9a25d2e4096ec32095846b08f978e07992fbaaf",
    (40, 7, None): "84b0b4ac1fcaaa518212616653b605ffaa09060d6a891203d29e0966690d7c6a",
    (230, 3, None): "c177adfd25b78f0f34f0ebfb28f85863e779de84c9244c414fd1d9cbb7ff34c9",
    (60, 5, 90): "cd63e626fbf73aec190c375a6508624ebe09fef97786d11c74955d9158259825",
}


@pytest.mark.parametrize(("objects", "seed", "pools"), list(DIGESTS))
def test_same_config_seeds_the_same_state(objects: int, seed: int, pools: int | None) -> None:
    state = seeded(objects=objects, seed=seed, pools=pools)
    assert digest(state) == digest(seeded(objects=objects, seed=seed, pools=pools))
    assert digest(state) == DIGESTS[(objects, seed, pools)]


def test_other_seed_other_state() -> None:
    assert digest(seeded(objects=40, seed=7)) != digest(seeded(objects=40, seed=8))


def test_stable_facts_of_the_test_default_inventory() -> None:
    """What a reader can check by hand for the tests' default simulator (40 VSs, seed 7)."""
    state = seeded(objects=40, seed=7)
    objects, runtime = state.store.objects, state.runtime
    first = next(iter(objects["virtualservice"].values()))
    assert (first["uuid"], first["name"]) == (
        "virtualservice-8aa4248c-8857-49a4-b908-f227c59db916",
        "search-prod-0001",
    )
    counts = {t: len(objects[t]) for t in ("virtualservice", "pool", "poolgroup", "serviceengine", "alert")}
    assert counts == {"virtualservice": 40, "pool": 40, "poolgroup": 1, "serviceengine": 4, "alert": 2}
    assert len(objects["sslkeyandcertificate"]) == 5  # System-Default-Cert + 4
    assert list(objects["serviceengine"])[:2] == ["se-00505614a0f9", "se-00505647469a"]
    finance = [v for v in objects["virtualservice"] if state.store.tenant_of[v] != "admin"]
    assert len(finance) == 4  # every 10th application
    assert sum(not v["enabled"] for v in objects["virtualservice"].values()) == 2
    assert len(runtime.server_down) == 6
