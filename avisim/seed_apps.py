"""The applications: per virtual service a vsvip, a pool of servers (or a pool group) and the VS itself,
in a mix of HTTPS, HTTP and L4, of tenants, of SE groups and of health."""

from __future__ import annotations

from typing import Any

from .refs import make_ref
from .seed_context import APPS, ENVS, L4_PORTS, Seeder
from .seed_runtime import fail_servers, place_on_service_engines
from .store import ADMIN, Obj


def seed_applications(seeder: Seeder) -> None:
    """Per VS a vsvip, a pool (every 50th through a pool group) and the VS, placed on SEs."""
    cfg = seeder.config
    rng = seeder.rng
    cloud = seeder.ref("cloud", "Default-Cloud")
    vrf = seeder.ref("vrfcontext", "global")
    refs = {
        n: seeder.ref("applicationprofile", n)
        for n in ("System-HTTP", "System-Secure-HTTP", "System-L4-Application")
    }
    tcp_proxy = seeder.ref("networkprofile", "System-TCP-Proxy")
    fast_path = seeder.ref("networkprofile", "System-TCP-Fast-Path")
    ssl_profile = seeder.ref("sslprofile", "System-Standard")
    monitors = {
        "http": seeder.ref("healthmonitor", "System-HTTP"),
        "https": seeder.ref("healthmonitor", "System-HTTPS"),
        "tcp": seeder.ref("healthmonitor", "System-TCP"),
    }
    custom = [seeder.ref("healthmonitor", f"hm-{a}-http") for a in APPS[:6]]
    seeder.down_vs = []
    pools_total = cfg.pool_count
    for i in range(max(cfg.objects, pools_total)):
        app, env = APPS[rng.randrange(len(APPS))], ENVS[rng.randrange(len(ENVS))]
        name = f"{app}-{env}-{i + 1:04d}"
        owner = seeder.finance if i % 10 == 9 else ADMIN
        kind = rng.random()
        kind = "https" if kind < 0.30 else "l4" if kind < 0.45 else "http"
        subnet = f"10.{1 + (i // 250) % 254}.{i % 250 + 1}"
        pool = None
        if i < pools_total:
            pool = make_pool(
                seeder,
                i,
                name if i < cfg.objects else f"spare-{i + 1:04d}",
                kind,
                subnet,
                owner,
                cloud,
                vrf,
                monitors,
                custom,
            )
        if i >= cfg.objects:
            continue
        vips = [{"vip_id": "0", "ip_address": {"addr": f"10.200.{i // 250}.{i % 250 + 1}", "type": "V4"}}]
        if rng.random() < 0.05:
            vips.append({"vip_id": "1", "ip_address": {"addr": f"fd00:200::{i + 1:x}", "type": "V6"}})
        vsvip = seeder.add(
            "vsvip",
            {
                "name": f"{name}-vip",
                "cloud_ref": cloud,
                "vrf_context_ref": vrf,
                "vip": [
                    {
                        **v,
                        "enabled": True,
                        "auto_allocate_ip": False,
                        "auto_allocate_floating_ip": False,
                        "avi_allocated_vip": False,
                        "avi_allocated_fip": False,
                        "prefix_length": 32,
                    }
                    for v in vips
                ],
                "dns_info": [{"fqdn": f"{name}.example.com"}],
            },
            owner,
        )
        fields: dict[str, Any] = {
            "name": name,
            "enabled": rng.random() >= 0.04,
            "vsvip_ref": make_ref("vsvip", vsvip["uuid"]),
            "cloud_ref": cloud,
            "vrf_context_ref": vrf,
            "se_group_ref": seeder.ref(
                "serviceenginegroup", "Prod-SE-Group" if env == "prod" and i % 3 == 0 else "Default-Group"
            ),
            "analytics_profile_ref": seeder.ref("analyticsprofile", "System-Analytics-Profile"),
            "fqdn": f"{name}.example.com",
            "description": f"{app} ({env})",
        }
        if kind == "https":
            fields["services"] = [
                {"port": 443, "enable_ssl": True, "port_range_end": 443},
                {"port": 80, "enable_ssl": False, "port_range_end": 80},
            ]
            fields["application_profile_ref"] = refs["System-Secure-HTTP"]
            fields["network_profile_ref"] = tcp_proxy
            fields["ssl_profile_ref"] = ssl_profile
            fields["ssl_key_and_certificate_refs"] = [
                make_ref("sslkeyandcertificate", seeder.certs[i % len(seeder.certs)])
            ]
        elif kind == "l4":
            port = L4_PORTS[i % len(L4_PORTS)]
            fields["services"] = [{"port": port, "enable_ssl": False, "port_range_end": port}]
            fields["application_profile_ref"] = refs["System-L4-Application"]
            fields["network_profile_ref"] = fast_path
        else:
            fields["services"] = [{"port": 80, "enable_ssl": False, "port_range_end": 80}]
            fields["application_profile_ref"] = refs["System-HTTP"]
            fields["network_profile_ref"] = tcp_proxy
        if pool is not None:
            if i % 50 == 25:
                group = seeder.add(
                    "poolgroup",
                    {
                        "name": f"{name}-pg",
                        "cloud_ref": cloud,
                        "members": [{"pool_ref": make_ref("pool", pool["uuid"]), "ratio": 1}],
                    },
                    owner,
                )
                fields["pool_group_ref"] = make_ref("poolgroup", group["uuid"])
            else:
                fields["pool_ref"] = make_ref("pool", pool["uuid"])
        vs = seeder.add("virtualservice", fields, owner)
        place_on_service_engines(seeder, vs, i, fields["se_group_ref"])
        if fields["enabled"] and pool is not None and seeder.runtime.pool_state(pool)[0] != "OPER_UP":
            seeder.down_vs.append((vs["uuid"], name, owner))


def make_pool(
    seeder: Seeder,
    i: int,
    name: str,
    kind: str,
    subnet: str,
    owner: str,
    cloud: str,
    vrf: str,
    monitors: dict[str, str],
    custom: list[str],
) -> Obj:
    """A pool of 2-6 servers for application `i`; a health draw decides which of them fail."""
    rng = seeder.rng
    port = (
        443
        if kind == "https" and rng.random() < 0.3
        else (L4_PORTS[i % len(L4_PORTS)] if kind == "l4" else rng.choice((80, 8080)))
    )
    servers = []
    for k in range(rng.randint(2, 6)):
        addr = f"{subnet}.{10 + k}"
        servers.append(
            {
                "ip": {"addr": addr, "type": "V4"},
                "port": port,
                "hostname": f"{name}-srv{k + 1}",
                "enabled": rng.random() >= 0.04,
                "ratio": 1,
                "verify_network": False,
                "resolve_server_by_dns": False,
            }
        )
    health = rng.random()
    monitor = (
        monitors["tcp"]
        if kind == "l4"
        else (custom[i % len(custom)] if rng.random() < 0.2 else monitors["https" if port == 443 else "http"])
    )
    pool = seeder.add(
        "pool",
        {
            "name": name if name.startswith("spare-") else f"{name}-pool",
            "enabled": not (0.10 <= health < 0.13),
            "cloud_ref": cloud,
            "vrf_ref": vrf,
            "default_server_port": port,
            "lb_algorithm": rng.choice(
                (
                    "LB_ALGORITHM_LEAST_CONNECTIONS",
                    "LB_ALGORITHM_ROUND_ROBIN",
                    "LB_ALGORITHM_CONSISTENT_HASH",
                )
            ),
            "health_monitor_refs": [monitor],
            "servers": servers,
        },
        owner,
    )
    fail_servers(seeder, pool, health)
    return pool
