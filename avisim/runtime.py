"""OperState state derived from configuration: oper states, SE placement, health scores.

Only what configuration cannot say is kept here (which servers the seed made unhealthy, which SEs carry
which VIP); everything else is computed on read, so a config change shows up in runtime at once.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .refs import make_ref, ref_uuid
from .store import Obj, Store

UP, DOWN, DISABLED = "OPER_UP", "OPER_DOWN", "OPER_DISABLED"


def noise(*parts: object) -> float:
    """A deterministic number in [0, 1) for the given key."""
    return (zlib.crc32(":".join(map(str, parts)).encode()) & 0xFFFFFF) / 0x1000000


@dataclass
class OperState:
    """Mutable runtime facts plus the functions that derive oper state from config."""

    store: Store
    seed: int
    version: str = ""
    started: float = field(default_factory=time.time)
    server_down: dict[str, set[str]] = field(default_factory=dict)  # pool uuid -> addrs failing health checks
    placements: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # vs -> vip_id -> SEs
    requested: dict[tuple[str, str], int] = field(default_factory=dict)
    se_vs: dict[str, set[str]] = field(default_factory=dict)
    se_base_cpu: dict[str, float] = field(default_factory=dict)
    se_reboots: dict[str, float] = field(default_factory=dict)
    _changes: dict[str, tuple[str, float]] = field(default_factory=dict)

    # -- oper status ---------------------------------------------------------------------------------
    def oper_status(self, uuid: str, state: str, reasons: list[str]) -> dict[str, Any]:
        last = self._changes.get(uuid)
        if last is None:
            last = (state, self.started)
            self._changes[uuid] = last
        elif last[0] != state:
            last = (state, time.time())
            self._changes[uuid] = last
        secs = int(last[1])
        return {
            "state": state,
            "reason": reasons,
            "reason_code": 0 if state == UP else 1,
            "last_changed_time": {"secs": secs, "usecs": int((last[1] - secs) * 1e6)},
        }

    def server_state(self, pool: Obj, server: dict[str, Any]) -> tuple[str, list[str]]:
        if not pool.get("enabled", True):
            return DISABLED, ["Pool is disabled"]
        if not server.get("enabled", True):
            return DISABLED, ["Server is disabled"]
        if server["ip"]["addr"] in self.server_down.get(pool["uuid"], ()):
            return DOWN, ["Health monitor failed: connection refused"]
        return UP, []

    def pool_counts(self, pool: Obj) -> tuple[int, int, int]:
        """(servers, enabled servers, servers up)."""
        servers = pool.get("servers", [])
        down = self.server_down.get(pool["uuid"], ())
        enabled = [s for s in servers if s.get("enabled", True)]
        up = sum(1 for s in enabled if s["ip"]["addr"] not in down)
        return len(servers), len(enabled), up

    def pool_state(self, pool: Obj) -> tuple[str, list[str]]:
        if not pool.get("enabled", True):
            return DISABLED, ["Pool is disabled"]
        total, enabled, up = self.pool_counts(pool)
        if enabled == 0:
            return DOWN, ["No enabled servers in the pool" if total else "Pool has no servers"]
        if up == 0:
            return DOWN, ["All servers are down"]
        return UP, []

    def pool_runtime(self, pool: Obj) -> dict[str, Any]:
        total, enabled, up = self.pool_counts(pool)
        state, reasons = self.pool_state(pool)
        return {
            "oper_status": self.oper_status(pool["uuid"], state, reasons),
            "num_servers": total,
            "num_servers_enabled": enabled,
            "num_servers_up": up,
            "percent_servers_up_enabled": round(100 * up / enabled) if enabled else 0,
            "percent_servers_up_total": round(100 * up / total) if total else 0,
        }

    def server_runtime(self, pool: Obj, detail: bool) -> list[dict[str, Any]]:
        out = []
        port_default = pool.get("default_server_port", 80)
        for server in pool.get("servers", []):
            state, reasons = self.server_state(pool, server)
            key = f"{pool['uuid']}:{server['ip']['addr']}:{server.get('port', port_default)}"
            item = {
                "ip_addr": server["ip"],
                "port": server.get("port", port_default),
                "hostname": server.get("hostname", server["ip"]["addr"]),
                "oper_status": self.oper_status(key, state, reasons),
                "enabled": server.get("enabled", True),
            }
            if detail:
                item["ratio"] = server.get("ratio", 1)
                item["num_connections"] = 0 if state != UP else int(5 + 200 * noise(self.seed, key))
                item["health_monitor_state"] = "UP" if state == UP else "DOWN"
            out.append(item)
        return out

    # -- virtual services -----------------------------------------------------------------------------
    def _vs_pools(self, vs: Obj) -> list[Obj]:
        store = self.store
        pools: list[Obj] = []
        if vs.get("pool_ref"):
            pool = store.get("pool", ref_uuid(vs["pool_ref"]) or "")
            if pool:
                pools.append(pool)
        if vs.get("pool_group_ref"):
            group = store.get("poolgroup", ref_uuid(vs["pool_group_ref"]) or "")
            for member in (group or {}).get("members", []):
                pool = store.get("pool", ref_uuid(member.get("pool_ref")) or "")
                if pool:
                    pools.append(pool)
        return pools

    def vs_state(self, vs: Obj) -> tuple[str, list[str]]:
        if not vs.get("enabled", True):
            return DISABLED, ["Virtual service is disabled"]
        if not vs.get("vsvip_ref"):
            return DOWN, ["No VIP configured"]
        if not vs.get("pool_ref") and not vs.get("pool_group_ref"):
            return DOWN, ["No pool or pool group configured"]
        pools = self._vs_pools(vs)
        if not any(self.pool_state(p)[0] == UP for p in pools):
            names = ", ".join(p.get("name", "?") for p in pools) or "none"
            return DOWN, [f"Pool(s) down: {names}"]
        return UP, []

    def vips_of(self, vs: Obj) -> list[dict[str, Any]]:
        vsvip = self.store.get("vsvip", ref_uuid(vs.get("vsvip_ref")) or "")
        return (vsvip or {}).get("vip", [])

    def vs_runtime(self, vs: Obj) -> dict[str, Any]:
        state, reasons = self.vs_state(vs)
        placement = self.placements.get(vs["uuid"], {})
        summaries = []
        for vip in self.vips_of(vs):
            vip_id = vip["vip_id"]
            ses = placement.get(vip_id, [])
            requested = self.requested.get((vs["uuid"], vip_id), max(1, len(ses)))
            summaries.append(
                {
                    "vip_id": vip_id,
                    "oper_status": self.oper_status(f"{vs['uuid']}:{vip_id}", state, reasons),
                    "num_se_assigned": len(ses),
                    "num_se_requested": requested,
                    "percent_ses_up": 100 if ses else 0,
                    "service_engine": [
                        {
                            "url": make_ref("serviceengine", se),
                            "uuid": se,
                            "primary": i == 0,
                            "standby": False,
                            "connected": True,
                            "active_on_se": True,
                        }
                        for i, se in enumerate(ses)
                    ],
                }
            )
        return {
            "oper_status": self.oper_status(vs["uuid"], state, reasons),
            "percent_ses_up": 100 if any(s["num_se_assigned"] for s in summaries) else 0,
            "vip_summary": summaries,
        }

    # -- service engines ----------------------------------------------------------------------------
    def se_cpu(self, se_uuid: str) -> float:
        base = self.se_base_cpu.get(se_uuid, 15.0)
        return min(97.0, base + 1.5 * len(self.se_vs.get(se_uuid, ())))

    def se_state(self, se: Obj) -> tuple[str, list[str]]:
        return UP, []

    def se_runtime(self, se: Obj) -> dict[str, Any]:
        state, reasons = self.se_state(se)
        return {
            "oper_status": self.oper_status(se["uuid"], state, reasons),
            "se_connected": True,
            "power_state": "SE_POWER_ON",
            "version": self.version,
            "hb_status": {"num_hb_misses": 0, "num_outstanding_hb": 0},
            "gateway_up": True,
            "bgp_peers_up": True,
            "migrate_state": "SE_MIGRATE_STATE_IDLE",
            "at_curr_ver": True,
            "inband_mgmt": False,
            "vinfra_discovered": True,
            "last_reboot": self.se_reboots.get(se["uuid"]),
        }

    # -- health ---------------------------------------------------------------------------------------
    def health(self, obj_type: str, obj: Obj) -> dict[str, Any]:
        """Health score (0-100) consistent with oper state; 0 when down or disabled."""
        uuid = obj["uuid"]
        if obj_type == "virtualservice":
            state = self.vs_state(obj)[0]
            pools = self._vs_pools(obj)
            counts = [self.pool_counts(p) for p in pools]
            enabled = sum(c[1] for c in counts)
            up = sum(c[2] for c in counts)
            perf = 100 - (50 * (enabled - up) // enabled if enabled else 0)
            ses = {se for ses in self.placements.get(uuid, {}).values() for se in ses}
            resources = int(max((self.se_cpu(se) for se in ses), default=0) // 10)
        elif obj_type == "pool":
            state = self.pool_state(obj)[0]
            _, enabled, up = self.pool_counts(obj)
            perf = 100 - (50 * (enabled - up) // enabled if enabled else 0)
            resources = 0
        elif obj_type == "serviceengine":
            state = UP
            perf = 100
            resources = int(self.se_cpu(uuid) // 5)
        else:
            state, perf, resources = UP, 100, 0
        if state != UP:
            return {
                "health_score": 0,
                "anomaly_penalty": 0,
                "resources_penalty": 0,
                "security_penalty": 0,
                "performance_score": 0,
            }
        anomaly = int(6 * noise(self.seed, uuid, "anomaly"))
        score = max(1, min(100, perf - anomaly - resources))
        return {
            "health_score": score,
            "anomaly_penalty": anomaly,
            "resources_penalty": resources,
            "security_penalty": 0,
            "performance_score": perf,
        }

    # -- placement ------------------------------------------------------------------------------------
    def _group_ses(self, vs: Obj) -> list[str]:
        group = ref_uuid(vs.get("se_group_ref"))
        return [
            se["uuid"]
            for se in self.store.objects["serviceengine"].values()
            if ref_uuid(se.get("se_group_ref")) == group
            and se.get("enable_state", "SE_STATE_ENABLED") == "SE_STATE_ENABLED"
        ]

    def _assign(self, vs_uuid: str, vip_id: str, ses: list[str]) -> None:
        self.placements.setdefault(vs_uuid, {})[vip_id] = ses
        self._reindex(vs_uuid)

    def _reindex(self, vs_uuid: str) -> None:
        for vs_set in self.se_vs.values():
            vs_set.discard(vs_uuid)
        for ses in self.placements.get(vs_uuid, {}).values():
            for se in ses:
                self.se_vs.setdefault(se, set()).add(vs_uuid)

    def place(self, vs: Obj) -> None:
        """Put each VIP of a new or changed VS on the least-loaded SE of its group."""
        current = self.placements.get(vs["uuid"], {})
        candidates = self._group_ses(vs)
        placement: dict[str, list[str]] = {}
        for vip in self.vips_of(vs):
            ses = [se for se in current.get(vip["vip_id"], []) if se in candidates]
            if not ses and candidates:
                ses = [min(candidates, key=lambda se: len(self.se_vs.get(se, ())))]
            placement[vip["vip_id"]] = ses
        self.placements[vs["uuid"]] = placement
        self._reindex(vs["uuid"])

    def unplace(self, vs_uuid: str) -> None:
        self.placements.pop(vs_uuid, None)
        self._reindex(vs_uuid)
        for key in [k for k in self.requested if k[0] == vs_uuid]:
            del self.requested[key]

    def _vip_ses(self, vs: Obj, vip_id: str) -> list[str]:
        if vip_id not in {v["vip_id"] for v in self.vips_of(vs)}:
            raise bad_request(f"vip_id {vip_id} not found in the virtual service's VIPs")
        return list(self.placements.get(vs["uuid"], {}).get(vip_id, []))

    def scaleout(self, vs: Obj, vip_id: str, to_se: str | None) -> list[str]:
        ses = self._vip_ses(vs, vip_id)
        free = [se for se in self._group_ses(vs) if se not in ses]
        if to_se:
            if to_se not in free:
                raise bad_request(f"Service engine {to_se} is not available for scale out")
            choice = to_se
        elif free:
            choice = min(free, key=lambda se: len(self.se_vs.get(se, ())))
        else:
            raise bad_request("No service engine available in the SE group for scale out")
        ses.append(choice)
        self.requested[(vs["uuid"], vip_id)] = len(ses)
        self._assign(vs["uuid"], vip_id, ses)
        return ses

    def scalein(self, vs: Obj, vip_id: str, from_se: str | None, primary: bool) -> list[str]:
        ses = self._vip_ses(vs, vip_id)
        if len(ses) <= 1:
            raise bad_request("Cannot scale in below one service engine")
        if from_se:
            if from_se not in ses:
                raise bad_request(f"Service engine {from_se} does not carry vip {vip_id}")
            ses.remove(from_se)
        elif primary:
            ses.pop(0)
        else:
            ses.pop()
        self.requested[(vs["uuid"], vip_id)] = len(ses)
        self._assign(vs["uuid"], vip_id, ses)
        return ses

    def migrate(self, vs: Obj, vip_id: str, from_se: str | None, to_se: str | None) -> list[str]:
        ses = self._vip_ses(vs, vip_id)
        if not ses:
            raise bad_request("The VIP is not placed on any service engine")
        source = from_se or ses[0]
        if source not in ses:
            raise bad_request(f"Service engine {source} does not carry vip {vip_id}")
        free = [se for se in self._group_ses(vs) if se not in ses]
        if to_se and to_se not in free:
            raise bad_request(f"Service engine {to_se} is not available for migration")
        if not to_se and not free:
            raise bad_request("No service engine available in the SE group for migration")
        target = to_se or min(free, key=lambda se: len(self.se_vs.get(se, ())))
        ses[ses.index(source)] = target
        self._assign(vs["uuid"], vip_id, ses)
        return ses

    def switchover(self, vs: Obj, vip_id: str, se_uuid: str | None) -> list[str]:
        ses = self._vip_ses(vs, vip_id)
        if len(ses) < 2:
            raise bad_request("Switchover needs the VIP on at least two service engines")
        if se_uuid:
            if se_uuid not in ses:
                raise bad_request(f"Service engine {se_uuid} does not carry vip {vip_id}")
            ses.remove(se_uuid)
            ses.insert(0, se_uuid)
        else:
            ses.append(ses.pop(0))
        self._assign(vs["uuid"], vip_id, ses)
        return ses

    def se_switchover(self, se_uuid: str) -> int:
        """Make another SE primary for every VIP where this one is; returns how many moved."""
        moved = 0
        for placement in self.placements.values():
            for ses in placement.values():
                if len(ses) > 1 and ses[0] == se_uuid:
                    ses.append(ses.pop(0))
                    moved += 1
        return moved
