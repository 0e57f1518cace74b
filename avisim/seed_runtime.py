"""The seeded runtime and what it raises: which servers fail their health checks, where each VS is
placed on the service engines, and the open alerts for what is down or expiring."""

from __future__ import annotations

from .refs import make_ref
from .seed_context import Seeder
from .store import Obj


def fail_servers(seeder: Seeder, pool: Obj, health: float) -> None:
    """~6 % of pools fully down, ~15 % with one server down (from the pool's health draw)."""
    rng = seeder.rng
    servers = pool["servers"]
    if health < 0.06:
        seeder.runtime.server_down[pool["uuid"]] = {s["ip"]["addr"] for s in servers}
    elif health < 0.10 or 0.13 <= health < 0.25:
        seeder.runtime.server_down[pool["uuid"]] = {servers[rng.randrange(len(servers))]["ip"]["addr"]}


def place_on_service_engines(seeder: Seeder, vs: Obj, i: int, group_ref: str) -> None:
    """Each VIP of the VS on one SE of its group (sometimes two), as the runtime sees it."""
    group = (
        "Prod-SE-Group" if group_ref == seeder.ref("serviceenginegroup", "Prod-SE-Group") else "Default-Group"
    )
    ses = seeder.ses[group] or seeder.ses["Default-Group"]
    runtime = seeder.runtime
    vsvip = seeder.store.get("vsvip", vs["vsvip_ref"].rsplit("/", 1)[-1])
    for vip in (vsvip or {}).get("vip", []):
        chosen = [ses[i % len(ses)]]
        if len(ses) > 1 and seeder.rng.random() < 0.15:
            chosen.append(ses[(i + 1) % len(ses)])
        runtime.placements.setdefault(vs["uuid"], {})[vip["vip_id"]] = chosen
        runtime.requested[(vs["uuid"], vip["vip_id"])] = len(chosen)
        for se in chosen:
            runtime.se_vs.setdefault(se, set()).add(vs["uuid"])


def seed_alerts(seeder: Seeder) -> None:
    """Open alerts for the down virtual services (first 100) and the bad certificates."""
    now = seeder.anchor.timestamp()
    for k, (vs_uuid, name, owner) in enumerate(seeder.down_vs[:100]):
        seeder.add(
            "alert",
            {
                "name": f"VS-Down-{k + 1}",
                "level": "ALERT_HIGH",
                "state": "ALERT_STATE_ON",
                "obj_uuid": vs_uuid,
                "obj_name": name,
                "obj_ref": make_ref("virtualservice", vs_uuid),
                "event_id": "VS_DOWN",
                "summary": f"Virtual service {name} is down: its pool has no servers up",
                "timestamp": now - 60 * k,
            },
            owner,
        )
    for cert_uuid in seeder.certs:
        cert = seeder.store.get("sslkeyandcertificate", cert_uuid) or {}
        status = cert.get("certificate", {}).get("expiry_status")
        if status != "SSL_CERTIFICATE_GOOD":
            seeder.add(
                "alert",
                {
                    "name": f"Cert-{cert.get('name')}",
                    "level": "ALERT_MEDIUM" if status == "SSL_CERTIFICATE_EXPIRY_WARNING" else "ALERT_HIGH",
                    "state": "ALERT_STATE_ON",
                    "obj_uuid": cert_uuid,
                    "obj_name": cert.get("name"),
                    "obj_ref": make_ref("sslkeyandcertificate", cert_uuid),
                    "event_id": "SSL_CERT_EXPIRE",
                    "summary": f"SSL certificate {cert.get('name')} "
                    + ("expires soon" if status.endswith("WARNING") else "has expired"),
                    "timestamp": now,
                },
            )
